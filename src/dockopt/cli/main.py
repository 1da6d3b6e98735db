"""The ``dockopt`` command line (argparse; ruff-like).

Exit codes: 0 no findings at or above the severity threshold; 1 findings; 2 usage,
configuration or I/O errors. Errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dockopt import __version__
from dockopt.cli.exit_codes import EXIT_ERROR

FORMATS = ("text", "json", "github", "sarif", "gitlab", "checkstyle")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage and exits 2: keep the code, make the message one line.
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(",") if part.strip()]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help="Dockerfiles or directories to search (default: .); '-' reads standard input")
    p.add_argument("--format", "--output-format", dest="format", choices=FORMATS, default="text")
    p.add_argument("--select", type=_codes, help="rules to enable instead of the defaults (codes or prefixes, comma-separated)")
    p.add_argument("--extend-select", type=_codes, default=[], help="rules to enable in addition")
    p.add_argument("--ignore", type=_codes, default=[], help="rules to disable")
    p.add_argument("--severity-threshold", choices=("error", "warning", "info"),
                   help="exit 1 only for findings at or above this severity (default: info)")
    p.add_argument("--context", type=Path, help="the build context directory (default: the Dockerfile's directory, "
                   "treated as uncertain)")
    p.add_argument("--target", help="the stage that ships (default: the last)")
    p.add_argument("--config", type=Path, help="use this configuration file")
    p.add_argument("--no-config", action="store_true", help="ignore configuration files")
    p.add_argument("--stdin-filename", help="the path standard input stands for (config discovery, reports)")
    p.add_argument("--hadolint", action="store_true", default=None, help="also run hadolint and merge its findings")
    p.add_argument("--report-unused-suppressions", action="store_true")
    p.add_argument("--jobs", "-j", type=int, default=0, help="parallel processes (default: CPU count)")
    p.add_argument("--quiet", "-q", action="store_true", help="print findings only, no summary")
    p.add_argument("--no-source", action="store_true", help="text format: do not show source excerpts")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dockopt", description="Dockerfile linter and optimizer that simulates layer effects.")
    parser.add_argument("--version", action="version", version=f"dockopt {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = sub.add_parser("check", help="report findings")
    _add_common(check)
    fix = sub.add_parser("fix", help="apply fixes in place")
    _add_common(fix)
    fix.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply unsafe fixes")
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    rule = sub.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code", nargs="?")
    rule.add_argument("--all", action="store_true")
    rule.add_argument("--format", choices=("text", "json"), default="text")
    layers = sub.add_parser("layers", help="show the simulated layers of a Dockerfile")
    layers.add_argument("path", metavar="DOCKERFILE")
    layers.add_argument("--context", type=Path)
    layers.add_argument("--target")
    layers.add_argument("--format", choices=("text", "json"), default="text")
    verify = sub.add_parser("verify", help="build original and fixed images with Docker and compare them")
    verify.add_argument("path", metavar="DOCKERFILE")
    verify.add_argument("--context", type=Path)
    verify.add_argument("--target")
    verify.add_argument("--unsafe-fixes", action="store_true")
    verify.add_argument("--rebuild-after", metavar="PATH")
    verify.add_argument("--format", choices=("text", "json"), default="text")
    server = sub.add_parser("server", help="run the language server (LSP over stdio; needs dockopt[server])")
    server.add_argument("--stdio", action="store_true", help="accepted for clients that pass it; stdio is the default")
    return parser


def _use_color(choice: str, stream: object) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        if args.command in ("check", "fix"):
            from dockopt.cli.lint import run_lint_command

            return run_lint_command(args, _use_color(args.color, sys.stdout))
        if args.command == "rule":
            from dockopt.cli.misc import run_rule_command

            return run_rule_command(args)
        if args.command == "layers":
            from dockopt.cli.misc import run_layers_command

            return run_layers_command(args)
        if args.command == "verify":
            from dockopt.verify.command import run_verify_command

            return run_verify_command(args)
        if args.command == "server":
            from dockopt.server import run_stdio  # lazily: pygls only loads for the server

            return run_stdio()
    except KeyboardInterrupt:
        print("dockopt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    parser.print_help()
    return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
