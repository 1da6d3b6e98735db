"""Later consumers: who still needs what a fix would delete (caches, apt lists, toolchains).

A fix that removes a package-manager cache (DO102's ``rm -rf /var/lib/apt/lists/*``,
``apk add --no-cache``, ...) or moves a cleanup earlier (DO101) is only safe when nothing
that runs later needs those files: later in the same stage, in any stage built FROM it
(directly or through other stages), or in a ``COPY --from``/``RUN --mount=from=`` of such a
stage. ``cache_readers`` lists those consumers for one category of files:

- **certain** readers fail or change without the files: ``apt-get install`` with no
  ``apt-get update`` before it in its RUN needs the lists ("Unable to locate package");
  ``apk add`` without ``--no-cache``/``--update`` needs the index; offline modes
  (``--offline``, ``GOPROXY=off``, ``--no-download``, ``dnf -C`` ...) need their cache;
  any command that names the cache's path (other than removing it); a COPY/mount of it.
- **possible** readers are commands dockopt cannot see into (a script, ``make``, an
  interpreter, an unparsable or non-POSIX RUN, a heredoc it cannot read): they might run
  ``apt-get install`` without an update. Only for the caches that a later install cannot
  do without (apt lists, the apk index); for the others a later install falls back to the
  network and the build does the same (see the README's "Fix safety").

A cache that a later command merely *reuses* when present (pip's, npm's, Go's build cache,
downloaded .deb files) is not "read" in this sense: without it the same packages are
downloaded again and the build's result is the same.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.layers.invocations import Invocation, invocations
from dockopt.model import Build, Run, Stage
from dockopt.shell.options import errexit_from_start
from dockopt.syntax import Instruction

# Where each cache category lives (as the simulator names them), for mentions and COPY --from.
CACHE_PATHS: dict[str, tuple[str, ...]] = {
    "apt-lists": ("/var/lib/apt/lists",),
    "apt-archives": ("/var/cache/apt",),
    "apk-cache": ("/var/cache/apk", "/etc/apk/cache"),
    "yum-cache": ("/var/cache/yum",),
    "dnf-cache": ("/var/cache/dnf",),
    "zypper-cache": ("/var/cache/zypp",),
    "pip-cache": (".cache/pip",),
    "uv-cache": (".cache/uv",),
    "npm-cache": ("/.npm",),
    "yarn-cache": (".cache/yarn", "/usr/local/share/.cache/yarn"),
    "pnpm-store": ("pnpm/store", ".pnpm-store"),
    "go-build-cache": (".cache/go-build",),
    "go-mod-cache": ("/pkg/mod",),
    "composer-cache": (".composer/cache", ".cache/composer"),
    "gem-cache": ("/bundle/cache", "/.gem/"),
    "cargo-registry": (".cargo/registry",),
    "maven-repo": (".m2/repository",),
    "gradle-cache": (".gradle/caches",),
}
# Caches a later install cannot do without: unknown commands might be such installs.
_NEEDED_BY_INSTALLS = frozenset({"apt-lists", "apk-cache"})

APT = frozenset({"apt-get", "apt", "aptitude"})
_APT_NEEDS_LISTS = frozenset({
    "install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "source", "download",
    "reinstall", "satisfy", "show", "search", "policy", "list", "changelog", "madison", "showsrc",
    "depends", "rdepends",
})
_APK_NEEDS_INDEX = frozenset({"add", "upgrade", "fix", "search", "fetch", "policy", "list", "dot"})
_APK_OWN_INDEX = ("--no-cache", "-U", "--update", "--update-cache")
_OFFLINE = {
    "npm-cache": ({"npm"}, ("--offline",)),
    "yarn-cache": ({"yarn"}, ("--offline",)),
    "pnpm-store": ({"pnpm"}, ("--offline",)),
    "uv-cache": ({"uv"}, ("--offline",)),
    "cargo-registry": ({"cargo"}, ("--offline", "--frozen")),
    "maven-repo": ({"mvn", "mvnw"}, ("-o", "--offline")),
    "gradle-cache": ({"gradle", "gradlew"}, ("--offline",)),
    "apt-archives": (APT, ("--no-download",)),
    "dnf-cache": ({"dnf", "microdnf"}, ("-C", "--cacheonly")),
    "yum-cache": ({"yum"}, ("-C", "--cacheonly")),
    "gem-cache": ({"gem"}, ("--local", "-l")),
}
_GO_READS = frozenset({"build", "run", "test", "install", "vet", "list", "mod", "get", "generate"})
# Removal commands: naming the cache's path to delete it is not reading it.
_REMOVERS = frozenset({"rm", "rmdir", "unlink", "find"})
# Commands known not to run a package manager (so not possible readers of the apt lists or
# the apk index). Package managers of other ecosystems are here too: pip does not call apt.
KNOWN_COMMANDS = frozenset({
    ":", "[", "[[", "true", "false", "test", "cd", "pushd", "popd", "echo", "printf", "export", "set",
    "unset", "umask", "ulimit", "trap", "exit", "read", "wait", "sleep", "mkdir", "rm", "rmdir", "cp",
    "mv", "ln", "chmod", "chown", "chgrp", "touch", "cat", "tee", "sed", "awk", "gawk", "mawk", "grep",
    "egrep", "fgrep", "head", "tail", "sort", "uniq", "cut", "tr", "wc", "tar", "gzip", "gunzip",
    "zcat", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzip", "zip", "curl", "wget", "git", "useradd",
    "groupadd", "adduser", "addgroup", "usermod", "userdel", "groupmod", "deluser", "delgroup", "passwd",
    "chpasswd", "id", "whoami", "ls", "pwd", "date", "which", "command", "type", "hash", "basename",
    "dirname", "readlink", "realpath", "stat", "du", "df", "install", "patch", "diff", "cmp", "md5sum",
    "sha1sum", "sha256sum", "sha512sum", "gpg", "gpgv", "gpgconf", "dirmngr", "ssh-keyscan", "ssh-keygen",
    "openssl", "update-ca-certificates", "ldconfig", "locale-gen", "localedef", "update-locale",
    "debconf-set-selections", "sync", "mktemp", "seq", "yes", "base64", "file", "strip", "setcap",
    "getent", "update-alternatives", "dpkg", "dpkg-query", "dpkg-divert", "apt-mark", "apt-key",
    "pip", "pip3", "uv", "npm", "yarn", "pnpm", "go", "cargo", "rustup", "mvn", "gradle", "composer",
    "gem", "bundle", "conda", "mamba", "apk", "apt-get", "apt", "aptitude", "apt-cache", "yum", "dnf",
    "microdnf", "zypper", "tdnf", "rpm", "mkfifo", "chroot", "nproc", "uname", "hostname", "printenv",
    "expr", "let", "source", ".", "eval", "exec", "shift", "getopts", "local", "declare", "typeset",
    "readonly", "alias", "unalias", "shopt", "kill",
})


@dataclass(frozen=True, slots=True)
class Reader:
    instruction: Instruction
    what: str  # for messages: "`apt-get install -y curl` on line 5 installs without `apt-get update`"
    certain: bool


def later_instructions(build: Build, run: Run) -> Iterator[tuple[Stage, Instruction]]:
    """Instructions that run after ``run``: the rest of its stage, then every stage built
    FROM it directly or through other stages, then every other stage (for COPY --from)."""
    stage = run.stage
    after = False
    for ins in stage.instructions:
        if after:
            yield stage, ins
        after = after or ins is run.instruction
    for other in build.stages:
        if other is not stage:
            yield other, other.from_instruction
            yield from ((other, ins) for ins in other.instructions)


def derived_from(stage: Stage, other: Stage) -> bool:
    """``other`` is built FROM ``stage`` (directly or through other stages)."""
    seen: set[int] = set()
    current = other.base_stage
    while current is not None and current.index not in seen:
        if current is stage:
            return True
        seen.add(current.index)
        current = current.base_stage
    return False


def cache_readers(build: Build, run: Run, category: str, *, until: Instruction | None = None) -> list[Reader]:
    """Later instructions that read (or might read) the ``category`` files ``run`` leaves.

    With ``until``, only the instructions of the stage before it (a cleanup moved up from
    ``until`` must not pass a reader)."""
    stage = run.stage
    inheritors = {stage.index} | {s.index for s in build.stages if derived_from(stage, s)}
    names = {str(i) for i in inheritors} | {s.name for s in build.stages if s.index in inheritors and s.name}
    readers: list[Reader] = []
    for owner, ins in later_instructions(build, run):
        if until is not None and (owner is not stage or ins.start >= until.start):
            break
        if ins.name in ("COPY", "ADD") or ins.name == "RUN" and ins.flags:
            flag = ins.flag("from")
            source = (flag.value or "").lower() if flag is not None else ""
            if _copies_cache(ins, category, names, source):
                readers.append(Reader(ins, f"the {ins.name} on line {ins.start_line} copies it", True))
                continue
        if owner.index not in inheritors or ins.name != "RUN":
            continue
        later = build.run_of(ins)
        readers.extend(_run_readers(later, ins, category))
    return readers


def _copies_cache(ins: Instruction, category: str, names: set[str], source: str) -> bool:
    paths = CACHE_PATHS.get(category, ())
    if ins.name == "RUN":
        for flag in ins.flags:
            text = flag.text.lower()
            if "from=" in text and any(f"from={n}" in text for n in names):
                return True
        return False
    if not source or source not in names:
        return False
    sources = list(ins.values[:-1])
    return any(src in ("/", ".", "") or any(p in src or src.rstrip("/") in p for p in paths) for src in sources)


def _run_readers(run: Run | None, ins: Instruction, category: str) -> list[Reader]:
    where = f"line {ins.start_line}"
    if run is None or run.source is None or run.script is None or run.script.has_errors:
        if category in _NEEDED_BY_INSTALLS and not _exec_form_known(ins):
            return [Reader(ins, f"the RUN on {where} cannot be analysed and might install packages", False)]
        return []
    out: list[Reader] = []
    refreshed = False
    errexit = errexit_from_start(run.shell, run.script)
    for inv in invocations(run):
        if _refreshes(inv, category):
            refreshed = refreshed or not inv.conditional
            update = inv
            continue
        if refreshed and not errexit and not inv.in_substitution and (
                inv.statement != update.statement or inv.connector != "&&"):
            # A failing update no longer stops what follows (`apt-get update; apt-get install`
            # without -e): the install then reads the lists an earlier RUN left.
            refreshed = False
        certain = reads_cache(inv, category, run) and not refreshed
        if certain:
            out.append(Reader(ins, f"`{_short(inv.text)}` on {where} {_needs(category)}", True))
            continue
        if category in _NEEDED_BY_INSTALLS and not refreshed and not _known(inv):
            out.append(Reader(ins, f"`{_short(inv.text)}` on {where} might install packages without "
                                   f"{_refresh_name(category)}", False))
    return out


def _exec_form_known(ins: Instruction) -> bool:
    if not ins.is_json or not ins.values:
        return False
    name = ins.values[0].rsplit("/", 1)[-1]
    return name in KNOWN_COMMANDS and name not in APT and name != "apk"


def _refreshes(inv: Invocation, category: str) -> bool:
    if category == "apt-lists":
        return inv.name in APT and inv.subcommand == "update"
    if category == "apk-cache":
        return inv.name == "apk" and inv.subcommand == "update"
    return False


def reads_cache(inv: Invocation, category: str, run: Run) -> bool:
    """This command certainly reads (needs) the ``category`` cache when it runs."""
    name = inv.name
    if name not in _REMOVERS and any(p in inv.text for p in CACHE_PATHS.get(category, ())):
        if not (name in APT and inv.subcommand in ("clean", "autoclean")):
            return True
    if category == "apt-lists":
        if name == "apt-cache":
            return True
        return name in APT and inv.subcommand in _APT_NEEDS_LISTS
    if category == "apk-cache":
        if name == "apk" and inv.has("--no-network"):
            return True  # installs from the cache only
        return name == "apk" and inv.subcommand in _APK_NEEDS_INDEX and not inv.has(*_APK_OWN_INDEX)
    if category == "go-mod-cache":
        env = {**run.env(), **inv.env}
        offline = "off" in (env.get("GOPROXY") or "").split(",") or "off" in (env.get("GOPROXY") or "").split("|")
        return name == "go" and offline and inv.subcommand in _GO_READS
    offline = _OFFLINE.get(category)
    if offline is not None:
        names, flags = offline
        if category in ("npm-cache",) and (run.env().get("npm_config_offline") or "").lower() == "true":
            return name in names
        return name in names and inv.has(*flags)
    return False


def _known(inv: Invocation) -> bool:
    if inv.name == "find":
        return not inv.has("-exec", "-execdir", "-ok", "-okdir")
    return inv.name in KNOWN_COMMANDS


def _needs(category: str) -> str:
    if category == "apt-lists":
        return "installs without `apt-get update` (\"Unable to locate package\")"
    if category == "apk-cache":
        return "installs without `apk update` or `--no-cache` (\"unable to select packages\")"
    return "reads it"


def _refresh_name(category: str) -> str:
    return "`apt-get update`" if category == "apt-lists" else "`apk update`"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def run_user(build: Build, run: Run) -> str | None:
    """The USER the RUN runs as, from USER instructions of its stage and the stages it is
    built FROM (None when none sets one: the base image's default, usually root)."""
    chain: list[Stage] = []
    stage: Stage | None = run.stage
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = stage.base_stage
    user: str | None = None
    for owner in reversed(chain):
        for ins in owner.instructions:
            if ins is run.instruction:
                return user
            if ins.name == "USER" and ins.values:
                user = ins.values[0].split(":", 1)[0]
    return user


def runs_as_root(build: Build, run: Run) -> bool:
    user = run_user(build, run)
    return user is None or user in ("root", "0")
