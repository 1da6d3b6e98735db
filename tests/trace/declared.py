"""The declared cache cleanups: the only commands and flags a safe fix may add (or drop).

Issue 14's definition of a safe fix: the build behaves the same "except package-manager
caches that the fix names and that nothing later reads". The harness compares command traces
with these invocations removed and these flags dropped from every argv, and their stubs never
fail (no scenario makes them fail). Whether something later *reads* what they delete is not
declared away: the world model (``world.py``) makes the one cache that later steps read in
practice, the apt package lists, real — ``rm`` under /var/lib/apt/lists deletes, and a later
``apt-get install`` without lists fails with 100 — so a cleanup before a reader shows up as a
changed outcome.

Keep this list small and exact: everything here is a difference the harness stops seeing.
"""
from __future__ import annotations

import posixpath
import re

# Directories whose removal is a cache cleanup (``rm -rf DIR/*`` or ``rm -rf DIR``).
CACHE_DIRS = (
    "/var/lib/apt/lists",
    "/var/cache/apt",
    "/var/cache/apk",
    "/var/cache/yum",
    "/var/cache/dnf",
    "/root/.cache/pip",
    "/root/.npm/_cacache",
    "/usr/local/share/.cache/yarn",
    "/root/.cache/go-build",
    "/root/.composer/cache",
)

# Whole invocations (after the command's basename) that only clean a package manager's cache.
CACHE_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("apt-get", "clean"),
    ("apt", "clean"),
    ("yum", "clean", "all"),
    ("dnf", "clean", "all"),
    ("microdnf", "clean", "all"),
    ("tdnf", "clean", "all"),
    ("zypper", "clean", "--all"),
    ("npm", "cache", "clean", "--force"),
    ("yarn", "cache", "clean"),
    ("pnpm", "store", "prune"),
    ("uv", "cache", "clean"),
    ("go", "clean", "-cache"),
    ("go", "clean", "-modcache"),
    ("composer", "clear-cache"),
    ("pip", "cache", "purge"),
    ("pip3", "cache", "purge"),
)

# Flags that only stop a cache from being written: (command basename, flag). A trailing "*"
# in the name is a prefix match (pip3.12, python3.11). The stub reads the same table.
CACHE_FLAGS: tuple[tuple[str, str], ...] = (
    ("pip*", "--no-cache-dir"),
    ("python*", "--no-cache-dir"),
    ("apk", "--no-cache"),
)

# ``sudo`` runs the command after its options as root, which a build already is: a declared
# cleanup or flag behind ``sudo`` with only these options is the same cleanup or flag (the
# stub sees through exactly these, ``wrapped`` in stub.c; its world-model effects too).
SUDO_PLAIN_OPTIONS = ("-H", "-E", "-n", "--set-home", "--preserve-env", "--non-interactive")
SUDO_VALUED_OPTIONS = ("-u", "--user")

_RM_OPTION = re.compile(r"-[rRfv]+|--recursive|--force|--verbose|--")


def _named(pattern: str, name: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def sudo_command(path: str, args: tuple[str, ...]) -> int | None:
    """The index in ``args`` of the command a ``sudo`` runs, or None (not sudo, an option
    outside ``SUDO_*_OPTIONS``, or no command)."""
    if posixpath.basename(path) != "sudo":
        return None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg in SUDO_PLAIN_OPTIONS or arg.startswith("--user=") or (arg.startswith("-u") and len(arg) > 2):
            i += 1
        elif arg in SUDO_VALUED_OPTIONS:
            i += 2
        else:
            return None
    return i if i < len(args) else None


def _flags_dropped(name: str, args: tuple[str, ...]) -> tuple[str, ...]:
    flags = {flag for pattern, flag in CACHE_FLAGS if _named(pattern, name)}
    return tuple(a for a in args if a not in flags) if flags else args


def without_cache_flags(path: str, args: tuple[str, ...]) -> tuple[str, ...]:
    """``args`` without the declared cache flags of this command (or of the command ``sudo`` runs)."""
    inner = sudo_command(path, args)
    if inner is not None:
        return args[: inner + 1] + _flags_dropped(posixpath.basename(args[inner]), args[inner + 1:])
    return _flags_dropped(posixpath.basename(path), args)


def _under_cache_dir(path: str) -> bool:
    path = posixpath.normpath(path)
    return any(path == d or path.startswith(d + "/") for d in CACHE_DIRS) and ".." not in path.split("/")


def is_cache_command(path: str, args: tuple[str, ...], cwd: str) -> bool:
    """Whether this invocation is a declared cache cleanup (see the module docstring), also
    behind ``sudo`` with the options above."""
    inner = sudo_command(path, args)
    if inner is not None:
        return is_cache_command(args[inner], args[inner + 1:], cwd)
    name = posixpath.basename(path)
    if (name, *args) in CACHE_COMMANDS:
        return True
    if name != "rm":
        return False
    operands = [a for a in args if not _RM_OPTION.fullmatch(a)]
    return bool(operands) and all(_under_cache_dir(posixpath.join(cwd, a)) for a in operands)


def stub_table() -> str:
    """The cache flags as the stub reads them (``name<TAB>flag`` lines)."""
    return "".join(f"{name}\t{flag}\n" for name, flag in CACHE_FLAGS)
