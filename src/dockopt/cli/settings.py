"""``--show-settings`` and ``--statistics`` for ``check``/``fix``."""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockopt.cli.exit_codes import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from dockopt.discovery import DiscoveryOptions
    from dockopt.report import FileReport
    from dockopt.runner import FileOutcome, RunOptions


def show_settings(args: argparse.Namespace, options: RunOptions, discovery: DiscoveryOptions, files: Sequence[Path],
                  stdin: bool) -> int:
    """The settings that apply to the first file (ruff's --show-settings): where they come
    from, the rules that run, and what the command line changed."""
    from dockopt.config import ConfigError, resolve_config
    from dockopt.discovery import ExcludeSettings
    from dockopt.runner import known_codes
    from dockopt.selection import RuleSelection

    if stdin:
        path = Path(args.stdin_filename) if args.stdin_filename else Path.cwd() / "-"
    elif files:
        path = files[0]
    else:
        print("dockopt: no file to show the settings of", file=sys.stderr)
        return EXIT_ERROR
    try:
        config = resolve_config(path, options.config_file, options.no_config)
        selection = RuleSelection.build(known_codes(), config, options.overrides)
    except ConfigError as exc:
        print(f"dockopt: {exc}", file=sys.stderr)
        return EXIT_ERROR
    excludes = ExcludeSettings.resolve(discovery, config, Path.cwd())
    rows = [
        ("file", str(path)),
        ("config", str(config.source) if config.source else "(none: defaults)"),
        ("enabled rules", ", ".join(sorted(selection.enabled_codes)) or "(none)"),
        ("severity-threshold", selection.threshold.label),
        ("severity overrides", ", ".join(f"{k}={v.label}" for k, v in (config.severity or {}).items()) or "(none)"),
        ("per-file-ignores", ", ".join(f"{k}={list(v)}" for k, v in (config.per_file_ignores or {}).items())
         or "(none)"),
        ("context", str(options.context or config.context or "(the Dockerfile's directory, uncertain)")),
        ("target", options.target or config.target or "(the last stage)"),
        ("unsafe-fixes", str(options.unsafe_fixes if options.unsafe_fixes is not None else bool(config.unsafe_fixes))
         .lower()),
        ("hadolint", str(options.hadolint if options.hadolint is not None else bool(config.hadolint)).lower()),
        ("fetch-sizes", str(options.fetch_sizes if options.fetch_sizes is not None else bool(config.fetch_sizes))
         .lower()),
        ("exclude", ", ".join(pattern for pattern, _root in excludes.exclude)),
        ("extend-exclude", ", ".join(pattern for pattern, _root in excludes.extend_exclude) or "(none)"),
        ("force-exclude", str(excludes.force_exclude).lower()),
        ("respect-gitignore", str(excludes.respect_gitignore).lower()),
        ("jobs", str(options.jobs)),
    ]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}} = {value}")
    return EXIT_OK


def statistics(reports: Sequence[FileReport], outcomes: Sequence[FileOutcome], fmt: str) -> str:
    """Findings per rule, most frequent first (ruff's --statistics): text or json."""
    from dockopt.report._common import fix_state

    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    fixable: Counter[str] = Counter()
    unsafe_by_path = {o.report.path: o.unsafe_enabled for o in outcomes if o.report is not None}
    for report in reports:
        for diag in report.diagnostics:
            counts[diag.code] += 1
            names.setdefault(diag.code, diag.name or diag.code)
            if fix_state(diag, unsafe_by_path.get(report.path, False)) == "applicable":
                fixable[diag.code] += 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if fmt == "json":
        import json

        payload = [{"code": code, "name": names[code], "count": n, "fixable": fixable[code] == n and n > 0,
                    "fixable_count": fixable[code]} for code, n in rows]
        return json.dumps(payload, indent=2) + "\n"
    if not rows:
        return ""
    count_width = max(len(str(n)) for _, n in rows)
    code_width = max(len(code) for code, _ in rows)
    lines = [f"{n:>{count_width}}\t{code:<{code_width}}\t{'[*]' if fixable[code] else '   '} {names[code]}".rstrip()
             for code, n in rows]
    total = sum(counts.values())
    lines.append(f"Found {total} finding{'s' if total != 1 else ''}.")
    return "\n".join(lines) + "\n"
