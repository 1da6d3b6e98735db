"""What a rule is, and what it is given.

A rule is a class with its code, name and severity at the top (the rule book, ``rules/``,
holds its documentation) and a ``check`` method: a fold over the build model that yields
``Finding``s. The engine turns findings into ``Diagnostic``s (severity overrides, selection,
suppressions, line/column positions), so rules only deal with offsets and words.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dockopt.diagnostics import Fix, Severity
from dockopt.model import Build, Run, build_model
from dockopt.syntax import Document, Instruction

if TYPE_CHECKING:
    from dockopt.context.build_context import BuildContext
    from dockopt.layers import LayerPlan
    from dockopt.layers.downloads import DownloadSizer
    from dockopt.layers.invocations import Invocation


@dataclass(slots=True)
class Finding:
    """A rule's report: a source range, a message, optionally a fix and related places."""

    start: int
    end: int
    message: str
    fix: Fix | None = None
    related: list[tuple[str, int]] = field(default_factory=list)  # (description, source offset)
    # A finding more (or less) serious than its rule's default, e.g. a live token format in
    # DO202. A severity the user configures for the rule still wins.
    severity: Severity | None = None

    @classmethod
    def at(cls, ins: Instruction, message: str, fix: Fix | None = None) -> Finding:
        """A finding covering an instruction's first line (keyword to end of that line)."""
        first_line_end = ins.text.find("\n")
        end = ins.end if first_line_end == -1 else min(ins.end, ins.line_start + first_line_end)
        if end > ins.start and ins.text[end - ins.line_start - 1 : end - ins.line_start] == "\r":
            end -= 1
        return cls(ins.start, max(end, ins.start), message, fix)


class LintContext:
    """Everything a rule may read about one Dockerfile. Expensive views are computed lazily."""

    def __init__(
        self,
        document: Document,
        path: Path | None,
        build_context: BuildContext | None = None,
        target: str | None = None,
        downloads: DownloadSizer | None = None,
    ) -> None:
        self.document = document
        self.path = path
        self._build_context = build_context
        self.target = target
        self.downloads = downloads  # --fetch-sizes: download sizes from the servers (else None)
        self._invocations: dict[int, list[Invocation]] = {}

    @functools.cached_property
    def build(self) -> Build:
        return build_model(self.document)

    @property
    def source(self) -> str:
        return self.document.source

    @functools.cached_property
    def build_context(self) -> BuildContext:
        if self._build_context is not None:
            return self._build_context
        from dockopt.context.build_context import BuildContext

        return BuildContext.unknown()

    def invocations(self, run: Run) -> list[Invocation]:
        """The commands a RUN executes (cached: several rules read them)."""
        key = id(run.instruction)
        found = self._invocations.get(key)
        if found is None:
            from dockopt.layers.invocations import invocations

            found = self._invocations[key] = list(invocations(run))
        return found

    @functools.cached_property
    def layers(self) -> LayerPlan:
        from dockopt.layers import simulate

        return simulate(self.build, self._build_context, self.downloads)


class Rule:
    """Base class: subclasses set the class attributes and implement ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # In the default selection? (The rule book's ``default``; tests/test_rulebook.py checks
    # they agree. The CLI reads it from here so a check never parses the rule book.)
    default: ClassVar[bool] = True
    # Rules that need the build context (and say less without it) set this.
    uses_context: ClassVar[bool] = False

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        raise NotImplementedError
