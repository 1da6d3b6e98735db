"""The smoke run: the original and the fixed image run the same command, and what they do is
compared. A fix that changes what the image does is wrong whatever the filesystem says.

- **What runs:** the image's own ENTRYPOINT/CMD, or each ``--run`` command, passed the way
  ``docker run IMAGE COMMAND...`` passes it (split like a shell would split it; an image with
  an ENTRYPOINT gets it as arguments). ``--network host`` as for the builds, no stdin, no TTY;
  the container is always removed.
- **Timeout:** ``--run-timeout`` seconds (default :data:`DEFAULT_TIMEOUT`). A container still
  running then is stopped and counts as "still running"; two runs that are both still running
  compare equal on status, and their output is not compared (how far a server got in its
  log by then is a matter of timing).
- **What is compared:** the exit status, stdout and stderr, each exactly, after one
  normalisation: the strings that name the container itself -- its id (full, and the
  12-character short form, which is also its default hostname) and its name -- become
  ``<container>``. Nothing else is rewritten: a digest or a path the command prints is part
  of what the image does.
- **Nondeterminism is measured:** when the two images differ, the original runs a second
  time; an aspect that differs between the original's two runs (a timestamp on stdout, a
  random exit) is not blamed on the fix, and is reported as nondeterministic.
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine imports ContainerRun from here at run time
    from dockopt.verify.engine import DockerEngine

DEFAULT_TIMEOUT = 20.0
OUTPUT_LIMIT = 1 << 20  # bytes kept of each stream (the end of it)
SHOWN_LINES = 8  # lines of each stream a text report shows
STATUS, STDOUT, STDERR = "exit status", "stdout", "stderr"
CONTAINER = "<container>"


@dataclass(frozen=True, slots=True)
class ContainerRun:
    """One container run to its end (or to the timeout)."""

    command: tuple[str, ...] | None  # None: the image's own ENTRYPOINT/CMD
    exit_code: int | None  # None: still running at the timeout (then stopped)
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False  # a stream had more than OUTPUT_LIMIT bytes; its end is kept
    name: str = ""
    container_id: str = ""

    @property
    def status(self) -> str:
        return "still running at the timeout" if self.exit_code is None else f"exit code {self.exit_code}"

    def normalised(self, text: str) -> str:
        """``text`` with the container's own id and name replaced (see the module docstring)."""
        for own in (self.container_id, self.container_id[:12], self.name):
            if own:
                text = text.replace(own, CONTAINER)
        return text

    @property
    def normalised_stdout(self) -> str:
        return self.normalised(self.stdout)

    @property
    def normalised_stderr(self) -> str:
        return self.normalised(self.stderr)


@dataclass(frozen=True, slots=True)
class SmokeCheck:
    """One command run in both images, compared."""

    label: str  # what ran, for the report: "ENTRYPOINT/CMD: jq --version" or "--run: ..."
    command: tuple[str, ...] | None
    original: ContainerRun
    fixed: ContainerRun
    original_again: ContainerRun | None = None  # the second run, made when the first two differ
    differs: tuple[str, ...] = ()  # aspects (STATUS, STDOUT, STDERR) the fix changed
    nondeterministic: tuple[str, ...] = ()  # aspects that differ between two runs of the original
    not_compared: tuple[str, ...] = ()  # output of runs that were both stopped at the timeout

    @property
    def equal(self) -> bool:
        return not self.differs


def differing_aspects(a: ContainerRun, b: ContainerRun) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(aspects that differ, aspects not compared) between two runs."""
    if a.exit_code is None and b.exit_code is None:
        return (), (STDOUT, STDERR)
    differs = []
    if a.exit_code != b.exit_code:
        differs.append(STATUS)
    if a.normalised_stdout != b.normalised_stdout:
        differs.append(STDOUT)
    if a.normalised_stderr != b.normalised_stderr:
        differs.append(STDERR)
    return tuple(differs), ()


def smoke_check(engine: DockerEngine, original: str, fixed: str, command: Sequence[str] | None, label: str,
                timeout: float) -> SmokeCheck:
    """Run ``command`` in the images tagged ``original`` and ``fixed`` and compare."""
    argv = tuple(command) if command is not None else None
    first = engine.run_container(original, argv, timeout=timeout)
    other = engine.run_container(fixed, argv, timeout=timeout)
    differs, not_compared = differing_aspects(first, other)
    if not differs:
        return SmokeCheck(label, argv, first, other, not_compared=not_compared)
    again = engine.run_container(original, argv, timeout=timeout)
    varies, _ = differing_aspects(first, again)
    return SmokeCheck(label, argv, first, other, again, tuple(a for a in differs if a not in varies), varies,
                      not_compared)


def default_command_label(config: Mapping[str, object]) -> str:
    """The image's ENTRYPOINT/CMD as the report shows it (from the saved image config)."""
    inner = config.get("config") or config.get("Config") or {}
    parts: list[str] = []
    if isinstance(inner, dict):
        for key in ("Entrypoint", "Cmd"):
            value = inner.get(key)
            if isinstance(value, list):
                parts.extend(str(v) for v in value)
    return "ENTRYPOINT/CMD: " + (shlex.join(parts) if parts else "(none: the container exits at once)")


def run_label(command: Sequence[str]) -> str:
    return "--run: " + shlex.join(command)


def tail(text: str, lines: int = SHOWN_LINES) -> list[str]:
    """The last ``lines`` lines of ``text`` (for the text report)."""
    return text.rstrip("\n").splitlines()[-lines:] if text.strip() else []
