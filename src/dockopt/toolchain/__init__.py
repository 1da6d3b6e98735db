"""Knowledge about build toolchains: images, packages, build commands, shipped-stage facts.

Shared by the stage rules (DO401-DO405) and the split recipes (``dockopt.fixes.split``).
"""
from __future__ import annotations

from dockopt.toolchain.commands import Step, build_step, compiling_install
from dockopt.toolchain.images import ImageRef, image_size, lighter_variant, parse_image, toolchain_of
from dockopt.toolchain.stage import PackageInstall, StageFacts, program, shipped_facts

__all__ = [
    "ImageRef", "PackageInstall", "StageFacts", "Step", "build_step", "compiling_install", "image_size",
    "lighter_variant", "parse_image", "program", "shipped_facts", "toolchain_of",
]
