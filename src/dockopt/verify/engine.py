"""A small typed wrapper around the ``docker`` CLI, for proving fixes with real builds.

Only the CLI is used (through ``subprocess``), never the Docker SDK: the CLI is what users have,
and it lets us pick the client deliberately. That matters: Debian's ``docker.io`` client (20.10)
drives both the legacy builder and BuildKit (``DOCKER_BUILDKIT=1``), whereas a newer client
without the buildx plugin refuses BuildKit builds outright. ``scripts/engine.sh up`` writes the
right client to ``$DOCKOPT_ENGINE_DIR/env`` as ``DOCKOPT_DOCKER_CLI``.

:class:`DockerEngine` finds the CLI and the daemon (:meth:`DockerEngine.from_env`) and offers
``build`` (cache hit/miss per step for both builders), ``history``, ``save`` (legacy
``manifest.json`` layout and OCI ``index.json`` layout), ``run``, ``rmi``.

What is done with the results lives next door, free of any engine:

- :mod:`dockopt.verify.build` -- :class:`BuildResult`, :class:`BuildStep`, build log parsing;
- :mod:`dockopt.verify.saved_image` -- :class:`SavedImage`: a ``docker save`` archive read;
- :mod:`dockopt.verify.layer_tar` -- layer tars: :func:`find_in_layers`, :func:`grep_layers`
  (which layers still carry a file or a secret's bytes);
- :mod:`dockopt.verify.filesystem` -- :func:`flatten` and :func:`compare_filesystems`;
- :mod:`dockopt.verify.errors` -- :class:`EngineError` and :class:`EngineUnavailable`.

Everything returned is sorted so that results are deterministic; temporary files are removed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.verify.build import (
    BuildError,
    BuildResult,
    failure_line,
    parse_buildkit_steps,
    parse_legacy_steps,
    strip_syntax,
)
from dockopt.verify.errors import EngineError, EngineUnavailable
from dockopt.verify.saved_image import HistoryEntry, SavedImage, extract_save_stream, load_saved_image
from dockopt.verify.smoke import OUTPUT_LIMIT, ContainerRun

ENV_CLI = "DOCKOPT_DOCKER_CLI"
#: What a user can do when no daemon answers (no repository-only scripts: most users got dockopt from pip).
NO_ENGINE_HINT = "start Docker, or set DOCKER_HOST to a running Docker engine, e.g. unix:///var/run/docker.sock"
ENV_ENGINE_DIR = "DOCKOPT_ENGINE_DIR"
DEFAULT_ENGINE_DIR = "/tmp/dockopt-engine"


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
                "docker CLI not found: install Docker (the `docker` command) or point "
                "DOCKOPT_DOCKER_CLI at a docker client"
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
            raise EngineUnavailable(f"no Docker engine reachable at {self.where}: {text} ({NO_ENGINE_HINT})")
        raise EngineError(f"`docker {' '.join(args[:2])}` failed: {text}")

    @property
    def where(self) -> str:
        return self.docker_host or "the docker CLI's default host"

    def ping(self, timeout: float = 15) -> str:
        """The server version; :class:`EngineUnavailable` when the daemon does not answer."""
        try:
            proc = self._run(["version", "--format", "{{.Server.Version}}"], timeout=timeout, check=False)
        except EngineError as exc:
            raise EngineUnavailable(f"no Docker engine reachable at {self.where}: {exc} ({NO_ENGINE_HINT})") from exc
        version = proc.stdout.strip()
        if proc.returncode != 0 or not version:
            why = _first_error_line(proc.stderr or proc.stdout) or f"exit code {proc.returncode}"
            raise EngineUnavailable(
                f"no Docker engine reachable at {self.where}: {why} "
                f"({NO_ENGINE_HINT})"
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
            raise EngineUnavailable(
                f"no Docker engine reachable at {self.where}: {_first_error_line(log)} ({NO_ENGINE_HINT})")
        if check and not result.ok:
            if buildkit and "buildx component is missing" in log:
                raise BuildError(
                    f"{self.cli} cannot do BuildKit builds without buildx; point DOCKOPT_DOCKER_CLI "
                    "at Debian's client (/usr/bin/docker from docker.io)",
                    result,
                )
            raise BuildError(f"docker build of {tag} failed: {failure_line(log)}", result)
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
                extract_save_stream(proc.stdout, dest)
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

    def run_container(self, image: str, command: Sequence[str] | None, *, timeout: float) -> ContainerRun:
        """Run ``image`` (its ENTRYPOINT/CMD, or ``command`` as ``docker run IMAGE COMMAND...``
        would) with ``--network host`` and no stdin, for at most ``timeout`` seconds.

        Detached, then ``docker wait``/``docker logs``, so that stdout and stderr come apart and a
        container still running at the timeout can be read and stopped. The container is
        always removed. A command that cannot start (not found: 127, not executable: 126) is
        an outcome like any other, with the daemon's message as its stderr.
        """
        name = f"dockopt-run-{uuid.uuid4().hex[:12]}"
        start = time.monotonic()
        try:
            created = self._run(["run", "-d", "--name", name, "--network", "host", image, *(command or ())],
                                check=False, timeout=120)
            if created.returncode != 0:
                if _looks_unreachable(created.stderr):
                    self._raise_for(created.stderr, ["run", image])
                # The container may exist (created, not started): its id is on stdout.
                message = created.stderr.strip().removeprefix("docker: ").splitlines()
                return ContainerRun(tuple(command) if command is not None else None, created.returncode, "",
                                    message[0] if message else "", time.monotonic() - start, name=name,
                                    container_id=created.stdout.strip())
            container_id = created.stdout.strip()
            exit_code: int | None
            try:
                waited = subprocess.run([self.cli, "wait", name], stdin=subprocess.DEVNULL, capture_output=True,
                                        text=True, timeout=timeout, env=self._env())
                exit_code = int(waited.stdout.strip()) if waited.returncode == 0 else None
                if exit_code is None:
                    self._raise_for(waited.stderr, ["wait", name])
            except subprocess.TimeoutExpired:
                exit_code = None
            duration = time.monotonic() - start
            logs = subprocess.run([self.cli, "logs", name], stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=120, env=self._env())
            stdout, cut_out = _limited(logs.stdout)
            stderr, cut_err = _limited(logs.stderr)
            return ContainerRun(tuple(command) if command is not None else None, exit_code, stdout, stderr,
                                duration, timed_out=exit_code is None, truncated=cut_out or cut_err,
                                name=name, container_id=container_id)
        finally:
            self._run(["rm", "--force", "--volumes", name], check=False, timeout=120)

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


# -- reading the CLI's answers ------------------------------------------------------------------

# Instructions that only change an image's config: their history entries never carry a layer.
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


def _limited(data: bytes) -> tuple[str, bool]:
    """Container output as text, at most ``OUTPUT_LIMIT`` bytes of it (the end is kept)."""
    cut = len(data) > OUTPUT_LIMIT
    return data[-OUTPUT_LIMIT:].decode("utf-8", "replace") if cut else data.decode("utf-8", "replace"), cut


def _first_error_line(output: str) -> str:
    for line in output.splitlines():
        if line.strip():
            return line.strip()
    return ""
