"""``dockopt layers``: the simulated layer plan as a table (a static ``docker history``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from dockopt.layers.accounting import Accounting
from dockopt.layers.plan import LayerPlan, shown_path
from dockopt.layers.sizes import human

if TYPE_CHECKING:
    from dockopt.layers.downloads import DownloadSizer


def plan_for(text: str, path: Path, context_dir: Path | None, target: str | None,
             downloads: DownloadSizer | None = None) -> tuple[LayerPlan | None, str]:
    plan, _, error = _plan_and_accounting(text, path, context_dir, target, downloads)
    return plan, error


def _plan_and_accounting(text: str, path: Path, context_dir: Path | None, target: str | None,
                         downloads: DownloadSizer | None = None) -> tuple[LayerPlan | None, Accounting | None, str]:
    from dockopt.checks.base import LintContext
    from dockopt.context.build_context import BuildContext
    from dockopt.syntax import parse

    document = parse(text)
    if document.errors:
        error = document.errors[0]
        return None, None, f"{path}:{error.line}: {error.message}"
    build_context = BuildContext.for_dockerfile(path, context_dir)
    ctx = LintContext(document, path, build_context, target, downloads)
    needed: set[int] | None = None
    if target:
        stage = ctx.build.stage(target)
        if stage is None:
            names = ", ".join(s.label for s in ctx.build.stages)
            return None, None, f"{path}: target stage \"{target}\" could not be found; stages: {names}"
        needed = {s.index for s in ctx.build.needed_stages(target)}
    from dockopt.cache.model import annotate_layers

    annotate_layers(ctx)  # fills each layer's rebuilt_when from the cache model
    from dockopt.layers.accounting import account_text

    # Which of the waste `dockopt check` (default selection) names: the same plan, linted.
    accounting = account_text(text, path, build_context, target, context=ctx)
    if needed is None:
        return ctx.layers, accounting, ""
    # BuildKit builds only what the target needs: its FROM chain and the stages it copies from.
    return LayerPlan([p for p in ctx.layers.stages if p.stage.index in needed]), accounting, ""


def render_layers(text: str, path: Path, context_dir: Path | None, target: str | None, fmt: str,
                  downloads: DownloadSizer | None = None) -> tuple[str, bool]:
    plan, accounting, error = _plan_and_accounting(text, path, context_dir, target, downloads)
    if plan is None:
        return error, False
    if fmt == "json":
        return json.dumps(plan_to_json(plan, accounting), indent=2) + "\n", True
    return plan_to_text(plan, accounting), True


def _stage_accounting(accounting: Accounting | None, label: str) -> dict[str, int] | None:
    """Per shipped stage: waste items and bytes, and how many `dockopt check` names."""
    if accounting is None:
        return None
    items = [a for a in accounting.items if a.stage == label]
    if not items:
        return None
    return {
        "waste_items": len(items),
        "reported_items": sum(1 for a in items if a.reported),
        "excepted_items": sum(1 for a in items if not a.reported and a.exception),
        "waste_bytes": sum(a.waste.size or 0 for a in items),
        "reported_bytes": sum(a.waste.size or 0 for a in items if a.reported),
    }


def plan_to_json(plan: LayerPlan, accounting: Accounting | None = None) -> list[dict[str, object]]:
    out = []
    for stage_plan in plan.stages:
        stage = stage_plan.stage
        out.append(
            {
                "stage": stage.label,
                "index": stage.index,
                "base": stage.base_resolved or stage.base,
                "family": stage_plan.family,
                "estimated_bytes": stage_plan.total,
                "estimated_waste_bytes": stage_plan.wasted,
                # Additive field: how much of the waste the default `dockopt check` names
                # (null for a stage that does not ship or has no waste).
                "waste_accounting": _stage_accounting(accounting, stage.label),
                "layers": [
                    {
                        "line": layer.instruction.start_line,
                        "instruction": layer.instruction.name,
                        "creates_layer": layer.creates_layer,
                        "estimated_bytes": layer.added,
                        "size_partly_unknown": layer.added_unknown,
                        "wasted_bytes": layer.wasted,
                        "effects": [
                            {"kind": e.kind.value, "path": shown_path(e.path), "category": e.category,
                             "command": e.command, "estimated_bytes": e.size,
                             # Additive: how the size was found, or why it is unknown ("" if nothing to say).
                             "size_note": e.size_note}
                            for e in layer.effects
                        ],
                        "notes": layer.notes,
                        "unmodelled_commands": layer.unmodelled,
                        "rebuilt_when": layer.rebuilt_when,
                    }
                    for layer in stage_plan.layers
                ],
            }
        )
    return out


def plan_to_text(plan: LayerPlan, accounting: Accounting | None = None) -> str:
    lines: list[str] = []
    for stage_plan in plan.stages:
        stage = stage_plan.stage
        lines.append(f"Stage {stage.label} (FROM {stage.base_resolved or stage.base}; family {stage_plan.family})")
        lines.append(f"  {'line':>5}  {'instruction':<11} {'layer':<5} {'added':>10} {'wasted':>10}  notes")
        for layer in stage_plan.layers:
            ins = layer.instruction
            added = human(layer.added) if layer.added else ("?" if layer.added_unknown else "0")
            if layer.added and layer.added_unknown:
                added = f"{added}+?"
            wasted = human(layer.wasted) if layer.wasted else "-"
            notes = list(layer.notes)
            if layer.unmodelled:
                shown = ", ".join(f"`{c}`" for c in dict.fromkeys(layer.unmodelled))
                notes.append(f"not modelled, size unknown: {shown}")
            notes += [_effect_note(e) for e in layer.effects if e.category not in ("dir", "link")][:4]
            notes += [f"rebuilt when {w}" for w in layer.rebuilt_when]
            lines.append(
                f"  {ins.start_line:>5}  {ins.name:<11} {'yes' if layer.creates_layer else 'no':<5} "
                f"{added:>10} {wasted:>10}  {'; '.join(notes)}"
            )
        unknown = " plus unknown sizes" if any(layer.added_unknown for layer in stage_plan.layers) else ""
        lines.append(f"  estimated total {human(stage_plan.total)}{unknown}, estimated waste {human(stage_plan.wasted)} "
                     "(sizes are estimates; MB = 10^6 bytes)")
        counts = _stage_accounting(accounting, stage.label)
        if counts is not None:
            size = (f"{human(counts['reported_bytes'])} of {human(counts['waste_bytes'])}" if counts["waste_bytes"]
                    else "sizes unknown")
            excepted = (f" ({counts['excepted_items']} not reported by design: overwritten files, moves, directories)"
                        if counts["excepted_items"] else "")
            lines.append(f"  waste named by `dockopt check`: {counts['reported_items']} of {counts['waste_items']} "
                         f"items, {size}{excepted}")
        lines.append("")
    return "\n".join(lines)


def _effect_note(e: object) -> str:
    from dockopt.layers.plan import Effect

    assert isinstance(e, Effect)
    size = human(e.size)
    if e.category == "package":
        if e.kind.value != "create":
            return f"remove {shown_path(e.path)}"
        return f"install {shown_path(e.path)} ({size})"
    note = f": {e.size_note}" if e.size_note else ""
    return f"{e.kind.value} {e.path} ({e.category}, {size}{note})"
