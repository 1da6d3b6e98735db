"""Helpers for rule tests: lint or fix a Dockerfile text with exactly the rules you name."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockopt.diagnostics import Diagnostic, Severity
from dockopt.linter import LintResult, lint
from dockopt.fixes.fixer import FixResult, fix_text


@dataclass(frozen=True)
class Only:
    """A selector enabling just these codes, at their default severities."""

    codes: frozenset[str]

    def enabled(self, code: str, path: str | None) -> bool:
        return code in self.codes

    def severity(self, code: str, default: Severity) -> Severity:
        return default


def run(text: str, *codes: str, context: Path | None = None, dockerfile: Path | None = None,
        target: str | None = None, unused: bool = False) -> LintResult:
    build_context = None
    if context is not None:
        from dockopt.context.build_context import BuildContext

        build_context = BuildContext.for_dockerfile(dockerfile or context / "Dockerfile", context)
    return lint(text, "Dockerfile", Only(frozenset(codes)), path=dockerfile, build_context=build_context,
                target=target, report_unused_suppressions=unused)


def findings(text: str, *codes: str, **kwargs: object) -> list[Diagnostic]:
    return run(text, *codes, **kwargs).diagnostics  # type: ignore[arg-type]


def fixed(text: str, *codes: str, unsafe: bool = False, **kwargs: object) -> FixResult:
    return fix_text(text, lambda t: run(t, *codes, **kwargs), unsafe=unsafe)  # type: ignore[arg-type]
