"""The layer simulator: replay each stage's instructions as filesystem effects.

For every stage it tracks the paths earlier layers created (``_Alive``), applies each
instruction's effects in order, and records per layer the bytes added and the bytes a
later layer removes or copies up. A removal inside the same RUN that created the files
costs nothing (the files never reach the layer); a removal in a later layer only adds a
whiteout, so the earlier bytes are ``Waste``. A chmod/chown/sed -i/append of a file from
an earlier layer copies the whole file into the new layer: the earlier copy is waste too.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import posixpath
from dataclasses import dataclass

from dockopt.layers.archives import expanded, format_of_name, tar_option_format
from dockopt.layers.base_images import DOCKER_CLEAN, base_workdir, family_of, has_docker_clean
from dockopt.layers.downloads import OFF_HINT, DownloadSizer, FileSizes, Sized, literal_url
from dockopt.layers.invocations import Invocation, invocations
from dockopt.layers.modelling import build_output, unmodelled, unmodelled_writes
from dockopt.layers.knowledge import (ShellState, download_url, effects_of, extracts, has_handler, resolve,
                                      to_stdout)
from dockopt.layers.sizes import human
from dockopt.layers.plan import (BASE_ENV_UNKNOWN, ENV_CONFIGURED_CACHES, REINSTALLED, UNKNOWN_ORIGIN, WARMED,
                                 Effect, EffectKind, Layer, LayerPlan, StagePlan, Waste)
from dockopt.model import Build, Stage
from dockopt.syntax import Instruction

LAYER_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst")


@dataclass(slots=True)
class _Entry:
    effect: Effect
    layer: Layer
    instruction: Instruction
    # The bytes the layer stores for this path. A rewrite (chmod, chown, sed -i) copies the
    # whole file up: its entry stores what the rewritten one did, which its effect cannot say
    # (a recursive chmod's one effect covers many paths).
    size: int | None


# Caches of installers that put the project's packages in the working directory (node_modules,
# vendor/): run inside a bind mount, they keep nothing but the cache.
_PROJECT_INSTALL_CACHES = frozenset({"npm-cache", "yarn-cache", "pnpm-store", "composer-cache"})


def _installs_into_cwd(inv: Invocation) -> bool:
    """A project install (``npm ci``, ``yarn install``, ``pnpm install``, ``composer install``),
    not a global one (``npm install -g``, ``yarn global add``)."""
    if inv.has("-g", "--global") or inv.subcommand == "global":
        return False
    if inv.name in ("npm", "pnpm"):
        return inv.subcommand in ("install", "i", "ci", "add")
    if inv.name == "yarn":
        return inv.subcommand in (None, "install", "add")
    return inv.name == "composer" and inv.subcommand in ("install", "update", "require")


def covers(pattern: str, path: str) -> bool:
    """Whether removing ``pattern`` (maybe a glob) removes what ``path`` holds."""
    return _Coverage(pattern).covers(path)


class _Coverage:
    """``covers(pattern, path)`` with the pattern's work done once: ``apply`` asks it about
    every alive path (the hottest loop of a lint run)."""

    __slots__ = ("everything", "plain", "below", "star_base", "star_below", "globs")

    def __init__(self, pattern: str) -> None:
        p = pattern.rstrip("/")
        self.everything = not p  # rm -rf /
        self.plain = p
        self.below = p + "/"
        star = p.endswith("/*")
        self.star_base = p[:-2] if star else None
        self.star_below = p[:-2] + "/" if star else None
        self.globs = (p, p + "/*") if any(ch in p for ch in "*?[") else None

    def covers(self, path: str) -> bool:
        if self.everything:
            return True
        q = path.rstrip("/")
        if q == self.plain or q.startswith(self.below):
            return True
        if self.star_base is not None and (q == self.star_base or q.startswith(self.star_below)):  # type: ignore[arg-type]
            return True
        if self.globs is not None:
            # fnmatch keeps the compiled patterns (an LRU cache): nothing to precompile here.
            return fnmatch.fnmatchcase(q, self.globs[0]) or fnmatch.fnmatchcase(q, self.globs[1])
        return False


PARTIAL_CATEGORIES = frozenset({"source", "build-dir", "extracted"})
SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/lib", "/etc/", "/var/")


def owned_tree(tree: str) -> bool:
    """A directory one command's output fills alone (``/opt/tool/``, ``/src/app/``), as opposed
    to a shared one (``/opt/``, ``/tmp/``, ``/usr/local/bin/``) that holds other files too."""
    return len(tree.strip("/").split("/")) >= 2 and not tree.startswith(SYSTEM_DIRS)


def inside(pattern: str, entry: Effect) -> bool:
    """Whether ``pattern`` removes part of the tree ``entry`` created (e.g. ``.git`` of a clone).

    Only for trees a command owns outright: a removal under a shared directory says nothing
    about which command's bytes it removes.
    """
    return _inside(pattern.rstrip("/"), entry)


def _inside(stripped_pattern: str, entry: Effect) -> bool:
    tree = entry.path
    # The prefix test first: it is the cheap one, and false for nearly every alive path.
    return (stripped_pattern.startswith(tree) and tree.endswith("/") and entry.category in PARTIAL_CATEGORIES
            and owned_tree(tree))


class _StageSimulator:
    def __init__(self, build: Build, stage: Stage, context: object, parent: _StageSimulator | None,
                 downloads: FileSizes | None = None) -> None:
        self.build = build
        self.stage = stage
        self.context = context
        self.downloads = downloads  # None: --fetch-sizes is off, and nothing touches the network
        base = stage.base_resolved or stage.base
        self.plan = StagePlan(stage, parent.plan.family if parent else family_of(base))
        self.alive: dict[str, _Entry] = dict(parent.alive) if parent else {}
        self.cwd = parent.cwd if parent else base_workdir(base)
        self.home = parent.home if parent else "/root"
        self.apk_virtual: dict[str, list[str]] = dict(parent.apk_virtual) if parent else {}
        self.docker_clean = parent.docker_clean if parent else has_docker_clean(self.plan.family)
        self.image = parent.image if parent else (base or "")
        # The last RUN (of this stage) that ran a command the simulator does not model.
        self.unmodelled_at: tuple[Instruction, Layer, str, Invocation] | None = parent.unmodelled_at if parent else None
        # Where that command may have written, by the evidence the script gives (its directory and
        # the paths it names), and what was removed since: only a removal under the first and not
        # under the second can be removing what it left (modelling.unmodelled_writes).
        self.unmodelled_roots: tuple[str, ...] = parent.unmodelled_roots if parent else ()
        self.removed_since_unmodelled: list[str] = list(parent.removed_since_unmodelled) if parent else []

    # -- applying effects ------------------------------------------------------------
    def apply(self, effect: Effect, layer: Layer, ins: Instruction) -> None:
        if effect.kind is EffectKind.CREATE:
            previous = self.alive.get(effect.path)
            if (previous is not None and effect.category == "package" and previous.layer is not layer
                    and effect.detail != REINSTALLED):
                return  # installing an installed package is a no-op ("already the newest version")
            if previous is not None and previous.layer is not layer:
                self._waste(previous, effect, ins)
            elif previous is not None:
                layer.added -= previous.size or 0
            self.alive[effect.path] = _Entry(effect, layer, ins, effect.size)
            layer.added += effect.size or 0
            layer.added_unknown |= effect.size is None
            return
        matched = False
        # A non-recursive chmod/chown/touch rewrites the named file or directory inode only,
        # not what lies below it; a recursive one (path ending in "/") rewrites the tree.
        exact = effect.kind is EffectKind.REWRITE and not effect.is_tree
        target = effect.path.rstrip("/")
        coverage = _Coverage(effect.path)
        copied_up: list[int | None] = []
        for path, entry in list(self.alive.items()):
            if (path.rstrip("/") == target and not entry.effect.is_tree) if exact else coverage.covers(path):
                matched = True
                if exact and self._copied_directory(entry):
                    continue  # `chmod =2775 /opt/conda` of a copied directory copies up its inode only
                if entry.layer is layer and entry.effect.kind is EffectKind.REWRITE and effect.kind is EffectKind.REMOVE:
                    # `chmod +x /tmp/x.sh && /tmp/x.sh && rm /tmp/x.sh`: the copy-up the chmod made
                    # is gone with the RUN's own rm, so nothing is stored twice; the earlier
                    # layer's bytes stay because of the removal (DO101's finding, not DO104's).
                    self._rewrite_then_removed(path, entry, effect, layer)
                elif entry.layer is layer:
                    layer.added -= entry.size or 0
                else:
                    self._waste(entry, effect, ins)
                del self.alive[path]
                if effect.kind is EffectKind.REWRITE:
                    self.alive[path] = _Entry(effect, layer, ins, entry.size)
                    layer.added += entry.size or 0
                    layer.added_unknown |= entry.size is None
                    copied_up.append(entry.size)
            elif entry.layer is not layer and _inside(target, entry.effect):
                matched = True
                self.plan.waste.append(Waste(entry.effect, entry.instruction, effect, ins, None))
        if (not matched and effect.kind is EffectKind.REMOVE and effect.detail != "moved"
                and self.unmodelled_at is not None and self.unmodelled_at[1] is not layer
                and build_output(effect.path) and self._unmodelled_may_have_left(effect.path)):
            # Nothing the simulator knows of is there, but an earlier RUN ran a command it does
            # not model (make, an install script): whatever that left here stays in its layer.
            origin, _, command, inv = self.unmodelled_at
            made = Effect(EffectKind.CREATE, effect.path, UNKNOWN_ORIGIN, command, inv.start, inv.end, None,
                          detail="made by a command dockopt does not model")
            self.plan.waste.append(Waste(made, origin, effect, ins, None))
        if effect.kind is EffectKind.REMOVE and self.unmodelled_at is not None:
            self.removed_since_unmodelled.append(effect.path)
        if copied_up and effect.size is None and None not in copied_up:
            effect.size = sum(copied_up)  # type: ignore[arg-type]  # what `dockopt layers` shows
        if effect.kind is EffectKind.REWRITE and not matched:
            layer.notes.append(f"{effect.command}: rewrites {effect.path} from the base image (copied up)")

    def _unmodelled_may_have_left(self, removed: str) -> bool:
        """Whether the last unmodelled command may have left files at ``removed``: the path lies
        where the script says it worked (its directory, a path it names, the user's tool caches)
        and nothing removed it since. A defensive ``rm -rf /tmp/*`` after ``python get-pip.py``
        (whose RUN already emptied /tmp) or after ``dpkg -i`` is no evidence of waste."""
        target = removed.rstrip("/")
        if target.endswith("/*"):
            target = target[:-2]
        if any(covers(done, removed) or covers(done, target) or done.rstrip("/").removesuffix("/*") == target
               for done in self.removed_since_unmodelled):
            return False
        return any(target == root or target.startswith(root.rstrip("/") + "/") for root in self.unmodelled_roots)

    def _copied_directory(self, entry: _Entry) -> bool:
        """Whether a COPY/ADD target not known to be a tree (``COPY --from=upstream /opt/conda
        /opt/conda``: the other stage's files are not known) is a directory after all: the
        Dockerfile names a path below it (``/opt/conda/bin``)."""
        effect = entry.effect
        if effect.is_tree or effect.size is not None or entry.instruction.name not in ("COPY", "ADD"):
            return False
        below = effect.path.rstrip("/") + "/"
        return below != "/" and below in self.build.document.source

    def _rewrite_then_removed(self, path: str, entry: _Entry, removal: Effect, layer: Layer) -> None:
        layer.added -= entry.size or 0  # the copy-up this RUN made and then removed
        for waste in self.plan.waste:
            if waste.removed is entry.effect and waste.created.path == path:
                waste.removed = removal
                return

    def _waste(self, entry: _Entry, effect: Effect, ins: Instruction) -> None:
        size = entry.size
        entry.layer.wasted += size or 0
        self.plan.waste.append(Waste(entry.effect, entry.instruction, effect, ins, size))

    # -- instructions -----------------------------------------------------------------
    def run(self) -> StagePlan:
        for ins in self.stage.instructions:
            layer = Layer(ins, ins.name in LAYER_INSTRUCTIONS)
            self.plan.layers.append(layer)
            if ins.name == "RUN":
                self._run(ins, layer)
            elif ins.name in ("COPY", "ADD"):
                for effect in self._copy(ins):
                    layer.effects.append(effect)
                    self.apply(effect, layer, ins)
            elif ins.name == "WORKDIR" and ins.values:
                self.cwd = resolve(ins.values[0], self._state()) or self.cwd
                layer.creates_layer = True
                layer.notes.append("creates the directory if it does not exist (an empty layer)")
            elif ins.name == "USER" and ins.values:
                user = ins.values[0].split(":", 1)[0]
                self.home = "/root" if user in ("root", "0") else f"/home/{user}"
        # By identity: ``in self.plan.layers`` would compare Layer dataclasses field by field.
        own_layers = {id(layer) for layer in self.plan.layers}
        for path, entry in self.alive.items():
            if id(entry.layer) in own_layers:
                self.plan.left.append((entry.effect, entry.instruction))
            self.plan.alive[path] = entry.effect
        return self.plan

    def _state(self, env: dict[str, str] | None = None, mounts: tuple[str, ...] = ()) -> ShellState:
        existing = set(self.alive)
        return ShellState(self.cwd, self.home, env or {}, self.plan.family, mounts, existing, self.apk_virtual,
                          self.docker_clean, self.image)

    def _run(self, ins: Instruction, layer: Layer) -> None:
        run = self.build.run_of(ins)
        if run is None:
            return
        exec_form = ins.is_json and not ins.heredocs and run.source is None and bool(ins.values)
        if not exec_form and (run.source is None or run.script is None or run.script.has_errors):
            layer.analysed = False
            layer.added_unknown = True  # whatever it writes, its size is not known (never a known 0 B)
            layer.notes.append("script not analysed (non-POSIX shell or unparsable script)")
            return
        mounts = []
        for mount in run.mounts:
            if mount.get("type") in ("cache", "tmpfs") and mount.get("target", mount.get("dst")):
                target = mount.get("target") or mount.get("dst") or ""
                mounts.append(resolve(target, self._state()) or target)
        state = self._state(run.env(), tuple(mounts))
        binds = [resolve(m.get("target") or m.get("dst") or "", state) for m in run.mounts
                 if m.get("type", "bind") == "bind" and (m.get("target") or m.get("dst"))]
        # A cd holds for the rest of its shell process only (a subshell, a pipeline member):
        # each process starts in its parent's directory as it was when the process began.
        cwds: dict[tuple[int, ...], str] = {(): state.cwd}
        previous: Invocation | None = None
        for inv in invocations(run):
            feeding, previous = previous, inv
            process = inv.subshell
            known = next(process[:n] for n in range(len(process), -1, -1) if process[:n] in cwds)
            state.cwd = cwds.setdefault(process, cwds[known])
            if inv.name in ("cd", "pushd"):
                target = inv.argv[0] if inv.argv else "~"
                state.cwd = cwds[process] = (resolve(target or "~", state) or state.cwd).rstrip("/") or "/"
                continue
            if inv.name == "export" and not inv.in_subshell:
                for arg in inv.argv:
                    if arg and "=" in arg:
                        key, _, value = arg.partition("=")
                        state.env[key] = value
                continue
            found = effects_of(inv, state)
            if extracts(inv) and not any(e.category == "extracted" for e in found):
                self._unplaced_extraction(inv, feeding, layer)
            unknown = unmodelled(inv, has_handler(inv.name))
            if unknown is not None:
                layer.unmodelled.append(unknown)
                layer.added_unknown = True
                self.unmodelled_at = (ins, layer, unknown, inv)
                self.unmodelled_roots = unmodelled_writes(inv, state)
                self.removed_since_unmodelled = []
            if binds and _installs_into_cwd(inv) and any(
                    b and (state.cwd.rstrip("/") + "/").startswith(b.rstrip("/") + "/") for b in binds):
                found = [dataclasses.replace(e, detail=WARMED) if e.category in _PROJECT_INSTALL_CACHES
                         else e for e in found]
            if "$" in self.image or not self.image:
                found = [dataclasses.replace(e, detail=BASE_ENV_UNKNOWN) if e.category in ENV_CONFIGURED_CACHES
                         and e.kind is EffectKind.CREATE else e for e in found]
            for effect in found:
                self._size(effect, inv, feeding)
                if effect.kind is EffectKind.REMOVE and covers(effect.path, DOCKER_CLEAN):
                    self.docker_clean = state.docker_clean = False
                if self._mounted(effect.path, mounts):
                    continue
                layer.effects.append(effect)
                self.apply(effect, layer, ins)
                state.existing.add(effect.path)

    # -- sizes of downloads and of what extracting an archive adds -------------------------
    def _download_size(self, url: str) -> Sized:
        return self.downloads.size(url) if self.downloads is not None else Sized(None, OFF_HINT)

    def _size(self, effect: Effect, inv: Invocation, feeding: Invocation | None) -> None:
        """Fill in a download's size (``--fetch-sizes``) and an extraction's (from the
        archive's size: an earlier download, a context file, or the ``curl URL |`` feeding it)."""
        if effect.size is not None or effect.kind is not EffectKind.CREATE:
            return
        if effect.category == "download" and effect.url is not None:
            sized = self._download_size(effect.url)
            effect.size, effect.size_note = sized.size, sized.why
        elif effect.category == "extracted":
            effect.size, effect.size_note = self._extracted_size(effect.reads, inv, feeding)

    def _extracted_size(self, reads: str | None, inv: Invocation, feeding: Invocation | None
                        ) -> tuple[int | None, str]:
        archive_name, archive_bytes, why = self._archive(reads, inv, feeding)
        if archive_bytes is None:
            return None, why
        fmt = "zip" if inv.name == "unzip" else (tar_option_format(inv.argv) or format_of_name(archive_name))
        return expanded(fmt, archive_bytes)

    def _unplaced_extraction(self, inv: Invocation, feeding: Invocation | None, layer: Layer) -> None:
        """An extraction whose destination the simulator cannot name (``curl URL | tar -xz``
        into the current directory): its bytes still count, its paths are not tracked."""
        size, note = self._extracted_size(None, inv, feeding)
        if size is None:
            layer.added_unknown = True  # never a known 0 B
            layer.notes.append(f"`{inv.name}` extracts files of unknown size ({note})")
            return
        layer.added += size
        layer.notes.append(f"`{inv.name}` extracts {human(size)} ({note}) into a directory dockopt cannot name")

    def _archive(self, reads: str | None, inv: Invocation, feeding: Invocation | None
                 ) -> tuple[str | None, int | None, str]:
        """(name, bytes, why unknown) of the archive an extraction reads."""
        if reads is not None:
            entry = self.alive.get(reads)
            if entry is None:
                return reads, None, "the archive's size is not known"
            if entry.size is None:
                because = f"; {entry.effect.size_note}" if entry.effect.size_note else ""
                return reads, None, f"an archive of unknown size{because}"
            return reads, entry.size, ""
        if (feeding is not None and inv.pipe_from == feeding.name and feeding.statement == inv.statement
                and feeding.name in ("curl", "wget") and to_stdout(feeding)):
            url, why = download_url(feeding)
            if url is None:
                return None, None, f"a download of unknown size; {why}"
            sized = self._download_size(url)
            return url, sized.size, f"a download of unknown size; {sized.why}"
        return None, None, "the archive's size is not known"

    @staticmethod
    def _mounted(path: str, mounts: list[str]) -> bool:
        p = path.rstrip("/")
        return any(p == m.rstrip("/") or p.startswith(m.rstrip("/") + "/") for m in mounts)

    def _copy(self, ins: Instruction) -> list[Effect]:
        values = ins.values
        if ins.heredocs:
            dest = resolve(values[-1], self._state()) if values else None
            return [Effect(EffectKind.CREATE, dest or "/", "file", f"{ins.name} heredoc", ins.start, ins.end,
                           sum(len(h.content) for h in ins.heredocs))]
        if len(values) < 2:
            return []
        sources, dest_raw = values[:-1], values[-1]
        dest = resolve(dest_raw, self._state()) or dest_raw
        from_stage = ins.flag("from")
        effects = []
        for src in sources:
            size, is_tree = self._source_size(src, from_stage is not None)
            category, url, note = "file", None, ""
            if ins.name == "ADD" and "://" in src:
                category, is_tree = "download", False
                url = literal_url(src)
                sized = self._download_size(url) if url is not None else Sized(None, "the URL is not literal")
                size, note = sized.size, sized.why
            elif ins.name == "ADD" and src.endswith(ARCHIVE_SUFFIXES) and from_stage is None:
                category, is_tree = "extracted", True
                if size is not None:  # ADD unpacks a local archive: the layer holds its files
                    size, note = expanded(format_of_name(src), size)
            if len(sources) > 1 or dest_raw.endswith("/"):
                name = src.rstrip("/").rsplit("/", 1)[-1] if not is_tree else ""
                target = posixpath.join(dest.rstrip("/") or "/", name) if name else dest.rstrip("/") + "/"
            else:
                target = dest.rstrip("/") + "/" if is_tree else dest
            effects.append(Effect(EffectKind.CREATE, target, category, f"{ins.name} {src}", ins.start, ins.end,
                                  size, detail="from another stage" if from_stage else "", url=url,
                                  size_note=note))
        return effects

    def _source_size(self, src: str, other_stage: bool) -> tuple[int | None, bool]:
        """(bytes, is a directory tree) of a COPY source, from the build context when known."""
        looks_tree = src in (".", "./") or src.endswith("/") or any(ch in src for ch in "*?[")
        context = self.context
        if other_stage or context is None or not getattr(context, "known", False) or "://" in src:
            return None, looks_tree
        try:
            selection = context.select(src)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - a bad pattern is DO305's business, not the simulator's
            return None, looks_tree
        from dockopt.context.build_context import normalize

        is_tree = looks_tree or len(selection.paths) != 1 or (selection.paths and selection.paths[0] != normalize(src))
        return selection.size_bytes, bool(is_tree)


def simulate(build: Build, context: object = None, downloads: DownloadSizer | None = None) -> LayerPlan:
    """The layer plan of every stage (a stage built FROM another starts from its state).

    ``downloads`` (``--fetch-sizes``) sizes literal download URLs; without it nothing here
    touches the network and downloads are of unknown size."""
    simulators: list[_StageSimulator] = []
    plans: list[StagePlan] = []
    budget = downloads.for_file() if downloads is not None else None
    for stage in build.stages:
        parent = simulators[stage.base_stage.index] if stage.base_stage is not None else None
        simulator = _StageSimulator(build, stage, context, parent, budget)
        simulators.append(simulator)
        plans.append(simulator.run())
    return LayerPlan(plans)
