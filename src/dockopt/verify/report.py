"""What ``dockopt verify`` found, and how it is shown (text side by side, or JSON).

Sizes are what Docker reports: a layer's size is the bytes of its files (``docker history``),
an image's size is the sum over its layers (``docker image inspect .Size``). Human-readable
sizes use Docker's own units (1 MB = 1,000,000 bytes, as ``docker images`` prints them) so
that the numbers can be checked against the docker CLI; JSON always has exact bytes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dockopt.diagnostics import Diagnostic
from dockopt.verify.filesystem import FsDiff
from dockopt.verify.layermap import MappedEntry, MappedStep
from dockopt.verify.outcome import StepFailure
from dockopt.verify.secret_proof import Presence, SecretTarget
from dockopt.verify.smoke import SmokeCheck, tail

LOG_TAIL_LINES = 15
DIFF_PATHS_SHOWN = 20


@dataclass(slots=True)
class ImageSide:
    """One built (or failed) image: the original, the fixed one, or a suggested rewrite."""

    role: str
    tag: str
    built: bool
    duration_s: float
    entries: list[MappedEntry] = field(default_factory=list)
    size_bytes: int | None = None
    layer_count: int | None = None
    log_tail: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: StepFailure | None = None  # where a failed build stopped

    @property
    def layers(self) -> list[MappedEntry]:
        return [e for e in self.entries if e.is_layer]


@dataclass(slots=True)
class SecretCheck:
    target: SecretTarget
    original: Presence
    fixed: Presence | None
    suggested: Presence | None = None


@dataclass(slots=True)
class CacheSide:
    steps: list[MappedStep]

    @property
    def misses(self) -> list[MappedStep]:
        return [s for s in self.steps if s.step.cached is False]

    @property
    def hits(self) -> list[MappedStep]:
        return [s for s in self.steps if s.step.cached is True]


@dataclass(slots=True)
class CacheReport:
    edited: str  # context-relative path that was appended to
    original: CacheSide | None
    fixed: CacheSide | None
    problem: str = ""  # why a rebuild could not be measured


@dataclass(slots=True)
class VerifyReport:
    dockerfile: str
    context: str
    target: str | None
    builder: str  # "buildkit" or "legacy"
    engine: str
    fixes_applied: list[Diagnostic]
    unsafe_enabled: bool
    findings: list[Diagnostic]  # the original's findings (their messages carry dockopt's estimates)
    original: ImageSide
    fixed: ImageSide | None = None
    fixed_text: str = ""
    fs_diff: FsDiff | None = None
    ignored_paths: tuple[str, ...] = ()
    estimate_original: int | None = None
    estimate_fixed: int | None = None
    estimate_partial: bool = False  # some layer sizes were unknown to the simulator
    secrets: list[SecretCheck] = field(default_factory=list)
    suggested: ImageSide | None = None
    suggested_skipped: str = ""
    cache: CacheReport | None = None
    # The filesystem difference put aside (``verify.attribution``); ``fs_diff`` is what is left.
    declared_caches: tuple[str, ...] = ()  # cache paths the applied fixes say they remove
    fs_declared_caches: FsDiff | None = None
    fs_nondeterministic: FsDiff | None = None
    original_again: ImageSide | None = None  # the second build of the original, when one was made
    repeat_diff_count: int | None = None  # paths that differ between the two original builds
    smoke: list[SmokeCheck] = field(default_factory=list)
    smoke_skipped: str = ""
    # ok | original-build-failed | fixed-build-failed | fixed-build-masks-failure | build-failure-changed |
    # behaviour-changed | safe-fix-changed-image
    verdict: str = "ok"
    problem: str = ""  # the one-line error that goes with a failing verdict
    exit_code: int = 0

    @property
    def saved_bytes(self) -> int | None:
        if self.fixed is None or self.original.size_bytes is None or self.fixed.size_bytes is None:
            return None
        return self.original.size_bytes - self.fixed.size_bytes

    @property
    def estimated_saved_bytes(self) -> int | None:
        if self.estimate_original is None or self.estimate_fixed is None:
            return None
        return self.estimate_original - self.estimate_fixed


def to_json(report: VerifyReport) -> dict[str, Any]:
    """The JSON report (``verify.report_json``: the public contract's fields)."""
    from dockopt.verify.report_json import report_json

    return report_json(report)


# ------------------------------------------------------------------------------------------ text


def docker_size(n: int | None) -> str:
    """Bytes in Docker's units (``docker images`` prints 74.8MB for 74,821,124 bytes)."""
    if n is None:
        return "?"
    sign, n = ("-" if n < 0 else ""), abs(n)
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{sign}{n / factor:.1f} {unit}"
    return f"{sign}{n} B"


def _rows(side: ImageSide) -> list[str]:
    rows: list[str] = []
    base = [e for e in side.layers if e.from_base]
    if base:
        line = base[0].line
        what = f"{base[0].text} (base, {len(base)} layer{'s' if len(base) != 1 else ''})"
        rows.append(f"{line or '':>4}  {what[:44]:<44} {docker_size(sum(e.size_bytes for e in base)):>9}")
    for e in side.layers:
        if not e.from_base:
            rows.append(f"{e.line or '?':>4}  {e.text[:44]:<44} {docker_size(e.size_bytes):>9}")
    return rows


def _table(original: ImageSide, fixed: ImageSide | None) -> list[str]:
    width = 4 + 2 + 44 + 1 + 9
    left, right = _rows(original), _rows(fixed) if fixed is not None and fixed.built else []
    heading = f"{'line  layer':<{width - 9}}{'size':>9}"
    out = [f"{'original':<{width}}   {'fixed' if fixed is not None else ''}",
           f"{heading}   {heading if right else ''}".rstrip()]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        out.append(f"{a:<{width}}   {b}".rstrip())
    total_a = f"total: {original.layer_count} layers, {docker_size(original.size_bytes)}"
    total_b = f"total: {fixed.layer_count} layers, {docker_size(fixed.size_bytes)}" if right and fixed else ""
    out.append(f"{total_a:<{width}}   {total_b}".rstrip())
    return out


def _presence_text(p: Presence | None, label: str) -> str:
    if p is None:
        return f"{label}: not built"
    where = ", ".join(f"line {line}" if line else "a base layer" for line in p.layer_lines)
    text = f"{label}: {'PRESENT in the layer of ' + where if p.layer_lines else 'absent from every layer'}"
    if p.content_checked:
        text += (f"; its bytes found in {len(p.content_hits)} file(s)" if p.content_hits
                 else "; its bytes found nowhere")
    return text


def _set_aside_counts(report: VerifyReport) -> str:
    """", once 2 nondeterministic paths and 3 declared-cache removals are set aside" (or "")."""
    parts = []
    nondet, caches = report.fs_nondeterministic, report.fs_declared_caches
    if nondet is not None and not nondet.is_empty:
        parts.append(f"{len(nondet.paths())} nondeterministic path(s)")
    if caches is not None and not caches.is_empty:
        parts.append(f"{len(caches.paths())} removal(s) under the declared caches")
    return f" once {' and '.join(parts)} are set aside" if parts else ""


def _set_aside_text(report: VerifyReport) -> list[str]:
    out: list[str] = []
    caches = report.fs_declared_caches
    if report.declared_caches:
        count = 0 if caches is None else len(caches.paths())
        out.append(f"declared caches: the fixes say they remove {', '.join(report.declared_caches)}; "
                   f"{count} path(s) removed there")
        if caches is not None and not caches.is_empty:
            out.append("  " + caches.summary(DIFF_PATHS_SHOWN // 2).replace("\n", "\n  "))
    if report.repeat_diff_count is not None:
        nondet = report.fs_nondeterministic
        same = 0 if nondet is None else len(nondet.paths())
        out.append(f"nondeterminism: two builds of the original differ in {report.repeat_diff_count} path(s); "
                   f"the fixed image differs from the original the same way in {same} of them, "
                   "not blamed on the fix")
        if nondet is not None and not nondet.is_empty:
            out.append("  " + nondet.summary(DIFF_PATHS_SHOWN // 2).replace("\n", "\n  "))
    elif report.original_again is not None and not report.original_again.built:
        out.append("nondeterminism: not measured (the second build of the original failed)")
    return out


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _smoke_text(report: VerifyReport) -> list[str]:
    out: list[str] = []
    if report.smoke_skipped:
        out.append(f"smoke run: skipped ({report.smoke_skipped})")
    for check in report.smoke:
        if check.equal:
            extra = ""
            if check.nondeterministic:
                extra = f"; {_and(check.nondeterministic)} vary between runs of the original, not compared"
            if check.not_compared:
                extra += "; both still running at the timeout, output not compared"
            out.append(f"run {check.label}: same in both images ({check.original.status}{extra})")
            continue
        out.append(f"run {check.label}: DIFFERS in {_and(check.differs)}")
        for role, run in (("original", check.original), ("fixed", check.fixed)):
            out.append(f"  {role}: {run.status}")
            for stream, text in (("stdout", run.normalised_stdout), ("stderr", run.normalised_stderr)):
                out += [f"    {stream} | {line}" for line in tail(text)]
    return out


def to_text(report: VerifyReport) -> str:
    out = [f"dockopt verify {report.dockerfile} (context {report.context}, {report.builder} builder, "
           f"engine {report.engine})"]
    if report.fixes_applied:
        out.append("fixes applied: " + ", ".join(
            f"{d.code} line {d.start.line} ({d.fix.applicability.value if d.fix else '?'})"
            for d in report.fixes_applied))
    else:
        out.append("fixes applied: none (the fixed image is the original)")
    out.append("")
    if report.original.layer_count is not None:  # measured: both images built
        out.extend(_table(report.original, report.fixed))
    else:
        for side in (report.original, report.fixed):
            if side is not None:
                out.append(f"{side.role}: {'built' if side.built else 'does not build'}")
    for side in (report.original, report.fixed, report.suggested, report.original_again):
        if side is not None and not side.built:
            where = f" at {side.failure.describe()}" if side.failure is not None else ""
            out += ["", f"the {side.role} build failed{where}; last lines of its log:"]
            out += [f"  | {line}" for line in side.log_tail]
        for note in side.notes if side is not None else []:
            out.append(f"note ({side.role}): {note}")  # type: ignore[union-attr]
    out.append("")
    if report.saved_bytes is not None:
        orig = report.original.size_bytes or 0
        pct = f", {100 * report.saved_bytes / orig:.1f}%" if orig else ""
        fewer = (report.original.layer_count or 0) - (report.fixed.layer_count or 0) if report.fixed else 0
        layers = f"{abs(fewer)} layer{'s' if abs(fewer) != 1 else ''} {'fewer' if fewer >= 0 else 'more'}"
        if report.saved_bytes >= 0:
            out.append(f"saved: {report.saved_bytes:,} bytes ({docker_size(report.saved_bytes)}{pct}), {layers}")
        else:  # e.g. a manifest copied on its own before the sources: a few bytes for a cached install
            out.append(f"grew: {-report.saved_bytes:,} bytes ({docker_size(-report.saved_bytes)}), {layers}")
    if report.estimated_saved_bytes is not None:
        partial = "; some sizes unknown to dockopt" if report.estimate_partial else ""
        out.append(f"dockopt's estimate: {report.estimated_saved_bytes:,} bytes saved (simulated layers "
                   f"{report.estimate_original:,} -> {report.estimate_fixed:,} bytes above the base image{partial})")
    if report.fs_diff is not None:
        ignored = ", ".join(report.ignored_paths) or "nothing"
        set_aside = _set_aside_counts(report)
        if report.fs_diff.is_empty:
            out.append(f"filesystem: equal{set_aside} (ignored: {ignored}; .pyc source mtimes)")
        else:
            expected = (" (expected: unsafe fixes change the image)" if any(
                d.fix is not None and d.fix.applicability.value != "safe" for d in report.fixes_applied) else "")
            out.append(f"filesystem: differs{expected}{set_aside} (ignored: {ignored}; .pyc source mtimes): "
                       f"{report.fs_diff.summary(DIFF_PATHS_SHOWN)}")
        out.extend(_set_aside_text(report))
    out.extend(_smoke_text(report))
    for s in report.secrets:
        out.append(f"secret {s.target.path} (DO201 on line {s.target.removed_line}, stored by line "
                   f"{s.target.stored_line or '?'}):")
        out.append("  " + _presence_text(s.original, "original"))
        out.append("  " + _presence_text(s.fixed, "fixed"))
        if s.suggested is not None:
            out.append("  " + _presence_text(s.suggested, "suggested secret-mount rewrite"))
        elif s.fixed is not None and s.fixed.present:
            out.append("  (DO201's fix is a suggestion: `dockopt fix` does not apply it)")
    if report.suggested is not None and report.suggested.built:
        out.append(f"suggested rewrite: {report.suggested.layer_count} layers, "
                   f"{docker_size(report.suggested.size_bytes)}")
    if report.secrets and report.suggested_skipped:
        out.append(f"  (the suggested rewrite was not built: {report.suggested_skipped})")
    if report.cache is not None:
        out.append(f"rebuild after appending to {report.cache.edited}:")
        if report.cache.problem:
            out.append(f"  not measured: {report.cache.problem}")
        for label, cache in (("original", report.cache.original), ("fixed", report.cache.fixed)):
            if cache is None:
                continue
            missed = ", ".join(f"line {s.line}" if s.line else s.step.name for s in cache.misses) or "none"
            out.append(f"  {label}: {len(cache.misses)} step(s) missed the cache ({missed})")
    if report.problem:
        out += ["", f"dockopt verify: {report.problem}"]
    return "\n".join(out) + "\n"
