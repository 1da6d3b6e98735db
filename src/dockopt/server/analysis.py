"""One document's analysis, made exactly as ``dockopt check`` makes it.

The server lints through :func:`dockopt.runner.lint_source` with a
:class:`dockopt.runner.RunSettings`: the same configuration discovery (the nearest
``.dockopt.toml`` / ``dockopt.toml`` / ``pyproject.toml`` upward from the file), rule
selection, severities, per-file ignores, inline suppressions, build context (the config's
``context`` or the file's directory) and hadolint setting as the CLI. Everything derived
from one version of a text (the layer plan for inlay hints and hovers, the fixes) hangs off
its :class:`Analysis` and is computed on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockopt.fileio import SourceFile
from dockopt.linter import LintResult
from dockopt.runner import RunSettings, lint_source
from dockopt.server.positions import PositionMap

if TYPE_CHECKING:
    from dockopt.checks.base import LintContext
    from dockopt.config import Config
    from dockopt.layers import LayerPlan


@dataclass(slots=True)
class Analysis:
    """A document version, its lint result and the settings that produced it."""

    uri: str
    version: int | None
    text: str
    path: Path
    settings: RunSettings
    result: LintResult
    positions: PositionMap
    _context: LintContext | None = None

    @property
    def config(self) -> Config:
        return self.settings.for_file(self.path)[0]

    def lint(self, text: str) -> LintResult:
        """Lint another text of this file with the same settings (the fixer's re-checks)."""
        if text == self.text:
            return self.result
        return lint_text(text, self.path, self.settings)

    def lint_context(self) -> LintContext | None:
        """The simulator's view of this text (None when it does not parse), with each layer's
        "rebuilt when" filled in from the cache model, as ``dockopt layers`` shows it."""
        if self.result.document.errors:
            return None
        if self._context is None:
            from dockopt.cache.model import annotate_layers
            from dockopt.checks.base import LintContext

            config = self.config
            build_context = self.settings.build_context(self.path, config)
            target = self.settings.options.target or config.target
            context = LintContext(self.result.document, self.path, build_context, target)
            annotate_layers(context)
            self._context = context
        return self._context

    def plan(self) -> LayerPlan | None:
        context = self.lint_context()
        return context.layers if context is not None else None


def lint_text(text: str, path: Path, settings: RunSettings) -> LintResult:
    # The text is the editor's buffer, not the file on disk: the encoding only matters for
    # writing, which the server never does (the client applies edits).
    return lint_source(SourceFile(path, text, "utf-8", b""), str(path), settings)


def warm_up() -> None:
    """Import the rules, the shell parser and the simulator before the first keystroke
    needs them (a cold first check costs ~100 ms of imports)."""
    from dockopt.linter import DefaultSelector, lint
    from dockopt.runner import known_codes

    lint("FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /tmp/x\n", "Dockerfile",
         DefaultSelector(frozenset(known_codes())))
    # Everything loaded so far lives as long as the server: move it out of the collector's
    # view. A full collection otherwise walks it all, and on the corpus's 99th-percentile file
    # that made about one re-check in fifty take 140-220 ms instead of ~25.
    import gc

    gc.freeze()
