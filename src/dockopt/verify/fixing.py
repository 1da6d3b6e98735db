"""What ``dockopt verify`` builds: the user's Dockerfile and what ``dockopt fix`` would make of it.

The fixed text comes from the same machinery as ``dockopt fix`` (``dockopt.runner``'s
per-file settings, ``dockopt.fixes.fixer.fix_text``), so the image verified is the image the user
gets from applying the fixes: same configuration file, same rule selection, same build
context rules. Unsafe fixes are applied with ``--unsafe-fixes`` or when the configuration
enables them, exactly as ``dockopt fix`` decides.

Secret findings (DO201) carry a suggestion, never applied by ``dockopt fix``. To show that
the suggested rewrite really keeps the secret out of every layer, the suggestion's edits are
applied here into a third Dockerfile, built with the ``--secret`` its message names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from dockopt.checks.base import LintContext
from dockopt.config import ConfigError
from dockopt.diagnostics import Applicability, Diagnostic, Edit
from dockopt.linter import LintResult
from dockopt.fileio import FileError, SourceFile, read_source
from dockopt.fixes.fixer import FixResult, apply_edits, fix_text
from dockopt.runner import RunOptions, RunSettings, fresh_build_context, lint_source
from dockopt.selection import CliOverrides
from dockopt.syntax import parse

SECRET_RULE = "DO201"
# The DO201 suggestion's message names the build flag it needs: "--secret id=ID,src=SOURCE".
_SECRET_FLAG = re.compile(r"--secret id=(?P<id>[^,\s`]+),src=(?P<src>[^\s`]+)")


class VerifyError(Exception):
    """The Dockerfile cannot be verified at all (unreadable, bad config, does not parse)."""


@dataclass(slots=True)
class FixOutcome:
    path: Path
    original_text: str
    fixed_text: str
    original: LintResult
    result: FixResult
    unsafe_enabled: bool
    target: str | None
    context_dir: Path  # the directory the images are built from
    _options: RunOptions = field(repr=False)
    _settings: RunSettings = field(repr=False)

    @property
    def applied(self) -> list[Diagnostic]:
        return self.result.applied

    @property
    def only_safe_applied(self) -> bool:
        return all(d.fix is not None and d.fix.applicability is Applicability.SAFE for d in self.applied)

    def lint_context(self, text: str) -> LintContext:
        """A rule's-eye view of ``text`` with the settings the lint used (for layer plans)."""
        config, _ = self._settings.for_file(self.path)
        document = parse(text)
        return LintContext(document, self.path, fresh_build_context(self.path, config, self._options), self.target)

    def estimate(self, text: str) -> tuple[int, bool]:
        """dockopt's estimate of the bytes the shipped stages of ``text`` add to their base image,
        and whether some sizes were unknown. The build context is read as known here (it is
        the directory the images are built from), so COPY sizes count."""
        from dockopt.context.build_context import BuildContext

        known = BuildContext.for_dockerfile(self.path, self.context_dir)
        return simulated_bytes(LintContext(parse(text), self.path, known, self.target))

    def lint(self, text: str) -> LintResult:
        source = SourceFile(self.path, text, "utf-8", text.encode("utf-8", "surrogateescape"))
        return lint_source(source, str(self.path), self._settings)


def plan_fixes(path: Path, *, unsafe_fixes: bool, context: Path | None, target: str | None) -> FixOutcome:
    """Lint ``path`` and fix it in memory, as ``dockopt fix`` would (nothing is written)."""
    options = RunOptions(overrides=CliOverrides(), context=context, target=target, unsafe_fixes=unsafe_fixes or None)
    try:
        settings = RunSettings(options)
        source = read_source(path)
        config, _selection = settings.for_file(source.path)
    except (FileError, ConfigError) as exc:
        raise VerifyError(str(exc)) from exc
    display = str(path)

    def run_lint(text: str) -> LintResult:
        return lint_source(SourceFile(source.path, text, source.encoding, source.raw), display, settings)

    original = run_lint(source.text)
    if original.document.errors:
        error = original.document.errors[0]
        raise VerifyError(f"{display}:{error.line}: {error.message} (a Dockerfile that does not parse cannot be built)")
    unsafe = unsafe_fixes or bool(config.unsafe_fixes)
    result = fix_text(source.text, run_lint, unsafe=unsafe)
    context_dir = (context or config.context or path.parent).resolve()
    return FixOutcome(
        path=path,
        original_text=source.text,
        fixed_text=result.text,
        original=original,
        result=result,
        unsafe_enabled=unsafe,
        target=target or config.target,
        context_dir=context_dir,
        _options=options,
        _settings=settings,
    )


def simulated_bytes(ctx: LintContext) -> tuple[int, bool]:
    """(estimated bytes the shipped stages add on top of their base image, some size unknown)."""
    plans = [ctx.layers.stage_plan(stage) for stage in ctx.build.shipped_stages(ctx.target)]
    partial = any(layer.added_unknown for plan in plans for layer in plan.layers if layer.creates_layer)
    return sum(plan.total for plan in plans), partial


@dataclass(frozen=True, slots=True)
class SuggestedRewrite:
    """A Dockerfile with DO201's secret-mount suggestions applied, and what building it needs."""

    text: str
    secrets: dict[str, Path]  # secret id -> file in the build context
    applied: list[Diagnostic]


def secret_rewrite(outcome: FixOutcome) -> tuple[SuggestedRewrite | None, str]:
    """DO201's suggestions applied to the fixed text (else to the original), or why not.

    The fixed text is preferred: that is the file the user has after ``dockopt fix``, and the
    suggestion is what they would apply next. A suggestion whose ``--secret`` source is not a
    file of the build context (a token written by ``echo $TOKEN``) cannot be built here.
    """
    why = "no DO201 finding offers a secret-mount rewrite"
    for text in dict.fromkeys((outcome.fixed_text, outcome.original_text)):
        found = [
            d for d in outcome.lint(text).diagnostics
            if d.code == SECRET_RULE and d.fix is not None and d.fix.applicability is Applicability.SUGGESTION
        ]
        if not found:
            continue
        secrets: dict[str, Path] = {}
        edits: list[Edit] = []
        for d in found:
            assert d.fix is not None
            m = _SECRET_FLAG.search(d.fix.message)
            if m is None:
                return None, f"the DO201 suggestion on line {d.start.line} names no `--secret id=...,src=...`"
            source = (outcome.context_dir / m["src"]).resolve()
            if not source.is_file():
                return None, (f"the secret `{m['id']}` has no file `{m['src']}` in the build context to pass "
                              "with --secret")
            secrets[m["id"]] = source
            edits.extend(d.fix.edits)
        spans = sorted((e.start, e.end) for e in edits)
        if any(a_end > b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False)):
            return None, "the DO201 suggestions overlap"
        rewritten = apply_edits(text, edits)
        if parse(rewritten).errors:
            return None, "the DO201 suggestions do not re-parse"
        return SuggestedRewrite(rewritten, secrets, found), ""
    return None, why
