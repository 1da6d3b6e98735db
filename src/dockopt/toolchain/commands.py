"""Build commands and installs in RUN scripts, recognised from their invocations.

A *build step* produces an artifact from sources (``go build``, ``cargo build``, ``mvn
package``, ``npm run build``, ``make``, ``gcc``, ``pip wheel``, ``dotnet publish``). A
*compiling install* is a dependency install that compiles native code when compilers are
around (``pip install``, ``npm ci``, ``bundle install``): it only counts as building when the
stage installed compilers for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.layers.invocations import Invocation

_MAKE_NON_BUILD = frozenset({"clean", "distclean", "test", "check", "help", "lint", "uninstall", "fmt", "format"})
_MAVEN_GOALS = ("package", "install", "verify", "deploy", "spring-boot:repackage", "assembly:single")
_GRADLE_TASKS = ("build", "assemble", "bootJar", "jar", "shadowJar", "installDist", "bootWar", "war",
                 "distTar", "distZip", "buildFatJar", "uberJar", "nativeCompile")
_CC = frozenset({"gcc", "g++", "cc", "c++", "clang", "clang++"})
_CC_QUERIES = frozenset({"--version", "-v", "-dumpmachine", "-dumpversion", "-print-multiarch", "--help"})
_JS_BUILDERS = frozenset({"tsc", "ng", "vite", "next", "webpack", "nuxt", "react-scripts", "vue-cli-service",
                          "rollup", "esbuild", "parcel", "gatsby", "astro", "svelte-kit"})


@dataclass(frozen=True, slots=True)
class Step:
    """One build command or compiling install found in a RUN."""

    tool: str  # go | cargo | maven | gradle | js | make | cc | python | dotnet | pip | npm | gem
    kind: str  # "build" | "install"
    invocation: Invocation
    output: str | None = None  # the artifact path the command names (``-o``), when it does

    @property
    def text(self) -> str:
        first = self.invocation.text.strip().splitlines()[0] if self.invocation.text.strip() else self.invocation.name
        return first if len(first) <= 60 else first[:57] + "..."


def _words(inv: Invocation) -> list[str]:
    return [a for a in inv.argv if a is not None]


def _sub(inv: Invocation) -> str | None:
    return inv.subcommand


def _python_module(inv: Invocation) -> tuple[str, list[str | None]] | None:
    """``python -m pip install x`` -> ("pip", ["install", "x"])."""
    argv = inv.argv
    if inv.name.startswith("python") and len(argv) >= 2 and argv[0] == "-m" and argv[1] is not None:
        return argv[1], argv[2:]
    return None


def build_step(inv: Invocation) -> Step | None:
    """The build step an invocation is, or None."""
    name, words, sub = inv.name, _words(inv), _sub(inv)
    if name == "go" and sub in ("build", "install"):
        return Step("go", "build", inv, inv.option("-o"))
    if name == "cargo" and sub in ("build", "install", "auditable"):
        return Step("cargo", "build", inv)
    if name in ("mvn", "mvnw") and any(w in _MAVEN_GOALS for w in words):
        return Step("maven", "build", inv)
    if name in ("gradle", "gradlew") and any(w.rsplit(":", 1)[-1] in _GRADLE_TASKS for w in words):
        return Step("gradle", "build", inv)
    if name in ("npm", "pnpm", "yarn", "bun"):
        script = _js_script(inv)
        if script is not None and script.split(":", 1)[0] in ("build", "compile", "dist", "export"):
            return Step("js", "build", inv)
        return None
    if name == "npx" and words and words[0] in _JS_BUILDERS:
        return Step("js", "build", inv)
    if name in _JS_BUILDERS:
        # CLIs with subcommands build only with `build`; the bundlers build whenever they run.
        takes_sub = name in ("ng", "vite", "next", "nuxt", "react-scripts", "vue-cli-service", "gatsby", "astro",
                             "svelte-kit", "parcel")
        return Step("js", "build", inv) if not takes_sub or sub == "build" else None
    if name in ("make", "gmake"):
        targets = [w for w in words if not w.startswith("-") and "=" not in w]
        if targets and all(t in _MAKE_NON_BUILD for t in targets):
            return None
        if words and all(w in ("-v", "--version", "-h", "--help") for w in words):
            return None
        return Step("make", "build", inv)
    if name == "cmake" and inv.has("--build"):
        return Step("make", "build", inv)
    if name == "ninja":
        return Step("make", "build", inv)
    if name in _CC and words and not any(w in _CC_QUERIES for w in words):
        return Step("cc", "build", inv, inv.option("-o"))
    if name in ("pip", "pip3") and sub == "wheel":
        return Step("python", "build", inv)
    module = _python_module(inv)
    if module is not None:
        mod, rest = module
        if mod in ("pip", "pip3") and rest and rest[0] == "wheel":
            return Step("python", "build", inv)
        if mod == "build":
            return Step("python", "build", inv)
    if inv.name.startswith("python") and inv.argv and inv.argv[0] in ("setup.py", "./setup.py"):
        if any(w in ("build", "build_ext", "bdist_wheel", "install", "develop") for w in words[1:]):
            return Step("python", "build", inv)
    if name == "dotnet" and sub in ("build", "publish"):
        return Step("dotnet", "build", inv, inv.option("-o", "--output"))
    return None


def _js_script(inv: Invocation) -> str | None:
    """The package.json script an npm/yarn/pnpm/bun command runs (``build`` of ``yarn build``)."""
    words = [w for w in _words(inv) if not w.startswith("-")]
    if not words:
        return None
    if words[0] in ("run", "run-script"):
        return words[1] if len(words) > 1 else None
    if inv.name in ("yarn", "pnpm", "bun") and words[0] not in ("install", "add", "ci", "i", "global", "dlx", "exec"):
        return words[0]
    return None


def js_script(inv: Invocation) -> str | None:
    return _js_script(inv) if inv.name in ("npm", "pnpm", "yarn", "bun") else None


_PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel", "virtualenv", "pipenv", "poetry", "uv", "pip-tools",
                              "bundler", "npm", "yarn", "pnpm", "corepack"})


def _only_tooling(inv: Invocation) -> bool:
    """`pip install -U pip setuptools`, `gem install bundler`: packaging tools, nothing compiled."""
    words = [w for w in _words(inv) if not w.startswith("-")]
    names = [re.split(r"[<>=~!\[:@ ]", w, maxsplit=1)[0].lower() for w in words[1:] if w not in ("install", "pip", "-m")]
    return bool(names) and all(n in _PACKAGING_TOOLS for n in names)


def compiling_install(inv: Invocation) -> Step | None:
    """A dependency install that compiles native code when compilers are present."""
    step = _compiling_install(inv)
    if step is not None and _only_tooling(inv):
        return None
    return step


def _compiling_install(inv: Invocation) -> Step | None:
    name, sub = inv.name, _sub(inv)
    module = _python_module(inv)
    if module is not None and module[0] in ("pip", "pip3") and module[1] and module[1][0] == "install":
        return None if inv.has("--only-binary=:all:") else Step("pip", "install", inv)
    if name in ("pip", "pip3") and sub == "install":
        return None if inv.has("--only-binary=:all:") else Step("pip", "install", inv)
    if name == "uv" and inv.argv[:2] == ["pip", "install"]:
        return Step("pip", "install", inv)
    if name in ("poetry", "pipenv") and sub in ("install", "sync"):
        return Step("pip", "install", inv)
    if name in ("npm", "pnpm") and sub in ("ci", "install", "i"):
        return Step("npm", "install", inv)
    if name == "yarn" and sub in (None, "install"):
        return Step("npm", "install", inv)
    if name == "gem" and sub == "install" or name == "bundle" and sub in (None, "install"):
        return Step("gem", "install", inv)
    if name in ("cpanm", "cpan"):
        return Step("perl", "install", inv)
    return None
