"""``dockopt verify --format json``: the report as the public JSON contract (fields are added,
never renamed; README "Proving a fix with Docker"). Exact bytes everywhere; the text view is
``verify.report``."""
from __future__ import annotations

from typing import Any

from dockopt.verify.filesystem import FsDiff
from dockopt.verify.report import CacheSide, ImageSide, VerifyReport
from dockopt.verify.secret_proof import Presence
from dockopt.verify.smoke import ContainerRun, SmokeCheck

JSON_DIFF_PATHS = 200



def _side_json(side: ImageSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "tag": side.tag,
        "built": side.built,
        "duration_s": round(side.duration_s, 2),
        "size_bytes": side.size_bytes,
        "layer_count": side.layer_count,
        "layers": [
            {"line": e.line, "instruction": e.instruction, "text": e.text, "size_bytes": e.size_bytes,
             "base_image": e.from_base}
            for e in side.layers
        ],
        "log_tail": side.log_tail,
        "notes": side.notes,
        "failed_step": None if side.failure is None else {
            "line": side.failure.line,
            "instruction": side.failure.instruction,
            "exit_code": side.failure.exit_code,
            "last_output": side.failure.last_output,
        },
    }


def _diff_json(diff: FsDiff | None) -> dict[str, Any] | None:
    if diff is None:
        return None
    return {
        "added": list(diff.added)[:JSON_DIFF_PATHS],
        "removed": list(diff.removed)[:JSON_DIFF_PATHS],
        "changed": list(diff.changed)[:JSON_DIFF_PATHS],
        "counts": {"added": len(diff.added), "removed": len(diff.removed), "changed": len(diff.changed)},
    }


def _run_json(run: ContainerRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"exit_code": run.exit_code, "timed_out": run.timed_out, "duration_s": round(run.duration_s, 2),
            "stdout": run.normalised_stdout, "stderr": run.normalised_stderr, "truncated": run.truncated}


def _smoke_json(check: SmokeCheck) -> dict[str, Any]:
    return {
        "label": check.label,
        "command": None if check.command is None else list(check.command),
        "equal": check.equal,
        "differs": list(check.differs),
        "nondeterministic": list(check.nondeterministic),
        "not_compared": list(check.not_compared),
        "original": _run_json(check.original),
        "fixed": _run_json(check.fixed),
        "original_again": _run_json(check.original_again),
    }


def _presence_json(p: Presence | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"present": p.present, "layer_lines": list(p.layer_lines), "content_checked": p.content_checked,
            "content_found": [{"layer_line": line, "path": path} for line, path in p.content_hits]}


def _cache_json(side: CacheSide | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "misses": len(side.misses),
        "hits": len(side.hits),
        "missed_steps": [{"line": s.line, "step": s.step.name} for s in side.misses],
    }


def report_json(report: VerifyReport) -> dict[str, Any]:
    diff = report.fs_diff
    return {
        "dockerfile": report.dockerfile,
        "context": report.context,
        "target": report.target,
        "builder": report.builder,
        "engine": report.engine,
        "verdict": report.verdict,
        "problem": report.problem or None,
        "exit_code": report.exit_code,
        "fixes_applied": [
            {"code": d.code, "line": d.start.line, "applicability": d.fix.applicability.value if d.fix else None,
             "message": d.fix.message if d.fix else ""}
            for d in report.fixes_applied
        ],
        "unsafe_fixes": report.unsafe_enabled,
        "findings": [{"code": d.code, "line": d.start.line, "message": d.message} for d in report.findings],
        "fixed_dockerfile": report.fixed_text,
        "original": _side_json(report.original),
        "fixed": _side_json(report.fixed),
        "saved_bytes": report.saved_bytes,
        "estimate": {
            "original_bytes": report.estimate_original,
            "fixed_bytes": report.estimate_fixed,
            "saved_bytes": report.estimated_saved_bytes,
            "partial": report.estimate_partial,
        },
        # equal except nondeterministic paths and removals under the declared caches (listed below)
        "filesystem_equal": None if diff is None else diff.is_empty,
        "filesystem_diff": _diff_json(diff),
        "ignored_paths": list(report.ignored_paths),
        "declared_caches": list(report.declared_caches),
        "filesystem_declared_caches": _diff_json(report.fs_declared_caches),
        "filesystem_nondeterministic": _diff_json(report.fs_nondeterministic),
        "nondeterminism": {
            "measured": report.repeat_diff_count is not None,
            "paths_differing_between_original_builds": report.repeat_diff_count,
            "original_again": _side_json(report.original_again),
        },
        "smoke": [_smoke_json(check) for check in report.smoke],
        "smoke_skipped": report.smoke_skipped or None,
        "secrets": [
            {
                "path": s.target.path,
                "finding_line": s.target.removed_line,
                "stored_line": s.target.stored_line,
                "layer_line": s.original.layer_lines[0] if s.original.layer_lines else None,
                "present_in_original": s.original.present,
                "present_in_fixed": None if s.fixed is None else s.fixed.present,
                "present_in_suggested": None if s.suggested is None else s.suggested.present,
                "original": _presence_json(s.original),
                "fixed": _presence_json(s.fixed),
                "suggested": _presence_json(s.suggested),
            }
            for s in report.secrets
        ],
        "suggested": _side_json(report.suggested),
        "suggested_skipped": report.suggested_skipped or None,
        "cache": None if report.cache is None else {
            "edited": report.cache.edited,
            "original": _cache_json(report.cache.original),
            "fixed": _cache_json(report.cache.fixed),
            "problem": report.cache.problem or None,
        },
    }
