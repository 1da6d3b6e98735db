"""Checking and fixing many files: per-file settings, parallel jobs, error collection.

The CLI builds a ``RunOptions`` and calls ``check_files`` or ``fix_files``; each returns
per-file outcomes (a report or a one-line error) so that one bad file never stops the run
and never produces a traceback.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockopt.config import Config, ConfigError, resolve_config
from dockopt.diagnostics import Diagnostic
from dockopt.linter import LintResult, lint
from dockopt.fileio import FileError, SourceFile, decode, read_source, write_source
from dockopt.report import FileReport
from dockopt.syntax import Document
from dockopt.selection import CliOverrides, RuleSelection

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from dockopt.context.build_context import BuildContext
    from dockopt.layers.downloads import DownloadSizer
    from dockopt.report.text import RenderedFile, TextOptions

# Files below this count are checked in-process: a pool's start-up costs more than it saves.
PARALLEL_MIN_FILES = 16


@dataclass(frozen=True, slots=True)
class RunOptions:
    overrides: CliOverrides
    config_file: Path | None = None
    no_config: bool = False
    context: Path | None = None
    target: str | None = None
    unsafe_fixes: bool | None = None
    report_unused_suppressions: bool = False
    hadolint: bool | None = None
    fetch_sizes: bool | None = None  # --fetch-sizes / --no-fetch-sizes; None: the config decides
    diff: bool = False
    jobs: int = 1
    # Text output: each file's findings are rendered where the file is linted (in parallel
    # under --jobs) and its text is dropped from the outcome; None for the other formats.
    text: TextOptions | None = None


@dataclass(slots=True)
class FileOutcome:
    report: FileReport | None = None
    error: str | None = None
    error_path: str | None = None  # the file the error is about (SARIF notifications, annotations)
    fixed: int = 0
    diff: str = ""
    new_text: str | None = None  # fixed text (stdin mode prints it)
    threshold_hits: int = 0
    fixable: dict[str, int] = field(default_factory=dict)
    rendered: RenderedFile | None = None  # with RunOptions.text: the report's text part
    # Unsafe fixes count as fixable for this file (--unsafe-fixes, or its config says so).
    unsafe_enabled: bool = False
    applied: list[str] = field(default_factory=list)  # "CODE name" of each applied fix
    warnings: list[str] = field(default_factory=list)  # one-line notes for stderr


def known_codes() -> dict[str, bool]:
    """Every code dockopt emits, in code order: in the default selection?"""
    from dockopt.checks import rule_defaults

    return rule_defaults()


# Build contexts kept per process. Files come in path order (a pool worker gets a
# contiguous chunk), so Dockerfiles that share a directory follow each other: a few entries
# catch them all without holding many directory listings in memory.
CONTEXT_CACHE_SIZE = 4


class _Settings:
    """Config and selection per config file, cached (thousands of files share a few configs);
    build contexts per directory, cached (a directory is listed once, not once per
    Dockerfile in it and once per fix pass)."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self._known = known_codes()
        self._by_config: dict[Path | None, tuple[Config, RuleSelection]] = {}
        self._contexts: OrderedDict[tuple[Path, bool, Path | None], BuildContext] = OrderedDict()
        self._downloads: DownloadSizer | None = None

    def downloads(self, config: Config) -> DownloadSizer | None:
        """The download sizer when --fetch-sizes (or the config's fetch-sizes) is on: one per
        process, so a URL is asked once per run. None, and no network at all, otherwise."""
        on = self.options.fetch_sizes if self.options.fetch_sizes is not None else bool(config.fetch_sizes)
        if not on:
            return None
        if self._downloads is None:
            from dockopt.layers.downloads import DownloadSizer

            self._downloads = DownloadSizer()
        return self._downloads

    def build_context(self, path: Path, config: Config) -> BuildContext:
        """The build context of the Dockerfile at ``path`` (``BuildContext.for_dockerfile``).

        Two Dockerfiles with the same context directory and the same ignore file get the
        same context: its listing and answers depend on nothing else.
        """
        from dockopt.context.build_context import find_ignore_file

        context_dir = self.options.context or config.context
        if path.name == "-" or not path.parent.exists():
            return _build_context(path, config, self.options)
        root = context_dir if context_dir is not None else path.parent
        key = (root, context_dir is not None, find_ignore_file(path, root))
        found = self._contexts.get(key)
        if found is None:
            found = self._contexts[key] = _build_context(path, config, self.options)
            while len(self._contexts) > CONTEXT_CACHE_SIZE:
                self._contexts.popitem(last=False)
        else:
            self._contexts.move_to_end(key)
        return found

    def forget_contexts(self) -> None:
        """Drop cached listings: ``fix`` is about to write into a context directory."""
        self._contexts.clear()

    def for_file(self, path: Path) -> tuple[Config, RuleSelection]:
        config = resolve_config(path, self.options.config_file, self.options.no_config)
        key = config.source
        cached = self._by_config.get(key)
        if cached is None:
            selection = RuleSelection.build(self._known, config, self.options.overrides)
            cached = (config, selection)
            self._by_config[key] = cached
        return cached


def _build_context(path: Path, config: Config, options: RunOptions) -> BuildContext:
    from dockopt.context.build_context import BuildContext

    context_dir = options.context or config.context
    if path.name == "-" or not path.parent.exists():
        return BuildContext.for_dockerfile(path, context_dir) if context_dir else BuildContext.unknown()
    return BuildContext.for_dockerfile(path, context_dir)


def _lint_source(source: SourceFile, display: str, settings: _Settings) -> tuple[LintResult, Config, RuleSelection]:
    options = settings.options
    config, selection = settings.for_file(source.path)
    target = options.target or config.target
    build_context = settings.build_context(source.path, config)
    use_hadolint = options.hadolint if options.hadolint is not None else bool(config.hadolint)
    extra = None
    if use_hadolint:
        from dockopt.hadolint import dedupe, hadolint_findings

        def extra(document: Document, found: Sequence[Diagnostic]) -> list[Diagnostic]:
            return dedupe(found, hadolint_findings(source.path, source.text, display, document))
    result = lint(
        source.text,
        display,
        selection,
        path=source.path,
        build_context=build_context,
        target=target,
        report_unused_suppressions=options.report_unused_suppressions,
        extra=extra,
        downloads=settings.downloads(config),
    )
    if target and not result.document.errors:
        _check_target(result, target, display, from_config=options.target is None, config=config)
    return result, config, selection


class TargetError(Exception):
    """``--target`` (or the config's ``target``) names a stage the Dockerfile lacks."""


def _check_target(result: LintResult, target: str, display: str, *, from_config: bool, config: Config) -> None:
    from dockopt.model import build_model

    build = build_model(result.document)
    if build.stage(target) is not None:
        return
    names = [stage.name_written or str(stage.index) for stage in build.stages]
    where = f" (target in {config.source})" if from_config and config.source is not None else ""
    raise TargetError(f"{display}: target stage \"{target}\" could not be found{where}; "
                      f"stages: {', '.join(names) or 'none'}")


# --- public API for other front ends ------------------------------------------------------------
# ``dockopt verify`` lints and fixes in memory exactly as ``check`` and ``fix`` do: same
# configuration file, rule selection and build context rules. These three names are what it
# relies on; the underscored helpers above stay free to change shape with the CLI's needs.

#: Per-file settings as ``check`` and ``fix`` resolve them: ``RunSettings(options)``, then
#: ``for_file(path)`` for the config and rule selection (cached per configuration file).
RunSettings = _Settings


def lint_source(source: SourceFile, display: str, settings: RunSettings) -> LintResult:
    """Lint ``source`` as ``dockopt check`` would (hadolint included when configured);
    ``display`` is the file name the findings carry."""
    return _lint_source(source, display, settings)[0]


def fresh_build_context(path: Path, config: Config, options: RunOptions) -> BuildContext:
    """The build context of the Dockerfile at ``path`` under ``config`` and ``options``, listed
    anew rather than taken from a :class:`RunSettings` cache."""
    return _build_context(path, config, options)


def _outcome(display: str, text: str, diagnostics: list[Diagnostic], selection: RuleSelection) -> FileOutcome:
    report = FileReport(display, text, diagnostics)
    hits = sum(1 for d in diagnostics if d.severity >= selection.threshold)
    return FileOutcome(report=report, threshold_hits=hits)


def check_one(path: Path, display: str, settings: _Settings, stdin_text: str | None = None) -> FileOutcome:
    try:
        source = _source(path, display, stdin_text)
        result, config, selection = _lint_source(source, display, settings)
    except (FileError, ConfigError, TargetError) as exc:
        return FileOutcome(error=str(exc), error_path=display)
    outcome = _outcome(display, source.text, result.diagnostics, selection)
    outcome.unsafe_enabled = _unsafe(settings.options, config)
    outcome.warnings = list(result.warnings)
    return outcome


def _unsafe(options: RunOptions, config: Config) -> bool:
    return options.unsafe_fixes if options.unsafe_fixes is not None else bool(config.unsafe_fixes)


def fix_one(path: Path, display: str, settings: _Settings, stdin_text: str | None = None) -> FileOutcome:
    from dockopt.fixes.fixer import fix_text  # lazily: `check` never fixes (start-up time)

    options = settings.options
    if not options.diff and stdin_text is None:
        # This run writes Dockerfiles: a listing made before another file was fixed could be
        # stale (sizes), so contexts are shared only between the passes over this one file.
        settings.forget_contexts()
    try:
        source = _source(path, display, stdin_text)
        config, selection = settings.for_file(source.path)
        unsafe = _unsafe(options, config)

        last: list[LintResult] = []

        def run_lint(text: str) -> LintResult:
            found = _lint_source(SourceFile(source.path, text, source.encoding, source.raw), display, settings)[0]
            last[:] = [found]
            return found

        result = fix_text(source.text, run_lint, unsafe=unsafe)
        outcome = _outcome(display, result.text, result.remaining, selection)
        outcome.unsafe_enabled = unsafe
        outcome.fixed = len(result.applied)
        outcome.applied = [f"{d.code} {d.name}" for d in result.applied]
        outcome.warnings = list(last[0].warnings) if last else []
        outcome.new_text = result.text
        if result.changed:
            if options.diff:
                import difflib  # only --diff needs it: keep it off the start-up path

                from dockopt.text import physical_lines

                outcome.diff = "".join(
                    difflib.unified_diff(
                        physical_lines(source.text, keepends=True),
                        physical_lines(result.text, keepends=True),
                        fromfile=f"a/{display}",
                        tofile=f"b/{display}",
                    )
                )
            elif stdin_text is None:
                write_source(source, result.text, display)
    except (FileError, ConfigError, TargetError) as exc:
        return FileOutcome(error=str(exc), error_path=display)
    return outcome


def _source(path: Path, display: str, stdin_text: str | None) -> SourceFile:
    if stdin_text is not None:
        return SourceFile(path, stdin_text, "utf-8", stdin_text.encode("utf-8"))
    return read_source(path, display)


def decode_stdin(data: bytes, name: str) -> str:
    return decode(data, name)[0]


def display_path(path: Path) -> str:
    """The path as reports show it: relative to the working directory when it lies inside it,
    as given otherwise (``/etc/x`` stays absolute rather than becoming ``../../etc/x``)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    if path.is_absolute() and relative.startswith(os.pardir):
        return str(path)
    return relative


# Process-pool plumbing: each worker builds its own settings once.
_WORKER: _Settings | None = None


def _init_worker(options: RunOptions) -> None:
    global _WORKER
    _WORKER = _Settings(options)


def _work(item: tuple[str, Path, str]) -> FileOutcome:
    mode, path, display = item
    assert _WORKER is not None
    return _rendered((fix_one if mode == "fix" else check_one)(path, display, _WORKER), _WORKER.options)


def _rendered(outcome: FileOutcome, options: RunOptions) -> FileOutcome:
    """With text output, render the report now and keep only its diagnostics (not the text)."""
    if options.text is not None and outcome.report is not None:
        from dockopt.report.text import render_file

        report = outcome.report
        text_options = options.text
        if outcome.unsafe_enabled != text_options.unsafe_fixes_enabled:
            import dataclasses

            text_options = dataclasses.replace(text_options, unsafe_fixes_enabled=outcome.unsafe_enabled)
        outcome.rendered = render_file(report, {}, text_options)
        outcome.report = FileReport(report.path, "", report.diagnostics)
    return outcome


def run_files(mode: str, paths: Iterable[Path], options: RunOptions) -> list[FileOutcome]:
    items = [(mode, path, display_path(path)) for path in paths]
    if options.jobs > 1 and len(items) >= PARALLEL_MIN_FILES:
        # Imported here: concurrent.futures (with multiprocessing) costs ~10 ms of start-up,
        # which a single-file run (an editor, a pre-commit hook) should not pay.
        import gc
        from concurrent.futures import ProcessPoolExecutor

        chunk = max(1, len(items) // (options.jobs * 8))
        # The forked workers share the parent's pages (the imported rules) until written to;
        # a garbage collection writes to every object it visits. Frozen objects are not
        # visited: the process tree's PSS on the corpus went from 94-98 to 88-93 MB.
        gc.freeze()
        try:
            results: list[FileOutcome | None] = [None] * len(items)
            _map_until_broken(ProcessPoolExecutor(options.jobs, initializer=_init_worker, initargs=(options,)),
                              items, results, chunk)
            _redo_missing(items, results, options)
            return [outcome for outcome in results if outcome is not None]
        finally:
            gc.unfreeze()
    settings = _Settings(options)
    worker = fix_one if mode == "fix" else check_one
    return [_rendered(worker(path, display, settings), options) for _, path, display in items]


def _map_until_broken(pool: ProcessPoolExecutor, items: list[tuple[str, Path, str]],
                      results: list[FileOutcome | None], chunk: int, start: int = 0) -> None:
    """Fill ``results[start:]`` in order until the pool breaks (a worker process died)."""
    from concurrent.futures.process import BrokenProcessPool

    with pool:
        try:
            for index, outcome in enumerate(pool.map(_work, items[start:], chunksize=chunk), start):
                results[index] = outcome
        except BrokenProcessPool:
            pass


def _redo_missing(items: list[tuple[str, Path, str]], results: list[FileOutcome | None], options: RunOptions) -> None:
    """After a worker died (a crash in a C extension, the OOM killer), run the files without a
    result again, in order, in a one-worker pool: the file it dies on is the one that kills
    it. That file is reported as an error and the run goes on with the files after it."""
    from concurrent.futures import ProcessPoolExecutor

    while None in results:
        first = results.index(None)
        _map_until_broken(ProcessPoolExecutor(1, initializer=_init_worker, initargs=(options,)),
                          items, results, 1, first)
        if results[first] is None:
            display = items[first][2]
            results[first] = FileOutcome(error_path=display, error=f"{display}: internal error: the process analysing this file "
                                               "died (a crash or the system's out-of-memory killer); "
                                               "please report it with the file")


def run_stdin(mode: str, data: bytes, filename: str | None, options: RunOptions) -> FileOutcome:
    display = filename or "-"
    path = Path(filename) if filename else Path.cwd() / "-"
    try:
        text = decode_stdin(data, display)
    except FileError as exc:
        return FileOutcome(error=str(exc), error_path=display)
    settings = _Settings(options)
    return _rendered((fix_one if mode == "fix" else check_one)(path, display, settings, stdin_text=text), options)
