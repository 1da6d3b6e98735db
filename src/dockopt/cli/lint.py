"""``dockopt check`` and ``dockopt fix``: files in, reports out, exit code.

Output rules (ruff's, where the issue tracker was silent):
- errors (unreadable files, bad config, a missing ``--target`` stage) are one line each on
  stderr and make the exit code 2; "All checks passed!" is printed only when every file
  was checked and nothing was found;
- a path that holds no Dockerfile is a warning on stderr (``--format github``: also a
  ``::warning`` annotation), exit 0 as in ruff: a repository without Dockerfiles is not
  an error, but a CI log shows the warning;
- machine formats always print a complete document (``[]``, an empty SARIF run ...), with
  ``--quiet`` too; ``--quiet`` drops the text summary and hints.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from dockopt.cli.exit_codes import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from dockopt.discovery import Discovery, DiscoveryOptions
from dockopt.runner import FileOutcome, RunOptions, run_files, run_stdin
from dockopt.selection import CliOverrides

if TYPE_CHECKING:
    from dockopt.report import FileReport


class UsageError(Exception):
    """A bad combination of options: one line on stderr, exit 2."""


def _mode(args: argparse.Namespace) -> str:
    if args.command == "fix" or getattr(args, "fix", False) or args.fix_only or args.diff:
        return "fix"
    return "check"


def _validate(args: argparse.Namespace, mode: str) -> None:
    if args.diff and args.format != "text":
        raise UsageError(f"--diff prints a unified diff: it cannot be combined with --format {args.format}")
    if args.diff and args.statistics:
        raise UsageError("--diff cannot be combined with --statistics")
    if args.statistics and args.format not in ("text", "json"):
        raise UsageError(f"--statistics prints text or json, not {args.format}")
    if args.show_fixes and mode != "fix":
        raise UsageError("--show-fixes lists applied fixes: use it with `dockopt fix` or `check --fix`")
    if args.fix_only and args.format != "text":
        raise UsageError("--fix-only reports what it changed as text: drop --format")
    if args.config is not None and not args.config.is_file():
        raise UsageError(f"{args.config}: configuration file not found")
    if args.context is not None and not args.context.is_dir():
        raise UsageError(f"{args.context}: build context is not a directory")


def _options(args: argparse.Namespace, mode: str, color: bool) -> RunOptions:
    from dockopt.diagnostics import Severity

    overrides = CliOverrides(
        select=args.select,
        extend_select=args.extend_select,
        ignore=args.ignore,
        severity_threshold=Severity.parse(args.severity_threshold) if args.severity_threshold else None,
    )
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    text = None
    if args.format == "text" and not args.diff and not args.statistics and not args.fix_only:
        from dockopt.report.text import TextOptions

        text = TextOptions(color=color, show_source=not args.no_source, unsafe_fixes_enabled=bool(args.unsafe_fixes),
                           quiet=args.quiet)
    return RunOptions(
        overrides=overrides,
        config_file=args.config,
        no_config=args.no_config,
        context=args.context,
        target=args.target,
        unsafe_fixes=args.unsafe_fixes,
        report_unused_suppressions=args.report_unused_suppressions,
        hadolint=args.hadolint,
        fetch_sizes=args.fetch_sizes,
        diff=args.diff,
        jobs=jobs,
        text=text,
    )


def _discovery_options(args: argparse.Namespace) -> DiscoveryOptions:
    return DiscoveryOptions(
        exclude=args.exclude,
        extend_exclude=tuple(args.extend_exclude or ()),
        force_exclude=args.force_exclude,
        respect_gitignore=args.respect_gitignore,
        no_config=args.no_config,
        config_file=args.config,
    )


def run_lint_command(args: argparse.Namespace) -> int:
    from dockopt.cli.main import use_color
    from dockopt.config import ConfigError

    mode = _mode(args)
    out_stream: IO[str] = sys.stdout
    try:
        _validate(args, mode)
        color = use_color(args.color, sys.stdout) if args.output_file is None else args.color == "always"
        options = _options(args, mode, color)
        # Validate the command line's selectors once, up front (not once per file).
        from dockopt.config import Config
        from dockopt.runner import known_codes
        from dockopt.selection import RuleSelection

        RuleSelection.build(known_codes(), Config(), options.overrides)
    except (ValueError, ConfigError, UsageError) as exc:
        print(f"dockopt: {exc}", file=sys.stderr)
        return EXIT_ERROR

    stdin = args.paths == ["-"]
    if "-" in args.paths and not stdin:
        print("dockopt: '-' (standard input) cannot be combined with other paths", file=sys.stderr)
        return EXIT_ERROR
    files: list[Path] = []
    missing: list[str] = []
    empty: list[str] = []
    if not stdin:
        discovery = Discovery(_discovery_options(args))
        missing = [p for p in args.paths if not os.path.lexists(p)]
        try:
            for raw in (p for p in args.paths if p not in missing):
                found = [path for path, _explicit in discovery.files([raw])]
                if not found and os.path.isdir(raw):
                    empty.append(raw)
                files += found
        except ConfigError as exc:
            print(f"dockopt: {exc}", file=sys.stderr)
            return EXIT_ERROR
        files = list(dict.fromkeys(files))

    if args.show_files:
        from dockopt.runner import display_path

        for path in sorted(files, key=display_path):
            print(display_path(path))
        for raw in missing:
            print(f"dockopt: {raw}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR if missing else EXIT_OK
    if args.show_settings:
        from dockopt.cli.settings import show_settings

        return show_settings(args, options, _discovery_options(args), files, stdin)

    outcomes: list[FileOutcome]
    if stdin:
        outcomes = [run_stdin(mode, sys.stdin.buffer.read(), args.stdin_filename, options)]
    else:
        outcomes = [FileOutcome(error=f"{p}: no such file or directory", error_path=p) for p in missing]
        outcomes += run_files(mode, files, options)

    errors = [o.error for o in outcomes if o.error]
    for error in errors:
        print(f"dockopt: {error}", file=sys.stderr)
    for outcome in outcomes:
        for warning in outcome.warnings:
            print(f"dockopt: {warning}", file=sys.stderr)
    if empty and not missing:
        where = ", ".join(empty)
        print(f"dockopt: warning: No Dockerfiles found under {where}", file=sys.stderr)
    reports = [o.report for o in outcomes if o.report is not None]

    stdin_fix = mode == "fix" and stdin and not options.diff and not args.fix_only
    if stdin_fix and outcomes and outcomes[0].new_text is not None:
        sys.stdout.write(outcomes[0].new_text)  # like ruff: fixed text on stdout, findings on stderr
        out_stream = sys.stderr
    try:
        sink = _Sink(args.output_file, out_stream)
    except OSError as exc:
        print(f"dockopt: {args.output_file}: cannot write the report: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    with sink:
        if args.format == "github" and empty and not missing:
            from dockopt.report.github import escape_data

            sink.write(f"::warning title=dockopt::{escape_data('No Dockerfiles found under ' + ', '.join(empty))}\n")
        _write_report(args, mode, options, outcomes, reports, errors, sink, color=color)
    if errors:
        return EXIT_ERROR
    if args.exit_zero or args.fix_only:
        return EXIT_OK
    if options.diff:
        return EXIT_FINDINGS if any(o.diff for o in outcomes) else EXIT_OK
    return EXIT_FINDINGS if any(o.threshold_hits for o in outcomes) else EXIT_OK


class _Sink:
    """Where the report goes: standard output, or ``--output-file`` (its directory made,
    written in full at the end so a failed run leaves no half file)."""

    def __init__(self, path: Path | None, stream: IO[str]) -> None:
        self.path = path
        self.stream = stream
        self.parts: list[str] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise IsADirectoryError(21, "is a directory")

    def write(self, text: str) -> None:
        if self.path is None:
            self.stream.write(text)
        else:
            self.parts.append(text)

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None and exc[0] is None:
            self.path.write_text("".join(self.parts), encoding="utf-8")


def _write_report(args: argparse.Namespace, mode: str, options: RunOptions, outcomes: Sequence[FileOutcome],
                  reports: Sequence[FileReport], errors: Sequence[str], sink: _Sink, *, color: bool) -> None:
    from dockopt.report import render

    fixed = sum(o.fixed for o in outcomes)
    if args.fix_only:
        _fix_only_summary(outcomes, fixed, dry_run=options.diff)
        return
    if options.diff:
        for o in outcomes:
            if o.diff:
                sink.write(o.diff)
        remaining = sum(len(r.diagnostics) for r in reports)
        note = f"Would fix {fixed} finding{'s' if fixed != 1 else ''}."
        if not fixed:
            note = "No fixes available: nothing to change"
            note += f" ({remaining} finding{'s' if remaining != 1 else ''} without a fix that applies; " \
                    "see `dockopt check`)." if remaining else "."
        print(note, file=sys.stderr)
        return
    if args.show_fixes:
        _list_fixes(outcomes)
    if args.statistics:
        from dockopt.cli.settings import statistics

        sink.write(statistics(reports, outcomes, args.format))
    else:
        parts = [o.rendered for o in outcomes if o.rendered is not None]
        if options.text is not None and len(parts) == len(reports):
            from dockopt.report.text import combine

            if (errors or not reports) and not any(r.diagnostics for r in reports):
                text = ""  # never "All checks passed!" next to an error, or when nothing was checked
            else:
                text = combine(parts, options.text)
        else:
            text = render(args.format, reports, color=color, show_source=not args.no_source,
                          unsafe_fixes_enabled=bool(options.unsafe_fixes),
                          errors=[(o.error_path, o.error) for o in outcomes if o.error])
        if text:
            sink.write(text if text.endswith("\n") else text + "\n")
    if mode == "fix" and args.format == "text" and not args.quiet:
        print(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.", file=sys.stderr)


def _list_fixes(outcomes: Sequence[FileOutcome]) -> None:
    """ruff's --show-fixes: per file, how many of each fix were applied (stderr)."""
    from collections import Counter

    lines = []
    for outcome in outcomes:
        if outcome.applied and outcome.report is not None:
            lines.append(f"{outcome.report.path}:")
            for name, count in sorted(Counter(outcome.applied).items()):
                lines.append(f"    {count} × {name}")
    if lines:
        total = sum(len(o.applied) for o in outcomes)
        print(f"Fixed {total} finding{'s' if total != 1 else ''}:", file=sys.stderr)
        print("\n".join(lines), file=sys.stderr)


def _fix_only_summary(outcomes: Sequence[FileOutcome], fixed: int, *, dry_run: bool) -> None:
    """What the fix hook prints: each changed file with its fixes, and one line counting what
    remains (the check hook lists those; printing them twice was noise)."""
    from collections import Counter

    for outcome in outcomes:
        if outcome.applied and outcome.report is not None:
            counts = ", ".join(f"{n} × {name}" if n > 1 else name for name, n in sorted(Counter(outcome.applied).items()))
            print(f"{'Would fix' if dry_run else 'Fixed'} {outcome.report.path}: {counts}")
    files = sum(1 for o in outcomes if o.applied)
    remaining = sum(len(o.report.diagnostics) for o in outcomes if o.report is not None)
    verb = "Would fix" if dry_run else "Fixed"
    tail = "; `dockopt check` lists them" if remaining else ""
    print(f"{verb} {fixed} finding{'s' if fixed != 1 else ''} in {files} file{'s' if files != 1 else ''}; "
          f"{remaining} finding{'s' if remaining != 1 else ''} remain{'s' if remaining == 1 else ''}{tail}.")
