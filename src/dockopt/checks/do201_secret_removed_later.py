"""DO201 secret-removed-later: a secret file is removed in a later layer, so it still ships.

Reads the layer plan of the shipped stages: a removal (``rm``) in one layer of a file that an
earlier layer created (the simulator's waste records), where the file is secret-like
(``dockopt.secrets.detect``: by its path, the COPY source name, what the RUN wrote, or the context
file's content). Also a removal of a secret-like file inside a tree an earlier COPY/ADD
copied whole (``COPY . /app`` then ``RUN rm /app/.env``), when the context shows the file
was copied (or cannot be read).

Builder stages are skipped: their layers do not ship (see secret_flow).

Fix (suggestion, never applied): the ``RUN --mount=type=secret`` rewrite. The RUNs between
the copy and the removal get ``--mount=type=secret,id=ID,target=PATH``, the COPY (or the
RUN that only wrote the file) and the ``rm`` go away. Offered only when every edit is
certain to keep the Dockerfile valid: one file, its own COPY source or single-command RUN,
a removal that is the whole RUN or its first/last command, no non-root USER (a secret mount
is readable by root only unless ``uid=`` is given), no comment lost.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.secret_flow import (
    SecretFile,
    classify,
    command_at,
    copy_source,
    secret_id,
    shipped_plans,
    user_active,
    written_by,
)
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers import Effect, EffectKind, StagePlan
from dockopt.model import Build, Run
from dockopt.secrets.detect import content_refutes, secret_path, sniff_content
from dockopt.syntax import Instruction


class SecretRemovedLater(Rule):
    code = "DO201"
    name = "secret-removed-later"
    severity = Severity.ERROR

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        plans = shipped_plans(ctx)
        reported: set[tuple[int, int]] = set()
        for plan in plans:
            groups: dict[tuple[int, int], list[tuple[SecretFile, Effect, Instruction]]] = {}
            for waste in plan.waste:
                removal = waste.removed
                if removal.kind is not EffectKind.REMOVE or removal.detail == "moved":
                    continue
                if waste.created_by is waste.removed_by:
                    continue
                secret = classify(ctx, written_by(ctx, waste.created, waste.created_by), waste.created_by,
                                  allow_weak=True)
                if secret is not None:
                    groups.setdefault((removal.start, removal.end), []).append((secret, removal, waste.removed_by))
            for key, found in groups.items():
                reported.add(key)
                yield self._finding(ctx, found)
        yield from self._inside_copied_trees(ctx, plans, reported)

    # -- a secret removed from a tree a COPY copied whole ----------------------------------------
    def _inside_copied_trees(self, ctx: LintContext, plans: list[StagePlan],
                             reported: set[tuple[int, int]]) -> Iterator[Finding]:
        trees: list[tuple[Effect, Instruction]] = []
        for plan in plans:
            for layer in plan.layers:
                for effect in layer.effects:
                    if effect.kind is EffectKind.CREATE and effect.is_tree and copy_source(effect):
                        trees.append((effect, layer.instruction))
                    elif (effect.kind is EffectKind.REMOVE and effect.detail != "moved"
                          and (effect.start, effect.end) not in reported and layer.instruction.name == "RUN"):
                        secret = self._removed_from_tree(ctx, effect, trees)
                        if secret is not None:
                            reported.add((effect.start, effect.end))
                            yield self._finding(ctx, [(secret, effect, layer.instruction)])

    def _removed_from_tree(self, ctx: LintContext, removal: Effect,
                           trees: list[tuple[Effect, Instruction]]) -> SecretFile | None:
        named = secret_path(removal.path)
        if named is None or removal.path.endswith("/") or any(ch in removal.path for ch in "*?["):
            return None
        for tree, ins in reversed(trees):
            root = tree.path
            if not removal.path.startswith(root):
                continue
            source = copy_source(tree) or ""
            context = ctx.build_context
            if ins.flag("from") is None and getattr(context, "available", False) and "://" not in source:
                relative = (source.strip("/").rstrip("/.") + "/" if source.strip("./") else "") \
                    + removal.path[len(root):]
                relative = relative.lstrip("/")
                if relative not in context.select(source).paths:
                    return None  # the context has no such file (or .dockerignore keeps it out)
                text = context.read_text(relative)
                if text is not None and sniff_content(text) is None and content_refutes(named, text):
                    return None
            created = Effect(EffectKind.CREATE, removal.path, "file", tree.command, tree.start, tree.end)
            how = f"`{tree.command}` copies the whole tree"
            return SecretFile(removal.path, named.kind, True, created, ins, how, in_copied_tree=True)
        return None

    # -- the finding -------------------------------------------------------------------------------
    def _finding(self, ctx: LintContext, found: list[tuple[SecretFile, Effect, Instruction]]) -> Finding:
        secret, removal, remover = found[0]
        creators = {s.instruction.start_line: s.instruction for s, _, _ in found}
        paths = sorted({s.path for s, _, _ in found})
        what = f"{secret.kind} `{paths[0]}`" if len(paths) == 1 else "secret files " + ", ".join(
            f"`{p}`" for p in paths[:4]) + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")
        where = " and ".join(f"the {ins.name} on line {line}" for line, ins in sorted(creators.items()))
        removal_text = removal.command.split()[0] + " " + removal.path
        in_tree = secret.in_copied_tree
        remedy = ("keep it out of the build context with .dockerignore, and mount it with "
                  "`RUN --mount=type=secret` where a RUN needs it" if in_tree else
                  "use `RUN --mount=type=secret` so that it never reaches a layer")
        message = (
            f"`{removal_text}` on line {remover.start_line} does not remove {what} from the image: {where} "
            f"({secret.how}) stored it in an earlier layer, which still ships it (`docker save` recovers it); "
            f"{remedy}"
        )
        fix = _mount_fix(ctx, secret, removal, remover) if len(found) == 1 and not in_tree else None
        result = Finding(removal.start, removal.end, message, fix)
        for _, ins in sorted(creators.items()):
            result.related.append((f"the secret was stored by this {ins.name}", ins.start))
        return result


def _mount_fix(ctx: LintContext, secret: SecretFile, removal: Effect, remover: Instruction) -> Fix | None:
    """The secret-mount rewrite as edits (a suggestion), or None when it cannot be exact."""
    build = ctx.build
    creator = secret.instruction
    stage = next((s for s in build.stages if creator in s.instructions), None)
    if stage is None or remover not in stage.instructions or secret.path.endswith("/"):
        return None
    drop_creator = _drop_source(build, creator, secret)
    remover_run = build.run_of(remover)
    if drop_creator is None or remover_run is None:
        return None
    removal_edit, remover_gone = _drop_removal(ctx, remover_run, removal, secret.path)
    if removal_edit is None:
        return None
    order = stage.instructions
    users = [i for i in order[order.index(creator) + 1 : order.index(remover)] if i.name == "RUN"]
    if not remover_gone:
        users.append(remover)
    if any(user_active(stage, ins) for ins in users):
        return None
    ident = secret_id(secret.path)
    mount = f" --mount=type=secret,id={ident},target={secret.path}"
    edits = [drop_creator, removal_edit]
    edits += [Edit(ins.start + len(ins.keyword), ins.start + len(ins.keyword), mount) for ins in users]
    source = copy_source(secret.effect) or secret.path.rsplit("/", 1)[-1]
    hint = ""
    if "SSH" in secret.kind:
        hint = "; for git over SSH, `--mount=type=ssh` (build with `--ssh default`) avoids the key file entirely"
    message = (f"Mount the secret only where it is used: `--mount=type=secret,id={ident},target={secret.path}`, "
               f"build with `--secret id={ident},src={source}`; the {creator.name} and the removal go away{hint}")
    return Fix(Applicability.SUGGESTION, message, tuple(sorted(edits, key=lambda e: e.start)))


def _drop_source(build: Build, creator: Instruction, secret: SecretFile) -> Edit | None:
    """Remove what stored the secret: the whole instruction, or its one COPY source."""
    if creator.inner_comment_lines:
        return None
    whole = Edit(creator.line_start, creator.line_end, "")
    if creator.name == "RUN":
        run = build.run_of(creator)
        if run is None or run.script is None or len(run.script.commands) != 1 or creator.heredocs:
            return None
        return whole
    if creator.is_json or creator.flag("from") is not None:
        return None
    if creator.heredocs:
        return whole if len(creator.heredocs) == 1 else None
    sources = creator.arguments[:-1]
    if len(sources) == 1:
        return whole
    source = copy_source(secret.effect)
    argument = next((a for a in sources if a.value == source), None)
    if argument is None:
        return None
    text = build.document.source
    start = argument.start
    while start > creator.start and text[start - 1] in " \t":
        start -= 1
    return Edit(start, argument.end, "")


def _drop_removal(ctx: LintContext, run: Run, removal: Effect, path: str) -> tuple[Edit | None, bool]:
    """(edit removing the ``rm`` command, whether that removes the whole RUN)."""
    ins = run.instruction
    script, source = run.script, run.source
    command = command_at(ctx, run, removal.start)
    if script is None or source is None or command is None or ins.is_json or ins.heredocs:
        return None, False
    if ins.inner_comment_lines or command.conditional or command.in_subshell or command.in_pipeline:
        return None, False
    targets = [w.value for w in command.args if not (w.value or "-").startswith("-")]
    if len(targets) != 1:
        return None, False  # it removes other things too: keep it
    commands = script.commands
    if any(c.depth or c.in_subshell or c.in_pipeline for c in commands):
        return None, False  # compound commands: cutting one out needs more than text surgery
    if len(commands) == 1:
        return Edit(ins.line_start, ins.line_end, ""), True
    at = commands.index(command)
    text = ctx.source
    if at == len(commands) - 1 and command.connector in ("&&", ";"):
        previous_end = source.to_source(commands[at - 1].span[1] - 1) + 1
        return Edit(previous_end, source.to_source(command.span[1] - 1) + 1, ""), False
    if at == 0 and commands[1].connector == "&&":
        next_start = source.to_source(commands[1].span[0])
        if "\n" in text[removal.start : next_start]:
            return None, False  # across a continuation: the remaining text would start oddly
        return Edit(source.to_source(command.span[0]), next_start, ""), False
    return None, False
