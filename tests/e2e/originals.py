"""Images shared by the savings suite and the calibration (issue 15): each case's original
Dockerfile is built once per session, from one context kept for the session, and both
``test_savings.py`` (original vs fixed vs twin, then ``dockopt verify``) and
``test_calibration.py`` (real layer sizes vs estimates) read the same image.

Cases that install Python packages declare ``ARG PIP_INDEX_URL`` / ``ARG PIP_TRUSTED_HOST``:
they get a local package index (:class:`LocalIndex`), served from this process on 127.0.0.1
(builds run with ``--network host``; PyPI itself is not reachable from the engine). Its wheels
are fetched on the host with the host's own pip configuration (``pip download`` for CPython
3.11 on manylinux x86_64, the interpreter of debian:bookworm-slim). Files are served with
PyPI's caching headers, so pip caches them in ``~/.cache/pip`` exactly as it caches PyPI's.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.verify.engine import DockerEngine

E2E = Path(__file__).parent
# Generated at build time rather than committed (a 20 MB random file).
GENERATED = {"chmod-large-copy": {"big.bin": 20_000_000}}
# Cases that need BuildKit (a build secret, or `COPY --chmod` in the twin).
BUILDKIT = {"chmod-large-copy", "secret-removed"}
# What the local index offers: pinned, so that sizes are reproducible. Dependencies come along.
INDEX_REQUIREMENTS = ("numpy==1.26.4", "flask==3.1.3", "requests==2.34.2")


def needs_index(dockerfile_text: str) -> bool:
    return re.search(r"^\s*ARG\s+PIP_INDEX_URL\b", dockerfile_text, re.M) is not None


class _Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        # PyPI's headers: files are immutable, index pages fresh for 10 minutes.
        age = 365_000_000 if self.path.startswith("/files/") else 600
        self.send_header("Cache-Control", f"max-age={age}, public")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


def fetch_wheels(dest: Path, requirements: tuple[str, ...]) -> str:
    """Wheels of ``requirements`` and their dependencies for debian:bookworm-slim's CPython 3.11,
    fetched into ``dest`` by the host's pip (its own index configuration); an error line or ""."""
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--python-version", "3.11",
         "--implementation", "cp", "--abi", "cp311", "--platform", "manylinux2014_x86_64",
         "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_28_x86_64",
         "--platform", "any", "-d", str(dest), *requirements],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["no output"]
        return f"cannot fetch wheels for the local package index: {lines[-1]}"
    return ""


@dataclass
class LocalIndex:
    """A PEP 503 simple index of ``root/files`` served on 127.0.0.1 (see the module docstring)."""

    root: Path
    server: http.server.ThreadingHTTPServer | None = None
    error: str = ""

    @classmethod
    def start(cls, root: Path, requirements: tuple[str, ...] = INDEX_REQUIREMENTS) -> LocalIndex:
        error = fetch_wheels(root / "files", requirements)
        return cls(root, error=error) if error else cls.serve(root)

    @classmethod
    def serve(cls, root: Path) -> LocalIndex:
        """Index the wheels of ``root/files`` (PEP 503 pages under ``root/simple``) and serve ``root``."""
        projects: dict[str, list[str]] = {}
        for wheel in sorted((root / "files").glob("*.whl")):
            projects.setdefault(re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower(), []).append(wheel.name)
        for project, wheels in projects.items():
            page = root / "simple" / project / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text("".join(f'<a href="../../files/{w}">{w}</a><br>\n' for w in wheels))
        handler = functools.partial(_Handler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return cls(root, server)

    @property
    def build_args(self) -> dict[str, str]:
        assert self.server is not None
        port = self.server.server_address[1]
        return {"PIP_INDEX_URL": f"http://127.0.0.1:{port}/simple", "PIP_TRUSTED_HOST": f"127.0.0.1:{port}"}

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass(frozen=True)
class Built:
    case: str
    context: Path  # kept for the session: fixed and twin builds and verify use it too
    dockerfile: Path
    tag: str
    buildkit: bool
    build_args: dict[str, str]
    size: int


@dataclass
class OriginalBuilds:
    """Builds each case's ``Dockerfile`` once (memoised by case directory)."""

    engine: DockerEngine
    tags: object  # tests.e2e.conftest.TagPool (not imported: conftest imports this module)
    workdir: Path
    index_root: Path
    built: dict[Path, Built] = field(default_factory=dict)
    _index: LocalIndex | None = None

    def index(self) -> LocalIndex:
        if self._index is None:
            self._index = LocalIndex.start(self.index_root)
        return self._index

    def context(self, case_dir: Path) -> Path:
        """The session's copy of the case directory (generated files added), made once."""
        root = self.workdir / case_dir.parent.name / case_dir.name
        if not root.exists():
            shutil.copytree(case_dir, root)
            for name, size in GENERATED.get(case_dir.name, {}).items():
                (root / name).write_bytes(os.urandom(size))
        return root

    def build_args(self, dockerfile_text: str) -> dict[str, str]:
        if not needs_index(dockerfile_text):
            return {}
        index = self.index()
        if index.server is None:
            import pytest

            pytest.skip(index.error)
        return index.build_args

    def original(self, case_dir: Path) -> Built:
        if case_dir not in self.built:
            root = self.context(case_dir)
            text = (root / "Dockerfile").read_text()
            args = self.build_args(text)
            buildkit = case_dir.name in BUILDKIT
            tag = self.tags(f"{case_dir.parent.name}-{case_dir.name}-original")  # type: ignore[operator]
            result = self.engine.build(root / "Dockerfile", root, tag, buildkit=buildkit, build_args=args,
                                       check=False)
            assert result.ok, f"{case_dir.name}: the original does not build: {result.log[-2000:]}"
            self.tags.ids.append(result.image_id)  # type: ignore[attr-defined]
            self.built[case_dir] = Built(case_dir.name, root, root / "Dockerfile", tag, buildkit, args,
                                         self.engine.image_size(tag))
        return self.built[case_dir]

    def close(self) -> None:
        if self._index is not None:
            self._index.stop()
