"""Recipes for interpreted runtimes: Python with compiled wheels, a Node server.

Python: the builder is the original stage with its pip installs turned into ``pip wheel
--wheel-dir /wheels``; the runtime (the ``-slim`` variant of the same python image) drops
the compiler installs, installs the runtime libraries the ``-dev`` packages stood for, and
installs from the wheels through a BuildKit bind mount (the wheels never reach a layer).
Node: the builder runs the build; the runtime (``-slim``) installs production dependencies
only and copies the build output directory the server runs from.
"""
from __future__ import annotations

import posixpath
import shlex

from dockopt.checks.base import LintContext
from dockopt.fixes.split.layout import (
    RUNTIME_META,
    StageText,
    builder_from,
    install_line,
    resolve,
    runtime_from,
    stage_name,
)
from dockopt.fixes.split.native import Decline, RunRoles, Runtime, Split, assemble, last_build_index
from dockopt.fixes.split.recipes import entry_program, family_of
from dockopt.toolchain.commands import Step
from dockopt.toolchain.images import lighter_variant, parse_image
from dockopt.toolchain.packages import is_build_package, normalise, runtime_library
from dockopt.toolchain.stage import INSTALLERS, StageFacts

_HOUSEKEEPING = frozenset({"rm", "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "true", "pip", "pip3", "python",
                           "python3"})
_PIP_VALUE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
                                "-f", "--find-links", "--trusted-host"})


def _pip_args(step: Step) -> list[str]:
    """The requirement arguments of a pip install (``-r file``, names, index options)."""
    argv = [a for a in step.invocation.argv if a is not None]
    if len(argv) != len(step.invocation.argv):
        raise Decline(f"`{step.text}` has arguments dockopt cannot read")
    if step.invocation.name.startswith("python"):
        argv = argv[2:]
    argv = argv[argv.index("install") + 1 :] if "install" in argv else []
    out: list[str] = []
    take_value = False
    for arg in argv:
        if take_value:
            out.append(arg)
            take_value = False
        elif arg in _PIP_VALUE_OPTIONS:
            out.append(arg)
            take_value = True
        elif arg.startswith(tuple(o + "=" for o in _PIP_VALUE_OPTIONS if o.startswith("--"))) or arg == "--pre":
            out.append(arg)
        elif arg.startswith("-"):
            if arg in ("-e", "--editable"):
                raise Decline("an editable install cannot come from wheels")
            continue
        elif arg.startswith((".", "/")) or arg.endswith((".whl", ".tar.gz", ".zip")):
            raise Decline(f"`{step.text}` installs a local path")
        else:
            out.append(arg)
    if not out:
        raise Decline(f"`{step.text}` names nothing to install")
    return out


def python(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    pip_steps = [s for s in steps if s.tool == "pip" and s.invocation.name in ("pip", "pip3", "python", "python3")]
    if not pip_steps:
        raise Decline("no pip install to build wheels for")
    image = parse_image(facts.stages[0].base_resolved)
    if image is None or not image.official or image.name != "python":
        raise Decline("the base is not an official python image")
    lighter = lighter_variant(image)
    runtime_image = lighter.image if lighter else image.written
    family = family_of(ctx, facts)
    builder = stage_name(ctx.build, "python", st.stage.name)
    pip_runs = {id(facts.run_of(s).instruction): [t for t in pip_steps if facts.run_of(t) is facts.run_of(s)]
                for s in pip_steps}
    tool_runs = {id(i.run.instruction) for i in facts.kept_installs}
    packages: list[str] = []
    for install in facts.kept_installs:
        for name in install.packages:
            if not is_build_package(name):
                packages.append(name)
                continue
            lib = runtime_library(name, family)
            if lib is None:
                raise Decline(f"dockopt does not know which runtime library replaces {name}")
            if lib:
                packages.append(lib)
    builder_lines = [builder_from(st.stage, builder)]
    runtime_lines = [runtime_from(st.stage, runtime_image)]
    install = install_line(family, packages)
    if install is None:
        raise Decline(f"dockopt cannot install runtime libraries on {runtime_image}")
    runtime_lines.append(install)
    last_pip = max(i for i, b in enumerate(st.blocks) if id(b.instruction) in pip_runs)
    for index, block in enumerate(st.blocks):
        key = id(block.instruction)
        if key in tool_runs or key in pip_runs:
            run = ctx.build.run_of(block.instruction)
            assert run is not None
            others = [i for i in ctx.invocations(run) if i.name not in _HOUSEKEEPING and not INSTALLERS.get(i.name)]
            if others or block.instruction.is_json or block.instruction.heredocs:
                raise Decline(f"the RUN on line {block.instruction.start_line} does more than install packages")
        if key in pip_runs:
            args = [" ".join(shlex.quote(a) for a in _pip_args(s)) for s in pip_runs[key]]
            wheel = " && ".join(f"pip wheel --no-cache-dir --wheel-dir /wheels {a}" for a in args)
            user = " --user" if any(s.invocation.has("--user") for s in pip_runs[key]) else ""
            install_cmd = " && ".join(f"pip install --no-cache-dir{user} --no-index --find-links=/wheels {a}"
                                      for a in args)
            if key in tool_runs:  # compilers and the pip install in one RUN
                builder_lines.append(_tool_install_text(ctx, block))
            builder_lines.append(f"RUN {wheel}\n")
            runtime_lines.append(block.comment_lines + f"RUN --mount=type=bind,from={builder},source=/wheels,target=/wheels "
                                 f"{install_cmd}\n")
            continue
        if key in tool_runs:
            if index < last_pip:
                builder_lines.append(block.text())
            elif block.comment_lines.strip():
                runtime_lines.append(block.comment_lines)
            continue
        if index <= last_pip and block.name not in RUNTIME_META and block.name != "USER":
            builder_lines.append(block.text(with_comments=False) if block.name != "RUN" else block.text(False))
        runtime_lines.append(block.text())
    text = "".join(builder_lines) + "\n" + "".join(runtime_lines)
    checks = ["every C library the compiled packages load is installed in the runtime",
              "the build runs with BuildKit (RUN --mount)"]
    return Split("python", text, runtime_image, builder, ["/wheels"], checks)


def _tool_install_text(ctx: LintContext, block) -> str:  # type: ignore[no-untyped-def]
    """The package-install part of a RUN that also runs pip: its install commands, joined."""
    run = ctx.build.run_of(block.instruction)
    parts = [i.text for i in ctx.invocations(run) if INSTALLERS.get(i.name)]  # type: ignore[arg-type]
    return "RUN " + " \\\n    && ".join(p.strip() for p in parts) + "\n"


def node_server(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    if not any(s.tool == "js" for s in steps):
        raise Decline("no npm build step")
    if any(s.invocation.name in ("pnpm", "bun") for s in facts.builds + facts.compiling_installs):
        raise Decline("pnpm/bun installs are not handled")
    word, args = entry_program(facts)
    if word.rsplit("/", 1)[-1] != "node" or not args or args[0].startswith("-"):
        raise Decline("the image does not run `node <file>`")
    cwd = st.workdir()
    script = resolve(args[0], cwd)
    if script is None or cwd in (None, "/") or not script.startswith(cwd.rstrip("/") + "/"):
        raise Decline("the file node runs is not under the WORKDIR")
    top = script[len(cwd.rstrip("/")) + 1 :].split("/", 1)[0]
    if top == "node_modules" or "/" not in script[len(cwd.rstrip("/")) + 1 :]:
        raise Decline("the server is not inside a build output directory")
    image = parse_image(facts.stages[0].base_resolved)
    if image is None or image.name != "node":
        raise Decline("the base is not an official node image")
    lighter = lighter_variant(image)
    runtime = Runtime(lighter.image if lighter else image.written, family_of(ctx, facts), True)
    yarn = any(s.invocation.name == "yarn" for s in facts.builds + facts.compiling_installs)
    used_ci = any(s.invocation.name == "npm" and "ci" in s.invocation.argv for s in facts.compiling_installs)
    manifests = "COPY package.json yarn.lock ./\n" if yarn else "COPY package*.json ./\n"
    prod = ("RUN yarn install --frozen-lockfile --production && yarn cache clean\n" if yarn else
            f"RUN npm {'ci' if used_ci else 'install'} --omit=dev && npm cache clean --force\n")
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    builder = stage_name(ctx.build, "node", st.stage.name)
    text = assemble(ctx, st, last, builder, runtime, [posixpath.join(cwd, top)], roles=RunRoles(),
                    pre_copy=[manifests, prod])
    checks = ["other files the server reads at run time (views, public/, config) are copied too",
              "native modules in production dependencies build on the -slim image (or come from the builder)"]
    return Split("node-server", text, runtime.image, builder, [posixpath.join(cwd, top) + "/"], checks)


RECIPES = {"python": python, "node-server": node_server}
__all__ = ["RECIPES", "normalise"]
