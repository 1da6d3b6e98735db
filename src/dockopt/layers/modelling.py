"""Which commands the simulator models, and which paths are caches or build output.

A command the knowledge base has no handler for may write anything: the layer's size is
then unknown (``dockopt layers`` shows ``?``, never a known 0 B), and a later RUN that
removes a cache or build-output path (``~/.cache``, ``/tmp/...``, an archive,
``node_modules``, ``.git``, a build directory) may be removing what it made: DO101 says
that cleanup frees nothing, of unknown size.
"""
from __future__ import annotations

import posixpath

from typing import TYPE_CHECKING

from dockopt.layers.invocations import Invocation

if TYPE_CHECKING:
    from dockopt.layers.knowledge import ShellState

# Commands with no lasting effect on the filesystem beyond their redirects (which the
# simulator models), or a negligible one (a keyring entry, the ld cache).
INERT = frozenset({
    "echo", "printf", "true", "false", ":", "test", "[", "[[", "set", "export", "unset", "cd", "pushd",
    "popd", "exit", "return", "sleep", "ls", "cat", "grep", "egrep", "fgrep", "which", "command", "type",
    "id", "whoami", "date", "uname", "pwd", "head", "tail", "wc", "sort", "uniq", "cut", "tr", "awk",
    "basename", "dirname", "readlink", "realpath", "stat", "du", "df", "env", "printenv", "sha256sum",
    "sha512sum", "sha1sum", "md5sum", "gpg", "gpgv", "apt-key", "ldconfig", "update-ca-certificates",
    "update-alternatives", "dpkg-reconfigure", "locale", "hash", "source", ".", "trap", "umask", "shift",
    "read", "local", "declare", "typeset", "readonly", "wait", "seq", "expr", "let", "ulimit", "getent",
    "nproc", "tee", "ps", "kill", "file", "ldd", "strip", "dpkg-architecture", "lsb_release", "cmp",
    "diff", "jq", "yq", "tput", "dpkg-query", "sync", "usermod",
    "useradd", "groupadd", "adduser", "addgroup", "chsh", "passwd", "chpasswd", "rm", "rmdir",
    "mkdir", "touch", "chmod", "chown", "chgrp", "ln", "sed", "mv", "cp", "install",
})
# Commands with a handler that models part of what they do, but that run arbitrary build
# steps: whatever they write besides the modelled part is unknown.
ARBITRARY = frozenset({"make", "cmake", "ninja", "meson", "configure", "./configure", "bazel", "scons"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_QUERY_ONLY = frozenset({"--version", "-version", "-v", "-V", "version", "--help", "-h", "help"})


def unmodelled(inv: Invocation, has_handler: bool) -> str | None:
    """The command as a message names it, when the simulator does not model what it writes."""
    name = inv.name
    if name in INERT or name.startswith("-"):
        return None
    if inv.argv and all(a in _QUERY_ONLY for a in inv.argv):
        return None  # `aws --version`: a check, not a build step
    if name in SHELLS:
        # `sh -c '...'` is unwrapped before this point; `sh script.sh` or `curl ... | sh` runs
        # a script dockopt cannot see.
        return f"{name} {inv.argv[0]}" if inv.argv and inv.argv[0] else f"{name} (a piped script)"
    if name in ("python", "python3", "python2") and inv.argv[:2] not in (["-m", "pip"], ["-m", "pip3"], ["-m", "venv"]):
        return " ".join([name, *(a for a in inv.argv[:2] if a)])
    if name in ("npm", "yarn", "pnpm") and inv.subcommand in ("run", "run-script", "exec", "start", "test", "build"):
        return f"{name} {inv.subcommand}"  # a package.json script: anything
    if name in ARBITRARY or not has_handler:
        return inv.text.split("\n", 1)[0][:60] if inv.text else name
    return None


# Where build tools keep their caches in the user's home, whatever directory they run in.
_HOME_CACHES = (".cache", ".npm", ".m2", ".gradle", ".cargo", ".yarn", ".composer", ".ivy2", ".sbt")


def unmodelled_writes(inv: Invocation, state: ShellState) -> tuple[str, ...]:
    """Where an unmodelled command may leave files, by what the script shows: the directory it
    runs in (unless ``/``), every path it names (``make -C /src``, ``--prefix=/opt/x``,
    ``cmake --install build``), and the user's tool caches. A later removal elsewhere (a
    defensive ``rm -rf /tmp/* /var/tmp/*``) is no evidence that it left anything there."""
    from dockopt.layers.knowledge import resolve

    roots: list[str] = [posixpath.join(state.home, cache) for cache in _HOME_CACHES]
    # The directory it runs in, unless that is / or the temp directory itself: `cd /tmp &&
    # python3 get-pip.py` leaves nothing in /tmp, and every `rm -rf /tmp/*` would match it.
    if state.cwd.rstrip("/") not in ("", "/tmp", "/var/tmp"):
        roots.append(state.cwd.rstrip("/"))
    words = [inv.name] if "/" in inv.name else []
    # The paths a build step names (``make -C /src``, ``sh build.sh out/``) are where it works; an
    # unknown single command's arguments (``fix-permissions /home/user``) say nothing of what it
    # writes: its directory and the tool caches only.
    builds = inv.name in ARBITRARY or inv.name in SHELLS or inv.name.startswith(("python", "./")) or (
        inv.name in ("npm", "yarn", "pnpm") and inv.subcommand in ("run", "run-script", "exec", "build"))
    for arg in inv.argv if builds else ():
        if arg is None:
            continue
        value = arg.split("=", 1)[1] if "=" in arg else arg
        if value.startswith("-") or not value or value in (".", "/"):
            if value == ".":
                words.append(value)
            continue
        if "/" in value or value.startswith("~"):
            words.append(value)
    for word in words:
        path = resolve(word, state)
        if path and path.rstrip("/"):
            roots.append(path.rstrip("/"))
    return tuple(dict.fromkeys(roots))


_BUILD_DIRS = frozenset({"build", "dist", "target", "out", "_build", "node_modules", ".git", ".cache", ".npm",
                         ".m2", ".gradle", ".cargo", "__pycache__", ".pytest_cache", ".tox", ".venv-build"})
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst", ".zip", ".deb",
             ".rpm", ".whl", ".jar", ".gz", ".xz", ".bz2")


def build_output(path: str) -> bool:
    """Whether a removed path is a cache or build-output location (what unmodelled steps leave)."""
    p = path.rstrip("/")
    if p.endswith("/*"):
        p = p[:-2]
    if not p:
        return False
    if p.startswith(("/tmp/", "/var/tmp/")) or p in ("/tmp", "/var/tmp"):
        return True
    parts = [part for part in p.split("/") if part]
    if any(part in _BUILD_DIRS for part in parts):
        return True
    return posixpath.basename(p).endswith(_ARCHIVES)
