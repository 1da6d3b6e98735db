"""Bounds on tree-sitter-bash: a budget of progress callbacks for every parse
(:func:`bounded_parse`), and a probe process with a deadline for long scripts
(:func:`parses_in_time`).

tree-sitter-bash's error recovery is superlinear when the parse stack is deep: ``a|``
repeated 20,000 times (40 KB, one line under BuildKit's 64 KiB limit) took 9-13 s here, an
unclosed ``x=(`` or ``$[`` nesting likewise. The parse cannot be interrupted from Python:
the binding holds the GIL, and its progress callback is not called during error recovery,
where the time goes. So a long script is first parsed by a probe process with a deadline;
only when the probe answers in time does this process parse it too (fast: the probe has
just shown it is). A probe that misses its deadline or dies (a crash in the C parser takes
the probe with it, not dockopt) is killed, and the script is treated as unparsable.

Only scripts of ``GUARDED_BYTES`` or more go through the probe: shorter ones parse in at
most ~0.1 s whatever they hold, and 4 of the 10,280 RUN scripts in the shared corpus are
that long, so the probe's start-up (~40 ms, once per process) is rarely paid. The deadline
is time, so only a pathological script can read differently on a slower machine.
"""
from __future__ import annotations

import os
import sys
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from tree_sitter import Parser, Tree

GUARDED_BYTES = 4096
DEADLINE_S = 0.5
DEADLINE_S_PER_BYTE = 5e-6  # real scripts parse at several MB/s: 40x headroom
STARTUP_TIMEOUT_S = 30.0

# tree-sitter-bash can also loop without end on short input: a 715-byte soup of heredocs,
# quotes and `$(` (found by fuzzing) never finished. That loop runs in the parser's main
# loop, which calls the progress callback (~3,000 times a second there), so the parse is
# cancelled after a number of callbacks: deterministic, unlike a clock. Over the corpus's
# 10,280 RUN scripts the most callbacks were 427 and the highest rate 0.017 per byte.
PROGRESS_CALLS = 1_000
PROGRESS_CALLS_PER_BYTE = 0.5


def bounded_parse(parser: Parser, data: bytes) -> Tree | None:
    """``parser.parse(data)``, or None when it runs past its progress budget."""
    limit = PROGRESS_CALLS + PROGRESS_CALLS_PER_BYTE * len(data)
    calls = 0

    def progress(_offset: int, _has_error: bool) -> bool:
        nonlocal calls
        calls += 1
        return calls > limit  # True cancels the parse

    try:
        return parser.parse(lambda offset, _point: data[offset:offset + 65536], progress_callback=progress)
    except ValueError:  # "Parsing failed": cancelled
        parser.reset()  # otherwise the next parse would resume this one
        return None


def serve_probe() -> None:
    """The probe's side (run in the child process): read "<length>\\n<bytes>" requests, parse
    each as dockopt would, answer one byte per request."""
    from dockopt.shell.parse import tree_sitter_parser

    parser = tree_sitter_parser()
    read, write = sys.stdin.buffer, sys.stdout.buffer
    write.write(b"r")  # ready: the deadline starts after the probe's own start-up
    write.flush()
    while header := read.readline():
        bounded_parse(parser, read.read(int(header)))
        write.write(b"k")
        write.flush()


# What the child process runs.
_PROBE_CODE = "from dockopt.shell.guard import serve_probe; serve_probe()"


class _Probe:
    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.owner = 0  # the pid that started it: a forked pool worker starts its own

    def _start(self) -> subprocess.Popen[bytes]:
        import subprocess  # lazily: most runs never see a long script (start-up time)

        if self.process is None or self.owner != os.getpid() or self.process.poll() is not None:
            # The child finds dockopt where this process found it.
            code = f"import sys; sys.path[:0] = {sys.path!r}; {_PROBE_CODE}"
            self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.owner = os.getpid()
            # Its start-up (an interpreter, tree-sitter) is not the script's parse time: wait
            # for it apart, generously, so a loaded machine does not fail a good script.
            if not _readable(self.process.stdout, STARTUP_TIMEOUT_S) or self.process.stdout.read(1) != b"r":
                raise OSError("the parse probe did not start")
        return self.process

    def _kill(self) -> None:
        if self.process is not None and self.owner == os.getpid():
            self.process.kill()
            self.process.wait()
        self.process = None

    def parses_in_time(self, data: bytes) -> bool:
        try:
            process = self._start()
            assert process.stdin is not None and process.stdout is not None
            deadline = time.monotonic() + DEADLINE_S + DEADLINE_S_PER_BYTE * len(data)
            process.stdin.write(b"%d\n" % len(data) + data)
            process.stdin.flush()
            if _readable(process.stdout, deadline - time.monotonic()) and process.stdout.read(1) == b"k":
                return True
        except OSError:  # could not start it, or it died while we wrote
            pass
        self._kill()
        return False


def _readable(stream: IO[bytes] | None, timeout: float) -> bool:
    import select

    return stream is not None and bool(select.select([stream], [], [], max(0.0, timeout))[0])


_PROBE_PROCESS = _Probe()


def parses_in_time(data: bytes) -> bool:
    """Whether tree-sitter-bash parses ``data`` within the deadline (always True for short
    scripts, and where pipes cannot be waited on)."""
    if len(data) < GUARDED_BYTES or os.name == "nt":
        return True
    return _PROBE_PROCESS.parses_in_time(data)
