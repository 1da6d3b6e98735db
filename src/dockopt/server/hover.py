"""Hover: what an instruction does to the image, what reruns it, and for ``FROM`` what the
base image is known to be.

Everything shown comes from dockopt's own models: the layer simulator (paths created,
removed and rewritten, with estimated sizes; bytes wasted), the cache model (the
"rebuilt when" of ``dockopt layers``) and the base-image tables the stage rules use.
"""
from __future__ import annotations

from lsprotocol import types

from dockopt.layers import EffectKind, Layer, LayerPlan, StagePlan
from dockopt.layers.base_images import family_of, has_docker_clean
from dockopt.layers.plan import shown_path
from dockopt.layers.sizes import human
from dockopt.server.analysis import Analysis
from dockopt.server.inlay import size_label
from dockopt.syntax import Instruction
from dockopt.toolchain.images import (alpine_version, debian_codename, image_size, lighter_variant, parse_image,
                                      toolchain_of)

MAX_EFFECTS = 12
_HIDDEN_CATEGORIES = ("dir", "link")


def _stage_of(plan: LayerPlan, ins: Instruction) -> tuple[StagePlan, Layer | None] | None:
    for stage_plan in plan.stages:
        if stage_plan.stage.from_instruction is ins:
            return stage_plan, None
        for layer in stage_plan.layers:
            if layer.instruction is ins:
                return stage_plan, layer
    return None


def _effects(layer: Layer) -> list[str]:
    shown = [e for e in layer.effects if e.category not in _HIDDEN_CATEGORIES]
    lines = []
    for e in shown[:MAX_EFFECTS]:
        size = f", {human(e.size)}" if e.kind is not EffectKind.REMOVE or e.size else ""
        via = f" by `{e.command}`" if e.command else ""
        if e.category == "package":  # the simulator's pseudo-path, shown as `dockopt layers` does
            verb = "install" if e.kind is EffectKind.CREATE else "remove"
            lines.append(f"- {verb} {shown_path(e.path)} ({human(e.size)}){via}")
            continue
        lines.append(f"- {e.kind.value} `{e.path}` ({e.category}{size}){via}")
    if len(shown) > MAX_EFFECTS:
        lines.append(f"- … and {len(shown) - MAX_EFFECTS} more")
    return lines


def _waste(stage_plan: StagePlan, ins: Instruction) -> list[str]:
    lines = []
    for waste in stage_plan.waste:
        size = human(waste.size) if waste.size else "bytes of unknown size"
        if waste.created_by is ins:
            lines.append(f"- `{shown_path(waste.created.path)}` ({size}) is removed or overwritten on line "
                         f"{waste.removed_by.start_line}, but still ships in this layer")
        elif waste.removed_by is ins:
            lines.append(f"- removing `{shown_path(waste.removed.path)}` frees nothing: line {waste.created_by.start_line} "
                         f"wrote it ({size}) into an earlier layer")
    return lines


def _layer_markdown(stage_plan: StagePlan, layer: Layer) -> list[str]:
    ins = layer.instruction
    out = [f"**{ins.name}** · stage `{stage_plan.stage.label}`"]
    if layer.creates_layer:
        out[0] += f" · new layer **{size_label(layer)}** (estimate)"
    else:
        out[0] += " · no filesystem layer (image metadata only)"
    if not layer.analysed:
        out.append("dockopt cannot read this script (not a POSIX shell script, or it does not parse): "
                   "its effects are unknown.")
    effects = _effects(layer)
    if effects:
        out += ["", "**Simulated effects**", *effects]
    waste = _waste(stage_plan, ins)
    if waste:
        out += ["", "**Wasted bytes**", *waste]
    if layer.notes:
        out += ["", *[f"- {note}" for note in layer.notes]]
    if layer.rebuilt_when:
        out += ["", "**Rebuilt when** " + "; ".join(layer.rebuilt_when)]
    return out


def base_image_facts(stage_plan: StagePlan) -> list[str]:
    stage = stage_plan.stage
    written = stage.base
    resolved = stage.base_resolved or stage.base
    out = [f"**FROM** `{written}`" + (f" (resolves to `{resolved}`)" if resolved != written else "")
           + f" · stage `{stage.label}`"]
    if stage.base_stage is not None:
        base = stage.base_stage
        out.append(f"- builds on stage `{base.label}` (line {base.from_instruction.start_line}); "
                   "it reruns when that stage changes")
        return out
    family = stage_plan.family if stage_plan.family != "unknown" else family_of(resolved)
    out.append(f"- family: {family}")
    image = parse_image(resolved)
    if image is None:
        out.append("- the reference holds a variable dockopt cannot resolve: no more is known")
        return out
    size = image_size(image)
    if size is not None:
        out.append(f"- typical size: {human(size)} (uncompressed, linux/amd64)")
    toolchain = toolchain_of(image)
    if toolchain:
        out.append(f"- carries a build toolchain ({toolchain}): compilers and headers ship unless a later "
                   "stage leaves them behind")
    codename = debian_codename(image)
    if codename:
        out.append(f"- Debian release: {codename}")
    alpine = alpine_version(image)
    if alpine:
        out.append(f"- Alpine release: {alpine} (musl libc)")
    if family in ("debian", "ubuntu") and has_docker_clean(family):
        out.append("- apt: the image's docker-clean hook deletes downloaded .debs after each install; "
                   "package lists (/var/lib/apt/lists) stay unless removed in the same RUN")
    lighter = lighter_variant(image)
    if lighter is not None:
        saves = f", saves {human(lighter.saves)}" if lighter.saves else ""
        out.append(f"- lighter variant: `{lighter.image}` ({lighter.why}{saves})")
    if not image.tag and not image.digest:
        out.append("- no tag: `latest` moves, so rebuilds may get a different image")
    if image.digest:
        out.append("- pinned by digest: rebuilds get the same image")
    return out


def hover(analysis: Analysis, position: types.Position) -> types.Hover | None:
    plan = analysis.plan()
    if plan is None:
        return None
    offset = analysis.positions.offset(position)
    line = analysis.result.document.index.location(offset).line
    ins = analysis.result.document.instruction_at_line(line)
    if ins is None:
        return None
    found = _stage_of(plan, ins)
    if found is None:
        return None
    stage_plan, layer = found
    lines = base_image_facts(stage_plan) if layer is None else _layer_markdown(stage_plan, layer)
    if layer is None:
        lines += ["", f"Stage estimate: {human(stage_plan.total)} added, {human(stage_plan.wasted)} wasted"]
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n".join(lines)),
        range=analysis.positions.range(ins.start, ins.end),
    )
