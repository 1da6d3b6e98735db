"""``dockopt verify``: prove the fixes with a real Docker engine.

Exit codes (the README's contract for this command):
- 0: both images built and nothing contradicts the fix safety contract (a difference in the
  final filesystem is expected when unsafe fixes were applied, and is reported);
- 1: dockopt is wrong: the build's outcome changed (one of the two Dockerfiles builds and the
  other does not, or both fail differently; the report names the failing RUN's line and exit
  code on each side), the smoke run differs (exit status or output of the ENTRYPOINT/CMD or
  of a ``--run`` command), or only safe fixes were applied and the final filesystem changed
  beyond nondeterminism and the caches the fixes declare;
- 2: nothing could be verified: no engine, an unreadable or unparsable Dockerfile, a bad
  option, or an original Dockerfile that does not build (and a fixed one that fails the
  same way).
Errors are one line on stderr; the report (text or JSON) goes to stdout whenever builds ran.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from dockopt.verify.engine import DockerEngine
from dockopt.verify.errors import EngineError, EngineUnavailable
from dockopt.verify.fixing import VerifyError
from dockopt.verify.report import to_json, to_text
from dockopt.verify.session import EXIT_ERROR, VerifyOptions, verify
from dockopt.verify.smoke import DEFAULT_TIMEOUT


class _UsageError(Exception):
    """A bad argument: one line on stderr, exit 2."""


def dockerfile_path(given: str) -> Path:
    """The Dockerfile ``given`` names: a file, or a directory's ``Dockerfile`` (as ``docker
    build DIR`` reads it)."""
    path = Path(given)
    if path.is_dir():
        inside = path / "Dockerfile"
        if inside.is_file():
            return inside
        raise _UsageError(f"{path}: a directory without a file named Dockerfile (give the Dockerfile's path)")
    if not path.exists():
        raise _UsageError(f"{path}: no such Dockerfile")
    if not path.is_file():
        raise _UsageError(f"{path}: not a regular file")
    return path


def smoke_commands(args: argparse.Namespace) -> tuple[tuple[str, ...], ...] | None:
    """``--run`` values split like a shell would split them; None: the image's ENTRYPOINT/CMD."""
    given = getattr(args, "run_commands", None)
    if not given:
        return None
    commands = []
    for text in given:
        try:
            argv = tuple(shlex.split(text))
        except ValueError as exc:
            raise _UsageError(f"--run {text!r}: {exc}") from exc
        if not argv:
            raise _UsageError("--run needs a command")
        commands.append(argv)
    return tuple(commands)


def run_timeout(args: argparse.Namespace) -> float:
    value = getattr(args, "run_timeout", None)
    if value is None:
        return DEFAULT_TIMEOUT
    if not value > 0 or value != value:  # also refuses NaN
        raise _UsageError(f"--run-timeout {value}: must be a positive number of seconds")
    return float(value)


def run_verify_command(args: argparse.Namespace) -> int:
    try:
        dockerfile = dockerfile_path(args.path)
        commands, timeout = smoke_commands(args), run_timeout(args)
    except _UsageError as exc:
        print(f"dockopt verify: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.context is not None and not args.context.is_dir():
        print(f"dockopt verify: {args.context}: build context is not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        engine = DockerEngine.from_env()
    except EngineUnavailable as exc:
        print(f"dockopt verify: {exc}", file=sys.stderr)
        return EXIT_ERROR
    options = VerifyOptions(
        dockerfile=dockerfile,
        context=args.context,
        target=args.target,
        unsafe_fixes=bool(args.unsafe_fixes),
        rebuild_after=args.rebuild_after,
        run_commands=commands,
        run_timeout=timeout,
        smoke=not getattr(args, "no_run", False),
    )
    try:
        report = verify(engine, options)
    except (VerifyError, EngineError) as exc:
        print(f"dockopt verify: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        sys.stdout.write(json.dumps(to_json(report), indent=2) + "\n")
        if report.problem:
            print(f"dockopt verify: {report.problem}", file=sys.stderr)
    else:
        sys.stdout.write(to_text(report))
    return report.exit_code
