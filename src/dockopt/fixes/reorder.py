"""Moving instructions within a stage: where each one runs, and the text of the move.

Serves DO301 (copy the manifests, install, then copy the sources) and DO302 (move a
volatile ARG below the expensive steps). A moved instruction takes the comment lines
directly above it along (a fix never loses a comment); everything else between the old
and the new place is kept verbatim, so a move is one edit over that range.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockopt.checks.base import LintContext
from dockopt.layers.invocations import Invocation
from dockopt.model import Build, Stage, Variable, substitute
from dockopt.syntax import Document, Instruction

# Standing in for the base image's WORKDIR, which the Dockerfile does not say.
BASE_WORKDIR = "/.base-workdir"
# Commands that never read a project tree they are not pointed at (package managers, users).
QUIET_COMMANDS = frozenset({
    "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper", "dpkg-reconfigure", "update-ca-certificates",
    "useradd", "adduser", "groupadd", "addgroup", "usermod", "true", "echo", "printf", "ln", "locale-gen",
    "corepack", "set", "update-alternatives", "rm", "mkdir", "chmod", "chown", "curl", "wget", "gem", "npm", "pip",
    "pip3", "cd", "export",
})
_FILE_COMMANDS = frozenset({"rm", "mkdir", "chmod", "chown", "ln"})


@dataclass(slots=True)
class Place:
    """An instruction of a stage with the WORKDIR and variables in effect when it runs."""

    instruction: Instruction
    cwd: str
    scope: dict[str, Variable]


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def join_path(cwd: str, path: str) -> str:
    joined = posixpath.normpath(path if path.startswith("/") else posixpath.join(cwd, path))
    return "/" + joined.lstrip("/")


def stage_places(build: Build, stage: Stage) -> list[Place]:
    """Each instruction of ``stage`` with its WORKDIR (``BASE_WORKDIR``-relative when the base
    image's is unknown) and variable scope (ARG defaults and ENV values, as far as known)."""
    chain: list[Stage] = []
    current: Stage | None = stage
    while current is not None and current not in chain:
        chain.append(current)
        current = current.base_stage
    cwd = BASE_WORKDIR
    env: dict[str, Variable] = {}
    places: list[Place] = []
    for member in reversed(chain):
        scope = {k: v for k, v in env.items() if v.kind == "env"}  # ARGs do not cross FROM
        for ins in member.instructions:
            if member is stage:
                places.append(Place(ins, cwd, dict(scope)))
            if ins.name == "WORKDIR" and ins.values:
                value = substitute(_unquote(ins.values[0]), scope)
                cwd = join_path(cwd, value) if value else BASE_WORKDIR + "/?"
            elif ins.name == "ARG":
                for word in ins.values:
                    name, eq, default = word.partition("=")
                    inherited = build.global_args.get(name)
                    value = substitute(_unquote(default), scope) if eq else (inherited.value if inherited else None)
                    scope[name] = Variable(name, value, "arg", ins)
            elif ins.name == "ENV":
                values = ins.values
                for i in range(0, len(values) - 2, 3):
                    scope[values[i]] = Variable(values[i], substitute(_unquote(values[i + 1]), scope), "env", ins)
        env = scope
    return places


def expand(text: str, place: Place) -> str | None:
    return substitute(text, place.scope)


def comment_start(document: Document, ins: Instruction) -> int:
    """Start of the comment lines directly above ``ins`` (no blank line between), else its own start."""
    nodes = document.nodes
    index = next(i for i, node in enumerate(nodes) if node is ins)
    start = ins.line_start
    for node in reversed(nodes[:index]):
        if isinstance(node, Instruction) or node.kind != "comment":
            break
        start = node.start
    return start


def block(document: Document, ins: Instruction) -> tuple[int, str, str]:
    """(start, comment text, instruction text ending in a newline) of an instruction's block."""
    source = document.source
    start = comment_start(document, ins)
    body = source[ins.line_start:ins.line_end]
    return start, source[start:ins.line_start], body if body.endswith("\n") else body + "\n"


def keyword(like: Instruction, name: str) -> str:
    return name.lower() if like.keyword.islower() else name


def under(path: str, directory: str) -> bool:
    d = directory.rstrip("/") or "/"
    return d == "/" or path == d or path.startswith(d + "/")


# The end of a run_touches reason that is not a risk but a certainty: the RUN names a path
# the moved COPY provides, so above that COPY it would not find it (the build breaks).
FILLS = "which the moved COPY fills"


def reads_moved_copy(reason: str | None) -> bool:
    return bool(reason) and reason.endswith(FILLS)  # type: ignore[union-attr]


def run_touches(ctx: LintContext, ins: Instruction, place: Place, tree: str,
                skip: frozenset[int] = frozenset()) -> str | None:
    """Why a RUN may read or write the image tree ``tree`` (None: it provably does not).
    ``skip``: start offsets of invocations to leave out (the install being moved)."""
    run = ctx.build.run_of(ins)
    if run is None or run.script is None or run.script.has_errors:
        return f"line {ins.start_line} cannot be analysed"
    if run.mounts and any(m.get("type", "bind") == "bind" for m in run.mounts):
        return f"line {ins.start_line} bind-mounts files"
    cwd = place.cwd
    for inv in ctx.invocations(run):
        if inv.start in skip:
            continue
        if "/" in inv.name and under(join_path(cwd, inv.name), tree):
            return f"line {ins.start_line} runs {inv.name}, {FILLS}"
        if inv.name not in QUIET_COMMANDS:
            return f"`{inv.name}` on line {ins.start_line} may read the copied files"
        if inv.name == "cd":
            target = inv.argv[0] if inv.argv else None
            if target is None:
                return f"line {ins.start_line} changes to a directory it computes"
            cwd = join_path(cwd, target)
            continue
        if inv.name in ("npm", "pip", "pip3", "gem") and not _named_packages_only(inv.argv):
            return f"`{inv.text.strip()[:40]}` on line {ins.start_line} may read the copied files"
        if inv.name in ("curl", "wget") and under(cwd, tree):
            return f"`{inv.name}` on line {ins.start_line} may write into the copied directory"
        args = list(inv.argv)
        if inv.name in ("chmod", "chown"):
            first = next((i for i, a in enumerate(args) if a is not None and not a.startswith("-")), None)
            if first is not None:
                del args[first]  # the mode or owner, not a path
        paths: list[tuple[str | None, bool]] = [
            (a, a is None or "/" in a or inv.name in _FILE_COMMANDS) for a in args]
        paths += [(t, True) for _, t in inv.redirects]
        for arg, path_like in paths:
            if arg is None:
                return f"line {ins.start_line} has an argument dockopt cannot read"
            if arg.startswith("-") or "://" in arg or not path_like:
                continue
            if under(join_path(cwd, arg.split("=")[-1]), tree):
                return f"line {ins.start_line} uses {arg}, {FILLS}"
    return None


def _named_packages_only(argv: list[str | None]) -> bool:
    """``npm install -g x``, ``pip install x``, ``gem install x``: registry names, no files."""
    words = [a for a in argv if a is not None]
    if len(words) != len(argv) or not words or words[0] not in ("install", "i"):
        return False
    if any(w in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable") for w in words):
        return False
    return all(w.startswith("-") or not re.match(r"^(\.|/|~|file:)|\.(whl|gem|tgz|tar\.gz)$", w) for w in words[1:])


def split_run(ctx: LintContext, place: Place, install: Invocation,
              tree: str) -> tuple[str | None, str | None] | None:
    """Split a RUN after ``install`` for a move: (the RUN up to it, the rest as a new RUN), or
    (None, None) when nothing follows it and the commands before it leave ``tree`` alone;
    None when it cannot be split safely (not one ``&&`` chain of simple commands, shell state
    other than a literal ``cd`` reaching the rest, a comment between the halves, or a command
    before it that may touch ``tree``). A ``cd`` before it is repeated in front of the rest."""
    r = place.instruction
    run = ctx.build.run_of(r)
    skip = frozenset({install.start})
    invs = ctx.invocations(run) if run is not None else []
    after = [i for i in invs if i.start > install.start]
    if not after:
        return (None, None) if run_touches(ctx, r, place, tree, skip) is None else None
    script, source = (run.script, run.source) if run is not None else (None, None)
    if script is None or source is None or r.heredocs or r.is_json or len(script.statements) != 1:
        return None
    commands = script.commands
    if any(c.depth or c.in_pipeline or c.in_subshell or c.background for c in commands):
        return None
    if any(c.connector not in ("&&",) for c in commands[1:]):
        return None
    position = next((k for k, c in enumerate(commands) if source.to_source(c.span[0]) == install.start), None)
    if position is None or position + 1 >= len(commands):
        return None
    before = invs[:invs.index(install)]
    if any(i.name not in ("cd",) and i.name in ("export", "set", "source", ".", "umask") for i in before):
        return None
    if any(c.name is None for c in commands[:position + 1]):
        return None  # a variable assignment would not reach the rest
    prefix_run = run_touches(ctx, r, place, tree, frozenset({i.start for i in [install, *after]}))
    if prefix_run is not None:
        return None
    doc = ctx.document.source
    head = doc[r.start:r.to_source(r.args_start)]
    cut = source.to_source(commands[position].span[1] - 1) + 1
    if re.search(r"^\s*#", doc[cut:source.to_source(commands[position + 1].span[0])], re.M):
        return None  # a comment between the two halves would be lost
    prefix = doc[r.line_start:cut] + "\n"
    resume = source.to_source(commands[position + 1].span[0])
    cds = "".join(f"{i.text.strip()} && " for i in before if i.name == "cd" and not i.in_subshell)
    rest = head + cds + doc[resume:r.line_end]
    return prefix, rest if rest.endswith("\n") else rest + "\n"
