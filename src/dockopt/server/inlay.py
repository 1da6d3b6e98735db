"""Inlay hints: the simulated size of every layer, and the bytes a later layer wastes.

``~82 MB`` at the end of each instruction that creates a layer (what ``dockopt layers``
prints in its "added" column); ``~0 B (frees nothing)`` on a layer that only removes files
(the bytes are still in the earlier layer); ``… wasted`` when later layers remove or
overwrite what this one adds (those bytes still ship).
"""
from __future__ import annotations

from lsprotocol import types

from dockopt.layers import EffectKind, Layer
from dockopt.layers.sizes import human
from dockopt.server.analysis import Analysis


def size_label(layer: Layer) -> str:
    if layer.added:
        label = human(layer.added) + ("+?" if layer.added_unknown else "")
    elif layer.added_unknown:
        label = "size unknown"
    elif any(e.kind is EffectKind.REMOVE for e in layer.effects):
        label = "~0 B (frees nothing)"
    else:
        label = "~0 B"
    if layer.wasted:
        label += f", {human(layer.wasted)} wasted"
    return label


def _tooltip(layer: Layer) -> str:
    text = "Estimated bytes this layer adds to the image (dockopt's layer simulation)."
    if layer.wasted:
        text += (f"\n\n{human(layer.wasted)} of it is removed or overwritten by a later layer: a layer can only "
                 "hide what an earlier one wrote, so those bytes still ship.")
    if not layer.analysed:
        text += "\n\ndockopt could not read this script; its size is not estimated."
    return text


def inlay_hints(analysis: Analysis, requested: types.Range) -> list[types.InlayHint]:
    plan = analysis.plan()
    if plan is None:
        return []
    first = analysis.positions.offset(requested.start)
    last = analysis.positions.offset(requested.end)
    hints: list[types.InlayHint] = []
    for stage_plan in plan.stages:
        for layer in stage_plan.layers:
            ins = layer.instruction
            if not layer.creates_layer or not first <= ins.end <= last:
                continue
            hints.append(types.InlayHint(
                position=analysis.positions.position(ins.end),
                label=size_label(layer),
                padding_left=True,
                tooltip=types.MarkupContent(kind=types.MarkupKind.Markdown, value=_tooltip(layer)),
            ))
    return hints
