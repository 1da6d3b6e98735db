"""Toolchain facts a fix depends on: which Go a stage has, whether a tool is still installed.

Go's caches and the commands that clean them appeared over time: the build cache and
``go clean -cache`` in Go 1.10, the module cache and ``go clean -modcache`` in Go 1.11. An
older ``go clean`` rejects the flag ("flag provided but not defined") and fails the build.
The version is read from the ``golang`` image tag of the stage's FROM chain; a Go from
anywhere else (a distribution package, a tarball) has an unknown version.
"""
from __future__ import annotations

import re

from dockopt.layers.invocations import Invocation
from dockopt.model import Stage

# Tags that name no version: the image's current Go, well past 1.11.
_CURRENT_TAGS = frozenset({"", "latest", "alpine", "bookworm", "bullseye", "buster", "stretch", "trixie",
                           "windowsservercore", "nanoserver"})
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")
GO_CLEAN_CACHE = (1, 10)
GO_CLEAN_MODCACHE = (1, 11)


def go_version(stage: Stage) -> tuple[int, int] | None:
    """(major, minor) of the Go of the ``golang`` image the stage is built FROM, or None."""
    seen: set[int] = set()
    current: Stage | None = stage
    while current is not None and current.index not in seen:
        seen.add(current.index)
        if current.base_stage is None:
            return _image_go_version(current.base_resolved or current.base)
        current = current.base_stage
    return None


def _image_go_version(image: str) -> tuple[int, int] | None:
    ref = image.split("@", 1)[0]
    name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "")
    if name.rsplit("/", 1)[-1] != "golang" or "$" in ref:
        return None
    tag = tag.lower()
    if tag in _CURRENT_TAGS or tag.split("-", 1)[0] in _CURRENT_TAGS:
        return (1, 99)
    m = _VERSION.match(tag)
    if m is None:
        return None
    major, minor = int(m.group(1)), int(m.group(2) or 99)
    return (major, minor)


# Commands after which a tool may be gone: package removals and rm.
_REMOVALS = {
    "apk": ("del",), "apt-get": ("remove", "purge", "autoremove"), "apt": ("remove", "purge", "autoremove"),
    "dpkg": ("-r", "-P", "--remove", "--purge"), "yum": ("remove", "erase", "autoremove"),
    "dnf": ("remove", "erase", "autoremove"), "microdnf": ("remove",), "zypper": ("rm", "remove"),
    "pip": ("uninstall",), "pip3": ("uninstall",), "npm": ("uninstall", "rm", "remove", "un", "r"),
    "yarn": ("remove",), "gem": ("uninstall",), "conda": ("remove", "uninstall"),
}


def may_remove_tool(inv: Invocation, tool: str) -> bool:
    """Whether this command may uninstall ``tool`` (conservative: any package removal, and any
    ``rm`` of a path naming the tool or of paths we cannot read)."""
    subcommands = _REMOVALS.get(inv.name)
    if subcommands is not None:
        return any(a in subcommands for a in inv.argv if a is not None)
    if inv.name in ("rm", "unlink"):
        return any(a is None or re.search(rf"(^|[/_.-]){re.escape(tool)}([/_.-]|$)", a) for a in inv.argv)
    return False
