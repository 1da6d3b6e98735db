"""DO104 rewrite-after-copy: chmod/chown/sed -i/touch on files an earlier layer added.

Changing a file from an earlier layer copies the whole file into the new layer (overlayfs
copy-up), so it is stored twice. Reads the simulator's waste records whose remover is a
REWRITE of something a COPY/ADD (or RUN) created.

Fix, for a RUN that is nothing but one ``chmod``/``chown`` of exactly what one earlier COPY
created (same path, recursive or not as the COPY's tree needs): fold it into the COPY as
``--chmod``/``--chown`` and delete the RUN. The final filesystem is the same, but the flags
need BuildKit (the legacy builder rejects ``--chmod``): the fix is safe when the file already
depends on BuildKit (a ``# syntax=`` directive, ``RUN --mount``, heredocs, ``COPY --link`` or
``--chmod``), unsafe otherwise. ``--chmod`` takes octal modes only, and a ``chown`` owner with
spaces or variables is left alone.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers import EffectKind, Waste
from dockopt.layers.sizes import human
from dockopt.syntax import Document, Instruction

_OCTAL = re.compile(r"^[0-7]{3,4}$")
_OWNER = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$")


def uses_buildkit(document: Document) -> bool:
    """Whether the Dockerfile already needs BuildKit, so BuildKit-only flags are no new requirement."""
    if document.directive("syntax") is not None:
        return True
    for ins in document.instructions:
        if ins.heredocs:
            return True
        names = {f.name for f in ins.flags}
        if ins.name == "RUN" and names & {"mount", "network", "security"}:
            return True
        if ins.name in ("COPY", "ADD") and names & {"link", "chmod", "parents", "exclude"}:
            return True
    return False


class RewriteAfterCopy(Rule):
    code = "DO104"
    name = "rewrite-after-copy"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage_plan in ctx.layers.stages:
            groups: dict[tuple[int, int], list[Waste]] = {}
            for waste in stage_plan.waste:
                if waste.removed.kind is not EffectKind.REWRITE or waste.created_by is waste.removed_by:
                    continue
                if waste.created.category in ("user-db", "dir", "link") or waste.removed.category == "user-db":
                    continue  # tiny files; useradd rewriting /etc/passwd is not worth a finding
                groups.setdefault((waste.removed.start, waste.removed.end), []).append(waste)
            for wastes in groups.values():
                yield self._finding(ctx, wastes)

    def _finding(self, ctx: LintContext, wastes: list[Waste]) -> Finding:
        first = wastes[0]
        sizes = [w.size for w in wastes]
        total = sum(s for s in sizes if s) if any(sizes) else None
        creator = first.created_by
        message = (
            f"`{first.removed.command}` rewrites {first.created.path} ({human(total)}), added by the "
            f"{creator.name} on line {creator.start_line}: the files are stored twice"
        )
        fix = self._fix(ctx, wastes) if len({id(w.created_by) for w in wastes}) == 1 else None
        finding = Finding(first.removed.start, first.removed.end, message, fix)
        finding.related.append((f"the {creator.name} that added the files", creator.start))
        return finding

    def _fix(self, ctx: LintContext, wastes: list[Waste]) -> Fix | None:
        creator, remover = wastes[0].created_by, wastes[0].removed_by
        if creator.name not in ("COPY", "ADD") or remover.name != "RUN" or remover.flags:
            return None
        run = ctx.build.run_of(remover)
        if run is None:
            return None
        invocations = ctx.invocations(run)
        if len(invocations) != 1 or invocations[0].name not in ("chmod", "chown"):
            return None
        inv = invocations[0]
        args = [a for a in inv.argv if a is not None and not a.startswith("-")]
        options = [a for a in inv.argv if a is not None and a.startswith("-")]
        if len(args) != 2 or any(a is None for a in inv.argv) or set(options) - {"-R", "-r", "--recursive"}:
            return None
        value, flag = args[0], inv.name
        if flag == "chmod" and not _OCTAL.match(value) or flag == "chown" and not _OWNER.match(value):
            return None
        target = wastes[0].created
        rewritten = wastes[0].removed.path
        if rewritten.rstrip("/") != target.path.rstrip("/") or len(wastes) != 1:
            return None  # only when the RUN rewrites exactly what the COPY created
        if target.path.endswith("/") and not options:
            return None  # a non-recursive chmod of a copied tree changes only the directory itself
        if creator.flag(flag) is not None:
            return None
        insert_at = creator.to_source(_keyword_end(creator))
        edits = (Edit(insert_at, insert_at, f" --{flag}={value}"), Edit(remover.line_start, remover.line_end, ""))
        buildkit = uses_buildkit(ctx.document)
        applicability = Applicability.SAFE if buildkit else Applicability.UNSAFE
        note = "" if buildkit else " (unsafe: needs BuildKit; the legacy builder rejects the flag)"
        return Fix(applicability, f"Use `{creator.name} --{flag}={value}` and drop this RUN{note}", edits)


def _keyword_end(ins: Instruction) -> int:
    """Logical offset just after the keyword (where a new flag goes)."""
    trimmed = ins.logical.lstrip()
    return len(ins.logical) - len(trimmed) + len(ins.keyword)
