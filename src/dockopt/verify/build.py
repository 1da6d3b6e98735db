"""``docker build``'s output, without the engine: what a build returned (:class:`BuildResult`,
its :class:`BuildStep` s with cache hit or miss) and how the builders' logs are read.

Both builders are parsed: the legacy builder's "Step N/M" blocks and BuildKit's
``--progress=plain`` vertices. :func:`strip_syntax` prepares a Dockerfile for an offline
BuildKit build. Running the build is :meth:`dockopt.verify.engine.DockerEngine.build`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.verify.errors import EngineError


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One Dockerfile instruction as the builder reported it."""

    key: str  # "#7" (BuildKit vertex) or "Step 3/5" (legacy builder)
    name: str  # the instruction as shown, e.g. "[stage-0 2/4] COPY f /f" or "RUN make"
    cached: bool | None  # None for FROM, which is resolved rather than cached
    duration_s: float | None = None  # BuildKit reports it ("DONE 0.3s"); the legacy builder not
    failed: bool = False  # the step the build stopped at
    exit_code: int | None = None  # a failed RUN's exit status (None: not a command, or not said)
    last_output: str = ""  # a failed step's last line of output (the command's own, no prefixes)


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

    @property
    def failed_step(self) -> BuildStep | None:
        """The step a failed build stopped at (None when it built, or the log names none)."""
        return next((s for s in self.steps if s.failed), None)


class BuildError(EngineError):
    """``docker build`` failed; ``result`` carries the full log and the parsed steps."""

    def __init__(self, message: str, result: BuildResult) -> None:
        super().__init__(message)
        self.result = result


_LEGACY_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_BK_VERTEX = re.compile(r"^#(\d+) \[([^\]]*?)\s*(\d+)/(\d+)\] (.*)$")
_BK_STATUS = re.compile(r"^#(\d+) (CACHED|DONE(?: ([0-9.]+)s)?|ERROR|CANCELED)\b")
# "#6 0.322 Ign:1 http://..." -- a vertex's output, after the seconds since it started.
_BK_OUTPUT = re.compile(r"^#(\d+) \d+\.\d+ (.*)$")
# BuildKit 0.8 (Docker 20.10): "executor failed running [/bin/sh -c make]: exit code: 2";
# later: 'process "/bin/sh -c make" did not complete successfully: exit code: 2'.
_EXIT_CODE = re.compile(r"exit code: (\d+)")
_LEGACY_FAILED = re.compile(r"^The command .* returned a non-zero code: (\d+)\s*$")
_LEGACY_SUCCESS = re.compile(r"^Successfully built [0-9a-f]+\s*$")
# The legacy builder's own lines inside a step: " ---> 1a2b3c", "Running in", "Removing intermediate".
_LEGACY_NOISE = re.compile(r"^\s*(--->|Removing intermediate container|Sending build context|Step \d)")
_SYNTAX = re.compile(r"^\s*#\s*syntax\s*=\s*(\S.*?)\s*$", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


def parse_legacy_steps(log: str) -> list[BuildStep]:
    """Steps of the legacy builder: "Step N/M : INSTR" blocks, " ---> Using cache" = hit.

    A failed build ends inside the step it stopped at: that step is marked ``failed``, with
    the exit status of "The command '...' returned a non-zero code: N" (a COPY of a missing
    file says no code) and its last line of output.
    """
    steps: list[BuildStep] = []
    current: tuple[str, str] | None = None
    cached = False
    output: list[str] = []
    exit_code: int | None = None
    failed = False

    def close(last: bool) -> None:
        if current is not None:
            key, name = current
            is_from = name.split(None, 1)[0].upper() == "FROM" if name.strip() else False
            stopped = failed or (last and build_failed)
            steps.append(BuildStep(key=key, name=name, cached=None if is_from else cached, failed=stopped,
                                   exit_code=exit_code if stopped else None,
                                   last_output=output[-1] if stopped and output else ""))

    build_failed = not any(_LEGACY_SUCCESS.match(line) for line in log.splitlines())
    for line in log.splitlines():
        m = _LEGACY_STEP.match(line)
        if m:
            close(last=False)
            current = (f"Step {m.group(1)}/{m.group(2)}", m.group(3).strip())
            cached, output, exit_code, failed = False, [], None, False
        elif current is not None and line.strip() == "---> Using cache":
            cached = True
        elif current is not None and (code := _LEGACY_FAILED.search(line)) is not None:
            failed, exit_code = True, int(code.group(1))
        elif current is not None and line.strip() and not _LEGACY_NOISE.match(line):
            output.append(line.strip())
    close(last=True)
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
    errors: dict[str, int | None] = {}
    last_output: dict[str, str] = {}
    for line in log.splitlines():
        out = _BK_OUTPUT.match(line)
        if out and out.group(1) in names:
            if out.group(2).strip():
                last_output[out.group(1)] = out.group(2).strip()
            continue
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
            elif status == "ERROR":
                cached.setdefault(vid, False)
                code = _EXIT_CODE.search(line)
                errors[vid] = int(code.group(1)) if code else None
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
                failed=vid in errors,
                exit_code=errors.get(vid),
                last_output=last_output.get(vid, "") if vid in errors else "",
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


def failure_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        low = line.lower()
        if "error" in low or "returned a non-zero code" in low or "failed" in low:
            return line
    return lines[-1] if lines else "no output"
