"""``dockopt check`` and ``dockopt fix``: files in, reports out, exit code."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dockopt.cli.exit_codes import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from dockopt.discovery import discover
from dockopt.runner import FileOutcome, RunOptions, run_files, run_stdin
from dockopt.selection import CliOverrides


def _options(args: argparse.Namespace, color: bool) -> RunOptions:
    from dockopt.diagnostics import Severity

    overrides = CliOverrides(
        select=args.select,
        extend_select=args.extend_select,
        ignore=args.ignore,
        severity_threshold=Severity.parse(args.severity_threshold) if args.severity_threshold else None,
    )
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    diff = getattr(args, "diff", False)  # `fix` only, as is --unsafe-fixes
    unsafe_fixes = getattr(args, "unsafe_fixes", None)
    text = None
    if args.format == "text" and not diff:
        from dockopt.report.text import TextOptions

        # Files (not standard input) are reported on stdout: colour as the terminal allows.
        text = TextOptions(color=color, show_source=not args.no_source, unsafe_fixes_enabled=bool(unsafe_fixes))
    return RunOptions(
        overrides=overrides,
        config_file=args.config,
        no_config=args.no_config,
        context=args.context,
        target=args.target,
        unsafe_fixes=unsafe_fixes,
        report_unused_suppressions=args.report_unused_suppressions,
        hadolint=args.hadolint,
        diff=diff,
        jobs=jobs,
        text=text,
    )


def run_lint_command(args: argparse.Namespace, color: bool) -> int:
    from dockopt.config import ConfigError
    from dockopt.report import render

    mode = args.command
    if args.config is not None and not args.config.is_file():
        print(f"dockopt: {args.config}: configuration file not found", file=sys.stderr)
        return EXIT_ERROR
    if args.context is not None and not args.context.is_dir():
        print(f"dockopt: {args.context}: build context is not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        options = _options(args, color)
        # Validate the command line's selectors once, up front (not once per file).
        from dockopt.config import Config
        from dockopt.runner import known_codes
        from dockopt.selection import RuleSelection

        RuleSelection.build(known_codes(), Config(), options.overrides)
    except (ValueError, ConfigError) as exc:
        print(f"dockopt: {exc}", file=sys.stderr)
        return EXIT_ERROR

    outcomes: list[FileOutcome]
    if args.paths == ["-"]:
        outcomes = [run_stdin(mode, sys.stdin.buffer.read(), args.stdin_filename, options)]
    else:
        if "-" in args.paths:
            print("dockopt: '-' (standard input) cannot be combined with other paths", file=sys.stderr)
            return EXIT_ERROR
        missing = [p for p in args.paths if not os.path.lexists(p)]
        files = [path for path, _explicit in discover([p for p in args.paths if p not in missing])]
        outcomes = [FileOutcome(error=f"{p}: no such file or directory") for p in missing]
        outcomes += run_files(mode, files, options)

    errors = [o.error for o in outcomes if o.error]
    for error in errors:
        print(f"dockopt: {error}", file=sys.stderr)
    reports = [o.report for o in outcomes if o.report is not None]
    stdin_fix = mode == "fix" and args.paths == ["-"] and not options.diff
    if stdin_fix and outcomes and outcomes[0].new_text is not None:
        sys.stdout.write(outcomes[0].new_text)  # like ruff: fixed text on stdout, findings on stderr
        out = sys.stderr
    else:
        out = sys.stdout
    if options.diff:
        for o in outcomes:
            if o.diff:
                sys.stdout.write(o.diff)
    elif not (args.quiet and not any(r.diagnostics for r in reports)):
        parts = [o.rendered for o in outcomes if o.rendered is not None]
        if options.text is not None and len(parts) == len(reports):
            from dockopt.report.text import combine

            text = combine(parts, options.text)
        else:
            text = render(args.format, reports, color=color and out is sys.stdout,
                          show_source=not args.no_source, unsafe_fixes_enabled=bool(options.unsafe_fixes))
        if text:
            out.write(text if text.endswith("\n") else text + "\n")
    fixed = sum(o.fixed for o in outcomes)
    if mode == "fix" and args.format == "text" and not args.quiet:
        verb = "Would fix" if options.diff else "Fixed"
        print(f"{verb} {fixed} finding{'s' if fixed != 1 else ''}.", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if mode == "fix" and options.diff and any(o.diff for o in outcomes):
        return EXIT_FINDINGS
    return EXIT_FINDINGS if any(o.threshold_hits for o in outcomes) else EXIT_OK
