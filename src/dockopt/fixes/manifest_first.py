"""DO301's analysis and fix: a broad COPY before an install that needs only the manifests.

``find_candidates`` pairs each recognised install (:mod:`dockopt.cache.ecosystems`) with the
first broad COPY/ADD of the stage that precedes it and fills its project directory;
``plan_fix`` writes the reordering:

    COPY . .                      COPY package.json package-lock.json ./
    RUN npm ci            ==>     RUN npm ci
                                  COPY . .

The manifest COPY goes directly above the install (below the install's own comments) with
the broad COPY's ``--chown``/``--chmod``/``--link`` flags, and the broad COPY moves, with its
comments, directly below the install. When the install RUN goes on after the install
(``npm ci && npm run build``), the RUN is split at that ``&&``: the rest stays below the
broad COPY (a literal ``cd`` before the install is repeated in front of it).

Why the image stays the same when the fix says safe: every manifest the new COPY places is
the same context file at the same path with the same flags the broad COPY gives it, and the
broad COPY still runs after the install, rewriting those files identically; in between,
only the install (and instructions that provably do not touch the destination) see the
smaller tree. What can break that, each making the fix unsafe with the reason: an install
that writes into the destination something the context also holds (``node_modules``,
``.venv``, ``vendor``), one that rewrites a manifest (unfrozen lock files), install scripts,
an instruction in between that reads or writes the destination, a WORKDIR in between that
would create a ``--chown`` destination as root's first, an unknown or assumed context.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockopt.checks.base import LintContext
from dockopt.context.build_context import BuildContext, normalize
from dockopt.diagnostics import Applicability, Edit, Fix
from dockopt.cache.ecosystems import Install, recognise
from dockopt.fixes.reorder import (BASE_WORKDIR, Place, block, expand, join_path, keyword, reads_moved_copy, run_touches, split_run,
                             stage_places, under)
from dockopt.syntax import Instruction

if TYPE_CHECKING:
    from dockopt.cache.ecosystem_files import ManifestPlan

# Where installs write too (packages, caches): sources copied into them could collide.
SYSTEM = ("/usr", "/etc", "/var", "/lib", "/lib64", "/bin", "/sbin", "/tmp", "/proc", "/sys", "/dev")
HOMES = ("/root", "/home")  # the directories themselves (a user's caches live below them)
_KEPT_FLAGS = ("chown", "chmod", "link")
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9._+@%=,/*-]+$")


@dataclass(slots=True)
class BroadCopy:
    place: Place
    source: str  # context-relative directory ("" is the root)
    dest: str  # absolute image directory (BASE_WORKDIR-relative when the base WORKDIR is unknown)

    @property
    def instruction(self) -> Instruction:
        return self.place.instruction

    def context_path(self, image_path: str) -> str | None:
        if not under(image_path, self.dest):
            return None
        rel = posixpath.relpath(image_path, self.dest) if image_path != self.dest else ""
        return normalize(posixpath.join(self.source, rel)) if rel else self.source

    def image_path(self, context_path: str) -> str:
        rel = posixpath.relpath(context_path, self.source) if self.source else context_path
        return join_path(self.dest, rel)


@dataclass(slots=True)
class Candidate:
    copy: BroadCopy
    run_place: Place
    install: Install
    install_cwd: str  # image directory the install runs in
    project: str  # its project directory in the context
    named: list[str]  # context paths of files the command names
    places: list[Place]  # the stage's instructions
    plan: ManifestPlan | None = None
    manifests_in_place: bool = False  # an earlier COPY put the manifests in place already


# Extensionless names that are files, not directories.
_FILE_NAMES = re.compile(r"^(Makefile|GNUmakefile|Dockerfile|Containerfile|Gemfile|Pipfile|Procfile|Rakefile|"
                         r"Jenkinsfile|Vagrantfile|Brewfile|Justfile|Caddyfile|Snakefile|gradlew|mvnw|[A-Z0-9_]+)$")


def looks_like_tree(source: str, context: BuildContext | None = None) -> bool:
    """Whether a COPY source names a directory: the context says so, or the name does
    (``.``, a trailing ``/``, no extension and not a known extensionless file name)."""
    clean = normalize(source)
    if not clean or source.endswith(("/", "/.")):
        return True
    if context is not None and context.available:
        entry = context.entry(clean)
        if entry is not None:
            return entry.is_dir
    name = clean.rsplit("/", 1)[-1]
    return "." not in name and not _FILE_NAMES.match(name)


def broad_copy(place: Place, context: BuildContext | None = None) -> BroadCopy | None:
    """A COPY/ADD of one context directory (``.``, ``./``, ``src/``), or None."""
    ins = place.instruction
    if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None:
        return None
    if len(ins.values) != 2:
        return None
    source, dest = expand(ins.values[0], place), expand(ins.values[1], place)
    if source is None or dest is None:
        return None
    if "://" in source or source.startswith("git@") or any(ch in source for ch in "*?["):
        return None
    if not looks_like_tree(source, context):
        return None
    return BroadCopy(place, normalize(source), join_path(place.cwd, dest))


def install_cwd(ctx: LintContext, place: Place, install: Install) -> str | None:
    """The directory the install runs in: WORKDIR, then literal ``cd``s before it in the RUN."""
    run = ctx.build.run_of(place.instruction)
    cwd = place.cwd
    for inv in ctx.invocations(run) if run is not None else []:
        if inv is install.invocation or inv.start >= install.invocation.start:
            break
        if inv.name == "cd" and (not inv.in_subshell or install.invocation.in_subshell):
            target = inv.argv[0] if inv.argv else None
            if target is None or target.startswith("~") or target == "-":
                return None
            cwd = join_path(cwd, target)
    return cwd


def find_candidates(ctx: LintContext) -> list[Candidate]:
    """Each install preceded in its stage by a broad COPY that gives it its project directory."""
    found: list[Candidate] = []
    for stage in ctx.build.stages:
        places = stage_places(ctx.build, stage)
        seen: set[int] = set()
        for index, place in enumerate(places):
            run = ctx.build.run_of(place.instruction) if place.instruction.name == "RUN" else None
            if run is None:
                continue
            for inv in ctx.invocations(run):
                install = recognise(inv)
                if install is None:
                    continue
                candidate = _candidate(ctx, places, index, install)
                if candidate is not None and id(candidate.copy.instruction) not in seen:
                    seen.add(id(candidate.copy.instruction))
                    found.append(candidate)
                break  # one install per RUN: the first
    return found


def project_dir(install: Install, cwd: str) -> str:
    """The image directory of the install's project: the one it names, else its working
    directory; for pip, the directory of the first ``-r`` file."""
    if not install.ecosystem.required and install.files:
        return posixpath.dirname(join_path(cwd, install.files[0]))
    return join_path(cwd, install.project) if install.project else cwd


def _candidate(ctx: LintContext, places: list[Place], index: int, install: Install) -> Candidate | None:
    place, before = places[index], places[:index]
    cwd = install_cwd(ctx, place, install)
    if cwd is None:
        return None
    project_image = project_dir(install, cwd)
    copies = [c for c in (broad_copy(p, ctx.build_context) for p in before)
              if c is not None and under(project_image, c.dest)]
    if not copies:
        return None
    copy = copies[0]  # the first one misses the cache first
    if any(runs_install(ctx, p, install) for p in before[before.index(copy.place) + 1:]):
        # Another install of the ecosystem runs between them and may read the copied tree (kserve:
        # `COPY storage storage`, then kserve's `uv sync` with storage as a path dependency): the
        # COPY cannot move below this install.
        return None
    key = key_manifest(install, cwd, project_image)
    in_place = False
    alone_source: str | None = None
    if key is not None:
        found = copied_alone(before[:before.index(copy.place)], key)
        alone = found[0] if found is not None else None
        if found is not None:
            alone_source = found[1]
            between = before[alone + 1:before.index(copy.place)]
            if any(runs_install(ctx, p, install) for p in between):
                return None  # already the manifest-first pattern: this install is the one that needs the sources
            # `COPY requirements.txt .` / `COPY django_project .` / `RUN pip install -r ...`: the
            # manifest is in place, only the sources copied in between must move below the install.
            in_place = True
    project = copy.context_path(project_image)
    named = [copy.context_path(join_path(cwd, f)) for f in install.files]
    if _manifests_only(ctx, copy, install, [n for n in named if n is not None]):
        return None  # `COPY requirements/ ./requirements`: the manifests, not the sources
    if in_place:
        # The install reads the manifest the earlier COPY took from the context, not one of
        # the sources: analyse that file (a `-e .` in it still needs the sources).
        if alone_source is None or len(install.files) > 1:
            return None
        shadow = copy.context_path(key) if key is not None else None
        context = ctx.build_context
        if shadow is None or context.available and context.known and shadow in context.select(copy.source or ".").paths:
            return None  # the broad COPY replaces the manifest: the install reads its copy
        named = [normalize(alone_source)] if install.files else []
    if project is None or any(n is None for n in named):
        return None
    return Candidate(copy, place, install, cwd, project, [n for n in named if n is not None], places,
                     manifests_in_place=in_place)


# Directory names that hold dependency manifests, not sources (`requirements/prod.txt`).
_MANIFEST_DIR = re.compile(r"^(req|reqs|requirements?|deps|dependencies|constraints)([._-][A-Za-z0-9._-]*)?$", re.I)
# Files a pip requirements directory holds besides the ones named (`-r base.txt` includes).
_PIP_MANIFEST_SUFFIXES = (".txt", ".in", ".pip")


def _manifests_only(ctx: LintContext, copy: BroadCopy, install: Install, named: list[str]) -> bool:
    """Whether the copied directory holds only the install's manifests: with a known context,
    every file in it is one (a named file, a requirements file for pip, a manifest name of the
    ecosystem); without one, it is named like a manifest directory and holds the named files."""
    if not copy.source or not named or not all(under(n, copy.source) for n in named):
        return False
    context = ctx.build_context
    if context.available and context.known and not context.truncated:
        paths = context.select(copy.source).paths
        names = {n.split("|")[0] for n in (*install.ecosystem.required, *install.ecosystem.optional)}
        return bool(paths) and all(
            p in named or posixpath.basename(p) in names
            or install.name == "pip" and p.endswith(_PIP_MANIFEST_SUFFIXES) for p in paths)
    return bool(_MANIFEST_DIR.match(posixpath.basename(copy.source)))


def runs_install(ctx: LintContext, place: Place, install: Install) -> bool:
    """Whether the instruction is a RUN with an install of the same ecosystem."""
    run = ctx.build.run_of(place.instruction) if place.instruction.name == "RUN" else None
    if run is None:
        return False
    return any((other := recognise(inv)) is not None and other.name == install.name for inv in ctx.invocations(run))


def key_manifest(install: Install, cwd: str, project_image: str) -> str | None:
    """The image path of the install's main manifest (``package.json``, the ``-r`` file)."""
    if install.files:
        return join_path(cwd, install.files[0])
    required = install.ecosystem.required
    return join_path(project_image, required[0].split("|")[0]) if required else None


def copied_alone(places: list[Place], manifest: str) -> tuple[int, str] | None:
    """(index, context source) of a COPY naming files (not a tree) that put ``manifest`` in
    place before."""
    name = posixpath.basename(manifest)
    for index, place in enumerate(places):
        ins = place.instruction
        if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None or len(ins.values) < 2:
            continue
        dest_raw = expand(ins.values[-1], place)
        if dest_raw is None:
            continue
        dest = join_path(place.cwd, dest_raw)
        for source in ins.values[:-1]:
            value = expand(source, place) or ""
            if fnmatch.fnmatchcase(name, posixpath.basename(value.rstrip("/"))) and manifest in (
                dest, join_path(dest, name)
            ):
                return index, value
    return None


def analyse(ctx: LintContext, candidate: Candidate) -> ManifestPlan:
    """The install's manifests. An assumed context (the Dockerfile's directory) that lacks
    them is taken for the wrong directory: the plan is then made as without a context."""
    # Imported here: only a Dockerfile with a broad COPY before an install reads manifests (start-up time).
    from dockopt.cache.ecosystem_files import plan_manifests

    context = ctx.build_context
    plan = plan_manifests(candidate.install, context, candidate.project, candidate.named)
    if context.available and not context.known and plan.missing:
        plan = plan_manifests(candidate.install, BuildContext.unknown(), candidate.project, candidate.named)
    candidate.plan = plan
    return plan


# --- the fix ---------------------------------------------------------------------------------


def plan_fix(ctx: LintContext, candidate: Candidate) -> Fix | None:
    """The reordering edit, or None when it could break the build or cannot be written."""
    plan, places = candidate.plan, candidate.places
    copy, install = candidate.copy, candidate.install
    b, r = copy.instruction, candidate.run_place.instruction
    if plan is None or plan.missing or plan.blockers or install.needs_sources or not plan.files:
        return None
    if any(f.name not in (*_KEPT_FLAGS, "from") for f in b.flags):
        return None  # --exclude, --parents, ...: the manifest COPY could not mirror them
    index_b = next(i for i, p in enumerate(places) if p.instruction is b)
    index_r = next(i for i, p in enumerate(places) if p.instruction is r)
    reasons: list[str] = []
    if _later_broad_copy(places[index_b + 1:index_r], ctx.build_context, copy.image_path(candidate.project)):
        return None
    for mid in places[index_b + 1:index_r]:
        reason = blocks_move(ctx, mid, copy)
        if reason == "":
            return None
        if reason:
            reasons.append(reason)
    split = split_run(ctx, candidate.run_place, candidate.install.invocation, candidate.copy.dest)
    if split is None:
        return None
    reasons += _risks(ctx, candidate, places[:index_b])
    context = ctx.build_context
    if candidate.manifests_in_place and not (context.available and context.known):
        key = candidate.named[0] if candidate.named else "the manifest"
        reasons.append(f"assumes {copy.source or 'the context'}/ holds no {posixpath.basename(key)} of its own, "
                       "which the install would read instead")
    lines = [] if candidate.manifests_in_place else _manifest_copies(candidate, plan, places[index_r])
    if lines is None:
        return None
    document = ctx.document
    source = document.source
    b_start, b_comments, b_text = block(document, b)
    r_start, r_comments, r_text = block(document, r)
    if places[index_r].cwd != copy.place.cwd:
        absolute = absolute_dest(b, copy)
        if absolute is None:
            return None
        b_text = absolute
    middle = source[b.line_end:r_start]
    if middle.strip() and middle.startswith("\n") and source[:b_start].endswith("\n\n"):
        middle = middle.lstrip("\n")  # the broad COPY leaves: do not leave two blank lines behind
    prefix, rest = split
    head = r_comments + "".join(lines) + (prefix if prefix is not None else r_text)
    moved = b_comments + b_text + (rest or "")
    text = head + middle + moved if not middle.strip() else middle + head + moved
    end = r.line_end
    applicability = Applicability.UNSAFE if reasons else Applicability.SAFE
    names = ", ".join(p for p in [*plan.files, *(d + "/" for d in plan.dirs)])
    message = f"Copy {names} first, run the install, then copy the sources"
    if candidate.manifests_in_place:
        message = f"Move this {b.name} below the install (the manifests are copied before it already)"
    if reasons:
        message += f" (unsafe: {'; '.join(dict.fromkeys(reasons))})"
    return Fix(applicability, message, (Edit(b_start, end, text),))


def absolute_dest(ins: Instruction, copy: BroadCopy) -> str | None:
    """The broad COPY with its destination written absolute (it moves below a WORKDIR)."""
    last = ins.arguments[-1]
    if ins.is_json or "$" in last.value or copy.dest.startswith(BASE_WORKDIR):
        return None
    if last.value.startswith("/"):
        return ins.text if ins.text.endswith("\n") else ins.text + "\n"
    source = ins.text
    offset = last.start - ins.line_start
    dest = copy.dest + ("/" if last.value.endswith("/") else "")
    text = source[:offset] + dest + source[last.end - ins.line_start:]
    return text if text.endswith("\n") else text + "\n"


def _later_broad_copy(between: list[Place], context: BuildContext, project: str) -> bool:
    """Whether another source tree is copied into the project between the two (which one the
    install reads would then be unclear)."""
    return any((c := broad_copy(p, context)) is not None and (under(project, c.dest) or under(c.dest, project))
               for p in between)


def blocks_move(ctx: LintContext, place: Place, copy: BroadCopy) -> str | None:
    """Why moving the broad COPY below this instruction is unsafe; "" when it must not move at all."""
    ins = place.instruction
    b = copy.instruction
    if ins.name in ("ARG", "ENV"):
        names = [w.split("=", 1)[0] for w in ins.values] if ins.name == "ARG" else ins.values[0::3]
        if any(re.search(r"\$\{?" + re.escape(n) + r"\b", b.logical) for n in names):
            return ""  # the COPY's own text would change meaning
        return None
    if ins.name in ("LABEL", "EXPOSE", "USER", "STOPSIGNAL", "HEALTHCHECK", "CMD", "ENTRYPOINT", "SHELL", "ONBUILD"):
        return None  # COPY ignores USER (files are root's without --chown); the rest is config
    if ins.name == "WORKDIR":
        value = expand(ins.values[0], place) if ins.values else None
        target = join_path(place.cwd, value) if value else None
        if b.flag("chown") is not None and (target is None or under(target, copy.dest)):
            return f"the WORKDIR on line {ins.start_line} may create {copy.dest} before the COPY does"
        return None
    if ins.name == "RUN":
        reason = run_touches(ctx, ins, place, copy.dest)
        # `RUN chmod +x wait-for-it.sh` above the COPY that provides the script fails: no fix.
        return "" if reads_moved_copy(reason) else reason
    if ins.name in ("COPY", "ADD"):
        dest = ins.values[-1] if ins.values else ""
        target = join_path(place.cwd, expand(dest, place) or "/")
        if under(target, copy.dest) or under(copy.dest, target):
            return f"the {ins.name} on line {ins.start_line} writes into the same directory"
        return None
    return f"the {ins.name} on line {ins.start_line}"


def _risks(ctx: LintContext, candidate: Candidate, before_copy: list[Place]) -> list[str]:
    """Why the reordered build may not produce the same image (empty: it provably does)."""
    plan = candidate.plan
    assert plan is not None
    copy, install = candidate.copy, candidate.install
    context = ctx.build_context if plan.known else BuildContext.unknown()
    reasons: list[str] = []
    if not context.available:
        reasons.append("the build context is unknown: assumes the manifests exist and suffice")
    elif not context.known:
        reasons.append(f"assumes the build context is {context.root} (pass --context to confirm)")
    reasons += plan.risks
    if install.rewrites:
        reasons.append(install.rewrites + ", and the copied one would replace it")
    if context.available:
        sent = context.select(copy.source or ".").paths
        for output in install.ecosystem.outputs:
            root = normalize(posixpath.join(candidate.project, output))
            if any(p == root or p.startswith(root + "/") for p in sent):
                reasons.append(f"the build context's {root} would be copied over what the install writes")
                break
    dest = copy.dest
    if dest in ("/", *HOMES) or any(under(dest, s) for s in SYSTEM):
        reasons.append(f"the sources are copied into {dest}, where the install also writes")
    # A destination the new COPY creates instead of the broad one gets the same mode (0755) and
    # owner (--chown) from both builders (checked on a real engine: tests/e2e/test_cache_e2e.py);
    # a WORKDIR in between creating it first does not (blocks_move).
    return reasons


def _manifest_copies(candidate: Candidate, plan: ManifestPlan, r_place: Place) -> list[str] | None:
    """``COPY <manifests> <dir>/`` lines, one per destination directory, flags mirrored."""
    copy = candidate.copy
    b = copy.instruction
    flags = "".join(" " + b.text[f.start - b.line_start:f.end - b.line_start] for f in b.flags
                    if f.name in _KEPT_FLAGS)
    groups: dict[str, list[str]] = {}
    for path in plan.files:
        groups.setdefault(posixpath.dirname(copy.image_path(path)), []).append(path)
    for directory in plan.dirs:
        groups.setdefault(copy.image_path(directory), []).append(directory + "/")
    lines = []
    word = keyword(b, "COPY")
    for target, sources in groups.items():
        dest = _relative_dest(target, r_place.cwd)
        if dest is None or not all(_PLAIN_PATH.match(s) for s in [*sources, dest]):
            return None
        lines.append(f"{word}{flags} {' '.join(sources)} {dest}\n")
    return lines


def _relative_dest(target: str, cwd: str) -> str | None:
    if target == cwd:
        return "./"
    if under(target, cwd):
        return posixpath.relpath(target, cwd) + "/"
    if target.startswith(BASE_WORKDIR):
        return None
    return target.rstrip("/") + "/"
