"""What a shipped stage holds and does: the facts the stage rules and the split share.

``shipped_facts(ctx)`` is computed once per lint (rules DO401, DO402, DO405 and the split
recipes read it). For the shipped stage and the stages its FROM chain builds on it finds:
- system packages that are build tools (``toolchain.packages``), and whether the same RUN
  removes them again (``apk del .build-deps``, ``apt-get purge --auto-remove`` after
  ``apt-mark auto``, ``yum history undo``) or a later RUN does;
- build steps and compiling installs (``toolchain.commands``);
- the toolchain the base image itself carries;
- the command the image runs (last CMD/ENTRYPOINT of the chain) and whether the image is
  a development or tool image rather than an application (``dev_reason``).
"""
from __future__ import annotations

import re
import shlex
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.layers.invocations import Invocation
from dockopt.model import Run, Stage
from dockopt.syntax import Instruction
from dockopt.toolchain.commands import Step, build_step, compiling_install
from dockopt.toolchain.images import ImageRef, parse_image, toolchain_of
from dockopt.toolchain.packages import is_build_package, normalise

if TYPE_CHECKING:
    from dockopt.checks.base import LintContext

INSTALLERS = {"apt-get": "apt", "apt": "apt", "aptitude": "apt", "apk": "apk", "yum": "rpm", "dnf": "rpm",
              "microdnf": "rpm", "tdnf": "rpm", "zypper": "zypper"}
_INSTALL_SUBS = frozenset({"install", "add", "groupinstall", "in"})
_VALUE_OPTIONS = frozenset({"-t", "--target-release", "-o", "--option", "--virtual", "--repository", "-X",
                            "--setopt", "--enablerepo", "--disablerepo", "-c", "--config"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "fish", "ksh", "pwsh", "powershell", "cmd"})
# Programs whose image exists to run the toolchain itself (a CI builder, a compiler image).
TOOL_ENTRYPOINTS = frozenset({
    "go", "gcc", "g++", "cc", "clang", "make", "cmake", "cargo", "rustc", "mvn", "mvnw", "gradle", "gradlew",
    "javac", "bazel", "bazelisk", "ninja", "meson", "tsc", "jshell", "ghci", "irb", "iex", "erl",
})
# Language version managers: what CI and development images install, applications do not.
VERSION_MANAGERS = frozenset({"pyenv", "rbenv", "goenv", "phpenv", "nodenv", "nvm", "sdk", "asdf", "jenv", "rvm"})
VERSION_MANAGER_PATH = re.compile(r"(^|/)\.?(pyenv|rbenv|goenv|phpenv|nodenv|nvm|sdkman|asdf|jenv|rvm)(/|$|\.git)")
DEV_STAGE_NAMES = frozenset({
    "dev", "devel", "develop", "development", "devcontainer", "dev-envs", "dev-env", "debug", "test", "tests",
    "testing", "ci", "lint", "local",
})
_DEV_IMAGES = ("devcontainers/", "vscode/devcontainers", "gitpod/workspace", "codercom/", "jupyter/",
               "cimg/", "circleci/", "buildpack-deps")


@dataclass(slots=True)
class PackageInstall:
    """A system package install that brings build tools."""

    run: Run
    invocation: Invocation
    manager: str  # apt | apk | rpm | zypper
    tools: list[str]  # the build-tool packages
    packages: list[str]  # every package named
    virtual: str | None = None
    removed_by: Instruction | None = None  # a RUN that removes them (this one or a later one)

    @property
    def kept(self) -> bool:
        return self.removed_by is None


@dataclass(slots=True)
class StageFacts:
    """The shipped stage chain, root first (``stages[-1]`` is the stage that ships)."""

    stages: list[Stage]
    image: ImageRef | None  # the root's base image
    base_toolchain: str | None
    installs: list[PackageInstall] = field(default_factory=list)
    builds: list[Step] = field(default_factory=list)
    compiling_installs: list[Step] = field(default_factory=list)
    entry: list[str] | None = None  # what the container runs (ENTRYPOINT + CMD words)
    entry_instructions: list[Instruction] = field(default_factory=list)
    dev_reason: str | None = None
    version_managers: set[str] = field(default_factory=set)
    step_runs: dict[int, Run] = field(default_factory=dict)  # id(step) -> its RUN

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @property
    def kept_installs(self) -> list[PackageInstall]:
        return [i for i in self.installs if i.kept]

    @property
    def kept_tools(self) -> list[str]:
        out: list[str] = []
        for install in self.kept_installs:
            out += [t for t in install.tools if t not in out]
        return out

    def run_of(self, step: Step) -> Run:
        return self.step_runs[id(step)]


_CACHE: weakref.WeakKeyDictionary[object, StageFacts | None] = weakref.WeakKeyDictionary()


def shipped_facts(ctx: LintContext) -> StageFacts | None:
    """The facts of the shipped stage chain (None for a file without stages)."""
    if ctx in _CACHE:
        return _CACHE[ctx]
    chain = list(reversed(ctx.build.shipped_stages(ctx.target)))
    facts = analyse(ctx, chain) if chain else None
    _CACHE[ctx] = facts
    return facts


def analyse(ctx: LintContext, chain: list[Stage]) -> StageFacts:
    root = chain[0]
    image = parse_image(root.base_resolved)
    facts = StageFacts(chain, image, toolchain_of(image))
    virtuals: dict[str, PackageInstall] = {}
    for stage in chain:
        for run in stage.runs:
            invs = ctx.invocations(run)
            here: list[PackageInstall] = []
            for index, inv in enumerate(invs):
                if inv.name in VERSION_MANAGERS or any(a and VERSION_MANAGER_PATH.search(a) for a in inv.argv):
                    facts.version_managers.add(inv.name if inv.name in VERSION_MANAGERS else "installed by script")
                install = _install(run, inv)
                if install is not None:
                    here.append(install)
                    facts.installs.append(install)
                    if install.virtual:
                        virtuals[install.virtual] = install
                    continue
                _apply_removal(inv, invs[:index], here, facts.installs, virtuals, run.instruction)
                step = build_step(inv)
                if step is not None:
                    facts.builds.append(step)
                    facts.step_runs[id(step)] = run
                    continue
                step = compiling_install(inv)
                if step is not None:
                    facts.compiling_installs.append(step)
                    facts.step_runs[id(step)] = run
    facts.entry, facts.entry_instructions = _entry(chain)
    facts.dev_reason = _dev_reason(ctx, facts)
    return facts


def _install(run: Run, inv: Invocation) -> PackageInstall | None:
    manager = INSTALLERS.get(inv.name)
    if manager is None:
        return None
    argv = inv.argv
    sub_index = next((i for i, a in enumerate(argv) if a is not None and not a.startswith("-")), None)
    if sub_index is None or argv[sub_index] not in _INSTALL_SUBS:
        return None
    names: list[str] = []
    skip = False
    for arg in argv[sub_index + 1 :]:
        if skip:
            skip = False
            continue
        if arg is None:
            continue
        if arg in _VALUE_OPTIONS:
            skip = True
            continue
        if arg.startswith("-") or arg.startswith("/") or arg.endswith((".rpm", ".deb", ".apk")):
            continue
        names.append(arg)
    virtual = inv.option("--virtual", "-t") if manager == "apk" else None
    if virtual:
        names = [n for n in names if n != virtual]
    if argv[sub_index] == "groupinstall":
        names = [" ".join(names).lower()] if names else []
    tools = [normalise(n) for n in names if is_build_package(n)]
    if not tools:
        return None
    return PackageInstall(run, inv, manager, tools, [normalise(n) for n in names], virtual)


def _apply_removal(inv: Invocation, before: list[Invocation], here: list[PackageInstall],
                   everything: list[PackageInstall], virtuals: dict[str, PackageInstall], ins: Instruction) -> None:
    """Mark installs removed by ``inv`` (same RUN: broadly; later RUN: by name only)."""
    manager = INSTALLERS.get(inv.name)
    if manager is None:
        return
    sub = next((a for a in inv.argv if a is None or not a.startswith("-")), None)
    named = [normalise(a) for a in inv.argv[1:] if a is not None and not a.startswith("-")]
    unknown_args = any(a is None for a in inv.argv[1:])
    if manager == "apt" and sub in ("purge", "remove", "autoremove"):
        # The official images' idiom: apt-mark auto '.*'; apt-mark manual $saved; purge --auto-remove.
        marked_auto = any(b.name == "apt-mark" and "auto" in b.argv for b in before)
        broad = unknown_args or (marked_auto and (sub == "autoremove" or inv.has("--auto-remove")))
    elif manager == "apk" and sub == "del":
        broad = unknown_args
        for name in (a for a in inv.argv[1:] if a is not None):  # virtual names are case-sensitive
            if name in virtuals:
                virtuals[name].removed_by = virtuals[name].removed_by or ins
    elif manager == "rpm" and (sub in ("remove", "erase", "autoremove") or (sub == "history" and "undo" in inv.argv)):
        broad = unknown_args or sub == "history"
    else:
        return
    for install in everything:
        if install.removed_by is not None or install.manager != manager:
            continue
        same_run = install in here
        if (same_run and broad) or any(t in named for t in install.tools):
            install.removed_by = ins


def _entry(chain: list[Stage]) -> tuple[list[str] | None, list[Instruction]]:
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    for stage in chain:
        for ins in stage.instructions:
            if ins.name == "ENTRYPOINT":
                entrypoint, cmd = ins, None  # ENTRYPOINT resets an inherited CMD
            elif ins.name == "CMD":
                cmd = ins
    used = [i for i in (entrypoint, cmd) if i is not None]
    if not used:
        return None, []
    words: list[str] = []
    for ins in used:
        words += instruction_words(ins)
    return words, used


def instruction_words(ins: Instruction) -> list[str]:
    """The words of a CMD/ENTRYPOINT/RUN (exec form as is, shell form split like sh would)."""
    if ins.is_json:
        return list(ins.values)
    try:
        return shlex.split(ins.args_text, comments=False)
    except ValueError:
        return ins.args_text.split()


def program(words: list[str] | None) -> tuple[str, list[str]]:
    """(basename of the program, its arguments), shells' ``-c`` scripts unwrapped."""
    if not words:
        return "", []
    words = list(words)
    while words and words[0].rsplit("/", 1)[-1] in ("tini", "dumb-init", "exec", "env", "gosu", "su-exec", "--"):
        words = words[1:]
        while words and (words[0].startswith("-") or words[0] in ("--",)):
            words = words[1:]
    if not words:
        return "", []
    name = words[0].rsplit("/", 1)[-1]
    if "entrypoint" in name and len(words) > 1 and not words[1].startswith("-"):
        return program(words[1:])  # docker-entrypoint.sh CMD...: the script runs CMD in the end
    if name in SHELLS and "-c" in words:
        at = words.index("-c")
        if at + 1 < len(words):
            try:
                inner = shlex.split(words[at + 1])
            except ValueError:
                inner = words[at + 1].split()
            return program(inner)
    return name, words[1:]


# Toolchain commands that, run by the image's command at start-up, make the toolchain part of
# what the image needs at run time (`sh -c "mix deps.get && mix phx.server"`).
# Package managers count only with a subcommand that installs or compiles: `npm start` and
# `bundle exec puma` launch the application.
START_TOOLCHAIN = frozenset({"mix", "go", "cargo", "rustc", "gcc", "g++", "make", "mvn", "mvnw", "gradle", "gradlew",
                             "javac", "rebar3", "lein", "sbt", "stack", "cabal"})
START_INSTALLS = {
    "npm": frozenset({"install", "i", "ci", "rebuild"}), "yarn": frozenset({"install", "add"}),
    "pnpm": frozenset({"install", "i", "add"}), "pip": frozenset({"install"}), "pip3": frozenset({"install"}),
    "bundle": frozenset({"install"}), "gem": frozenset({"install"}), "composer": frozenset({"install", "update"}),
    "dotnet": frozenset({"build", "run", "watch", "restore"}),
}


def _runs_toolchain(command: tuple[str, ...]) -> bool:
    name, args = command[0], [a for a in command[1:] if not a.startswith("-")]
    if name in START_TOOLCHAIN:
        return True
    return name in START_INSTALLS and bool(args) and args[0] in START_INSTALLS[name]
# Images whose product is a development environment with its SDK, or a tool that reads
# sources at run time (godoc and pkgsite serve the documentation of the Go sources they hold).
IDE_PROGRAMS = frozenset({"code-server", "openvscode-server", "theia", "idea", "idea.sh", "eclipse", "che",
                          "rstudio-server", "jupyterhub", "godoc", "pkgsite", "golds", "gopls", "dlv"})


def _start_commands(words: list[str] | None) -> list[tuple[str, ...]]:
    """Every simple command of the image's command: a shell's ``-c`` script split at its
    operators (``a && b; c | d``), each as (program basename, arguments...)."""
    if not words:
        return []
    words = list(words)
    while words and words[0].rsplit("/", 1)[-1] in ("tini", "dumb-init", "exec", "env", "gosu", "su-exec", "--"):
        words = words[1:]
    if not words:
        return []
    if words[0].rsplit("/", 1)[-1] in SHELLS and "-c" in words and words.index("-c") + 1 < len(words):
        script = words[words.index("-c") + 1]
        out = []
        for part in re.split(r"&&|\|\||[;|&\n]", script):
            try:
                inner = shlex.split(part)
            except ValueError:
                inner = part.split()
            while inner and ("=" in inner[0] and not inner[0].startswith("=") or inner[0] == "exec"):
                inner = inner[1:]  # VAR=value cmd, exec cmd
            if inner:
                out.append((inner[0].rsplit("/", 1)[-1], *inner[1:]))
        return out
    return [(words[0].rsplit("/", 1)[-1], *words[1:])]


def _dev_reason(ctx: LintContext, facts: StageFacts) -> str | None:
    """Why this image is a development or tool image (not an application), if it is."""
    path = str(ctx.path or "").lower()
    if ".devcontainer" in path or "devcontainer" in path.rsplit("/", 1)[-1]:
        return "a dev container"
    file_tokens = set(re.split(r"[._\-]+", path.rsplit("/", 1)[-1]))
    if file_tokens & DEV_STAGE_NAMES:
        return "its file name marks a development or test image"
    written = (facts.stages[0].base_resolved or facts.stages[0].base).lower()
    if any(marker in written for marker in _DEV_IMAGES):
        return f"built on {facts.stages[0].base}, a development image"
    if ctx.target is None and facts.final.name and set(re.split(r"[._\-]+", facts.final.name)) & DEV_STAGE_NAMES:
        return f"its last stage '{facts.final.label}' is a development target"
    if facts.version_managers:
        return f"it installs language version managers ({', '.join(sorted(facts.version_managers))}): a build environment"
    if any(ins.name == "ONBUILD" for s in facts.stages for ins in s.instructions):
        return "it has ONBUILD triggers (a base image)"
    module_tools = sorted({p for i in facts.installs for p in i.packages if p in ("dkms", "kmod")})
    if module_tools:
        # jessfraz's wireguard:install compiles the module against the host's headers when it runs
        return f"it installs {', '.join(module_tools)}: it builds kernel modules at run time (the compiler is the product)"
    name, args = program(facts.entry)
    if not facts.entry:
        return "it sets no CMD or ENTRYPOINT of its own (a base or tool image)"
    # A shell is interactive only without a script to run: `sh run.sh` is an application's
    # start script, and `sh -c '...'` was unwrapped by program() to the command it runs.
    interactive_shell = name in SHELLS and all(a.startswith("-") for a in args)
    if interactive_shell or name in ("sleep", "tail") or name.startswith("python") and not args:
        return f"it runs `{' '.join(facts.entry)}` (an interactive or tool image)"
    started = _start_commands(facts.entry)
    # `dotnet app.dll` is the runtime host running the application, not the SDK (`dotnet run`):
    # _runs_toolchain counts dotnet only with build/run/watch/restore.
    toolchain_at_start = next((c for c in started if _runs_toolchain(c)), None)
    if toolchain_at_start is not None:
        return f"it runs `{' '.join(toolchain_at_start)}` at start-up (the toolchain is part of the product)"
    if name in IDE_PROGRAMS or name.split(".")[0] in IDE_PROGRAMS:
        return f"it runs `{name}`, an IDE (its SDK is what the image is for)"
    if name in ("dockerd", "dockerd-entrypoint.sh"):
        return "it runs a Docker daemon (a CI build environment)"
    if name in TOOL_ENTRYPOINTS or name.split(".")[0] in TOOL_ENTRYPOINTS or name in ("node", "ruby") and not args:
        return f"it runs `{name}` itself (a toolchain image)"
    if name in ("go", "cargo") or (name in ("npm", "yarn", "pnpm") and args[:2] in (["run", "dev"], ["dev"])):
        return "it runs the toolchain at start-up"
    if name in ("jupyter", "jupyter-lab", "code-server", "start-notebook.sh", "start.sh") or "notebook" in name:
        return f"it runs `{name}` (an interactive environment)"
    return None
