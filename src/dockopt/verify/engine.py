"""A small typed wrapper around the ``docker`` CLI, for proving fixes with real builds.

Only the CLI is used (through ``subprocess``), never the Docker SDK: the CLI is what users have,
and it lets us pick the client deliberately. That matters: Debian's ``docker.io`` client (20.10)
drives both the legacy builder and BuildKit (``DOCKER_BUILDKIT=1``), whereas a newer client
without the buildx plugin refuses BuildKit builds outright. ``scripts/engine.sh up`` writes the
right client to ``$DOCKOPT_ENGINE_DIR/env`` as ``DOCKOPT_DOCKER_CLI``.

What this module offers:

- :class:`DockerEngine` -- ``build`` (cache hit/miss per step for both builders), ``history``,
  ``save`` (legacy ``manifest.json`` layout and OCI ``index.json`` layout), ``run``, ``rmi``.
- Pure functions over a :class:`SavedImage`: :func:`flatten` (apply layers and whiteouts),
  :func:`compare_filesystems` (with :data:`DEFAULT_IGNORE`, the paths that differ between two
  builds of the same Dockerfile), :func:`find_in_layers` and :func:`grep_layers` (which layers
  still carry a file or a secret's bytes).

Everything returned is sorted so that results are deterministic; temporary files are removed.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import IO, Literal, Union

ENV_CLI = "DOCKOPT_DOCKER_CLI"
ENV_ENGINE_DIR = "DOCKOPT_ENGINE_DIR"
DEFAULT_ENGINE_DIR = "/tmp/dockopt-engine"

#: Paths that differ between two ``--no-cache`` builds of the same Dockerfile, seconds apart,
#: and say nothing about whether a fix changed the result. Found by building the same
#: Dockerfiles twice (legacy builder and BuildKit; busybox; debian:bookworm{,-slim} with
#: ``apt-get update && apt-get install`` of jq, python3-minimal, python3-pip, openssh-server,
#: ca-certificates; ``useradd``) and diffing :func:`flatten` outputs. Why each one varies:
DEFAULT_IGNORE: tuple[str, ...] = (
    # dpkg.log, alternatives.log, apt/history.log, apt/term.log: every line is timestamped.
    "/var/log/*",
    # ldconfig's cache of the scanned libraries' stat data (mtime, inode), rewritten by every
    # dpkg trigger run: differs in content at identical size.
    "/var/cache/ldconfig/aux-cache",
    # openssh-server's postinst generates fresh random host keys on every install.
    "/etc/ssh/ssh_host_*",
)

#: Paths that are identical between builds minutes apart but not between builds on different
#: days or across a mirror update; add them to ``ignore`` when comparing builds made far apart.
SLOW_VOLATILE: tuple[str, ...] = (
    # apt's indexes are the mirror's: InRelease carries a Date, Packages changes with uploads.
    "/var/lib/apt/lists/*",
    # useradd/passwd store "days since epoch of the last password change" in field 3.
    "/etc/shadow",
    "/etc/shadow-",
)


class EngineError(Exception):
    """A Docker engine operation failed."""


class EngineUnavailable(EngineError):
    """No Docker engine can be reached (the message is one line, fit for a CLI error)."""


class BuildError(EngineError):
    """``docker build`` failed; ``result`` carries the full log and the parsed steps."""

    def __init__(self, message: str, result: BuildResult) -> None:
        super().__init__(message)
        self.result = result


# --------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One Dockerfile instruction as the builder reported it."""

    key: str  # "#7" (BuildKit vertex) or "Step 3/5" (legacy builder)
    name: str  # the instruction as shown, e.g. "[stage-0 2/4] COPY f /f" or "RUN make"
    cached: bool | None  # None for FROM, which is resolved rather than cached
    duration_s: float | None = None  # BuildKit reports it ("DONE 0.3s"); the legacy builder not


@dataclass(frozen=True, slots=True)
class BuildResult:
    tag: str
    image_id: str | None  # full "sha256:..." id, None when the build failed
    log: str
    steps: tuple[BuildStep, ...]
    duration_s: float
    returncode: int
    buildkit: bool
    command: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.image_id is not None

    @property
    def cache_hits(self) -> list[BuildStep]:
        return [s for s in self.steps if s.cached is True]

    @property
    def cache_misses(self) -> list[BuildStep]:
        return [s for s in self.steps if s.cached is False]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_by: str
    size_bytes: int
    empty_layer: bool
    comment: str = ""


EntryType = Literal["file", "dir", "symlink", "char", "block", "fifo"]
LayerEntryType = Literal["file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque"]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A path in a flattened filesystem. mtimes are left out on purpose: they always differ."""

    type: EntryType
    mode: int  # permission bits incl. setuid/setgid/sticky (0o7777)
    uid: int
    gid: int
    size: int  # bytes of content for files, 0 otherwise
    sha256: str | None = None  # content digest of regular files (hard links: their target's)
    link: str | None = None  # symlink target; "major,minor" for device nodes
    xattrs: tuple[tuple[str, str], ...] = ()  # e.g. security.capability set by setcap


@dataclass(frozen=True, slots=True)
class LayerEntry:
    """One member of a layer tar, as listed (contents not read)."""

    path: str  # absolute, normalised ("/etc/passwd"); for whiteouts the path they delete
    type: LayerEntryType
    mode: int
    uid: int
    gid: int
    size: int
    link: str | None = None  # symlink target or (for hard links) the absolute target path


@dataclass(frozen=True)
class SavedLayer:
    """One layer of a saved image. Not slotted: ``entries`` is computed lazily and cached."""

    index: int
    path: Path  # the layer tar inside the extracted ``docker save`` output
    size_bytes: int  # size of that tar as stored (uncompressed for Docker, maybe gzip in OCI)
    diff_id: str | None
    created_by: str | None = None  # the history entry that produced this layer

    @cached_property
    def entries(self) -> tuple[LayerEntry, ...]:
        return tuple(self.iter_entries())

    def iter_entries(self) -> Iterator[LayerEntry]:
        with _open_layer(self.path) as tf:
            for member in tf:
                entry = _layer_entry(member)
                if entry is not None:
                    yield entry

    @property
    def content_bytes(self) -> int:
        """What ``docker history`` reports as the layer's size: the daemon sums the lstat sizes
        of non-directories once per inode, i.e. regular file bytes plus each symlink's target
        length (hard links, devices and whiteouts add nothing)."""
        return sum(
            e.size if e.type == "file" else len((e.link or "").encode("utf-8", "surrogateescape"))
            for e in self.entries
            if e.type in ("file", "symlink")
        )


@dataclass(frozen=True)
class SavedImage:
    root: Path  # where ``docker save`` was extracted
    image_id: str  # "sha256:" + digest of the config
    repo_tags: tuple[str, ...]
    config: Mapping[str, object]
    config_path: Path
    layers: tuple[SavedLayer, ...]
    layout: Literal["docker-legacy", "oci"]

    @cached_property
    def history(self) -> tuple[HistoryEntry, ...]:
        """The exact history from the image config (``empty_layer`` as recorded, not guessed)."""
        out: list[HistoryEntry] = []
        layer_iter = iter(self.layers)
        for h in _config_history(self.config):
            empty = bool(h.get("empty_layer", False))
            layer = None if empty else next(layer_iter, None)
            size = layer.content_bytes if layer is not None else 0
            out.append(
                HistoryEntry(
                    created_by=str(h.get("created_by", "")),
                    size_bytes=size,
                    empty_layer=empty,
                    comment=str(h.get("comment", "")),
                )
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class FsDiff:
    added: dict[str, FileEntry] = field(default_factory=dict)
    removed: dict[str, FileEntry] = field(default_factory=dict)
    changed: dict[str, tuple[FileEntry, FileEntry]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def paths(self) -> list[str]:
        return sorted({*self.added, *self.removed, *self.changed})

    def summary(self, limit: int = 20) -> str:
        lines = [f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"]
        shown = 0
        for sign, paths in (("+", self.added), ("-", self.removed), ("~", self.changed)):
            for p in paths:
                if shown >= limit:
                    lines.append("  ...")
                    return "\n".join(lines)
                lines.append(f"  {sign} {p}")
                shown += 1
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------- engine


@dataclass(frozen=True, slots=True)
class DockerEngine:
    """A docker CLI bound to one daemon (``docker_host``; None means the CLI's default)."""

    cli: str
    docker_host: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    # -- discovery ----------------------------------------------------------------------------

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: Path | None = None,
        check: bool = True,
    ) -> DockerEngine:
        """Locate the CLI and the daemon.

        CLI: ``$DOCKOPT_DOCKER_CLI``, else ``docker`` on PATH. Daemon: ``$DOCKER_HOST``, else the
        env file written by ``scripts/engine.sh up`` (``env_file`` or
        ``${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}/env``), else the CLI's default socket.
        With ``check`` the daemon is pinged and :class:`EngineUnavailable` raised if it does not
        answer.
        """
        env = dict(os.environ if environ is None else environ)
        if not env.get("DOCKER_HOST"):
            path = env_file or Path(env.get(ENV_ENGINE_DIR) or DEFAULT_ENGINE_DIR) / "env"
            if path.is_file():
                for key, value in load_env_file(path).items():
                    env.setdefault(key, value)
        cli = env.get(ENV_CLI) or shutil.which("docker", path=env.get("PATH"))
        if not cli:
            raise EngineUnavailable(
                "docker CLI not found: set DOCKOPT_DOCKER_CLI or install docker.io "
                "(bash scripts/engine.sh install)"
            )
        if not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
            raise EngineUnavailable(f"docker CLI {cli!r} is not an executable file")
        engine = cls(cli=cli, docker_host=env.get("DOCKER_HOST") or None)
        if check:
            engine.ping()
        return engine

    def _env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        # The CLI would otherwise pick up the user's context/config and print hints on a TTY.
        env.setdefault("DOCKER_CLI_HINTS", "false")
        env.update(overrides)
        return env

    def _run(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = 120,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [self.cli, *args]
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env=dict(env) if env is not None else self._env(),
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"`docker {' '.join(args[:2])}` timed out after {timeout}s") from exc
        except OSError as exc:
            raise EngineUnavailable(f"cannot run docker CLI {self.cli!r}: {exc}") from exc
        if check and proc.returncode != 0:
            self._raise_for(proc.stderr or proc.stdout, args)
        return proc

    def _raise_for(self, output: str, args: Sequence[str]) -> None:
        text = _first_error_line(output)
        if _looks_unreachable(output):
            raise EngineUnavailable(f"no Docker engine reachable at {self.where}: {text}")
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {text}")

    @property
    def where(self) -> str:
        return self.docker_host or "the docker CLI's default host"

    def ping(self, timeout: float = 15) -> str:
        """The server version; :class:`EngineUnavailable` when the daemon does not answer."""
        try:
            proc = self._run(["version", "--format", "{{.Server.Version}}"], timeout=timeout, check=False)
        except EngineError as exc:
            raise EngineUnavailable(f"no Docker engine reachable at {self.where}: {exc}") from exc
        version = proc.stdout.strip()
        if proc.returncode != 0 or not version:
            why = _first_error_line(proc.stderr or proc.stdout) or f"exit code {proc.returncode}"
            raise EngineUnavailable(
                f"no Docker engine reachable at {self.where}: {why} "
                "(start one with: bash scripts/engine.sh up)"
            )
        return version

    # -- build --------------------------------------------------------------------------------

    def build(
        self,
        dockerfile: Path,
        context: Path,
        tag: str,
        *,
        target: str | None = None,
        buildkit: bool = False,
        build_args: Mapping[str, str] | None = None,
        secrets: Mapping[str, Path | str] | None = None,
        no_cache: bool = False,
        check: bool = True,
        timeout: float | None = 1800,
        strip_syntax_directive: bool = True,
    ) -> BuildResult:
        """Build ``dockerfile`` with ``context``, always with ``--network host``.

        ``secrets`` maps a secret id to a file (``--secret id=ID,src=PATH``) and needs BuildKit.
        With BuildKit, a leading ``# syntax=`` directive is stripped (into a temporary copy of
        the Dockerfile) unless ``strip_syntax_directive`` is False: honouring it means pulling
        a frontend image, which an offline engine cannot do. The built-in frontend of the
        daemon is used instead; ``notes`` says so.
        With ``check`` a failed build raises :class:`BuildError` (its ``result`` has the log).
        """
        if secrets and not buildkit:
            raise ValueError("build secrets need BuildKit (buildkit=True)")
        dockerfile = Path(dockerfile).resolve()
        context = Path(context).resolve()
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="dockopt-build-") as tmp:
            df_arg = dockerfile
            if buildkit and strip_syntax_directive:
                text = dockerfile.read_text(encoding="utf-8", errors="surrogateescape")
                stripped, directive = strip_syntax(text)
                if directive is not None:
                    df_arg = Path(tmp) / "Dockerfile"
                    df_arg.write_text(stripped, encoding="utf-8", errors="surrogateescape")
                    notes.append(
                        f"ignored '# syntax={directive}': built with the daemon's built-in "
                        "Dockerfile frontend (fetching a frontend image needs a registry)"
                    )
            iidfile = Path(tmp) / "iid"
            args = ["build", "--network", "host", "-f", str(df_arg), "-t", tag, "--iidfile", str(iidfile)]
            if target:
                args += ["--target", target]
            if no_cache:
                args.append("--no-cache")
            for key, value in sorted((build_args or {}).items()):
                args += ["--build-arg", f"{key}={value}"]
            if buildkit:
                args += ["--progress", "plain"]
                for sid, src in sorted((secrets or {}).items()):
                    args += ["--secret", f"id={sid},src={Path(src).resolve()}"]
            else:
                # Remove the container of a failed step too: nothing of a build should linger.
                args.append("--force-rm")
            args.append(str(context))
            env = self._env(DOCKER_BUILDKIT="1" if buildkit else "0", BUILDKIT_PROGRESS="plain")
            start = time.monotonic()
            try:
                proc = subprocess.run(
                    [self.cli, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,  # BuildKit progress goes to stderr: keep the order
                    text=True,
                    errors="replace",
                    timeout=timeout,
                    env=env,
                )
                log, returncode = proc.stdout, proc.returncode
            except subprocess.TimeoutExpired as exc:
                out = exc.stdout or b""
                log = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
                log += f"\n[dockopt] build timed out after {timeout}s\n"
                returncode = -9
            except OSError as exc:
                raise EngineUnavailable(f"cannot run docker CLI {self.cli!r}: {exc}") from exc
            duration = time.monotonic() - start
            image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
        steps = parse_buildkit_steps(log) if buildkit else parse_legacy_steps(log)
        result = BuildResult(
            tag=tag,
            image_id=image_id if returncode == 0 and image_id else None,
            log=log,
            steps=tuple(steps),
            duration_s=duration,
            returncode=returncode,
            buildkit=buildkit,
            command=(self.cli, *args),
            notes=tuple(notes),
        )
        if returncode != 0 and _looks_unreachable(log):
            raise EngineUnavailable(f"no Docker engine reachable at {self.where}: {_first_error_line(log)}")
        if check and not result.ok:
            if buildkit and "buildx component is missing" in log:
                raise BuildError(
                    f"{self.cli} cannot do BuildKit builds without buildx; point DOCKOPT_DOCKER_CLI "
                    "at Debian's client (/usr/bin/docker from docker.io)",
                    result,
                )
            raise BuildError(f"docker build of {tag} failed: {_last_error_line(log)}", result)
        return result

    # -- images -------------------------------------------------------------------------------

    def image_id(self, image: str) -> str | None:
        proc = self._run(["image", "inspect", "--format", "{{.Id}}", image], check=False)
        if proc.returncode != 0:
            if _looks_unreachable(proc.stderr):
                self._raise_for(proc.stderr, ["image", "inspect"])
            return None
        return proc.stdout.strip() or None

    def image_size(self, image: str) -> int:
        """``docker image inspect .Size``: the bytes of all layers (uncompressed content)."""
        return int(self._run(["image", "inspect", "--format", "{{.Size}}", image]).stdout.strip())

    def layer_count(self, image: str) -> int:
        out = self._run(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]).stdout
        return len(json.loads(out) or [])

    def history(self, image: str) -> list[HistoryEntry]:
        """History, oldest first, with each entry's layer size in bytes.

        The daemon's history API does not say which entries are empty layers, so that is
        derived: entries with bytes are layers; if the zero-byte entries whose instruction can
        make a layer (RUN/COPY/ADD, BuildKit WORKDIR, an import) are exactly as many as the
        layers still unaccounted for, they are the layers. Otherwise (e.g. a legacy RUN that
        changed nothing, which gets no layer, next to a RUN that only deleted files, whose layer
        has 0 bytes) the exact answer is read from the image config via ``docker save``.
        """
        out = self._run(
            ["history", "--no-trunc", "--human=false", "--format", "{{json .}}", image]
        ).stdout
        raw = [json.loads(line) for line in out.splitlines() if line.strip()]
        raw.reverse()  # the CLI lists newest first
        sizes = [int(str(r.get("Size", "0")) or 0) for r in raw]
        created = [str(r.get("CreatedBy", "")) for r in raw]
        comments = [str(r.get("Comment", "")) for r in raw]
        n_layers = self.layer_count(image)
        nonempty = [s > 0 for s in sizes]
        missing = n_layers - sum(nonempty)
        if missing > 0:
            candidates = [
                i for i, s in enumerate(sizes) if s == 0 and _makes_layer(created[i], comments[i])
            ]
            if len(candidates) == missing:
                for i in candidates:
                    nonempty[i] = True
                missing = 0
        if missing != 0:
            with self.saved(image) as saved:
                return list(saved.history)
        return [
            HistoryEntry(created_by=c, size_bytes=s, empty_layer=not ne, comment=m)
            for c, s, ne, m in zip(created, sizes, nonempty, comments, strict=True)
        ]

    def save(self, image: str, dest_dir: Path) -> SavedImage:
        """``docker save`` extracted into ``dest_dir`` (created; must be empty if it exists)."""
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise EngineError(f"save destination {dest} is not empty")
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    [self.cli, "save", image],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=err,  # a file, not a pipe: a chatty stderr cannot deadlock us
                    env=self._env(),
                )
            except OSError as exc:
                raise EngineUnavailable(f"cannot run docker CLI {self.cli!r}: {exc}") from exc
            assert proc.stdout is not None
            try:
                _extract_stream(proc.stdout, dest)
            except tarfile.ReadError:
                pass  # empty/invalid stream: the exit status below says why
            finally:
                proc.stdout.close()
                rc = proc.wait()
            if rc != 0:
                err.seek(0)
                self._raise_for(err.read().decode("utf-8", "replace"), ["save", image])
        return load_saved_image(dest, image)

    @contextmanager
    def saved(self, image: str) -> Iterator[SavedImage]:
        """``save`` into a temporary directory that is removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="dockopt-save-") as tmp:
            yield self.save(image, Path(tmp) / "image")

    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        timeout: float | None = 300,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --rm --network host IMAGE COMMAND...`` (the container is always removed)."""
        return self._run(["run", "--rm", "--network", "host", image, *command], timeout=timeout, check=check)

    def rmi(self, *images: str, force: bool = True) -> None:
        """Remove images; missing ones are fine (cleanup must not fail a proof)."""
        todo = [i for i in images if i]
        if not todo:
            return
        args = ["rmi", *(["--force"] if force else []), *todo]
        proc = self._run(args, check=False)
        if proc.returncode != 0:
            real = [
                line
                for line in proc.stderr.splitlines()
                if line.strip() and "No such image" not in line
            ]
            if real:
                self._raise_for("\n".join(real), args)

    def prune_build_cache(self) -> None:
        """Drop BuildKit's cache (the legacy builder's cache is the images themselves)."""
        self._run(["builder", "prune", "--all", "--force"], timeout=600)


def load_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (as ``scripts/engine.sh`` writes them); comments and blanks skipped."""
    out: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip().removeprefix("export ").strip()] = value
    return out


# ------------------------------------------------------------------------------- output parsing

_LEGACY_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_BK_VERTEX = re.compile(r"^#(\d+) \[([^\]]*?)\s*(\d+)/(\d+)\] (.*)$")
_BK_STATUS = re.compile(r"^#(\d+) (CACHED|DONE(?: ([0-9.]+)s)?|ERROR|CANCELED)\b")
_SYNTAX = re.compile(r"^\s*#\s*syntax\s*=\s*(\S.*?)\s*$", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


def parse_legacy_steps(log: str) -> list[BuildStep]:
    """Steps of the legacy builder: "Step N/M : INSTR" blocks, " ---> Using cache" = hit."""
    steps: list[BuildStep] = []
    current: tuple[str, str] | None = None
    cached = False

    def close() -> None:
        if current is not None:
            key, name = current
            is_from = name.split(None, 1)[0].upper() == "FROM" if name.strip() else False
            steps.append(BuildStep(key=key, name=name, cached=None if is_from else cached))

    for line in log.splitlines():
        m = _LEGACY_STEP.match(line)
        if m:
            close()
            current = (f"Step {m.group(1)}/{m.group(2)}", m.group(3).strip())
            cached = False
        elif current is not None and line.strip() == "---> Using cache":
            cached = True
    close()
    return steps


def parse_buildkit_steps(log: str) -> list[BuildStep]:
    """Steps from BuildKit's ``--progress=plain`` output ("#N [stage i/n] INSTR", "#N CACHED").

    Internal vertices ("[internal] load ...", "exporting to image") are left out; FROM is
    reported with ``cached=None`` since BuildKit resolves rather than caches it.
    """
    names: dict[str, str] = {}
    order: list[str] = []
    cached: dict[str, bool] = {}
    durations: dict[str, float] = {}
    for line in log.splitlines():
        m = _BK_VERTEX.match(line)
        if m:
            vid = m.group(1)
            if vid not in names:
                stage = m.group(2).strip()
                pos = f"{m.group(3)}/{m.group(4)}"
                names[vid] = f"[{stage + ' ' if stage else ''}{pos}] {m.group(5).strip()}"
                order.append(vid)
            continue
        s = _BK_STATUS.match(line)
        if s and s.group(1) in names:
            vid, status = s.group(1), s.group(2)
            if status == "CACHED":
                cached[vid] = True
            else:
                cached.setdefault(vid, False)
                if s.group(3):
                    durations[vid] = float(s.group(3))
    steps = []
    for vid in order:
        name = names[vid]
        instr = name.split("] ", 1)[-1]
        is_from = instr.split(None, 1)[0].upper() == "FROM" if instr.strip() else False
        steps.append(
            BuildStep(
                key=f"#{vid}",
                name=name,
                cached=None if is_from else cached.get(vid, False),
                duration_s=durations.get(vid),
            )
        )
    return steps


def strip_syntax(text: str) -> tuple[str, str | None]:
    """Remove a ``# syntax=`` parser directive from the directive block at the top.

    Returns the new text and the directive's value (None when there was none). Line count is
    kept (the directive becomes an empty line) so that build errors still point at the right
    line of the user's file.
    """
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if not _DIRECTIVE.match(line):
            break  # parser directives only count before any other line
        m = _SYNTAX.match(line)
        if m:
            ending = "\n" if line.endswith("\n") else ""
            return "".join(lines[:i] + [ending] + lines[i + 1 :]), m.group(1)
    return text, None


_METADATA_INSTRUCTIONS = frozenset(
    ("ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "ARG", "SHELL", "STOPSIGNAL",
     "HEALTHCHECK", "VOLUME", "ONBUILD", "MAINTAINER", "WORKDIR")
)


def _makes_layer(created_by: str, comment: str) -> bool:
    """Whether a history entry's instruction creates a filesystem layer (possibly empty)."""
    text = created_by.strip()
    if not text:
        return True  # `docker import` / base image layers carry no created_by
    if "#(nop)" in text:  # legacy builder metadata and COPY/ADD
        after = text.split("#(nop)", 1)[1].split()
        return bool(after) and after[0].upper() in ("ADD", "COPY")
    word = text.split(None, 1)[0].upper()
    if comment.startswith("buildkit") or text.endswith("# buildkit"):
        return word in ("RUN", "COPY", "ADD", "WORKDIR")
    # Otherwise a legacy RUN ("/bin/sh -c ...", "|1 A=b /bin/sh -c ...", exec form) unless it
    # is metadata recorded without "#(nop)" (images committed by other tools).
    return word not in _METADATA_INSTRUCTIONS


def _looks_unreachable(output: str) -> bool:
    text = output.lower()
    return any(
        s in text
        for s in (
            "cannot connect to the docker daemon",
            "is the docker daemon running",
            "error during connect",
            "connect: no such file or directory",
            "connect: connection refused",
            "permission denied while trying to connect",
        )
    )


def _first_error_line(output: str) -> str:
    for line in output.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        low = line.lower()
        if "error" in low or "returned a non-zero code" in low or "failed" in low:
            return line
    return lines[-1] if lines else "no output"


# --------------------------------------------------------------------------- docker save layouts


def _safe_join(root: Path, name: str) -> Path:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise EngineError(f"unsafe path in docker save output: {name!r}")
    return root.joinpath(*[p for p in rel.parts if p not in (".", "")])


def _extract_stream(stream: IO[bytes], dest: Path) -> None:
    """Extract a ``docker save`` tar stream without trusting it (no absolute/``..`` paths,
    links only inside ``dest``, no devices). Streamed: no copy of the whole tar on disk."""
    root = dest.resolve()
    links: list[tuple[Path, str, bool]] = []
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for member in tf:
            target = _safe_join(root, member.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(member)
                assert src is not None
                with open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            elif member.issym() or member.islnk():
                links.append((target, member.linkname, member.issym()))
            # anything else (devices, fifos) has no business in a save archive: skipped
    # Docker >= 25 links the legacy "<id>/layer.tar" names to OCI blobs; resolve after the
    # fact because a link may precede its target in the stream.
    for target, linkname, symbolic in links:
        source = (target.parent / linkname) if symbolic else _safe_join(root, linkname)
        source = source.resolve()
        if root not in source.parents or not source.is_file():
            raise EngineError(f"link in docker save output points outside it: {linkname!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # same bytes, no copy
        except OSError:
            shutil.copyfile(source, target)


def _blob_path(root: Path, digest: str) -> Path:
    algo, _, hexdigest = digest.partition(":")
    if not re.fullmatch(r"[a-z0-9]+", algo) or not re.fullmatch(r"[a-f0-9]+", hexdigest):
        raise EngineError(f"bad digest in OCI layout: {digest!r}")
    return root / "blobs" / algo / hexdigest


def _read_json(path: Path) -> object:
    return json.loads(path.read_bytes())


def load_saved_image(root: Path, image: str | None = None) -> SavedImage:
    """Read an extracted ``docker save`` directory.

    Docker < 25 writes the legacy layout: ``manifest.json`` listing ``<id>/layer.tar`` files
    and a ``<config-digest>.json``. Docker >= 25 writes an OCI layout (``oci-layout``,
    ``index.json``, ``blobs/sha256/...``) and still adds a ``manifest.json`` whose paths point
    into ``blobs/``. Pure OCI layouts from other tools have only ``index.json``; their layers
    may be gzip-compressed, which is handled (zstd is not: Python's tarfile cannot read it).
    """
    root = Path(root)
    layout: Literal["docker-legacy", "oci"] = "oci" if (root / "index.json").is_file() else "docker-legacy"
    manifest_path = root / "manifest.json"
    layer_paths: list[Path]
    if manifest_path.is_file():
        manifests = _read_json(manifest_path)
        if not isinstance(manifests, list) or not manifests:
            raise EngineError(f"{manifest_path} lists no image")
        chosen = _choose_manifest(root, manifests, image)
        config_path = _safe_join(root, str(chosen["Config"]))
        layer_paths = [_safe_join(root, str(p)) for p in _as_list(chosen.get("Layers"))]
        repo_tags = tuple(sorted(str(t) for t in _as_list(chosen.get("RepoTags"))))
    elif layout == "oci":
        config_path, layer_paths, repo_tags = _read_oci(root)
    else:
        raise EngineError(f"{root} is neither a docker save (manifest.json) nor an OCI layout (index.json)")
    config_bytes = config_path.read_bytes()
    config = json.loads(config_bytes)
    if not isinstance(config, dict):
        raise EngineError(f"image config {config_path} is not an object")
    image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    creators = [
        str(h.get("created_by", "")) for h in _config_history(config) if not h.get("empty_layer", False)
    ]
    layers = tuple(
        SavedLayer(
            index=i,
            path=p,
            size_bytes=p.stat().st_size,
            diff_id=diff_ids[i] if i < len(diff_ids) else None,
            created_by=creators[i] if i < len(creators) else None,
        )
        for i, p in enumerate(layer_paths)
    )
    return SavedImage(
        root=root,
        image_id=image_id,
        repo_tags=repo_tags,
        config=config,
        config_path=config_path,
        layers=layers,
        layout=layout,
    )


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _choose_manifest(root: Path, manifests: list[object], image: str | None) -> dict[str, object]:
    entries = [m for m in manifests if isinstance(m, dict)]
    if not entries:
        raise EngineError("manifest.json lists no image")
    if len(entries) == 1 or image is None:
        return entries[0]
    for m in entries:
        if image in _as_list(m.get("RepoTags")):
            return m
    for m in entries:  # an id or digest prefix
        digest = hashlib.sha256(_safe_join(root, str(m["Config"])).read_bytes()).hexdigest()
        if image.removeprefix("sha256:") and digest.startswith(image.removeprefix("sha256:")):
            return m
    return entries[0]


_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


def _read_oci(root: Path) -> tuple[Path, list[Path], tuple[str, ...]]:
    index = _read_json(root / "index.json")
    tags: list[str] = []
    seen = 0
    while True:
        if not isinstance(index, dict) or not index.get("manifests"):
            raise EngineError(f"{root / 'index.json'} has no manifests")
        descs = [d for d in index["manifests"] if isinstance(d, dict)]
        desc = _pick_platform(descs)
        ann = desc.get("annotations")
        if isinstance(ann, dict):
            for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
                if key in ann:
                    tags.append(str(ann[key]))
        blob = _read_json(_blob_path(root, str(desc["digest"])))
        media = str(desc.get("mediaType") or (blob.get("mediaType") if isinstance(blob, dict) else ""))
        if media in _INDEX_TYPES or (isinstance(blob, dict) and "manifests" in blob):
            index = blob
            seen += 1
            if seen > 8:
                raise EngineError("OCI index nesting too deep")
            continue
        if not isinstance(blob, dict):
            raise EngineError("OCI manifest is not an object")
        config = blob.get("config")
        if not isinstance(config, dict):
            raise EngineError("OCI manifest has no config descriptor")
        config_path = _blob_path(root, str(config["digest"]))
        layers = [_blob_path(root, str(d["digest"])) for d in _as_list(blob.get("layers")) if isinstance(d, dict)]
        return config_path, layers, tuple(sorted(set(tags)))


def _pick_platform(descs: list[dict[str, object]]) -> dict[str, object]:
    for d in descs:
        plat = d.get("platform")
        if isinstance(plat, dict) and plat.get("os") == "linux" and plat.get("architecture") == "amd64":
            return d
    for d in descs:  # attestation manifests carry "unknown/unknown": skip them
        plat = d.get("platform")
        if not (isinstance(plat, dict) and plat.get("os") == "unknown"):
            return d
    return descs[0]


def _config_history(config: Mapping[str, object]) -> list[dict[str, object]]:
    hist = config.get("history") or []
    return [h for h in hist if isinstance(h, dict)] if isinstance(hist, list) else []


# ----------------------------------------------------------------------------------- layer tars


@contextmanager
def _open_layer(path: Path) -> Iterator[tarfile.TarFile]:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"\x28\xb5\x2f\xfd":
        raise EngineError(f"layer {path.name} is zstd-compressed, which this reader does not support")
    with tarfile.open(path, mode="r:*") as tf:
        yield tf


def _norm(name: str) -> str:
    """Tar member name -> absolute normalised path ("./etc/" -> "/etc")."""
    parts = [p for p in PurePosixPath("/" + name).parts[1:] if p not in (".", "")]
    return "/" + "/".join(parts)


def _kind(member: tarfile.TarInfo) -> EntryType | Literal["hardlink"] | None:
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr():
        return "char"
    if member.isblk():
        return "block"
    if member.isfifo():
        return "fifo"
    return None


def _layer_entry(member: tarfile.TarInfo) -> LayerEntry | None:
    path = _norm(member.name)
    if path == "/":
        return None
    parent, _, base = path.rpartition("/")
    parent = parent or "/"
    if base == ".wh..wh..opq":
        return LayerEntry(path=parent, type="opaque", mode=0, uid=0, gid=0, size=0)
    if base.startswith(".wh..wh."):
        return None  # AUFS bookkeeping (e.g. .wh..wh.plnk), not content
    if base.startswith(".wh."):
        gone = (parent.rstrip("/") + "/" + base[4:]) if parent != "/" else "/" + base[4:]
        return LayerEntry(path=gone, type="whiteout", mode=0, uid=0, gid=0, size=0)
    kind = _kind(member)
    if kind is None:
        return None
    link: str | None = None
    if kind == "symlink":
        link = member.linkname
    elif kind == "hardlink":
        link = _norm(member.linkname)
    elif kind in ("char", "block"):
        link = f"{member.devmajor},{member.devminor}"
    return LayerEntry(
        path=path,
        type=kind,
        mode=member.mode & 0o7777,
        uid=member.uid,
        gid=member.gid,
        size=member.size if kind == "file" else 0,
        link=link,
    )


def _xattrs(member: tarfile.TarInfo) -> tuple[tuple[str, str], ...]:
    prefix = "SCHILY.xattr."
    return tuple(sorted((k[len(prefix):], v) for k, v in (member.pax_headers or {}).items() if k.startswith(prefix)))


def _hash_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    h = hashlib.sha256()
    src = tf.extractfile(member)
    if src is not None:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _drop_subtree(state: dict[str, FileEntry], path: str, *, keep_root: bool) -> None:
    prefix = path.rstrip("/") + "/"
    doomed = [k for k in state if k.startswith(prefix)]
    if not keep_root:
        doomed.append(path)
    for k in doomed:
        state.pop(k, None)


def flatten(saved: SavedImage) -> dict[str, FileEntry]:
    """The image's final filesystem: layers applied in order, whiteouts honoured.

    Per layer, whiteouts (``.wh.NAME`` deletes NAME and everything below it) and opaque markers
    (``.wh..wh..opq`` hides everything a lower layer had in that directory) apply to the lower
    layers first, then the layer's own entries are laid on top; a non-directory replacing a
    directory hides the directory's old contents. Hard links become regular files with their
    target's digest (which files share an inode is an artefact of layering, not of content).
    Returns a dict sorted by path.
    """
    state: dict[str, FileEntry] = {}
    for layer in saved.layers:
        new: dict[str, FileEntry] = {}
        whiteouts: list[str] = []
        opaques: list[str] = []
        with _open_layer(layer.path) as tf:
            for member in tf:
                le = _layer_entry(member)
                if le is None:
                    continue
                if le.type == "whiteout":
                    whiteouts.append(le.path)
                    continue
                if le.type == "opaque":
                    opaques.append(le.path)
                    continue
                xattrs = _xattrs(member)
                if le.type == "file":
                    digest = _hash_member(tf, member)
                    new[le.path] = FileEntry("file", le.mode, le.uid, le.gid, le.size, digest, None, xattrs)
                elif le.type == "hardlink":
                    assert le.link is not None
                    target = new.get(le.link) or state.get(le.link)
                    if target is None or target.type != "file":
                        raise EngineError(f"layer {layer.index}: hard link {le.path} -> {le.link} has no file target")
                    new[le.path] = FileEntry("file", le.mode, le.uid, le.gid, target.size, target.sha256, None, xattrs)
                elif le.type in ("dir", "symlink", "char", "block", "fifo"):
                    kind: EntryType = le.type
                    new[le.path] = FileEntry(kind, le.mode, le.uid, le.gid, 0, None, le.link, xattrs)
        for path in opaques:
            _drop_subtree(state, path, keep_root=True)
        for path in whiteouts:
            _drop_subtree(state, path, keep_root=False)
        for path, entry in new.items():
            old = state.get(path)
            if old is not None and old.type == "dir" and entry.type != "dir":
                _drop_subtree(state, path, keep_root=True)
            state[path] = entry
    return dict(sorted(state.items()))


FsLike = Union[Mapping[str, FileEntry], SavedImage]  # noqa: UP007 - a runtime alias, 3.10-safe


def _compile_ignores(patterns: Iterable[str]) -> re.Pattern[str] | None:
    pats = [fnmatch.translate(p) for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None


def compare_filesystems(a: FsLike, b: FsLike, ignore: Iterable[str] | None = None) -> FsDiff:
    """Differences from ``a`` to ``b`` (flattened filesystems or saved images).

    ``ignore`` holds shell-style globs matched against absolute paths (``*`` also crosses
    ``/``); None means :data:`DEFAULT_IGNORE`, pass ``[]`` to compare everything. Directory
    entries compare by type/mode/owner only (their tar size is meaningless).
    """
    fa = flatten(a) if isinstance(a, SavedImage) else a
    fb = flatten(b) if isinstance(b, SavedImage) else b
    rx = _compile_ignores(DEFAULT_IGNORE if ignore is None else ignore)

    def keep(path: str) -> bool:
        return rx is None or not rx.match(path)

    added = {p: e for p, e in sorted(fb.items()) if p not in fa and keep(p)}
    removed = {p: e for p, e in sorted(fa.items()) if p not in fb and keep(p)}
    changed = {
        p: (fa[p], e)
        for p, e in sorted(fb.items())
        if p in fa and keep(p) and fa[p] != e
    }
    return FsDiff(added=added, removed=removed, changed=changed)


def find_in_layers(saved: SavedImage, path: str) -> list[int]:
    """Indexes (0-based, oldest first) of the layers whose tar holds ``path`` itself.

    Whiteouts do not count: a layer that deletes the file does not contain it. This is the
    "the secret is still in layer 3" proof: the path can be gone from :func:`flatten` and
    still be shipped in an earlier layer.
    """
    want = _norm(path)
    return [
        layer.index
        for layer in saved.layers
        if any(e.path == want and e.type not in ("whiteout", "opaque") for e in layer.entries)
    ]


def grep_layers(saved: SavedImage, needle: bytes) -> list[tuple[int, str]]:
    """``(layer index, path)`` of every regular file in any layer whose content holds ``needle``
    (e.g. a secret's value), whatever its name and whether a later layer deleted it."""
    if not needle:
        raise ValueError("needle must not be empty")
    hits: list[tuple[int, str]] = []
    overlap = len(needle) - 1
    for layer in saved.layers:
        with _open_layer(layer.path) as tf:
            for member in tf:
                if not member.isreg() or member.size < len(needle):
                    continue
                src = tf.extractfile(member)
                if src is None:
                    continue
                tail = b""
                while chunk := src.read(1 << 20):
                    if needle in tail + chunk:
                        hits.append((layer.index, _norm(member.name)))
                        break
                    # Keep the last len(needle)-1 bytes: a match may straddle two chunks.
                    tail = (tail + chunk)[-overlap:] if overlap else b""
    return sorted(hits)
