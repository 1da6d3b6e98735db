"""DO104 rewrite-after-copy: chmod/chown/sed -i/touch on files an earlier layer added.

Changing a file from an earlier layer copies the whole file into the new layer (overlayfs
copy-up), so it is stored twice. Reads the simulator's waste records whose remover is a
REWRITE of something a COPY/ADD (or RUN) created.

Fix, for a RUN that is nothing but one ``chmod``/``chown`` of exactly what one earlier COPY
created (same path, recursive or not as the COPY's tree needs): fold it into the COPY as
``--chmod``/``--chown`` and delete the RUN, when the final filesystem provably stays the same.
What COPY's flags do was measured on the engine (BuildKit and the legacy builder):

- ``--chown=USER`` without a group does not keep the group: BuildKit takes the user's primary
  group from /etc/passwd (a numeric UID also becomes the GID), the legacy builder looks up a
  *group* named like the user. ``chown USER`` keeps the group the COPY gave (0), so the fold
  writes ``--chown=USER:0``, which both builders read the same way.
- ``--chown`` also owns the parent directories the COPY creates (BuildKit; the legacy builder
  leaves them root's), and leaves a destination directory that already existed alone: so a
  ``chown`` fold needs the destination's parent to exist already and, for a tree, the
  destination directory to be the COPY's own.
- ``--chmod`` does not apply to the destination directory of a tree copy (BuildKit creates it
  0755): a ``chmod`` is folded only for a single file. ``--chmod`` needs BuildKit (the legacy
  builder rejects it; ``--chown`` works in both).
- Anything between the COPY and the RUN that writes under the path (``RUN mkdir -p
  /app/logs``, a COPY or WORKDIR below it) would keep its old owner or mode: no fix. A RUN in
  between that dockopt sees writing nothing there now runs after the change instead of
  before it (it may read the mode, or create files dockopt cannot see): unsafe, and the
  message says so. The RUN must run as root (a ``chown`` as another user fails: the fold
  would turn a failing build into a passing one).

Always unsafe: the command no longer runs (the team's safe fix runs the same commands, and
the trace harness compares exactly that), even where the final files are provably the same.
The message also names what else changes: ``--chmod`` needing BuildKit in a file that does
not depend on it yet (a ``# syntax=`` directive, ``RUN --mount``, heredocs, ``COPY --link`` or
``--chmod``), a RUN in between that now runs after the change.
``--chmod`` takes octal modes only, and a ``chown`` owner with spaces or variables is left alone.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers import EffectKind, Waste
from dockopt.layers.sizes import human
from dockopt.model import Stage
from dockopt.syntax import Document, Instruction

_OCTAL = re.compile(r"^[0-7]{3,4}$")
_OWNER = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$")
# Instructions that change no file: the RUN may move above them.
_METADATA = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL",
                       "MAINTAINER", "SHELL", "ONBUILD", "USER"})
# Directories every base image of these families has: a COPY under them creates no parent
# (which COPY --chown would own, while the original RUN leaves it root's).
_BASE_DIRS = frozenset({"/", "/bin", "/etc", "/home", "/root", "/tmp", "/usr", "/usr/bin", "/usr/sbin", "/var",
                        "/lib", "/sbin"})
_DISTRO_DIRS = _BASE_DIRS | {"/opt", "/srv", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/local/sbin",
                             "/usr/local/share", "/usr/share", "/usr/lib", "/var/lib", "/var/log"}


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
        if flag == "chmod" and target.is_tree:
            return None  # BuildKit leaves the destination directory of a tree copy at 0755
        if flag == "chown" and ":" not in value:
            value += ":0"  # `chown USER` keeps the COPY's group 0; `--chown=USER` would change it
        stage = next(s for s in ctx.build.stages if remover in s.instructions)
        if not _runs_as_root(stage, remover):
            return None
        if flag == "chown" and not _chown_owns_only_the_target(ctx, stage, creator, target.path):
            return None
        moved_over = _moved_over(ctx, stage, creator, remover, target.path)
        if moved_over is None:
            return None
        if flag == "chown" and any(_changes_users(ctx, ins) for ins in moved_over):
            return None  # COPY --chown looks the names up at the COPY: a user made in between is not there yet
        insert_at = creator.to_source(_keyword_end(creator))
        edits = (Edit(insert_at, insert_at, f" --{flag}={value}"), Edit(remover.line_start, remover.line_end, ""))
        needs_buildkit = flag == "chmod" and not uses_buildkit(ctx.document)
        notes = [f"the `{flag}` command no longer runs: the {creator.name} sets the "
                 f"{'mode' if flag == 'chmod' else 'owner'} instead"]
        if needs_buildkit:
            notes.append("needs BuildKit; the legacy builder rejects --chmod")
        if moved_over:
            lines = ", ".join(str(i.start_line) for i in moved_over)
            notes.append(f"the RUN on line{'s' if len(moved_over) > 1 else ''} {lines} now runs after the {flag} "
                         f"instead of before it, and a file it creates under {target.path.rstrip('/') or '/'} keeps "
                         f"its {'owner' if flag == 'chown' else 'mode'}")
        return Fix(Applicability.UNSAFE, f"Use `{creator.name} --{flag}={value}` and drop this RUN "
                                         f"(unsafe: {'; '.join(notes)})", edits)


def _runs_as_root(stage: Stage, remover: Instruction) -> bool:
    """Whether the RUN runs as root: the last USER before it in the stage chain (none: the
    base image's user, root for the images dockopt knows)."""
    chain = []
    current: Stage | None = stage
    while current is not None:
        chain.insert(0, current)
        current = current.base_stage
    user = "root"
    for st in chain:
        for ins in st.instructions:
            if ins is remover:
                break
            if ins.name == "USER" and ins.values:
                user = ins.values[0]
    return user.split(":", 1)[0] in ("root", "0")


def _stage_path(ins: Instruction, cwd: str | None, raw: str) -> str | None:
    if "$" in raw:
        return None
    if raw.startswith("/"):
        return posixpath.normpath(raw)
    return posixpath.normpath(posixpath.join(cwd, raw)) if cwd is not None else None


def _chown_owns_only_the_target(ctx: LintContext, stage: Stage, creator: Instruction, target: str) -> bool:
    """COPY --chown also owns the parents it creates, and leaves an existing destination
    directory alone: fold only when the parent exists already and a tree is the COPY's own."""
    path = target.rstrip("/") or "/"
    parent = posixpath.dirname(path)
    family = ctx.layers.stage_plan(stage).family
    known = set(_DISTRO_DIRS if family in ("debian", "ubuntu", "alpine", "rhel") else _BASE_DIRS)
    if path in known:
        return False  # a tree copied into /usr/local/bin: the directory is not the COPY's
    cwd: str | None = "/"
    for ins in stage.instructions:
        if ins is creator:
            break
        if ins.name == "WORKDIR" and ins.values:
            cwd = _stage_path(ins, cwd, ins.values[0])
            if cwd is None or _under(cwd, path):
                return False  # made the destination before the COPY (or may have: a variable)
            known.update(_ancestors(cwd))
        layer = ctx.layers.layer_of(ins)
        for effect in layer.effects if layer is not None else ():
            if effect.kind.value == "create":
                made = effect.path.rstrip("/")
                if made == path or made.startswith(path + "/"):
                    return False  # the destination existed before the COPY
                known.update(_ancestors(made if effect.is_tree else posixpath.dirname(made)))
    return parent in known


def _ancestors(path: str) -> set[str]:
    out = set()
    while path not in ("", "/"):
        out.add(path)
        path = posixpath.dirname(path)
    return out | {"/"}


def _moved_over(ctx: LintContext, stage: Stage, creator: Instruction, remover: Instruction,
                target: str) -> list[Instruction] | None:
    """The RUNs between the COPY and the RUN that the fold makes run after the change; None
    when something between them writes under the path (its files would keep their old owner
    or mode) or may (a script dockopt cannot read, a VOLUME over it)."""
    path = target.rstrip("/") or "/"
    moved = []
    between = stage.instructions[stage.instructions.index(creator) + 1 : stage.instructions.index(remover)]
    for ins in between:
        if ins.name in _METADATA:
            continue
        if ins.name == "VOLUME":
            return None  # the legacy builder discards what a RUN changes under a volume
        if ins.name == "WORKDIR":
            raw = ins.values[0] if ins.values else ""
            if not raw.startswith("/") or "$" in raw or _under(posixpath.normpath(raw), path):
                return None
            continue
        layer = ctx.layers.layer_of(ins)
        if layer is None or not layer.analysed:
            return None
        if any(_under(e.path.rstrip("/") or "/", path) for e in layer.effects if e.kind.value != "remove"):
            return None
        if ins.name == "RUN":
            moved.append(ins)
        elif ins.name not in ("COPY", "ADD"):
            return None
    return moved


_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup", "usermod", "groupmod"})


def _changes_users(ctx: LintContext, ins: Instruction) -> bool:
    """Whether a RUN may add or change users or groups (or cannot be read to tell)."""
    run = ctx.build.run_of(ins)
    if run is None or run.script is None or run.script.has_errors:
        return True
    layer = ctx.layers.layer_of(ins)
    return any(inv.name in _USER_TOOLS for inv in ctx.invocations(run)) or layer is not None and any(
        e.category == "user-db" for e in layer.effects)


def _under(candidate: str, path: str) -> bool:
    return candidate == path or candidate.startswith(path.rstrip("/") + "/")


def _keyword_end(ins: Instruction) -> int:
    """Logical offset just after the keyword (where a new flag goes)."""
    trimmed = ins.logical.lstrip()
    return len(ins.logical) - len(trimmed) + len(ins.keyword)
