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

EXIT_CODES_HELP = """\
exit codes:
  0  no findings at or above the severity threshold (or --exit-zero)
  1  findings at or above the threshold (fix --diff: there is something to fix)
  2  usage, configuration or I/O errors (one line on stderr), or a file that cannot be read
"""

TEXT_MARKERS_HELP = """\
text output: `FILE:LINE:COL: CODE [*] severity: message`; [*] `dockopt fix` applies the fix,
[-] a fix exists but is unsafe (`dockopt fix --unsafe-fixes` applies it).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse prints usage and exits 2: keep the code, make the message one line.
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(",") if part.strip()]


def _patterns(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number} (omit --jobs for one per CPU)")
    return number


def _add_common(p: argparse.ArgumentParser, mode: str) -> None:
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help="Dockerfiles or directories to search (default: .); '-' reads standard input")
    out = p.add_argument_group("output")
    out.add_argument("--format", "--output-format", dest="format", choices=FORMATS, default="text",
                     help="output format (default: text)")
    out.add_argument("--output-file", "-o", type=Path, metavar="FILE",
                     help="write the report to FILE instead of standard output")
    out.add_argument("--quiet", "-q", action="store_true",
                     help="print findings only: no summary, no hints, nothing when there are none "
                     "(machine formats still print a valid empty document)")
    out.add_argument("--statistics", action="store_true",
                     help="print the number of findings per rule instead of the findings")
    out.add_argument("--show-files", action="store_true", help="list the files that would be checked, then exit")
    out.add_argument("--show-settings", action="store_true",
                     help="print the settings that apply to the first file, then exit")
    out.add_argument("--show-fixes", action="store_true", help="list the fixes that were applied, per file")
    out.add_argument("--no-source", action="store_true", help="text format: one line per finding, no excerpts")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the text output (default: auto: a terminal, unless NO_COLOR; FORCE_COLOR forces it)")
    out.add_argument("--exit-zero", "--no-fail", dest="exit_zero", action="store_true",
                     help="exit 0 even when there are findings (errors still exit 2); --no-fail as in hadolint")

    rules = p.add_argument_group("rule selection")
    rules.add_argument("--select", type=_codes, metavar="CODES",
                       help="rules to enable instead of the defaults (codes or prefixes, comma-separated; ALL)")
    rules.add_argument("--extend-select", type=_codes, default=[], metavar="CODES", help="rules to enable in addition")
    rules.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="rules to disable")
    rules.add_argument("--severity-threshold", choices=("error", "warning", "info"),
                       help="exit 1 only for findings at or above this severity (default: info)")
    rules.add_argument("--report-unused-suppressions", action="store_true",
                       help="report `# dockopt: ignore` comments that silence nothing (DO001; same as --extend-select DO001)")
    rules.add_argument("--hadolint", action="store_true", default=None, help="also run hadolint and merge its findings")

    build = p.add_argument_group("build")
    build.add_argument("--context", type=Path, metavar="DIR",
                       help="the build context directory (default: the Dockerfile's directory, treated as uncertain)")
    build.add_argument("--target", metavar="STAGE",
                       help="the stage that ships (default: the last); a stage the file lacks is an error")
    _add_fetch_sizes(build)

    files = p.add_argument_group("files")
    files.add_argument("--config", type=Path, metavar="FILE", help="use this configuration file")
    files.add_argument("--no-config", action="store_true", help="ignore configuration files")
    files.add_argument("--stdin-filename", metavar="PATH",
                       help="the path standard input stands for (config discovery, reports)")
    files.add_argument("--exclude", type=_patterns, metavar="PATTERNS",
                       help="gitignore-style patterns of files and directories to skip, replacing the "
                       "default excludes (comma-separated)")
    files.add_argument("--extend-exclude", type=_patterns, default=[], metavar="PATTERNS",
                       help="patterns to skip in addition to the default excludes")
    files.add_argument("--force-exclude", action="store_true", default=None,
                       help="apply the excludes to files named on the command line too (for pre-commit)")
    files.add_argument("--respect-gitignore", dest="respect_gitignore", action="store_true", default=None,
                       help="skip files that .gitignore, .ignore, .git/info/exclude ignore (the default)")
    files.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                       help="do not read ignore files")
    files.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                       help="parallel processes, at least 1 (default: one per CPU)")

    fixing = p.add_argument_group("fixing")
    if mode == "check":
        fixing.add_argument("--fix", action="store_true", help="apply the fixes, then report what remains "
                            "(as `dockopt fix`)")
    fixing.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="also apply (fix) or count as fixable (check) the unsafe fixes")
    fixing.add_argument("--fix-only", action="store_true",
                        help="apply fixes and report only what changed, plus one line counting what "
                        "remains; exit 0 unless an error (the pre-commit fix hook)")
    fixing.add_argument("--diff", action="store_true",
                        help="print a unified diff of the fixes instead of writing them; exit 1 if there is one")


FETCH_SIZES_HELP = ("ask the servers how big the files that RUN curl/wget and ADD <url> download are "
                     "(HTTP HEAD, cached for 7 days; literal http(s) URLs only, at most 12 per file); "
                     "config: fetch-sizes = true. Off by default: no network access")


def _add_fetch_sizes(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    group.add_argument("--fetch-sizes", dest="fetch_sizes", action="store_true", default=None, help=FETCH_SIZES_HELP)
    group.add_argument("--no-fetch-sizes", dest="fetch_sizes", action="store_false",
                       help="never ask servers for download sizes, whatever the config says")


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog="dockopt", description="Dockerfile linter and optimizer that simulates layer effects.",
                     epilog=EXIT_CODES_HELP, formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"dockopt {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    check = sub.add_parser("check", help="report findings (exit 1 when there are any)",
                           description="Lint Dockerfiles and report findings.",
                           epilog=TEXT_MARKERS_HELP + "\n" + EXIT_CODES_HELP, formatter_class=formatter)
    _add_common(check, "check")
    fix = sub.add_parser("fix", help="apply safe fixes in place, report what remains",
                         description="Apply fixes in place (safe ones; unsafe ones with --unsafe-fixes) and "
                         "report the findings that remain.",
                         epilog=TEXT_MARKERS_HELP + "\n" + EXIT_CODES_HELP, formatter_class=formatter)
    _add_common(fix, "fix")
    rule = sub.add_parser("rule", help="show a rule's documentation, or list every rule",
                          description="Show a rule's full documentation (`dockopt rule DO101`) or a one-line "
                          "listing of every rule (`dockopt rule --all`).",
                          epilog="exit codes:\n  0  shown\n  2  unknown rule\n", formatter_class=formatter)
    rule.add_argument("code", nargs="?", metavar="CODE", help="a rule code (DO101) or name (cleanup-in-later-layer)")
    rule.add_argument("--all", action="store_true",
                      help="list every rule: code, name, severity, default, fix, summary (json: full documentation)")
    rule.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    layers = sub.add_parser("layers", help="show the simulated layers of a Dockerfile",
                            description="Print the simulated layer plan of each stage (a static `docker history`).",
                            epilog="exit codes:\n  0  shown\n  2  unreadable or invalid file, bad --context or --target\n",
                            formatter_class=formatter)
    layers.add_argument("path", metavar="DOCKERFILE", help="the Dockerfile")
    layers.add_argument("--context", type=Path, metavar="DIR", help="the build context directory")
    layers.add_argument("--target", metavar="STAGE", help="show only the stages this stage's build needs")
    layers.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _add_fetch_sizes(layers)
    layers.add_argument("--config", type=Path, metavar="FILE",
                        help="use this configuration file (for fetch-sizes; default: the nearest one)")
    layers.add_argument("--no-config", action="store_true", help="ignore configuration files")
    verify = sub.add_parser("verify", help="build original and fixed images with Docker and compare them",
                            description="Build the original and the fixed Dockerfile with a Docker engine and "
                            "compare build outcomes, what the images do when run, layers, sizes and final "
                            "filesystems.",
                            epilog="exit codes:\n  0  the fix behaves as claimed\n  1  a fix changed the build's "
                            "outcome, what the image does, or (safe fixes) the image (a dockopt bug)\n  2  no "
                            "engine, bad input, or the original does not build\n", formatter_class=formatter)
    verify.add_argument("path", metavar="DOCKERFILE", help="the Dockerfile")
    verify.add_argument("--context", type=Path, metavar="DIR", help="the build context directory")
    verify.add_argument("--target", metavar="STAGE", help="the stage to build (default: the last)")
    verify.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    verify.add_argument("--rebuild-after", metavar="PATH",
                        help="edit this context file in a copy and report which steps missed the cache")
    verify.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    verify.add_argument("--run", metavar="COMMAND", action="append", dest="run_commands",
                        help="smoke run: run COMMAND in both images and compare exit status and output "
                             "(repeatable; default: the image's ENTRYPOINT/CMD)")
    verify.add_argument("--run-timeout", metavar="SECONDS", type=float, default=None,
                        help="stop a smoke run after SECONDS (default: 20)")
    verify.add_argument("--no-run", action="store_true", help="skip the smoke run")
    server = sub.add_parser("server", help="run the language server (LSP over stdio; needs dockopt[server])",
                            description="Run the language server (LSP over standard input/output).",
                            epilog="exit codes:\n  0  the client shut the server down\n  2  dockopt[server] is "
                            "not installed\n", formatter_class=formatter)
    server.add_argument("--stdio", action="store_true", help="accepted for clients that pass it; stdio is the default")
    return parser


def use_color(choice: str, stream: object) -> bool:
    """--color always/never decide; otherwise FORCE_COLOR (force-color.org) beats NO_COLOR
    (no-color.org), and a terminal gets colour."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("NO_COLOR"):
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

            return run_lint_command(args)
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
