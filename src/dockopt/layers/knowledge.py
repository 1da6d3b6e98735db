"""The command knowledge base: what a command invocation does to the filesystem.

Table-driven: ``HANDLERS`` maps a command name to a function ``(invocation, state) ->
effects``. File utilities live here; package managers and toolchains in ``packages.py``.
To teach dockopt a command, add a handler and a test in tests/test_layers.py.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from dockopt.layers.invocations import Invocation
from dockopt.layers.plan import Effect, EffectKind

IGNORED_TARGETS = ("/dev/", "/proc/", "/sys/")


@dataclass(slots=True)
class ShellState:
    """What the simulator knows while replaying one RUN."""

    cwd: str
    home: str
    env: dict[str, str]
    family: str
    cache_mounts: tuple[str, ...] = ()
    existing: set[str] = field(default_factory=set)  # paths earlier layers created (for REWRITE)
    apk_virtual: dict[str, list[str]] = field(default_factory=dict)
    docker_clean: bool = True  # apt deletes downloaded .debs after installs (see base_images)
    image: str = ""  # the stage's base image reference (through FROM stages), for tool versions


Handler = Callable[[Invocation, ShellState], list[Effect]]


def resolve(path: str | None, state: ShellState) -> str | None:
    """Absolute, normalised path; ``~`` and ``$HOME`` expanded; None when unknown."""
    if path is None or path == "":
        return None
    if path.startswith("~/") or path == "~":
        path = state.home + path[1:]
    elif path.startswith("$HOME"):
        path = state.home + path[5:]
    if "$" in path:
        return None
    trailing = path.endswith("/") or path.endswith("/*") or path.endswith("/.")
    absolute = path if path.startswith("/") else posixpath.join(state.cwd, path)
    normal = posixpath.normpath(absolute)
    if normal.startswith("//"):
        normal = normal[1:]
    return normal + "/" if trailing and not normal.endswith(("/", "*")) and not path.endswith("/*") else normal


def effect(kind: EffectKind, path: str | None, inv: Invocation, category: str, size: int | None = None,
           detail: str = "") -> list[Effect]:
    if path is None or path.startswith(IGNORED_TARGETS):
        return []
    return [Effect(kind, path, category, _short(inv), inv.start, inv.end, size, detail)]


def _short(inv: Invocation) -> str:
    words = [inv.name] + [a for a in inv.argv[:2] if a is not None and not a.startswith("-")]
    return " ".join(words)


def _paths(inv: Invocation, state: ShellState) -> list[str | None]:
    out = []
    end_of_options = False
    for arg in inv.argv:
        if arg == "--":
            end_of_options = True
            continue
        if arg is not None and arg.startswith("-") and not end_of_options:
            continue
        out.append(resolve(arg, state))
    return out


def _rm(inv: Invocation, state: ShellState) -> list[Effect]:
    effects: list[Effect] = []
    for path in _paths(inv, state):
        effects += effect(EffectKind.REMOVE, path, inv, "file")
    return effects


def _mkdir(inv: Invocation, state: ShellState) -> list[Effect]:
    effects: list[Effect] = []
    for path in _paths(inv, state):
        if path is not None:
            effects += effect(EffectKind.CREATE, path.rstrip("/") + "/", inv, "dir", 0)
    return effects


def _touch(inv: Invocation, state: ShellState) -> list[Effect]:
    effects: list[Effect] = []
    for path in _paths(inv, state):
        kind = EffectKind.REWRITE if path in state.existing else EffectKind.CREATE
        effects += effect(kind, path, inv, "file", 0)
    return effects


def _rewrite_paths(skip_first: int) -> Handler:
    """chmod MODE paths / chown OWNER paths / sed -i EXPR files: every path is copied up."""

    def handler(inv: Invocation, state: ShellState) -> list[Effect]:
        positionals = [a for a in inv.argv if a is None or not a.startswith("-")]
        recursive = inv.has("-R", "-r", "--recursive")
        effects: list[Effect] = []
        for raw in positionals[skip_first:]:
            path = resolve(raw, state)
            if path is not None and recursive and not path.endswith("/"):
                path += "/"
            effects += effect(EffectKind.REWRITE, path, inv, "file")
        return effects

    return handler


def _sed(inv: Invocation, state: ShellState) -> list[Effect]:
    if not any(a is not None and (a == "-i" or a.startswith("-i") or a == "--in-place") for a in inv.argv):
        return []
    positionals = [a for a in inv.argv if a is None or not a.startswith("-")]
    has_script_option = inv.has("-e", "--expression", "-f")
    files = positionals if has_script_option else positionals[1:]
    effects: list[Effect] = []
    for raw in files:
        effects += effect(EffectKind.REWRITE, resolve(raw, state), inv, "file")
    return effects


def _cp(inv: Invocation, state: ShellState) -> list[Effect]:
    paths = _paths(inv, state)
    if len(paths) < 2:
        return []
    dest = paths[-1]
    if dest is not None and len(paths) > 2:
        dest = dest.rstrip("/") + "/"
    return effect(EffectKind.CREATE, dest, inv, "file")


def _mv(inv: Invocation, state: ShellState) -> list[Effect]:
    paths = _paths(inv, state)
    if len(paths) < 2:
        return []
    effects: list[Effect] = []
    for src in paths[:-1]:
        effects += effect(EffectKind.REMOVE, src, inv, "file", detail="moved")
    effects += effect(EffectKind.CREATE, paths[-1], inv, "file", detail="moved here")
    return effects


def _ln(inv: Invocation, state: ShellState) -> list[Effect]:
    paths = _paths(inv, state)
    return effect(EffectKind.CREATE, paths[-1], inv, "link", 0) if len(paths) >= 2 else []


def _tee(inv: Invocation, state: ShellState) -> list[Effect]:
    append = inv.has("-a", "--append")
    effects: list[Effect] = []
    for path in _paths(inv, state):
        kind = EffectKind.REWRITE if append and path in state.existing else EffectKind.CREATE
        effects += effect(kind, path, inv, "file")
    return effects


def _url_name(inv: Invocation) -> str | None:
    urls = [a for a in inv.positionals if a is not None and "://" in a]
    return urls[-1].rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] if urls else None


def download_url(inv: Invocation) -> tuple[str | None, str]:
    """(the URL a curl/wget fetches, "") when it is one literal http(s) URL, else (None, why)."""
    from dockopt.layers.downloads import UNRESOLVED, literal_url

    urls = [a for a in inv.positionals if a is not None and "://" in a]
    if len(urls) > 1:
        return None, "several URLs in one command"
    url = literal_url(urls[0]) if urls else None
    if url is not None:
        return url, ""
    if urls and not urls[0].lower().startswith(("http://", "https://")):
        return None, "not an http(s) URL"
    return None, UNRESOLVED


def _download(inv: Invocation, output: str | None, state: ShellState) -> list[Effect]:
    found = effect(EffectKind.CREATE, resolve(output, state), inv, "download")
    for e in found:
        e.url, e.size_note = download_url(inv)
    return found


def to_stdout(inv: Invocation) -> bool:
    """Whether a curl/wget writes what it fetches to standard output (``curl URL | tar -x``)."""
    if inv.name == "curl":
        output = inv.option("-o", "--output")
        remote = inv.has("--remote-name", "--remote-name-all") or inv.option("-O") is not None or inv.has("-O")
        return output == "-" or (output is None and not remote)
    if inv.name == "wget":
        return inv.option("-O", "--output-document") == "-"
    return False


def _curl(inv: Invocation, state: ShellState) -> list[Effect]:
    output = inv.option("-o", "--output")
    if output is None and (inv.has("--remote-name") or inv.option("-O") is not None or inv.has("-O")):
        output = _url_name(inv)
    if output is None or output == "-":
        return []  # to stdout: whatever it pipes into decides
    return _download(inv, output, state)


def _wget(inv: Invocation, state: ShellState) -> list[Effect]:
    output = inv.option("-O", "--output-document")
    if output is None:
        output = _url_name(inv)
        directory = inv.option("-P", "--directory-prefix")
        if output and directory:
            output = posixpath.join(directory, output)
    if output is None or output == "-":
        return []
    return _download(inv, output, state)


_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst", ".tgz", ".txz", ".tbz2", ".tar", ".zip")


def _extracted_to(inv: Invocation, state: ShellState, directory: str | None, archive: str | None) -> list[Effect]:
    """What an extraction creates: the named directory, or (without one) the archive's usual
    top-level directory under the current directory — tarballs conventionally unpack into
    ``name-version/``. Nothing when neither is known: the current directory as a whole would
    make every later removal under it look like a cleanup of these files."""
    if directory is not None:
        target = resolve(directory, state)
    elif archive is not None and archive != "-":
        stem = archive.rstrip("/").rsplit("/", 1)[-1]
        for suffix in _ARCHIVE_SUFFIXES:
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        target = resolve(stem, state) if stem else None
    else:
        target = None
    found = effect(EffectKind.CREATE, target.rstrip("/") + "/" if target else None, inv, "extracted",
                   detail=f"extracted from {archive or 'stdin'}")
    for e in found:
        e.reads = resolve(archive, state) if archive and archive != "-" else None
    return found


def extracts(inv: Invocation) -> bool:
    """Whether the command unpacks an archive (``tar -x``, ``tar xzf``, ``unzip``)."""
    if inv.name == "unzip":
        return True
    if inv.name != "tar":
        return False
    argv = [a for a in inv.argv if a is not None]
    cluster = argv[0] if argv and not argv[0].startswith("-") else ""
    return "x" in cluster or any(a in ("-x", "--extract", "--get") or (
        a.startswith("-") and not a.startswith("--") and "x" in a) for a in argv)


def _tar(inv: Invocation, state: ShellState) -> list[Effect]:
    argv = [a for a in inv.argv if a is not None]
    cluster = argv[0] if argv and not argv[0].startswith("-") else ""
    extracting = extracts(inv)
    archive = inv.option("-f", "--file")
    if archive is None and cluster and "f" in cluster:
        rest = [a for a in argv[1:] if not a.startswith("-")]
        archive = rest[0] if rest else None
    if not extracting:
        return effect(EffectKind.CREATE, resolve(archive, state), inv, "file") if archive else []
    return _extracted_to(inv, state, inv.option("-C", "--directory"), archive)


def _unzip(inv: Invocation, state: ShellState) -> list[Effect]:
    archives = [a for a in inv.positionals if a is not None]
    return _extracted_to(inv, state, inv.option("-d"), archives[0] if archives else None)


# git options that take a separate value (``--depth 1``): the value is not the URL.
_GIT_VALUE_OPTIONS = frozenset({"--depth", "-b", "--branch", "-o", "--origin", "--reference", "--shallow-since",
                                "--shallow-exclude", "--separate-git-dir", "-c", "--config", "--filter", "-j",
                                "--jobs", "--template", "-u", "--upload-pack", "--reference-if-able"})


def _git(inv: Invocation, state: ShellState) -> list[Effect]:
    argv = inv.argv
    positionals = [a for i, a in enumerate(argv) if (a is None or not a.startswith("-"))
                   and not (i > 0 and argv[i - 1] in _GIT_VALUE_OPTIONS)]
    if not positionals or positionals[0] != "clone" or len(positionals) < 2:
        return []
    url = positionals[1]
    target = positionals[2] if len(positionals) > 2 else (
        url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") if url else None)
    path = resolve(target, state)
    return effect(EffectKind.CREATE, path.rstrip("/") + "/" if path else None, inv, "source",
                  detail="git clone (with .git history)")


def _build_tool(inv: Invocation, state: ShellState) -> list[Effect]:
    directory = inv.option("-C", "--directory", "-B", "--build") or state.cwd
    path = resolve(directory, state)
    return effect(EffectKind.CREATE, path.rstrip("/") + "/" if path else None, inv, "build-dir",
                  detail=f"{inv.name} build output")


def _user_db(inv: Invocation, state: ShellState) -> list[Effect]:
    effects: list[Effect] = []
    for path in ("/etc/passwd", "/etc/group", "/etc/shadow"):
        effects += effect(EffectKind.REWRITE, path, inv, "user-db", 4096)
    return effects


FILE_HANDLERS: dict[str, Handler] = {
    "rm": _rm,
    "rmdir": _rm,
    "mkdir": _mkdir,
    "touch": _touch,
    "chmod": _rewrite_paths(1),
    "chown": _rewrite_paths(1),
    "chgrp": _rewrite_paths(1),
    "sed": _sed,
    "cp": _cp,
    "install": _cp,
    "mv": _mv,
    "ln": _ln,
    "tee": _tee,
    "curl": _curl,
    "wget": _wget,
    "tar": _tar,
    "unzip": _unzip,
    "git": _git,
    "make": _build_tool,
    "cmake": _build_tool,
    "ninja": _build_tool,
    "configure": _build_tool,
    "./configure": _build_tool,
    "meson": _build_tool,
    "useradd": _user_db,
    "adduser": _user_db,
    "groupadd": _user_db,
    "addgroup": _user_db,
    "usermod": _user_db,
}


def redirect_effects(inv: Invocation, state: ShellState) -> list[Effect]:
    """``> file`` creates (or truncates) a file; ``>> file`` appends (a copy-up if it existed)."""
    effects: list[Effect] = []
    for op, target in inv.redirects:
        if ">" not in op or op.endswith("&") or (target is not None and target.isdigit()):
            continue
        path = resolve(target, state)
        kind = EffectKind.REWRITE if op.endswith(">>") and path in state.existing else EffectKind.CREATE
        effects += effect(kind, path, inv, "file", detail=f"written by redirect {op}")
    return effects


def has_handler(name: str) -> bool:
    from dockopt.layers.packages import PACKAGE_HANDLERS

    return name in FILE_HANDLERS or name in PACKAGE_HANDLERS


def effects_of(inv: Invocation, state: ShellState) -> list[Effect]:
    from dockopt.layers.packages import PACKAGE_HANDLERS

    handler = FILE_HANDLERS.get(inv.name) or PACKAGE_HANDLERS.get(inv.name)
    found = handler(inv, state) if handler is not None else []
    return found + redirect_effects(inv, state)
