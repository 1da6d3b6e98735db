"""DO301's general case: a COPY/ADD above a dependency install that does not read what it copies.

    COPY requirements.txt .                      COPY requirements.txt .
    COPY app.py .                        ==>     RUN pip install -r requirements.txt
    RUN pip install -r requirements.txt          COPY app.py .

Any edit of ``app.py`` misses the cache at its COPY and reruns every later step, the install
included, although the install never reads it. ``find_unread_copies`` finds such COPYs (the
broad ``COPY . .`` that also brings the manifests is :mod:`dockopt.fixes.manifest_first`'s);
``plan_move`` moves one directly below the install.

What "does not read" rests on, per ecosystem (:mod:`dockopt.cache.ecosystems`): the COPY
writes none of the install's manifests, lock files, configuration directories or outputs, no
path the install's command line or its tools' environment variables name, and no file whose
name the install may read beyond its manifests (``MAY_READ``: included requirement files,
local packages, files install scripts commonly read, credentials). Without the build context
only COPYs of files count (a directory may be a local dependency: a ``replace`` in go.mod, a
workspace, a path gem), and a pip install after a COPY of ``setup.py``/``pyproject.toml``, a
composer install that runs scripts, and PHP files before one that builds an autoloader (a
``classmap`` scans them) report nothing; with the context, directories count too
when the manifests show no local paths and no install scripts, and the COPY takes none of the
files the manifests name.

Fix safety (the team's definition: the same commands see the same files, the same final
filesystem): safe only with a known context whose manifests were read, when no instruction
between the COPY and the install may read or write what it copies, the install's RUN reads
none of it before the install (what follows the install is split off below the moved COPY),
and no instruction between writes the same paths. A package manager run between makes the
move unsafe when the file is named like something an install reads (``.npmrc`` above ``RUN
npm install -g pm2``), which the general RUN analysis takes for leaving projects alone. A RUN between that names a copied path
(``RUN chmod +x entrypoint.sh``) would run without the file: no fix, and the message says
so; one that may read it (a script, ``make``, an interpreter) makes the fix unsafe, with
the reason.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.checks.base import LintContext
from dockopt.context.build_context import BuildContext, normalize
from dockopt.context.gosyntax import contains_wildcards
from dockopt.diagnostics import Applicability, Edit, Fix
from dockopt.cache.ecosystems import ANY_INSTALL_READS, MAY_READ, Install, recognise
from dockopt.fixes.manifest_first import (HOMES, SYSTEM, BroadCopy, absolute_dest, blocks_move, copied_alone,
                                          install_cwd, key_manifest, looks_like_tree, project_dir)
from dockopt.fixes.reorder import Place, block, expand, join_path, reads_moved_copy, run_touches, split_run, \
    stage_places, under

if TYPE_CHECKING:
    from dockopt.cache.ecosystem_files import ManifestPlan

_FLAGS = ("chown", "chmod", "link")
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$")
# Environment variables the package managers read paths from (PIP_CONSTRAINT, NPM_CONFIG_USERCONFIG,
# BUNDLE_GEMFILE, GOFLAGS, NODE_OPTIONS=--require ./x.js, SSL_CERT_FILE...).
_TOOL_ENV = re.compile(r"^(PIP_|NPM_CONFIG_|npm_config_|YARN_|BUNDLE_|GEM_|COMPOSER|GO|GRADLE_|MAVEN_|NUGET_|"
                       r"CARGO_|UV_|POETRY_|PIPENV_|PYTHON|NODE_|SSL_CERT|REQUESTS_CA|CURL_CA|GIT_)")
# Files whose presence means a pip install may install the project itself (`-e .` in requirements.txt).
_PY_PROJECT = ("setup.py", "setup.cfg", "pyproject.toml")


@dataclass(slots=True)
class Footprint:
    """What a COPY/ADD writes in the image."""

    files: list[str] = field(default_factory=list)  # image paths of copied files (both readings when ambiguous)
    trees: list[str] = field(default_factory=list)  # image directories a directory source is copied into
    names: list[str] = field(default_factory=list)  # basenames of the sources and destination files
    sources: list[str] = field(default_factory=list)  # context-relative sources, as written
    tree_sources: list[str] = field(default_factory=list)  # those that are directories

    @property
    def paths(self) -> list[str]:
        return [*self.files, *self.trees]

    def shown(self) -> str:
        return ", ".join(s.rstrip("/") + "/" if s in self.tree_sources else s for s in self.sources)

    def overlaps(self, other: Footprint) -> bool:
        return any(under(a, t) for a in self.paths for t in other.trees) or \
            any(under(b, t) for b in other.paths for t in self.trees) or bool(set(self.files) & set(other.files))


@dataclass(slots=True)
class UnreadCopy:
    place: Place
    run_place: Place
    install: Install
    footprint: Footprint
    places: list[Place]
    blocked: str | None = None  # why no fix: an instruction between needs the files
    reasons: list[str] = field(default_factory=list)  # why the fix would be unsafe


def footprint(place: Place, context: BuildContext) -> Footprint | None:
    """The footprint of a COPY/ADD from the build context, or None (a stage or remote source, a
    heredoc, flags the move could not keep, an archive ADD extracts, a wildcard that may take
    directories)."""
    ins = place.instruction
    if ins.name not in ("COPY", "ADD") or ins.heredocs or ins.flag("from") is not None or len(ins.values) < 2:
        return None
    if any(f.name not in _FLAGS for f in ins.flags):
        return None
    sources = [expand(v, place) for v in ins.values[:-1]]
    dest = expand(ins.values[-1], place)
    if dest is None or any(s is None for s in sources):
        return None
    dest_abs = join_path(place.cwd, dest)
    wild = any(contains_wildcards(s or "") for s in sources)
    into_dir = dest.endswith("/") or len(sources) > 1 or wild or dest_abs == place.cwd or under(place.cwd, dest_abs)
    found = Footprint()
    for raw in sources:
        assert raw is not None
        if "://" in raw or raw.startswith("git@") or ins.name == "ADD" and _ARCHIVE.search(raw):
            return None
        clean = normalize(raw)
        folder, base = posixpath.split(clean)
        if not clean or contains_wildcards(folder):
            return None
        if contains_wildcards(base):
            if not re.search(r"\.[A-Za-z0-9]+$", base):
                return None  # `COPY * ./`: may take directories (`*.py` is taken for files)
        found.sources.append(raw)
        if not contains_wildcards(base) and looks_like_tree(raw, context):
            found.trees.append(dest_abs)
            found.tree_sources.append(raw)
            found.names.append(base)
            continue
        found.names.append(base)
        found.files.append(join_path(dest_abs, base) if into_dir else dest_abs)
        if not into_dir:
            found.files.append(join_path(dest_abs, base))  # the destination may be an existing directory
            found.names.append(posixpath.basename(dest_abs))
    return found


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p) or (contains_wildcards(lowered) and fnmatch.fnmatchcase(p, lowered))
               for p in patterns)


def _path_words(install: Install, place: Place) -> list[str]:
    """Paths the install's command line and its tools' environment name (``-s settings.xml``,
    ``--find-links ./wheels``, ``PIP_CONSTRAINT=/c.txt``)."""
    words = [w.split("=", 1)[-1] for w in install.invocation.argv
             if w is not None and (not w.startswith("-") or "=" in w)]
    values = [v.value for k, v in place.scope.items() if _TOOL_ENV.match(k) and v.value]
    values += [v for k, v in install.invocation.env.items() if _TOOL_ENV.match(k)]
    for value in values:
        words += [w.split("=", 1)[-1] for w in re.split(r"[\s:,;]+", value or "") if w]
    return [w for w in words if w and "://" not in w and not w.startswith("$")]


def _read_by_install(install: Install, cwd: str, project: str, found: Footprint, place: Place,
                     names_count: bool) -> bool:
    """Whether the install may read what the COPY writes (``names_count``: judge by file names
    too, as without a context that shows the manifests)."""
    eco = install.ecosystem
    manifests = [join_path(project, alt) for n in (*eco.required, *eco.optional) for alt in n.split("|")]
    manifests += [join_path(cwd, f) for f in install.files]
    dirs = [join_path(project, d) for d in (*eco.optional_dirs, *eco.outputs)]
    for path in found.files:
        if path in manifests or any(under(path, d) for d in dirs):
            return True
    for tree in found.trees:
        if any(under(m, tree) for m in manifests) or any(under(d, tree) or under(tree, d) for d in dirs):
            return True
    patterns = ANY_INSTALL_READS + (MAY_READ.get(eco.name, ()) if names_count else ())
    if any(_matches(name, patterns) for name in found.names):
        return True
    for word in _path_words(install, place):
        path = join_path(cwd, word)
        if path in (cwd, project):
            continue
        if any(p == path or under(p, path) for p in found.files) or any(under(path, t) for t in found.trees):
            return True
    return False


def _system(path: str, install_dirs: tuple[str, ...]) -> bool:
    """Whether ``path`` is where installs read configuration (``/etc/pip.conf``, ``~/.npmrc``,
    ``/usr/local/bundle``), unless it is in the install's own directory (``/usr/src/app``)."""
    if any(under(path, d) for d in install_dirs if d != "/"):
        return False
    return path == "/" or any(under(path, s) for s in (*SYSTEM, *HOMES))


def find_unread_copies(ctx: LintContext, skip: set[int]) -> list[UnreadCopy]:
    """Each COPY/ADD (not in ``skip``: ids of instructions reported already) above the first
    dependency install after it in its stage that does not read what it copies."""
    found: list[UnreadCopy] = []
    context = ctx.build_context
    for stage in ctx.build.stages:
        places = stage_places(ctx.build, stage)
        installs: list[tuple[int, Install]] = []
        for index, place in enumerate(places):
            run = ctx.build.run_of(place.instruction) if place.instruction.name == "RUN" else None
            for inv in ctx.invocations(run) if run is not None else []:
                install = recognise(inv)
                if install is not None:
                    installs.append((index, install))
                    break
        for index, place in enumerate(places):
            if id(place.instruction) in skip or place.instruction.name not in ("COPY", "ADD"):
                continue
            following = next(((i, inst) for i, inst in installs if i > index), None)
            if following is None:
                continue
            unread = _unread(ctx, places, index, *following, context)
            if unread is not None:
                found.append(unread)
    return found


def _unread(ctx: LintContext, places: list[Place], index: int, run_index: int, install: Install,
            context: BuildContext) -> UnreadCopy | None:
    place, run_place = places[index], places[run_index]
    if install.needs_sources:
        return None
    cwd = install_cwd(ctx, run_place, install)
    if cwd is None:
        return None
    project = project_dir(install, cwd)
    found = footprint(place, context)
    if found is None:
        return None
    known = context.available and context.known and not context.truncated
    if found.trees and not known:
        return None  # a directory may be a local dependency (go.mod replace, workspaces, path gems)
    if any(_system(p, (cwd, project)) for p in found.paths):
        return None
    before = places[:run_index]
    reasons: list[str] = []
    if known:
        plan = _context_plan(ctx, install, cwd, project, before)
        if plan is None:
            reasons.append("the install's manifests do not come from the build context: assumes it reads none "
                           f"of {found.shown()}")
        elif plan.blockers or plan.risks or plan.missing:
            return None  # local paths or install scripts: what they read is not known
        elif any(p in plan.files or any(under(p, d) for d in plan.dirs)
                 for s in found.sources for p in context.select(normalize(s)).paths):
            return None
    else:
        if install.name == "pip" and _copies_named(before, _PY_PROJECT):
            return None  # a requirements file may install the project (`-e .`)
        if install.name == "composer" and not install.invocation.has("--no-scripts"):
            return None  # composer scripts (`artisan package:discover`) read the application
        if install.name == "composer" and not install.invocation.has("--no-autoloader") and \
                any(_matches(n, ("*.php", "*.inc")) for n in found.names):
            return None  # a classmap autoloader scans PHP files (composer.json's `classmap` is not known)
        reasons.append("the build context is unknown: assumes the install reads none of "
                       f"{found.shown()}" if not context.available else
                       f"assumes the build context is {context.root} (pass --context to confirm)")
    if _read_by_install(install, cwd, project, found, run_place, names_count=not known or plan is None):
        return None
    unread = UnreadCopy(place, run_place, install, found, places, reasons=reasons)
    # The install's own RUN is one cache step: a command before the install that may use the
    # files makes the step read them.
    skip = frozenset({inv.start for inv in ctx.invocations(ctx.build.run_of(run_place.instruction))  # type: ignore[arg-type]
                      if inv.start >= install.invocation.start})
    if any(run_touches(ctx, run_place.instruction, run_place, path, skip) for path in found.paths):
        return None  # the install's RUN may read it before the install (`make gen-server && pip install ...`)
    existing = _existing_dirs(ctx, places[:index + 1])
    for mid in places[index + 1:run_index]:
        why = _blocks(ctx, mid, place, found, existing)
        if why is None:
            continue
        if why.endswith("which the moved COPY fills") or why.startswith("!"):
            unread.blocked = unread.blocked or why.lstrip("!")
        else:
            reasons.append(why)
    return unread


def _copies_named(places: list[Place], names: tuple[str, ...]) -> bool:
    for place in places:
        ins = place.instruction
        if ins.name in ("COPY", "ADD") and ins.flag("from") is None:
            if any(posixpath.basename(v.rstrip("/")) in names for v in ins.values[:-1]):
                return True
    return False


def _context_plan(ctx: LintContext, install: Install, cwd: str, project: str,
                  before: list[Place]) -> ManifestPlan | None:
    """The install's manifests read from the context, found through the COPY that put its main
    manifest in place (None when no COPY of the context did)."""
    from dockopt.cache.ecosystem_files import plan_manifests

    key = key_manifest(install, cwd, project)
    alone = copied_alone(before, key) if key is not None else None
    if alone is None:
        return None
    manifest = normalize(alone[1])
    if key is not None and posixpath.basename(key) != posixpath.basename(manifest):
        return None  # copied under another name: the plan would read the wrong file
    project_ctx = posixpath.dirname(manifest)
    named = [normalize(posixpath.join(project_ctx, posixpath.relpath(join_path(cwd, f), project)))
             for f in install.files]
    return plan_manifests(install, ctx.build_context, project_ctx, named)


def _existing_dirs(ctx: LintContext, places: list[Place]) -> set[str]:
    """Directories that exist when the COPY runs: the WORKDIRs' and their parents, and those the
    COPY/ADDs before it wrote into (not the COPY itself: its own parents may be its to create)."""
    existing = {"/"}
    for number, place in enumerate(places):
        found = footprint(place, ctx.build_context) if number < len(places) - 1 else None
        dirs = [place.cwd]  # a WORKDIR creates its directory's parents too
        if found is not None:
            dirs += [*(posixpath.dirname(f) for f in found.files), *found.trees]
        for directory in dirs:
            while directory not in existing and directory not in ("", "/"):
                existing.add(directory)
                directory = posixpath.dirname(directory)
    return existing


def _created(paths: list[str], existing: set[str]) -> set[str]:
    """The directories writing ``paths`` may create: every parent that does not exist yet (a
    COPY creates missing parents too, with its own owner and mode)."""
    created: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent not in existing and parent not in ("/", ""):
            created.add(parent)
            parent = posixpath.dirname(parent)
    return created


def _blocks(ctx: LintContext, mid: Place, place: Place, found: Footprint, existing: set[str]) -> str | None:
    """Why moving the COPY below ``mid`` may change the build; "!"-prefixed when it must not move."""
    ins = mid.instruction
    if ins.name in ("COPY", "ADD"):
        other = footprint(mid, ctx.build_context)
        if other is None:
            if ins.flag("from") is None:
                return f"the {ins.name} on line {ins.start_line} may write the same paths"
            other_dest = expand(ins.values[-1], mid) if ins.values else None
            if other_dest is None or any(under(join_path(mid.cwd, other_dest), p) or under(p, join_path(
                    mid.cwd, other_dest)) for p in found.paths):
                return f"the {ins.name} on line {ins.start_line} may write the same paths"
            return None
        if found.overlaps(other):
            return f"the {ins.name} on line {ins.start_line} writes the same paths"
        # Whichever COPY creates a missing directory gives it its owner and mode; the WORKDIR's
        # directory and its parents exist already.
        flagged = any(f.name in ("chown", "chmod") for f in (*ins.flags, *place.instruction.flags))
        if flagged and _created(found.paths, existing) & _created(other.paths, existing | {mid.cwd}):
            return f"the {ins.name} on line {ins.start_line} may create the directory with other owner or mode"
        return None
    if ins.name == "RUN":
        reasons = [r for r in (run_touches(ctx, ins, mid, p) for p in found.paths) if r]
        manager = _manager_reading(ctx, mid, found)
        if manager:
            reasons.append(manager)
        certain = next((r for r in reasons if reads_moved_copy(r)), None)
        if certain is not None:
            return "!" + certain
        return reasons[0] if reasons else None
    dest_dir = posixpath.dirname(found.files[0]) if found.files else found.trees[0]
    why = blocks_move(ctx, mid, BroadCopy(place, "", dest_dir))
    if why == "":
        return f"!the {ins.name} on line {ins.start_line} changes what the COPY names"
    return why


# Package managers run_touches takes for leaving a project alone when they install named
# packages; they still read their configuration from the working directory (`.npmrc`).
_MANAGERS = {"npm": "npm", "pip": "pip", "pip3": "pip", "gem": "bundler", "yarn": "yarn", "pnpm": "pnpm",
             "composer": "composer", "go": "go", "mvn": "maven", "gradle": "gradle", "dotnet": "dotnet",
             "bundle": "bundler", "uv": "uv", "poetry": "poetry", "pipenv": "pipenv", "cargo": "cargo", "mix": "mix"}


def _manager_reading(ctx: LintContext, place: Place, found: Footprint) -> str | None:
    """Why a package manager run between may read the copied files: they are named like what
    some ecosystem's install reads (``COPY .npmrc`` above ``RUN npm install -g x``)."""
    run = ctx.build.run_of(place.instruction)
    for inv in ctx.invocations(run) if run is not None else []:
        eco = _MANAGERS.get(inv.name)
        if eco is not None and any(_matches(n, (*MAY_READ.get(eco, ()), *ANY_INSTALL_READS)) for n in found.names):
            return f"`{inv.name}` on line {place.instruction.start_line} may read {found.shown()}"
    return None


def plan_move(ctx: LintContext, unread: UnreadCopy) -> Fix | None:
    """Move the COPY (with its comment lines) directly below the install, past the plain file
    COPYs that already follow it (so several moved COPYs keep their order); None when it
    cannot be written or must not move."""
    if unread.blocked:
        return None
    places = unread.places
    c, r = unread.place.instruction, unread.run_place.instruction
    first = unread.footprint.paths[0]
    split = split_run(ctx, unread.run_place, unread.install.invocation, first)
    if split is None:
        return None
    document = ctx.document
    source = document.source
    c_start, c_comments, c_text = block(document, c)
    r_start, r_comments, r_text = block(document, r)
    index_r = next(i for i, p in enumerate(places) if p.instruction is r)
    end = r.line_end
    prefix, rest = split
    if rest is None:
        for later in places[index_r + 1:]:
            other = footprint(later, ctx.build_context)
            if other is None or other.trees or other.overlaps(unread.footprint) or later.cwd != unread.run_place.cwd:
                break
            if any(f.name in ("chown", "chmod") for f in (*later.instruction.flags, *c.flags)):
                break
            end = later.instruction.line_end
    if places[index_r].cwd != unread.place.cwd:
        dest = posixpath.dirname(unread.footprint.files[0]) if unread.footprint.files else unread.footprint.trees[0]
        absolute = absolute_dest(c, BroadCopy(unread.place, "", dest))
        if absolute is None or len(unread.footprint.files) > 1 and not c.values[-1].endswith("/"):
            return None
        c_text = absolute
    middle = source[c.line_end:r_start]
    if middle.strip() and middle.startswith("\n") and source[:c_start].endswith("\n\n"):
        middle = middle.lstrip("\n")
    head = r_comments + (prefix if prefix is not None else r_text)
    passed = source[r.line_end:end]
    text = middle + head + passed + c_comments + c_text + (rest or "")
    applicability = Applicability.UNSAFE if unread.reasons else Applicability.SAFE
    message = f"Move this {c.name} below the install, which does not read it"
    if unread.reasons:
        message += f" (unsafe: {'; '.join(dict.fromkeys(unread.reasons))})"
    return Fix(applicability, message, (Edit(c_start, end, text),))
