"""Dependency installs by ecosystem: which commands need only the manifests, and which manifests.

The cache-aware rules (DO301's reordering) need three facts about a dependency install:
1. whether the command, as written, needs only the manifests (``npm ci``, ``pip install -r
   requirements.txt``, ``go mod download``) or installs the project itself (``pip install
   .``, ``poetry install`` without ``--no-root``, ``cargo build``);
2. the manifests it reads (required, optional), relative to the project directory;
3. what it writes in the project directory (``node_modules``, ``.venv``, ``vendor``): a later
   ``COPY . .`` of a context holding those paths would overwrite the installed ones, so
   moving the install above that COPY changes the image.

The table ``ECOSYSTEMS`` holds 2 and 3; ``recognise`` reads one command for 1. What the
manifests themselves say (workspaces, ``-e .`` in a requirements file, ``replace`` to a local
directory) needs the build context: see :mod:`dockopt.cache.ecosystem_files`.

Manifest names may hold ``*`` (``*.csproj``): they are expanded against the context, never
written into a fix without it. An entry ``a|b`` means "one of": gradle reads
``build.gradle`` or ``build.gradle.kts``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.layers.invocations import Invocation


@dataclass(frozen=True, slots=True)
class Ecosystem:
    name: str
    required: tuple[str, ...]  # the install fails without these ("a|b": one of)
    optional: tuple[str, ...]  # read when present: lock files, registry configuration
    outputs: tuple[str, ...]  # project-relative paths the install writes
    optional_dirs: tuple[str, ...] = ()  # directories read when present (``.yarn/releases``)
    # What to copy when the context cannot be read: names with a trailing ``*`` may match
    # nothing (BuildKit allows an empty wildcard), so optional files cost no failed build.
    guess: tuple[str, ...] = ()


ECOSYSTEMS: dict[str, Ecosystem] = {
    e.name: e
    for e in (
        Ecosystem("npm", ("package.json",), ("package-lock.json", "npm-shrinkwrap.json", ".npmrc"),
                  ("node_modules",), guess=("package*.json",)),
        Ecosystem("yarn", ("package.json",), ("yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc"),
                  ("node_modules", ".pnp.cjs", ".pnp.loader.mjs", ".yarn/cache", ".yarn/install-state.gz"),
                  (".yarn/releases", ".yarn/plugins", ".yarn/patches"),
                  guess=("package.json", "yarn.lock*", ".yarnrc*")),
        Ecosystem("pnpm", ("package.json",), ("pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs"), ("node_modules",),
                  ("patches",), guess=("package.json", "pnpm-lock.yaml*", ".npmrc*")),
        Ecosystem("bun", ("package.json",), ("bun.lockb", "bun.lock", "bunfig.toml", ".npmrc"), ("node_modules",),
                  guess=("package.json", "bun.lock*")),
        Ecosystem("pip", (), (), ()),  # the requirement files are named on the command line
        Ecosystem("poetry", ("pyproject.toml",), ("poetry.lock", "poetry.toml"), (".venv",),
                  guess=("pyproject.toml", "poetry.lock*")),
        Ecosystem("uv", ("pyproject.toml",), ("uv.lock", ".python-version", "uv.toml"), (".venv",),
                  guess=("pyproject.toml", "uv.lock*")),
        Ecosystem("pipenv", ("Pipfile",), ("Pipfile.lock",), (".venv",), guess=("Pipfile", "Pipfile.lock*")),
        Ecosystem("go", ("go.mod",), ("go.sum", "go.work", "go.work.sum"), (), guess=("go.mod", "go.sum*")),
        Ecosystem("cargo", ("Cargo.toml",), ("Cargo.lock", "rust-toolchain.toml", "rust-toolchain"), ("target",),
                  (".cargo",), guess=("Cargo.toml", "Cargo.lock*")),
        Ecosystem("maven", ("pom.xml",), ("mvnw",), ("target",), (".mvn",), guess=("pom.xml",)),
        # No guess: build.gradle or build.gradle.kts, and the wrapper's gradle/ directory, need the context.
        Ecosystem("gradle", ("build.gradle|build.gradle.kts",),
                  ("settings.gradle", "settings.gradle.kts", "gradle.properties", "gradlew"), (".gradle", "build"),
                  ("gradle",)),
        Ecosystem("bundler", ("Gemfile",), ("Gemfile.lock",), ("vendor/bundle", ".bundle"), (".bundle",),
                  guess=("Gemfile", "Gemfile.lock*")),
        Ecosystem("composer", ("composer.json",), ("composer.lock", "auth.json"), ("vendor",),
                  guess=("composer.json", "composer.lock*")),
        # No guess: the project files and their references are only known from the context.
        Ecosystem("dotnet", (), ("NuGet.Config", "nuget.config", "global.json", "Directory.Build.props",
                                 "Directory.Build.targets", "Directory.Packages.props"), ("obj", "bin")),
        Ecosystem("mix", ("mix.exs",), ("mix.lock",), ("deps", "_build"), guess=("mix.exs", "mix.lock*")),
    )
}


# Files an install may read besides the manifests the table names, when the context cannot
# say (basename patterns, matched case-insensitively): included requirement files, local
# packages and wheels, files install scripts commonly read (`prisma generate` reads
# `schema.prisma`), version files a Gemfile or pom.xml reads, build files of subprojects.
# A COPY of such a file before the install is taken as read by it (DO301 stays silent).
_JS_READS = ("package.json", "*lock*", ".npmrc", ".yarnrc*", ".pnpmfile.cjs", "pnpm-workspace.yaml", "bunfig.toml",
             "*.tgz", "*.tar.gz", "*.prisma", "tsconfig*.json", "*.config.*js", "*.config.ts", ".babelrc*",
             "angular.json", "nx.json", "lerna.json", "turbo.json", ".nvmrc", ".node-version", ".env*")
_PY_READS = ("*.txt", "*.in", "*.pip", "*req*", "*constraint*", "setup.py", "setup.cfg", "pyproject.toml", "*.lock",
             "poetry.toml", "uv.toml", ".python-version", "pipfile*", "*.whl", "*.tar.gz", "*.zip", "*.egg",
             "pip.conf", "readme*", "manifest.in", "version*", "_version.py", "__init__.py")
MAY_READ: dict[str, tuple[str, ...]] = {
    "npm": _JS_READS, "yarn": _JS_READS, "pnpm": _JS_READS, "bun": _JS_READS,
    "pip": _PY_READS, "poetry": _PY_READS, "uv": _PY_READS, "pipenv": _PY_READS,
    "go": ("go.mod", "go.sum", "go.work*", "*.mod", "modules.txt"),
    "cargo": ("cargo.*", "rust-toolchain*", "config.toml", "build.rs"),
    "maven": ("pom.xml", "*.pom", "settings*.xml", "mvnw*", "maven-wrapper*", "*.jar", "extensions.xml"),
    "gradle": ("*.gradle", "*.gradle.kts", "gradle.properties", "gradlew*", "gradle-wrapper*", "*.versions.toml",
               "*.jar"),
    "bundler": ("gemfile*", "*.gemspec", ".ruby-version", ".tool-versions", "*.gem", "version.rb", "config"),
    "composer": ("composer.*", "auth.json", "*.phar", "artisan"),
    "dotnet": ("*.sln", "*.*proj", "*.props", "*.targets", "nuget.config", "global.json", "packages.lock.json",
               "*.nupkg", "directory.*"),
    "mix": ("mix.exs", "mix.lock", "*.exs", ".tool-versions"),
}
# Read by every install that fetches from a registry or a git host: credentials, certificates.
ANY_INSTALL_READS = ("*.pem", "*.crt", "*.cer", "*.key", ".netrc", ".gitconfig", "known_hosts", "id_*", "*.p12")


@dataclass(frozen=True, slots=True)
class Install:
    """A dependency install found in a RUN."""

    ecosystem: Ecosystem
    invocation: Invocation
    project: str | None = None  # the project directory the command names (--prefix, -f), else its cwd
    files: tuple[str, ...] = ()  # manifests named on the command line (pip -r), relative to the cwd
    needs_sources: str | None = None  # why the command needs more than the manifests
    manifest_variant: str | None = None  # the manifest-only way to run it, when there is one
    rewrites: str | None = None  # a manifest the command may rewrite (an unfrozen lock file)

    @property
    def name(self) -> str:
        return self.ecosystem.name

    @property
    def text(self) -> str:
        text = " ".join(self.invocation.text.split())
        return text if len(text) <= 60 else text[:57] + "..."


def _words(inv: Invocation) -> list[str]:
    return [a for a in inv.argv if a is not None]


# Options that take a value, per tool (so that the value is not mistaken for a package name).
_VALUE_OPTS = {
    "npm": {"--prefix", "-C", "--omit", "--include", "--registry", "--cache", "--userconfig", "-w", "--workspace"},
    "yarn": {"--cwd", "--modules-folder", "--cache-folder", "--network-timeout", "--mutex", "--registry"},
    "pnpm": {"-C", "--dir", "--filter", "-F", "--store-dir", "--registry", "--reporter"},
    "bun": {"--cwd", "--registry", "--cache-dir", "--backend"},
    "pip": {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
            "--find-links", "--target", "-t", "--prefix", "--root", "--trusted-host", "--timeout", "--retries",
            "--platform", "--python-version", "--implementation", "--abi", "--src", "--progress-bar", "--cache-dir",
            "--only-binary", "--no-binary", "--upgrade-strategy", "--log", "--proxy", "--cert", "--client-cert",
            "--global-option", "--config-settings", "-C", "--python"},
}
_PIP_NAMES = re.compile(r"^pip(\d+(\.\d+)?)?$")
_LOCAL = re.compile(r"^(\.{1,2}(/.*)?|/.*|file:.*|[^:]*\.(whl|tar\.gz|zip))$")


def _positionals(words: list[str], value_opts: set[str], skip: int = 1) -> list[str]:
    """Words that are not options or option values, after the first ``skip`` (the subcommand)."""
    out: list[str] = []
    i = 0
    rest = words[:]
    while i < len(rest):
        word = rest[i]
        if word in value_opts:
            i += 2
            continue
        if not word.startswith("-"):
            out.append(word)
        i += 1
    return out[skip:]


def _option(inv: Invocation, *names: str) -> str | None:
    value = inv.option(*names)
    return value if value and not value.startswith("-") else None


def _js(inv: Invocation, words: list[str], sub: str | None) -> Install | None:
    name = inv.name
    eco = ECOSYSTEMS[name]
    opts = _VALUE_OPTS[name]
    if name == "npm":
        if sub not in ("ci", "install", "i", "clean-install", "isntall") or inv.has("-g", "--global"):
            return None
        project = _option(inv, "--prefix", "-C")
        if _positionals(words, opts):
            return None  # `npm install express`: adds a package, not the manifest's set
        frozen = sub in ("ci", "clean-install") or inv.has("--package-lock=false", "--no-package-lock")
        return Install(eco, inv, project, rewrites=None if frozen else "npm install may update package-lock.json")
    if name == "yarn":
        if sub not in (None, "install") or _positionals(words, opts, skip=0 if sub is None else 1):
            return None
        if inv.has("--version", "-v", "--help", "-h"):
            return None  # `yarn --version` prints the version: no install
        frozen = inv.has("--frozen-lockfile", "--immutable", "--pure-lockfile")
        return Install(eco, inv, _option(inv, "--cwd"),
                       rewrites=None if frozen else "yarn install without --frozen-lockfile may update yarn.lock")
    if name == "pnpm":
        if sub == "fetch":  # needs only the lock file: the manifest-only command pnpm recommends for Docker
            return Install(eco, inv, _option(inv, "-C", "--dir"))
        if sub not in ("install", "i") or _positionals(words, opts):
            return None
        frozen = inv.has("--frozen-lockfile")
        return Install(eco, inv, _option(inv, "-C", "--dir"),
                       rewrites=None if frozen else "pnpm install without --frozen-lockfile may update pnpm-lock.yaml")
    if name == "bun":
        if sub not in ("install", "i") or _positionals(words, opts):
            return None
        frozen = inv.has("--frozen-lockfile")
        return Install(eco, inv, _option(inv, "--cwd"),
                       rewrites=None if frozen else "bun install without --frozen-lockfile may update the lock file")
    return None


def _pip(inv: Invocation, args: list[str]) -> Install | None:
    """``pip install -r requirements.txt [names]``: manifest-only unless it also installs a local path."""
    if not args or args[0] != "install":
        return None
    files: list[str] = []
    locals_: list[str] = []
    editable = False
    i = 1
    while i < len(args):
        word = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if word in ("-r", "--requirement", "-c", "--constraint") and value is not None:
            files.append(value)
            i += 2
            continue
        for flag in ("--requirement=", "--constraint="):
            if word.startswith(flag):
                files.append(word[len(flag):])
        if re.match(r"^-[rc]\S", word):
            files.append(word[2:])
        elif word in ("-e", "--editable"):
            editable = True
        elif word in _VALUE_OPTS["pip"]:
            i += 2
            continue
        elif not word.startswith("-") and _LOCAL.match(word):
            locals_.append(word)
        i += 1
    if not files:
        return None  # `pip install flask`: the context plays no part
    eco = ECOSYSTEMS["pip"]
    if locals_ or editable:
        what = " ".join(locals_) or "an editable path"
        return Install(eco, inv, None, tuple(files), needs_sources=f"it also installs {what} from the sources")
    return Install(eco, inv, None, tuple(files))


def _python(inv: Invocation, words: list[str], sub: str | None) -> Install | None:
    if inv.name == "poetry" and sub in ("install", "sync"):
        if inv.has("--no-root"):
            return Install(ECOSYSTEMS["poetry"], inv, _option(inv, "-C", "--directory"))
        return Install(ECOSYSTEMS["poetry"], inv, _option(inv, "-C", "--directory"),
                       needs_sources="`poetry install` installs the project itself",
                       manifest_variant="poetry install --no-root")
    if inv.name == "uv":
        if words[:2] == ["pip", "install"]:
            return _pip(inv, words[1:])
        if words[:2] == ["pip", "sync"]:
            files = tuple(w for w in words[2:] if not w.startswith("-"))
            return Install(ECOSYSTEMS["pip"], inv, None, files) if files else None
        if sub == "sync":
            project = _option(inv, "--project", "--directory")
            if inv.has("--no-install-project", "--no-install-workspace", "--only-deps"):
                return Install(ECOSYSTEMS["uv"], inv, project)
            return Install(ECOSYSTEMS["uv"], inv, project, needs_sources="`uv sync` installs the project itself",
                           manifest_variant="uv sync --no-install-project")
        return None
    if inv.name == "pipenv" and sub in ("install", "sync"):
        if _positionals(words, set()):
            return None  # `pipenv install requests`: adds a package
        frozen = sub == "sync" or inv.has("--deploy", "--ignore-pipfile")
        return Install(ECOSYSTEMS["pipenv"], inv, None,
                       rewrites=None if frozen else "pipenv install without --deploy may write Pipfile.lock")
    return None


def _jvm(inv: Invocation, words: list[str]) -> Install | None:
    if inv.name in ("mvn", "mvnw"):
        goals = [w for w in words if not w.startswith("-")]
        offline = {"dependency:go-offline", "dependency:resolve", "dependency:resolve-plugins"}
        if goals and all(g in offline or g.startswith("de.qaware.maven:go-offline") for g in goals):
            project = _option(inv, "-f", "--file")
            return Install(ECOSYSTEMS["maven"], inv, project.rsplit("/", 1)[0] if project and "/" in project else None)
        return None
    if inv.name in ("gradle", "gradlew"):
        tasks = [w for w in words if not w.startswith("-")]
        if tasks and all(t.rsplit(":", 1)[-1] in ("dependencies", "downloadDependencies", "resolveDependencies")
                         for t in tasks):
            return Install(ECOSYSTEMS["gradle"], inv, _option(inv, "-p", "--project-dir"))
    return None


def _other(inv: Invocation, words: list[str], sub: str | None, name: str) -> Install | None:
    if name == "go" and words[:2] == ["mod", "download"]:
        return Install(ECOSYSTEMS["go"], inv)
    if name == "cargo" and sub in ("fetch", "vendor"):
        return Install(ECOSYSTEMS["cargo"], inv, needs_sources="cargo needs a target (src/main.rs or src/lib.rs) to "
                       "read its manifest", manifest_variant="a dummy src/main.rs (or cargo-chef)")
    if name == "bundle" and sub in (None, "install"):
        if sub is None and words:
            return None
        frozen = inv.has("--frozen", "--deployment") or any(
            k in inv.env for k in ("BUNDLE_FROZEN", "BUNDLE_DEPLOYMENT"))
        gemfile = _option(inv, "--gemfile")
        project = None
        if gemfile is not None:
            # --gemfile names the Gemfile itself, not its directory (issue 14: the fix copied
            # `Gemfile/Gemfile`); a Gemfile by another name has a lock file named after it,
            # which the manifest plan does not know: not recognised.
            directory, _, name = gemfile.rstrip("/").rpartition("/")
            if name != "Gemfile" or "$" in gemfile:
                return None
            project = directory or ("/" if gemfile.startswith("/") else ".")
        return Install(ECOSYSTEMS["bundler"], inv, project,
                       rewrites=None if frozen else "bundle install may update Gemfile.lock (platforms)")
    if name in ("composer", "composer.phar") and sub == "install":
        project = _option(inv, "-d", "--working-dir")
        if inv.has("--classmap-authoritative", "-a", "--optimize-autoloader", "-o") and not inv.has("--no-autoloader"):
            return Install(ECOSYSTEMS["composer"], inv, project,
                           needs_sources="an optimised autoloader is built from the sources",
                           manifest_variant="composer install --no-scripts --no-autoloader, then "
                                            "composer dump-autoload after copying the sources")
        return Install(ECOSYSTEMS["composer"], inv, project)
    if name == "dotnet" and sub == "restore":
        targets = _positionals(words, {"-s", "--source", "-r", "--runtime", "--packages", "--configfile", "-v",
                                       "--verbosity", "--lock-file-path"})
        return Install(ECOSYSTEMS["dotnet"], inv, None, tuple(targets[:1]))
    if name == "mix" and sub == "deps.get":
        return Install(ECOSYSTEMS["mix"], inv)
    return None


def composer_via_php(inv: Invocation) -> bool:
    """``php composer.phar ...`` / ``php /usr/local/bin/composer ...``: the first argument is Composer."""
    first = inv.argv[0] if inv.argv else None
    return bool(re.match(r"^php\d*(\.\d+)?$", inv.name)) and first is not None and \
        first.rsplit("/", 1)[-1] in ("composer.phar", "composer")


def recognise(inv: Invocation) -> Install | None:
    """The dependency install ``inv`` is, or None (not an install, or one the context plays no part in)."""
    words = _words(inv)
    if len(words) != len(inv.argv):
        return None  # an argument we cannot read statically: do not guess
    name = inv.name
    if composer_via_php(inv):  # `php composer.phar install`: Composer run by the PHP binary
        words = words[1:]
        name = "composer"
    sub = next((w for w in words if not w.startswith("-")), None)
    if name.endswith(".phar"):
        name = "composer.phar"
    if name in ("npm", "yarn", "pnpm", "bun"):
        return _js(inv, words, sub)
    if _PIP_NAMES.match(name):
        return _pip(inv, words)
    if name.startswith("python") and words[:2] in (["-m", "pip"], ["-m", "pip3"]):
        return _pip(inv, words[2:])
    if name in ("poetry", "uv", "pipenv"):
        return _python(inv, words, sub)
    if name in ("mvn", "mvnw", "gradle", "gradlew"):
        return _jvm(inv, words)
    return _other(inv, words, sub, name)
