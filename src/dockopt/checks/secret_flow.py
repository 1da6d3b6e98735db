"""Where secret files enter the image: the shared reading of the layer plan for DO201-DO204.

``dockopt.secrets.detect`` says what *looks* like a secret; this module says which files an
instruction puts into a layer and whether they are secrets: the COPY source or destination
name, what a RUN writes (``echo ... > ~/.npmrc``, a heredoc, a copy of ``/run/secrets/x``),
and, when the build context is readable, the file's content.

Only shipped stages matter (``Build.shipped_stages``): a secret that only a builder stage
holds is not in the final image. It is in that builder's cache, though, which
``--cache-to type=registry,mode=max`` exports: the rule book says so.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockopt.checks.base import LintContext
from dockopt.layers import Effect, EffectKind, StagePlan
from dockopt.model import Run, Stage
from dockopt.secrets.detect import (
    MAX_CONTENT_BYTES,
    SecretPath,
    Strength,
    named_file_is_secret,
    public_key_path,
    secret_path,
    token_in_content,
)
from dockopt.shell import CMDSUB, LIT, PARAM, Command, Word
from dockopt.syntax import Instruction

# Effects that never carry a build secret: fetched from the internet, installed, generated.
_NOT_SECRET_CATEGORIES = frozenset({"download", "extracted", "package", "source", "build-dir", "dir", "link",
                                    "user-db"})
_SECRET_MOUNT_DIR = "/run/secrets/"


@dataclass(frozen=True, slots=True)
class SecretFile:
    path: str  # where it is in the image
    kind: str  # "an SSH private key", for messages
    certain: bool  # by a strong name or by its content (False: a weak name, nothing read)
    effect: Effect
    instruction: Instruction
    how: str  # "copied from the build context", "written by `echo ... > ~/.npmrc`", ...
    in_copied_tree: bool = False  # part of a directory COPY (``COPY . /app``), not copied by name


def shipped_plans(ctx: LintContext) -> list[StagePlan]:
    """Plans of the stages whose layers ship, base first (the final stage last)."""
    stages = list(reversed(ctx.build.shipped_stages(ctx.target)))
    return [ctx.layers.stage_plan(stage) for stage in stages]


def copy_source(effect: Effect) -> str | None:
    """The COPY/ADD source an effect came from (the simulator names it in ``command``)."""
    head, _, source = effect.command.partition(" ")
    return source if head in ("COPY", "ADD") and source and source != "heredoc" else None


def word_template(word: Word) -> str:
    """A word as text, with parameters written ``${NAME}`` and substitutions as written."""
    out = []
    for part in word.parts:
        if part.kind == LIT:
            out.append(part.text)
        elif part.kind == PARAM:
            out.append("${" + part.text + "}")
        else:
            out.append(part.text if part.kind != CMDSUB else f"$({part.text})")
    return "".join(out)


def command_at(ctx: LintContext, run: Run, start: int) -> Command | None:
    """The simple command of ``run`` whose Dockerfile span starts at ``start``."""
    if run.script is None or run.source is None:
        return None
    for command in run.script.commands:
        if run.source.to_source(command.span[0]) == start:
            return command
    return None


@dataclass(frozen=True, slots=True)
class Written:
    """What an instruction writes to a path, as far as the text shows it."""

    content: str | None  # None: not visible (a COPY from the context, cp, curl, ...)
    how: str  # for messages
    from_secret_mount: bool = False  # copied out of /run/secrets: a secret whatever its name
    # A copy of a file already in the image (cp, install, mv) or an empty file (touch): a
    # secret there entered through a COPY or a mount, which is reported where it entered.
    not_a_source: bool = False
    # The shell substitutes variables into the content (``echo "$TOKEN"``): a ``$NAME`` then
    # stands for a value. In single quotes or a quoted heredoc it is literal text.
    expands: bool = False


def written_content(ctx: LintContext, ins: Instruction, effect: Effect) -> Written:
    """What ``ins`` writes to the effect's path."""
    if ins.name in ("COPY", "ADD"):
        if ins.heredocs:
            return Written("".join(h.content for h in ins.heredocs), f"written by a {ins.name} heredoc")
        stage = ins.flag("from")
        if stage is not None:
            return Written(None, f"copied from stage '{stage.value}'")
        return Written(None, "copied from the build context")
    run = ctx.build.run_of(ins)
    command = command_at(ctx, run, effect.start) if run is not None else None
    if command is None or command.name is None:
        return Written(None, f"written by `{effect.command}`")
    name = (command.name.value or "").rsplit("/", 1)[-1]
    how = f"written by `{_short(command)}`"
    for redirect in command.redirects:
        if redirect.heredoc is not None:
            body = redirect.heredoc.body
            return Written(word_template(body), how, expands=_has_parameters([body]))
    if name in ("echo", "printf"):
        words = [w for w in command.args if not (w.value or "").startswith("-")]
        # printf, echo -e and dash's echo turn \n into line breaks: the file has lines
        text = " ".join(word_template(w) for w in words).replace("\\n", "\n").replace("\\t", "\t")
        return Written(text, how, expands=_has_parameters(words))
    if name in ("cp", "install", "mv", "cat", "ln") and any(
            (w.value or "").startswith(_SECRET_MOUNT_DIR) for w in command.args):
        return Written(None, f"copied out of a secret mount by `{_short(command)}`", from_secret_mount=True)
    redirected = any(r.writes for r in command.redirects)
    if not redirected and name in ("cp", "install", "mv", "ln", "rsync"):
        sources = [w.value for w in command.args[:-1] if w.value and w.value.startswith("/")]
        for source in sources:
            origin = _added_by_copy(ctx, ins, source)
            if origin is not None:
                return Written(None, f"{how.replace('written', 'copied', 1)}, from what the {origin.name} on line "
                               f"{origin.start_line} added")
    if not redirected and name in ("cp", "install", "mv", "ln", "touch", "mkdir", "rsync"):
        return Written(None, how, not_a_source=True)
    return Written(None, how)


def _added_by_copy(ctx: LintContext, ins: Instruction, path: str) -> Instruction | None:
    """The COPY/ADD (before ``ins``, in its stage or the stages it is built on) that put ``path``
    into the image: a file copied from there came from outside the image."""
    stage = next((s for s in ctx.build.stages if ins in s.instructions), None)
    chain: list[Stage] = []
    while stage is not None and stage not in chain:
        chain.insert(0, stage)
        stage = stage.base_stage
    for plan in (ctx.layers.stage_plan(s) for s in chain):
        for layer in plan.layers:
            if layer.instruction is ins:
                return None
            for effect in layer.effects:
                if effect.kind is EffectKind.CREATE and copy_source(effect) and effect.category == "file" and (
                        effect.path == path or (effect.is_tree and path.startswith(effect.path))):
                    return layer.instruction
    return None


def _has_parameters(words: list[Word]) -> bool:
    return any(part.kind == PARAM for word in words for part in word.parts)


def _short(command: Command) -> str:
    text = " ".join(w.text for w in command.words)
    for redirect in command.redirects:
        if redirect.writes and redirect.target is not None:
            text += f" {redirect.op} {redirect.target.text}"
    return text if len(text) <= 60 else text[:57] + "..."


def written_by(ctx: LintContext, effect: Effect, ins: Instruction) -> Effect:
    """For a rewrite (``chmod 600 ~/.pgpass``), the write of the same RUN that made the file
    (``echo ... > ~/.pgpass``): that is what holds the content; else the effect itself."""
    if effect.kind is not EffectKind.REWRITE:
        return effect
    layer = ctx.layers.layer_of(ins)
    made = [e for e in layer.effects if e.kind is EffectKind.CREATE and e.path == effect.path] if layer else []
    return made[-1] if made else effect


def classify(ctx: LintContext, effect: Effect, ins: Instruction, *, allow_weak: bool) -> SecretFile | None:
    """Whether a CREATE effect puts a secret file into the layer (None if not, or unknown).

    ``allow_weak``: accept a weak name without content evidence (DO201: a later removal of
    the file shows that its author considered it temporary).
    """
    if effect.kind is EffectKind.REMOVE or effect.category in _NOT_SECRET_CATEGORIES:
        return None
    if effect.detail.startswith("moved") and ins.name == "RUN":
        return None  # mv keeps bytes where they were: the file was already somewhere
    source = copy_source(effect)
    if source is not None and any(ch in source for ch in "*?["):
        return None  # which files a wildcard takes is DO203's question, answered from the context
    if effect.is_tree:  # a directory: a secret only as a whole (.ssh/, .aws/)
        named = secret_path(effect.path) or (secret_path(source.rstrip("/") + "/") if source else None)
    else:
        named = secret_path(effect.path) or (secret_path(source) if source else None)
    if named is not None and public_key_path(effect.path):
        return None  # copied under a public name or into a CA directory
    written = written_content(ctx, ins, effect) if named is not None or ins.name == "RUN" else None
    if written is not None and written.from_secret_mount:
        kind = named.kind if named is not None else "a build secret"
        return SecretFile(effect.path, kind, True, effect, ins, written.how)
    if named is None and ins.name in ("COPY", "ADD") and not effect.is_tree:
        return _by_content(ctx, effect, ins, source)
    if named is None and written is not None and written.content and not effect.is_tree:
        # `cat > /app/settings.ini <<X ... token=ghp_... X` in a RUN: DO205 reports the command
        # text; the file it writes ships the token too.
        kind = token_in_content(written.content)
        return SecretFile(effect.path, f"a file holding {kind}", True, effect, ins, _masked(written.how)) if kind else None
    if named is None or written is None or written.not_a_source:
        return None
    content = written.content
    shell_expands = written.expands if ins.name == "RUN" else any(h.expand for h in ins.heredocs)
    if content is None and source and ins.flag("from") is None and not ins.heredocs:
        content = _context_text(ctx, source)
    return _verdict(named, content, shell_expands, allow_weak, effect, ins, written.how)


def _verdict(named: SecretPath, content: str | None, shell_expands: bool, allow_weak: bool, effect: Effect,
             ins: Instruction, how: str) -> SecretFile | None:
    if not named_file_is_secret(named, content, shell_expands=shell_expands, allow_weak=allow_weak):
        return None
    certain = content is not None or named.strength is not Strength.WEAK
    return SecretFile(effect.path, named.kind, certain, effect, ins, how)


def _by_content(ctx: LintContext, effect: Effect, ins: Instruction, source: str | None) -> SecretFile | None:
    """A file whose name says nothing, holding a credential of a known format: a ``COPY <<EOF``
    body, or a context file named by the COPY (``COPY secrets/api-token /tmp/``), read bounded."""
    if ins.heredocs:
        content: str | None = "".join(h.content for h in ins.heredocs)
        how = f"written by a {ins.name} heredoc"
    elif source and ins.flag("from") is None and "://" not in source:
        content = _context_text(ctx, source, MAX_CONTENT_BYTES)
        how = "copied from the build context"
    else:
        return None
    kind = token_in_content(content) if content else None
    if kind is None:
        return None
    return SecretFile(effect.path, f"a file holding {kind}", True, effect, ins, how)


# Token prefixes of the known formats, with what follows (also when a message cut it short).
_TOKEN_TAIL = re.compile(r"(A[KS]IA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|[sr]k_live_|AIza|eyJ|npm_|"
                         r"pypi-|hf_|dckr_pat_|sk-)[A-Za-z0-9_.\-]{6,}")


def _masked(text: str) -> str:
    """``text`` with every token of a known format cut to its prefix (for messages)."""
    return _TOKEN_TAIL.sub(lambda m: m.group(1) + "…", text)


def _context_text(ctx: LintContext, source: str, limit: int = 65536) -> str | None:
    context = ctx.build_context
    if not getattr(context, "available", False) or any(ch in source for ch in "*?[") or "://" in source:
        return None
    return context.read_text(source, limit)


# --- secret mounts (the suggested rewrite) -----------------------------------------------------


def secret_id(path: str) -> str:
    """A secret id for ``--mount=type=secret,id=...`` from a file name: ``.npmrc`` -> ``npmrc``."""
    name = posixpath.basename(path.rstrip("/")).lstrip(".") or "secret"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def mounted_secret_targets(run: Run) -> list[str]:
    """Paths and env names a RUN's secret mounts provide (``target``/``dst``/``env``/default)."""
    found = []
    for mount in run.mounts:
        if mount.get("type") != "secret":
            continue
        target = mount.get("target") or mount.get("dst") or mount.get("destination")
        if target:
            found.append(target)
        elif mount.get("id") and not mount.get("env"):
            found.append(_SECRET_MOUNT_DIR + mount["id"])
        if mount.get("env"):
            found.append("$" + mount["env"])
    return found


def user_active(stage: Stage, ins: Instruction) -> str | None:
    """The USER in effect at ``ins`` within its stage (None: root, or not set here)."""
    user = None
    for other in stage.instructions:
        if other is ins:
            break
        if other.name == "USER" and other.values:
            user = other.values[0].split(":", 1)[0]
    return None if user in (None, "root", "0") else user
