"""The layer plan: what each instruction does to the image filesystem, and what it costs.

An ``Effect`` is one thing a command does to a path (create, remove, rewrite), with an
estimated size. The simulator replays effects stage by stage and records, per layer, the
bytes it adds and the bytes a later layer removes or shadows (``Waste``): those bytes are
still in the image, because a layer can only hide what an earlier layer wrote.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from dockopt.model import Stage
from dockopt.syntax import Instruction


class EffectKind(enum.Enum):
    CREATE = "create"
    REMOVE = "remove"
    REWRITE = "rewrite"  # chmod/chown/sed -i/touch/append: the whole file is copied up


# Categories the rules care about; the simulator treats them all alike.
CACHE_CATEGORIES = frozenset(
    {
        "apt-lists", "apt-archives", "apk-cache", "yum-cache", "dnf-cache", "zypper-cache",
        "pip-cache", "npm-cache", "yarn-cache", "pnpm-store", "gem-cache", "composer-cache",
        "go-build-cache", "go-mod-cache", "cargo-registry", "maven-repo", "gradle-cache",
        "uv-cache", "poetry-cache", "pipenv-cache", "bundler-cache",
    }
)


# Installed packages are modelled as paths under this root (see packages.py), so that a
# later ``apt-get purge`` is a removal like any other. Never shown to users: ``shown_path``.
PKG_ROOT = "/.dockopt/pkg"


def shown_path(path: str) -> str:
    """A path as users read it: ``package curl`` for the simulator's package pseudo-paths."""
    if path.startswith(PKG_ROOT + "/"):
        parts = [p for p in path[len(PKG_ROOT) + 1 :].split("/") if p]
        return f"package {parts[-1]}" if len(parts) >= 2 else "packages"
    return path


# Effect.category of files a later removal names but no modelled command made: an earlier
# RUN ran a command the simulator does not model, and may have made them (size unknown).
UNKNOWN_ORIGIN = "unknown-origin"


# Effect.detail of a package that ``--reinstall`` unpacks again; installing an installed
# package is otherwise a no-op ("already the newest version"), which the simulator models.
REINSTALLED = "reinstalled"
# A cache filled by a project install run inside a bind mount: the installed tree (node_modules,
# vendor/) lands in the mount and is discarded, so the cache is all the RUN keeps — deliberate
# cache warming (discourse_dev's "Warm global yarn cache"), not a cache left behind (DO102).
WARMED = "warmed"
# A pip/uv cache on a base image dockopt cannot name (``FROM ${SENTRY_IMAGE}`` without a default):
# that image's ENV may turn the cache off (getsentry's sets PIP_NO_CACHE_DIR=1), so whether the
# cache exists is not known (DO102 does not report it).
BASE_ENV_UNKNOWN = "base-env-unknown"
ENV_CONFIGURED_CACHES = frozenset({"pip-cache", "uv-cache"})


@dataclass(slots=True)
class Effect:
    kind: EffectKind
    path: str  # absolute; may contain globs (REMOVE) or end in "/" for a directory tree
    category: str  # "apt-lists", "download", "extracted", "build-dir", "file", "package", ...
    command: str  # the command that causes it, for messages ("apt-get update")
    start: int  # source span of that command
    end: int
    size: int | None = None  # estimated bytes; None when unknown
    detail: str = ""
    reads: str | None = None  # a path the command consumes (the archive tar/unzip extracts)
    url: str | None = None  # what a download fetches (a literal http(s) URL), for --fetch-sizes
    # How ``size`` was estimated where that is worth saying ("HTTP Content-Length", "4.1x the
    # .tar.gz archive"), or why it is unknown ("HTTP 404", "--fetch-sizes asks the server").
    size_note: str = ""

    @property
    def is_tree(self) -> bool:
        return self.path.endswith("/")


@dataclass(slots=True)
class Waste:
    """Bytes created by one layer and removed or shadowed by a later one (still shipped)."""

    created: Effect
    created_by: Instruction
    removed: Effect
    removed_by: Instruction
    size: int | None


@dataclass(slots=True)
class Layer:
    instruction: Instruction
    creates_layer: bool
    effects: list[Effect] = field(default_factory=list)
    added: int = 0  # estimated bytes this layer stores
    added_unknown: bool = False  # some of it could not be estimated
    wasted: int = 0  # bytes of this layer that later layers removed or shadowed
    notes: list[str] = field(default_factory=list)
    rebuilt_when: list[str] = field(default_factory=list)
    analysed: bool = True  # False for scripts dockopt cannot read (non-POSIX shells, parse errors)
    # Commands this RUN runs whose effects the simulator does not model (``make``, ``./install.sh``,
    # ``python3 -m venv``, ``curl ... | sh``): the layer's size is then partly unknown, and a
    # later removal of a cache or build-output path may be removing what they made.
    unmodelled: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StagePlan:
    stage: Stage
    family: str  # base image family: debian, ubuntu, alpine, rhel, distroless, scratch, windows, unknown
    layers: list[Layer] = field(default_factory=list)
    waste: list[Waste] = field(default_factory=list)
    left: list[tuple[Effect, Instruction]] = field(default_factory=list)  # alive at the end of the stage
    # Every path alive at the end of the stage, inherited from a FROM stage or not, with the
    # effect that last wrote it: the simulated final filesystem (``left`` is only this stage's part).
    alive: dict[str, Effect] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(layer.added for layer in self.layers)

    @property
    def wasted(self) -> int:
        return sum(layer.wasted for layer in self.layers)


@dataclass(slots=True)
class LayerPlan:
    stages: list[StagePlan]

    def layer_of(self, instruction: Instruction) -> Layer | None:
        for stage in self.stages:
            for layer in stage.layers:
                if layer.instruction is instruction:
                    return layer
        return None

    def stage_plan(self, stage: Stage) -> StagePlan:
        return self.stages[stage.index]
