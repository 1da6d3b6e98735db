"""``dockopt verify``: prove the fixes with a real Docker engine.

Exit codes (the README's contract for this command):
- 0: both images built and nothing contradicts the fix safety contract (a difference in the
  final filesystem is expected when unsafe fixes were applied, and is reported);
- 1: dockopt is wrong: the fixed Dockerfile does not build while the original does, or only
  safe fixes were applied and the final filesystem still changed;
- 2: nothing could be verified: no engine, an unreadable or unparsable Dockerfile, a bad
  option, or an original Dockerfile that does not build.
Errors are one line on stderr; the report (text or JSON) goes to stdout whenever builds ran.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dockopt.verify.engine import DockerEngine
from dockopt.verify.errors import EngineError, EngineUnavailable
from dockopt.verify.fixing import VerifyError
from dockopt.verify.report import to_json, to_text
from dockopt.verify.session import EXIT_ERROR, VerifyOptions, verify


def run_verify_command(args: argparse.Namespace) -> int:
    dockerfile = Path(args.path)
    if not dockerfile.is_file():
        print(f"dockopt verify: {dockerfile}: no such Dockerfile", file=sys.stderr)
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
