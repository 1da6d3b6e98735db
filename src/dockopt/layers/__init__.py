"""Layers: the per-stage layer plan (what each RUN/COPY/ADD creates, removes, rewrites).

``simulate(build, context)`` -> ``LayerPlan``. The knowledge base of commands is in
``knowledge.py`` (files) and ``packages.py`` (package managers, toolchains); sizes and
their sources in ``sizes.py``.
"""
from __future__ import annotations

from dockopt.layers.plan import CACHE_CATEGORIES, Effect, EffectKind, Layer, LayerPlan, StagePlan, Waste
from dockopt.layers.simulator import simulate

__all__ = ["CACHE_CATEGORIES", "Effect", "EffectKind", "Layer", "LayerPlan", "StagePlan", "Waste", "simulate"]
