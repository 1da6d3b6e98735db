"""Proof for secret findings: which layers of a built image still hold the secret file.

A DO201 finding says "this ``rm`` does not remove the secret: an earlier layer ships it".
Here that is checked on the real image: the saved image's layer tarballs are listed and the
secret's path looked up in each (a whiteout in a later layer does not count as holding it).
When the secret was copied from a build-context file, its bytes are searched for too, in
every file of every layer, so that a copy under another name cannot hide.

Which file a finding is about is read from the layer plan the rule itself used: the waste
record whose removal is the finding's span (a secret copied or written by name), or the
removal itself when the file came inside a directory tree (``COPY . /app``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockopt.checks.base import LintContext
from dockopt.checks.secret_flow import classify, copy_source, shipped_plans
from dockopt.diagnostics import Diagnostic
from dockopt.layers import EffectKind, Layer
from dockopt.verify.layer_tar import find_in_layers, grep_layers
from dockopt.verify.layermap import MappedEntry
from dockopt.verify.saved_image import SavedImage

# A needle shorter than this would match unrelated files (a one-word "secret" is everywhere).
MIN_NEEDLE_BYTES = 16
MAX_NEEDLE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class SecretTarget:
    path: str  # absolute path in the image
    removed_line: int  # the finding's line: the RUN whose `rm` does not help
    stored_line: int | None  # the instruction that put the file into a layer
    context_file: Path | None  # the build-context file it was copied from, when known


@dataclass(frozen=True, slots=True)
class Presence:
    """Where one image holds a secret: by path, and by content (when the content is known)."""

    layer_lines: tuple[int | None, ...]  # Dockerfile lines of the layers whose tar has the path
    content_hits: tuple[tuple[int | None, str], ...]  # (layer line, path) of files holding its bytes
    content_checked: bool

    @property
    def present(self) -> bool:
        return bool(self.layer_lines or self.content_hits)


def secret_targets(ctx: LintContext, diagnostics: list[Diagnostic], rule: str = "DO201") -> list[SecretTarget]:
    """The files the ``rule`` findings of ``ctx``'s Dockerfile are about."""
    plans = shipped_plans(ctx)
    context_root = _context_root(ctx)
    out: list[SecretTarget] = []
    for diagnostic in diagnostics:
        if diagnostic.code != rule:
            continue
        span = (diagnostic.start_offset, diagnostic.end_offset)
        stored = diagnostic.related[0][1].line if diagnostic.related else None
        found = False
        for plan in plans:
            for waste in plan.waste:
                if (waste.removed.start, waste.removed.end) != span or waste.created.is_tree:
                    continue
                if classify(ctx, waste.created, waste.created_by, allow_weak=True) is None:
                    continue  # removed by the same `rm`, but not a secret (known_hosts next to a key)
                source = copy_source(waste.created) if waste.created_by.flag("from") is None else None
                out.append(SecretTarget(waste.created.path, diagnostic.start.line, waste.created_by.start_line,
                                        _context_file(context_root, source)))
                found = True
        if found:
            continue
        for plan in plans:  # a secret inside a copied tree: the removal names the file
            for layer in plan.layers:
                for effect in layer.effects:
                    if effect.kind is EffectKind.REMOVE and (effect.start, effect.end) == span:
                        out.append(SecretTarget(effect.path, diagnostic.start.line, stored,
                                                _tree_file(context_root, plan.layers, effect.path)))
    return _unique(out)


def locate(saved: SavedImage, entries: list[MappedEntry], target: SecretTarget) -> Presence:
    """Where ``saved`` holds ``target``: layers with its path, files with its bytes."""
    line_of = {e.layer_index: e.line for e in entries if e.layer_index is not None}
    lines = tuple(line_of.get(i) for i in find_in_layers(saved, target.path))
    needle = _needle(target.context_file)
    hits: tuple[tuple[int | None, str], ...] = ()
    if needle is not None:
        hits = tuple((line_of.get(i), path) for i, path in grep_layers(saved, needle))
    return Presence(lines, hits, needle is not None)


def _needle(path: Path | None) -> bytes | None:
    if path is None or not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_NEEDLE_BYTES:
            return None
        data = path.read_bytes().strip()
    except OSError:
        return None
    return data if len(data) >= MIN_NEEDLE_BYTES else None


def _context_root(ctx: LintContext) -> Path | None:
    root = getattr(ctx.build_context, "root", None)
    return Path(root) if root is not None else None


def _context_file(root: Path | None, source: str | None) -> Path | None:
    if root is None or not source or "://" in source or any(ch in source for ch in "*?[$"):
        return None
    candidate = (root / source.lstrip("/")).resolve()
    return candidate if candidate.is_file() and root.resolve() in candidate.parents else None


def _tree_file(root: Path | None, layers: list[Layer], path: str) -> Path | None:
    """The context file behind ``path`` when a ``COPY <dir> <tree>`` brought it in."""
    for layer in reversed(layers):
        for effect in layer.effects:
            source = copy_source(effect)
            if effect.kind is EffectKind.CREATE and effect.is_tree and source and path.startswith(effect.path):
                relative = path[len(effect.path):]
                base = source.strip("/")
                base = "" if base in (".", "") else base.rstrip("/.") + "/"
                return _context_file(root, base + relative)
    return None


def _unique(targets: list[SecretTarget]) -> list[SecretTarget]:
    seen: set[tuple[str, int]] = set()
    out = []
    for t in targets:
        if (t.path, t.removed_line) not in seen:
            seen.add((t.path, t.removed_line))
            out.append(t)
    return out
