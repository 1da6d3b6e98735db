"""DO204 secret-in-final-image: a secret file is copied or written into the shipped image and
never removed.

Reads the layer plan of the shipped stages: every file an instruction stores in its layer
(created and not removed within the same RUN) that no later layer removes, and that is a
secret by ``dockopt.secrets.detect`` (a strong name, or content that shows a credential: a weak name
such as ``.npmrc`` alone is not enough here). Files removed by a later layer are DO201's;
files swept in by a directory COPY (``COPY . .``) are DO203's, which reads the context.

Also follows ``COPY --from=<stage>``: a secret file that the builder stage still holds under
the copied path reaches the shipped image with it.

No fix: whether the file is needed at build time (a secret mount) or at run time (a volume,
an orchestrator secret) is the author's call; the message names both.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.secret_flow import SecretFile, classify, shipped_plans
from dockopt.diagnostics import Severity
from dockopt.layers import EffectKind, StagePlan
from dockopt.model import Stage
from dockopt.syntax import Instruction

_REMEDY = ("mount it with `RUN --mount=type=secret` where a build step needs it, or at run time "
           "(a volume, an orchestrator secret) where the application needs it")


def surviving_secrets(ctx: LintContext, plans: list[StagePlan]) -> list[SecretFile]:
    """Secret files stored in the layers of ``plans`` (base first) that no later layer removes.

    An effect reaches its layer when it is still alive at the end of its stage (``left``) or
    a later layer removes or shadows it (a waste record): a file created and deleted in the
    same RUN is in neither. Moving or overwriting a file does not take it out of its layer.
    """
    stored: set[int] = set()
    removed_later: set[int] = set()
    for plan in plans:
        stored.update(id(effect) for effect, _ in plan.left)
        for waste in plan.waste:
            stored.add(id(waste.created))
            if waste.removed.kind is EffectKind.REMOVE and waste.removed.detail != "moved":
                removed_later.add(id(waste.created))
    # `echo ... > ~/.pgpass && chmod 600 ~/.pgpass`: the chmod's rewrite takes the file's place in the
    # simulator, but the layer holds what the echo wrote. The write counts as stored as the rewrite is.
    for plan in plans:
        for layer in plan.layers:
            rewrites = {e.path: e for e in layer.effects if e.kind is EffectKind.REWRITE}
            for effect in layer.effects:
                rewrite = rewrites.get(effect.path)
                if effect.kind is EffectKind.CREATE and rewrite is not None and id(rewrite) in stored:
                    stored.add(id(effect))
                    if id(rewrite) in removed_later:
                        removed_later.add(id(effect))
    found = []
    for plan in plans:
        for layer in plan.layers:
            for effect in layer.effects:
                if effect.kind is not EffectKind.CREATE or id(effect) not in stored or id(effect) in removed_later:
                    continue
                secret = classify(ctx, effect, layer.instruction, allow_weak=False)
                if secret is not None:
                    found.append(secret)
    return found


def _chain(stage: Stage) -> list[Stage]:
    out = []
    current: Stage | None = stage
    while current is not None and current not in out:
        out.append(current)
        current = current.base_stage
    return list(reversed(out))


class SecretInFinalImage(Rule):
    code = "DO204"
    name = "secret-in-final-image"
    severity = Severity.ERROR

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        plans = shipped_plans(ctx)
        by_instruction: dict[int, list[SecretFile]] = {}
        for secret in surviving_secrets(ctx, plans):
            by_instruction.setdefault(id(secret.instruction), []).append(secret)
        for secrets in by_instruction.values():
            yield self._finding(secrets)
        yield from self._from_other_stages(ctx, plans, by_instruction)

    def _finding(self, secrets: list[SecretFile]) -> Finding:
        first = secrets[0]
        ins = first.instruction
        if len(secrets) == 1:
            what = f"{first.kind} `{first.path}`"
        else:
            what = "secret files " + ", ".join(f"`{s.path}`" for s in secrets[:4])
        message = (f"{what} ({first.how}) stays in the image: anyone who can pull it can read the file; "
                   f"{_REMEDY}")
        if ins.name == "RUN":
            return Finding(first.effect.start, first.effect.end, message)
        return Finding.at(ins, message)

    def _from_other_stages(self, ctx: LintContext, plans: list[StagePlan],
                           reported: dict[int, list[SecretFile]]) -> Iterator[Finding]:
        build = ctx.build
        held: dict[int, list[SecretFile]] = {}
        for plan in plans:
            for ins in plan.stage.instructions:
                flag = ins.flag("from")
                if ins.name not in ("COPY", "ADD") or flag is None or not flag.value or id(ins) in reported:
                    continue
                stage = build.stage(flag.value)
                if stage is None or stage.index >= plan.stage.index:
                    continue
                if stage.index not in held:
                    chain = [ctx.layers.stage_plan(s) for s in _chain(stage)]
                    held[stage.index] = surviving_secrets(ctx, chain)
                brought = [s for s in held[stage.index] if any(_under(s.path, src) for src in ins.values[:-1])]
                if brought:
                    yield self._copied_from(ins, stage, brought)

    def _copied_from(self, ins: Instruction, stage: Stage, brought: list[SecretFile]) -> Finding:
        first = brought[0]
        names = ", ".join(f"`{s.path}`" for s in brought[:4]) + (f" and {len(brought) - 4} more"
                                                                    if len(brought) > 4 else "")
        message = (f"this {ins.name} brings {first.kind if len(brought) == 1 else 'secret files'} ({names}) from "
                   f"stage '{stage.label}', where the {first.instruction.name} on line "
                   f"{first.instruction.start_line} put it, into the shipped image; copy only the artifacts "
                   f"you need, or {_REMEDY}")
        finding = Finding.at(ins, message)
        finding.related.append(("the secret was stored here", first.instruction.start))
        return finding


def _under(path: str, source: str) -> bool:
    """Whether ``COPY --from=stage SOURCE`` takes ``path`` (an absolute path in that stage)."""
    if any(ch in source for ch in "*?["):
        return False
    root = posixpath.normpath("/" + source.lstrip("/")).rstrip("/")  # --from sources start at the stage root
    return path == root or path.startswith(root + "/") or root == ""
