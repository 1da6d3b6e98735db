"""``dockopt rule`` and ``dockopt layers``."""
from __future__ import annotations

import argparse
import json
import sys

from dockopt.cli.exit_codes import EXIT_ERROR, EXIT_OK


def run_rule_command(args: argparse.Namespace) -> int:
    from dockopt.docs import render_markdown
    from dockopt.rulebook import RuleBookError, load_rulebook

    try:
        docs = load_rulebook()
    except RuleBookError as exc:
        print(f"dockopt: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.all:
        chosen = list(docs.values())
    elif args.code:
        code = args.code.upper()
        by_name = {doc.name: doc for doc in docs.values()}
        doc = docs.get(code) or by_name.get(args.code)
        if doc is None:
            print(f"dockopt: unknown rule '{args.code}' (see `dockopt rule --all`)", file=sys.stderr)
            return EXIT_ERROR
        chosen = [doc]
    else:
        print("dockopt rule: give a rule code or --all (see `dockopt rule --help`)", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        payload = [
            {"code": d.code, "name": d.name, "severity": d.severity.label, "default": d.default, "fix": d.fix,
             "summary": d.summary, "url": d.url, "explanation": render_markdown(d)}
            for d in chosen
        ]
        print(json.dumps(payload if args.all else payload[0], indent=2))
    elif args.all:
        # One line per rule (ruff's `rule --all` is a wall of text; `dockopt rule CODE` has it).
        rows = [(d.code, d.name, d.severity.label, "on" if d.default else "off", d.fix, d.summary) for d in chosen]
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            print("  ".join(value.ljust(width) for value, width in zip(row, widths)) + "  " + row[5])
        print("\nFull documentation: dockopt rule CODE")
    else:
        print("\n".join(render_markdown(d) for d in chosen), end="")
    return EXIT_OK


def run_layers_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dockopt.fileio import FileError, read_source
    from dockopt.layers.render import render_layers

    path = Path(args.path)
    if args.context is not None and not args.context.is_dir():
        print(f"dockopt: {args.context}: build context is not a directory", file=sys.stderr)
        return EXIT_ERROR
    try:
        source = read_source(path)
    except FileError as exc:
        print(f"dockopt: {exc}", file=sys.stderr)
        return EXIT_ERROR
    fetch = args.fetch_sizes
    if fetch is None:  # the configuration decides (fetch-sizes = true)
        from dockopt.config import ConfigError, resolve_config

        try:
            fetch = bool(resolve_config(path, args.config, args.no_config).fetch_sizes)
        except ConfigError as exc:
            print(f"dockopt: {exc}", file=sys.stderr)
            return EXIT_ERROR
    downloads = None
    if fetch:
        from dockopt.layers.downloads import DownloadSizer

        downloads = DownloadSizer()
    text, ok = render_layers(source.text, path, args.context, args.target, args.format, downloads)
    if not ok:
        print(f"dockopt: {text}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(text)
    return EXIT_OK
