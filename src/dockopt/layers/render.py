"""``dockopt layers``: the simulated layer plan as a table (a static ``docker history``)."""
from __future__ import annotations

import json
from pathlib import Path

from dockopt.layers.plan import LayerPlan
from dockopt.layers.sizes import human


def plan_for(text: str, path: Path, context_dir: Path | None, target: str | None) -> tuple[LayerPlan | None, str]:
    from dockopt.checks.base import LintContext
    from dockopt.context.build_context import BuildContext
    from dockopt.syntax import parse

    document = parse(text)
    if document.errors:
        error = document.errors[0]
        return None, f"{path}:{error.line}: {error.message}"
    build_context = BuildContext.for_dockerfile(path, context_dir)
    ctx = LintContext(document, path, build_context, target)
    from dockopt.cache.model import annotate_layers

    annotate_layers(ctx)  # fills each layer's rebuilt_when from the cache model
    return ctx.layers, ""


def render_layers(text: str, path: Path, context_dir: Path | None, target: str | None, fmt: str) -> tuple[str, bool]:
    plan, error = plan_for(text, path, context_dir, target)
    if plan is None:
        return error, False
    if fmt == "json":
        return json.dumps(plan_to_json(plan), indent=2) + "\n", True
    return plan_to_text(plan), True


def plan_to_json(plan: LayerPlan) -> list[dict[str, object]]:
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
                "layers": [
                    {
                        "line": layer.instruction.start_line,
                        "instruction": layer.instruction.name,
                        "creates_layer": layer.creates_layer,
                        "estimated_bytes": layer.added,
                        "size_partly_unknown": layer.added_unknown,
                        "wasted_bytes": layer.wasted,
                        "effects": [
                            {"kind": e.kind.value, "path": e.path, "category": e.category, "command": e.command,
                             "estimated_bytes": e.size}
                            for e in layer.effects
                        ],
                        "notes": layer.notes,
                        "rebuilt_when": layer.rebuilt_when,
                    }
                    for layer in stage_plan.layers
                ],
            }
        )
    return out


def plan_to_text(plan: LayerPlan) -> str:
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
            notes += [f"{e.kind.value} {e.path} ({e.category}, {human(e.size)})" for e in layer.effects
                      if e.category not in ("dir", "link")][:4]
            notes += [f"rebuilt when {w}" for w in layer.rebuilt_when]
            lines.append(
                f"  {ins.start_line:>5}  {ins.name:<11} {'yes' if layer.creates_layer else 'no':<5} "
                f"{added:>10} {wasted:>10}  {'; '.join(notes)}"
            )
        lines.append(f"  estimated total {human(stage_plan.total)}, estimated waste {human(stage_plan.wasted)} "
                     "(sizes are estimates)")
        lines.append("")
    return "\n".join(lines)
