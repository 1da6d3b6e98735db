"""DO203 secret-in-context: a directory or wildcard COPY/ADD takes secret files from the context.

Needs the build context (``ctx.build_context``): without a readable directory it says
nothing. With the Dockerfile's own directory (the usual default, not confirmed with
``--context``) the message says which directory it assumed.

For each COPY/ADD of a shipped stage whose source is a directory (``.``, ``src/``) or a
wildcard, the files it takes (``BuildContext.select``: .dockerignore with Docker's
semantics, ``!`` re-inclusions included) are checked with ``dockopt.secrets.detect``: by path, and
by content when the name is not conclusive (an ``.npmrc`` without a token, a ``.pem`` that
is a certificate, a ``.env`` without credentials are fine; a JSON with ``"private_key"`` is
not). A source naming one file (``COPY .env .``) is DO204's. Dependency trees
(node_modules, vendor, virtualenvs) and test fixtures hold other people's sample keys and
are skipped.

Also follows ``COPY --from=<stage>``: when a builder stage copied secret files from the
context and the shipped stage copies that directory from it, the secret ships too.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.secret_flow import copy_source, shipped_plans
from dockopt.context.build_context import BuildContext, normalize
from dockopt.diagnostics import Severity
from dockopt.layers import EffectKind
from dockopt.layers.simulator import covers
from dockopt.model import Stage
from dockopt.secrets.detect import (
    named_file_is_secret,
    public_key_path,
    secret_path,
    sniff_content,
    token_in_content,
)
from dockopt.syntax import Instruction

MAX_LISTED = 5
MAX_SNIFFED = 500  # files without a telling name read per lint run (known token formats, service-account keys)
MAX_SNIFF_BYTES = 16384
_SKIPPED_DIRS = frozenset({"node_modules", "vendor", ".venv", "venv", "site-packages", "bower_components",
                           "testdata", "fixtures", "__fixtures__", "test-fixtures", ".git"})


@dataclass(frozen=True, slots=True)
class _Copied:
    context_path: str
    image_path: str
    kind: str


class _Scanner:
    """Secret verdicts for context files, each file read at most once."""

    def __init__(self, context: BuildContext) -> None:
        self.context = context
        self.verdicts: dict[str, str | None] = {}
        self.sniffed = 0

    def kind(self, path: str) -> str | None:
        if path not in self.verdicts:
            self.verdicts[path] = self._judge(path)
        return self.verdicts[path]

    def _judge(self, path: str) -> str | None:
        if _SKIPPED_DIRS.intersection(path.split("/")[:-1]) or public_key_path(path):
            return None
        named = secret_path(path)
        if named is None:
            return self._sniff(path)
        return named.kind if named_file_is_secret(named, self.context.read_text(path)) else None

    def _sniff(self, path: str) -> str | None:
        """A file the name says nothing about: small text files (at most MAX_SNIFFED of them per
        run) are read for credentials of a known format, and JSON for service-account keys."""
        if self.sniffed >= MAX_SNIFFED:
            return None
        entry = self.context.entry(path)
        if entry is None or entry.size > MAX_SNIFF_BYTES or entry.size == 0:
            return None
        self.sniffed += 1
        text = self.context.read_text(path, MAX_SNIFF_BYTES) or ""
        if path.endswith(".json") and '"private_key"' in text and sniff_content(text) is not None:
            return "a service-account key"
        kind = token_in_content(text)
        return f"holds {kind}" if kind else None


class SecretInContext(Rule):
    code = "DO203"
    name = "secret-in-context"
    severity = Severity.ERROR
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        context = ctx.build_context
        if not context.available:
            return
        scanner = _Scanner(context)
        shipped = {plan.stage.index for plan in shipped_plans(ctx)}
        copied: dict[int, list[_Copied]] = {}  # stage index -> secrets its context COPYs placed
        for stage in ctx.build.stages:
            for ins in stage.instructions:
                if ins.name in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs:
                    found = self._copies(ctx, scanner, stage, ins)
                    copied.setdefault(stage.index, []).extend(found)
                    if found and stage.index in shipped:
                        yield self._finding(context, ins, [(c.context_path, c.kind) for c in found])
        for index in sorted(shipped):
            yield from self._through_stages(ctx, ctx.build.stages[index], copied)

    def _copies(self, ctx: LintContext, scanner: _Scanner, stage: Stage, ins: Instruction) -> list[_Copied]:
        layer = ctx.layers.layer_of(ins)
        roots = {copy_source(e): e.path for e in layer.effects} if layer is not None else {}
        found = []
        for source in ins.values[:-1]:
            if "://" in source:
                continue
            selection = ctx.build_context.select(source)
            base = normalize(source)
            if not selection.wildcard and selection.paths == (base,):
                continue  # a file named in the Dockerfile: DO204's finding
            root = roots.get(source)
            for path in selection.paths:
                kind = scanner.kind(path)
                if kind is None:
                    continue
                relative = path[len(base) + 1:] if base and path.startswith(base + "/") else path
                image_path = posixpath.join(root, relative) if root and root.endswith("/") else (root or path)
                found.append(_Copied(path, image_path, kind))
        return found

    def _finding(self, context: BuildContext, ins: Instruction, files: list[tuple[str, str]],
                 via: str = "") -> Finding:
        listed = ", ".join(f"`{path}` ({kind})" for path, kind in files[:MAX_LISTED])
        if len(files) > MAX_LISTED:
            listed += f" and {len(files) - MAX_LISTED} more"
        assumed = "" if context.known else (
            f" (assuming the build context is {context.root}, the Dockerfile's directory; pass --context to confirm)")
        ignore = "add them to .dockerignore" if context.ignore_file is not None else \
            "add a .dockerignore that excludes them"
        message = (f"this {ins.name} copies secret files from the build context{assumed}{via} into the image: "
                   f"{listed}; {ignore}, or copy only what the image needs")
        return Finding.at(ins, message)

    def _through_stages(self, ctx: LintContext, stage: Stage, copied: dict[int, list[_Copied]]) -> Iterator[Finding]:
        for ins in stage.instructions:
            flag = ins.flag("from")
            if ins.name not in ("COPY", "ADD") or flag is None or not flag.value:
                continue
            source_stage = ctx.build.stage(flag.value)
            if source_stage is None or source_stage.index >= stage.index:
                continue
            alive = self._alive(ctx, source_stage, copied.get(source_stage.index, []))
            roots = [posixpath.normpath("/" + s.lstrip("/")).rstrip("/") for s in ins.values[:-1]
                     if not any(ch in s for ch in "*?[")]
            brought = [c for c in alive if any(c.image_path == r or c.image_path.startswith(r + "/") for r in roots)]
            if brought:
                via = f" through stage '{source_stage.label}'"
                yield self._finding(ctx.build_context, ins, [(c.context_path, c.kind) for c in brought], via)

    @staticmethod
    def _alive(ctx: LintContext, stage: Stage, placed: list[_Copied]) -> list[_Copied]:
        """The secrets still in the stage's filesystem at its end (not removed by a later RUN)."""
        removals = [e.path for layer in ctx.layers.stage_plan(stage).layers for e in layer.effects
                    if e.kind is EffectKind.REMOVE and e.detail != "moved"]
        return [c for c in placed if not any(covers(r, c.image_path) for r in removals)]
