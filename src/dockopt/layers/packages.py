"""Package managers and language toolchains: what they install and which caches they leave.

Installed packages are modelled as paths ``/.dockopt/pkg/<manager>/<name>`` so that a
later ``apt-get purge``/``apk del`` is a removal like any other (the bytes stay in the
earlier layer). Caches are real paths, so ``rm -rf /var/lib/apt/lists/*`` matches them.
"""
from __future__ import annotations

import re

from dockopt.layers import python_packages, sizes
from dockopt.layers.invocations import Invocation
from dockopt.layers.knowledge import Handler, ShellState, effect
from dockopt.layers.plan import PKG_ROOT, REINSTALLED, Effect, EffectKind

C, R = EffectKind.CREATE, EffectKind.REMOVE


_VALUE_OPTIONS = frozenset({"-t", "--target-release", "-o", "--option", "--virtual", "--repository", "-X"})


def _subcommand(inv: Invocation) -> str | None:
    """The first non-option argument, skipping the values of options that take one
    (``apt-get -o APT::Install-Recommends=false install x`` is an install)."""
    argv = inv.argv
    skip_next = False
    for arg in argv:
        if arg is None:
            return None
        if skip_next:
            skip_next = False
        elif arg in _VALUE_OPTIONS:
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def _package_args(inv: Invocation, subcommand: str) -> list[str]:
    """Package names after the subcommand (options and their values skipped roughly)."""
    argv = inv.argv
    try:
        start = argv.index(subcommand) + 1
    except ValueError:
        return []
    names = []
    skip_next = False
    for arg in argv[start:]:
        if skip_next:
            skip_next = False
            continue
        if arg is None:
            continue
        if arg in _VALUE_OPTIONS:
            skip_next = True
            continue
        if arg.startswith("-") or arg.startswith("/"):
            continue
        names.append(arg)
    return names


def _install(inv: Invocation, manager: str, names: list[str], state: ShellState | None = None) -> list[Effect]:
    # The simulator treats installing an installed package as a no-op, except a reinstall.
    detail = REINSTALLED if inv.has("--reinstall") or inv.subcommand == "reinstall" else ""
    out: list[Effect] = []
    for name, size in zip(names, _package_sizes(inv, manager, names, state), strict=True):
        out += effect(C, f"{PKG_ROOT}/{manager}/{name.split('=')[0]}/", inv, "package", size, detail)
    return out


def _package_sizes(inv: Invocation, manager: str, names: list[str], state: ShellState | None) -> list[int | None]:
    """apt: each name's dependency closure, less what earlier layers of the stage installed
    (counted once per image); other managers: the typical sizes of the table."""
    if manager != "apt":
        return [sizes.package_size(name) for name in names]
    prefix = f"{PKG_ROOT}/apt/"
    installed = [p[len(prefix):].strip("/") for p in (state.existing if state else ()) if p.startswith(prefix)]
    return sizes.apt_install_sizes(names, _apt_recommends(inv), installed)


def _apt_recommends(inv: Invocation) -> bool:
    """Whether this apt install pulls Recommends: apt's default, unless the command says not to.
    (An apt.conf.d file saying so is not read; the estimate is then high.)"""
    if inv.has("--no-install-recommends"):
        return False
    option = inv.option("-o", "--option") or ""
    return option.replace(" ", "").lower() not in ("apt::install-recommends=false", "apt::install-recommends=0")


def _remove(inv: Invocation, manager: str, names: list[str]) -> list[Effect]:
    out: list[Effect] = []
    for name in names:
        out += effect(R, f"{PKG_ROOT}/{manager}/{name.split('=')[0]}/", inv, "package")
    return out


def _apt(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    if sub == "update":
        # Lists an earlier layer left are still current: apt downloads (and writes) almost nothing.
        lists = sizes.APT_LISTS_REFRESH if "/var/lib/apt/lists/" in state.existing else sizes.APT_LISTS
        return effect(C, "/var/lib/apt/lists/", inv, "apt-lists", lists)
    if sub in ("install", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "reinstall"):
        names = _package_args(inv, sub)
        out = _install(inv, "apt", names, state)
        known = [e.size for e in out if e.size]
        archive = int(sum(known) * sizes.APT_ARCHIVE_RATIO) if known else None
        if state.docker_clean:
            pass  # the image's docker-clean hook deletes the downloaded .debs after the install
        elif not _cached("/var/cache/apt", state):
            out += effect(C, "/var/cache/apt/archives/", inv, "apt-archives", archive,
                          detail="downloaded .deb files")
        return out
    if sub in ("remove", "purge", "autoremove"):
        return _remove(inv, "apt", _package_args(inv, sub))
    if sub in ("clean", "autoclean", "distclean", "dist-clean"):
        removed = effect(R, "/var/cache/apt/archives/", inv, "apt-archives") + effect(
            R, "/var/cache/apt/*.bin", inv, "apt-archives")
        if sub in ("distclean", "dist-clean"):  # apt >= 2.7: also the package lists
            removed += effect(R, "/var/lib/apt/lists/", inv, "apt-lists")
        return removed
    return []


def _apk(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    # --no-network fetches nothing: with no index cached (an earlier --no-cache), none is written
    no_cache = inv.has("--no-cache", "--no-network")
    if sub == "update":
        return [] if _cached("/var/cache/apk", state) else effect(C, "/var/cache/apk/", inv, "apk-cache", sizes.APK_INDEX)
    if sub == "add":
        names = _package_args(inv, "add")
        virtual = inv.option("--virtual", "-t")
        if virtual:
            names = [n for n in names if n != virtual]
            state.apk_virtual[virtual] = names
        out = _install(inv, "apk", names)
        if not no_cache and not _cached("/var/cache/apk", state):
            out += effect(C, "/var/cache/apk/", inv, "apk-cache", sizes.APK_INDEX, detail="APKINDEX and packages")
        return out
    if sub == "del":
        names = []
        for name in _package_args(inv, "del"):
            names += state.apk_virtual.get(name, [name])
        return _remove(inv, "apk", names)
    if sub == "cache" and inv.has("clean", "purge"):
        return effect(R, "/var/cache/apk/", inv, "apk-cache")
    return []


def _rpm(manager: str, cache: str, category: str) -> Handler:
    def handler(inv: Invocation, state: ShellState) -> list[Effect]:
        sub = _subcommand(inv)
        if sub in ("install", "update", "upgrade", "groupinstall", "in", "up"):
            out = _install(inv, manager, _package_args(inv, sub))
            if not _cached(cache, state):
                size = sizes.ZYPPER_METADATA if manager == "zypper" else sizes.RPM_METADATA
                out += effect(C, cache + "/", inv, category, size, detail="repository metadata and packages")
            return out
        if sub in ("remove", "erase", "rm", "autoremove"):
            return _remove(inv, manager, _package_args(inv, sub))
        if sub in ("clean", "cc"):
            return effect(R, cache + "/", inv, category)
        return []

    return handler


def _pip(inv: Invocation, state: ShellState) -> list[Effect]:
    argv = inv.argv
    if inv.name.startswith("python"):
        if len(argv) >= 2 and argv[:2] == ["-m", "venv"]:
            return python_packages.venv(inv, state)
        if len(argv) < 2 or argv[0] != "-m" or argv[1] not in ("pip", "pip3"):
            return []
        inv = Invocation(argv[1], argv[2:], inv.redirects, inv.start, inv.end, inv.text, inv.in_subshell,
                         env=inv.env)
    sub = _subcommand(inv)
    cache = f"{state.home}/.cache/pip/"
    if sub == "install":
        # pip reads any value of PIP_NO_CACHE_DIR as "no cache" (even 0/false: a historical
        # quirk of its option parsing), so only its absence leaves a cache.
        no_cache = "PIP_NO_CACHE_DIR" in state.env or "PIP_NO_CACHE_DIR" in inv.env
        # Local wheels only: nothing downloaded, nothing built, pip caches neither.
        caching = not (inv.has("--no-cache-dir") or no_cache or _cached(cache, state) or _local_only(inv))
        return python_packages.pip_install(inv, state, cache, caching)
    if sub == "cache" and "purge" in inv.argv:
        return effect(R, cache, inv, "pip-cache")
    return []


def _local_only(inv: Invocation) -> bool:
    """``pip install /opt/wheels/pip-*.whl``: local wheel files with no dependencies to fetch
    (``--no-index``/``--no-deps``, or pip's own bootstrap wheels: pip, setuptools, wheel)."""
    if any(a is not None and (a in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")
                              or a.startswith(("--requirement=", "--editable="))) for a in inv.argv):
        return False
    targets = [a for a in inv.argv[1:] if a is None or not a.startswith("-")]
    if not targets or any(a is None or not a.startswith(("/", "./", "../")) for a in targets):
        return False
    if inv.has("--no-index", "--no-deps"):
        return True
    return all(a.rsplit("/", 1)[-1].startswith(("pip-", "setuptools-", "wheel-")) for a in targets)  # type: ignore[union-attr]


def _uv(inv: Invocation, state: ShellState) -> list[Effect]:
    if not inv.argv or inv.argv[0] not in ("pip", "sync", "add", "tool"):
        if inv.argv and inv.argv[0] == "cache" and "clean" in inv.argv:
            return effect(R, f"{state.home}/.cache/uv/", inv, "uv-cache")
        return []
    # uv accepts pip's --no-cache-dir as an alias of --no-cache (and -n)
    if inv.has("--no-cache", "--no-cache-dir", "-n") or _env_true(state, "UV_NO_CACHE") or \
            _cached(f"{state.home}/.cache/uv", state):
        return []
    return effect(C, f"{state.home}/.cache/uv/", inv, "uv-cache", sizes.PIP_CACHE_DEFAULT)


def _node(cache_of: dict[str, tuple[str, str, int]]) -> Handler:
    def handler(inv: Invocation, state: ShellState) -> list[Effect]:
        sub = _subcommand(inv) or ("install" if inv.name == "yarn" and not inv.has(
            "--version", "-v", "-V", "--help", "-h") else None)  # `yarn --version` (a smoke test) installs nothing
        path, category, size = cache_of[inv.name]
        path = path.replace("~", state.home)
        if sub in ("install", "ci", "i", "add"):
            # The install tree: node_modules of the current directory, or of the prefix for a
            # global install (/usr/local, the official node images' and npm's default); its size
            # is not known either way (unknown, never a known 0 B).
            where = "/usr/local/lib" if inv.has("-g", "--global") else state.cwd.rstrip("/")
            tree = effect(C, f"{where}/node_modules/", inv, "install-tree", None,
                          detail=f"{inv.name}'s installed packages")
            if _cached(path, state):
                return tree
            return tree + effect(C, path, inv, category, size, detail=f"{inv.name}'s package cache")
        if sub == "cache" and ("clean" in inv.argv or "purge" in inv.argv):
            return effect(R, path, inv, category)
        if inv.name == "pnpm" and sub == "store" and "prune" in inv.argv:
            return effect(R, path, inv, category)
        return []

    return handler


def _go(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    gopath = state.env.get("GOPATH", "/go" if state.family != "unknown" else f"{state.home}/go")
    build_cache = state.env.get("GOCACHE", f"{state.home}/.cache/go-build") + "/"
    mod_cache = state.env.get("GOMODCACHE", f"{gopath}/pkg/mod") + "/"
    version = _go_version(state)
    # The build cache exists from Go 1.10, the module cache from Go 1.11 (before, `go get`
    # fetches sources into GOPATH/src: installed code, not a cache).
    has_build_cache = version is None or version >= (1, 10)
    has_mod_cache = version is None or version >= (1, 11)
    if sub in ("build", "install", "test", "run", "vet", "generate"):
        out = [] if _cached(build_cache, state) or not has_build_cache else effect(
            C, build_cache, inv, "go-build-cache", sizes.GO_BUILD_CACHE)
        # Modules are downloaded only for what go.mod requires (unknown here: creack/pty requires
        # nothing, a single .go file builds from the standard library) or a `pkg@version` target.
        if not _cached(mod_cache, state) and has_mod_cache and any(a is not None and "@" in a for a in inv.argv):
            out += effect(C, mod_cache, inv, "go-mod-cache", sizes.GO_MOD_CACHE)
        return out
    if sub in ("get",) or (sub == "mod" and "download" in inv.argv):
        if not has_mod_cache:
            return []
        return [] if _cached(mod_cache, state) else effect(C, mod_cache, inv, "go-mod-cache", sizes.GO_MOD_CACHE)
    if sub == "clean":
        out = []
        if inv.has("-cache"):
            out += effect(R, build_cache, inv, "go-build-cache")
        if inv.has("-modcache"):
            out += effect(R, mod_cache, inv, "go-mod-cache")
        return out
    return []


_GO_IMAGE = re.compile(r"(?:^|/)golang:(\d+)\.(\d+)")


def _go_version(state: ShellState) -> tuple[int, int] | None:
    """Go's version from an official ``golang:1.N`` base image; None when not known."""
    m = _GO_IMAGE.search(state.image)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _cargo(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    home = state.env.get("CARGO_HOME", f"{state.home}/.cargo")
    registry = f"{home}/registry/"
    if sub in ("build", "install", "fetch", "test"):
        out = [] if _cached(registry, state) else effect(C, registry, inv, "cargo-registry", sizes.CARGO_REGISTRY)
        if sub != "fetch":
            out += effect(C, f"{state.cwd.rstrip('/')}/target/", inv, "build-dir", detail="cargo target directory")
        return out
    return []


def _jvm(path: str, category: str, size: int) -> Handler:
    def handler(inv: Invocation, state: ShellState) -> list[Effect]:
        target = path.replace("~", state.home)
        if _cached(target, state) or not any(a is not None and not a.startswith("-") for a in inv.argv):
            return []
        return effect(C, target, inv, category, size)

    return handler


def _composer(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    home = state.env.get("COMPOSER_HOME", f"{state.home}/.composer")
    cache = state.env.get("COMPOSER_CACHE_DIR", f"{home}/cache") + "/"
    if sub in ("install", "update", "require"):
        return [] if _cached(cache, state) else effect(C, cache, inv, "composer-cache", sizes.COMPOSER_CACHE)
    if sub in ("clear-cache", "clearcache", "cc"):
        return effect(R, cache, inv, "composer-cache")
    return []


def _gem(inv: Invocation, state: ShellState) -> list[Effect]:
    sub = _subcommand(inv)
    gem_home = state.env.get("GEM_HOME", "/usr/local/bundle" if state.family != "unknown" else "/var/lib/gems")
    bare_bundle = inv.name == "bundle" and not inv.argv  # `bundle` alone means `bundle install`
    if inv.name == "bundle" and (inv.has("--deployment", "--path") or any(
            name in inv.env or name in state.env or f"{name}=" in inv.text  # `env NAME=... bundle`
            for name in ("BUNDLE_PATH", "BUNDLE_DEPLOYMENT"))):
        # Gems (and their .gem cache) go to the configured path or vendor/bundle, which may be a
        # mount or cleaned by the RUN (discourse_dev): where exactly, the simulator does not know.
        return []
    if sub == "install" or bare_bundle:
        return effect(C, f"{gem_home}/cache/", inv, "gem-cache", sizes.GEM_CACHE, detail=".gem files kept after install")
    return []


def _env_true(state: ShellState, name: str) -> bool:
    value = state.env.get(name)
    return value is not None and value.lower() not in ("", "0", "false", "no", "off")


def _cached(path: str, state: ShellState) -> bool:
    """Whether a RUN --mount=type=cache (or tmpfs) covers the path: nothing lands in the layer."""
    path = path.rstrip("/")
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in state.cache_mounts)


def _install_packages(inv: Invocation, state: ShellState) -> list[Effect]:
    """gitpod's `install-packages` / minideb's `install_packages`: apt-get update, install, then
    `apt-get clean && rm -rf /var/lib/apt/lists/*` -- no lists or .debs stay behind."""
    return effect(R, "/var/lib/apt/lists/", inv, "apt-lists")


PACKAGE_HANDLERS: dict[str, Handler] = {
    "install-packages": _install_packages,
    "install_packages": _install_packages,
    "apt-get": _apt,
    "apt": _apt,
    "aptitude": _apt,
    "apk": _apk,
    "yum": _rpm("yum", "/var/cache/yum", "yum-cache"),
    "dnf": _rpm("dnf", "/var/cache/dnf", "dnf-cache"),
    "microdnf": _rpm("microdnf", "/var/cache/yum", "yum-cache"),
    "tdnf": _rpm("tdnf", "/var/cache/tdnf", "dnf-cache"),
    "zypper": _rpm("zypper", "/var/cache/zypp", "zypper-cache"),
    "pip": _pip,
    "pip3": _pip,
    "python": _pip,
    "python3": _pip,
    "uv": _uv,
    "npm": _node({"npm": ("~/.npm/", "npm-cache", sizes.NPM_CACHE_DEFAULT)}),
    "yarn": _node({"yarn": ("/usr/local/share/.cache/yarn/", "yarn-cache", sizes.NPM_CACHE_DEFAULT)}),
    "pnpm": _node({"pnpm": ("~/.local/share/pnpm/store/", "pnpm-store", sizes.NPM_CACHE_DEFAULT)}),
    "go": _go,
    "cargo": _cargo,
    "mvn": _jvm("~/.m2/repository/", "maven-repo", sizes.MAVEN_REPO),
    "mvnw": _jvm("~/.m2/repository/", "maven-repo", sizes.MAVEN_REPO),
    "gradle": _jvm("~/.gradle/", "gradle-cache", sizes.GRADLE_CACHE),
    "gradlew": _jvm("~/.gradle/", "gradle-cache", sizes.GRADLE_CACHE),
    "composer": _composer,
    "gem": _gem,
    "bundle": _gem,
}
