"""Recipes for compiled artifacts: Go, Rust, C, Java, and a Node build served by nginx.

All share one shape: the builder is the original stage up to its last build step (runtime
metadata such as CMD/EXPOSE/LABEL moved out), the runtime stage starts from a small image,
re-creates what the application needs at run time (runtime packages, users and
directories made by setup RUNs, ENV, WORKDIR, the last USER), copies the artifacts to the
*same paths* (so CMD/ENTRYPOINT and scripts keep working), then holds the moved metadata
and everything after the build, comments included.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dockopt.checks.base import LintContext
from dockopt.fixes.split.layout import (
    RUNTIME_META,
    Block,
    StageText,
    arg_lines,
    builder_from,
    copy_from,
    env_lines,
    exec_form,
    install_line,
    runtime_from,
    workdir_after,
)
from dockopt.toolchain.commands import build_step, compiling_install
from dockopt.toolchain.packages import is_build_package, normalise
from dockopt.toolchain.stage import INSTALLERS

SETUP_COMMANDS = frozenset({
    "adduser", "useradd", "addgroup", "groupadd", "usermod", "mkdir", "chown", "chmod", "ln", "touch",
    "update-ca-certificates", "true", "echo", "printf",
})
# Setup commands that change existing paths: repeated in the runtime stage only when every
# path they name is a directory a `mkdir` of the same RUN made (the runtime lacks the
# builder's files: `RUN chmod +x build/app` there fails, or runs twice for nothing).
_PATH_CHANGERS = frozenset({"chown", "chmod", "ln", "touch"})
PACKAGE_HOUSEKEEPING = frozenset({"rm", "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "true"})
# Packages that fetch sources for the build: the runtime does not get them back.
FETCH_TOOLS = frozenset({"git", "openssh", "openssh-client", "mercurial", "subversion", "bzr", "upx", "curl", "wget"})
STATIC_RUNTIME_HAS = frozenset({"ca-certificates", "tzdata"})
TOOL_COMMANDS = frozenset({"go", "cargo", "rustc", "mvn", "mvnw", "gradle", "gradlew", "npm", "yarn", "pnpm", "npx",
                           "make", "gcc", "g++", "cc", "clang", "javac", "dotnet", "pip", "pip3"})


class Decline(Exception):
    """A recipe does not apply; the message says why (shown in the suggestion)."""


@dataclass(slots=True)
class RunRoles:
    """What the RUNs before the last build step mean for the runtime stage."""

    setup: list[Block] = field(default_factory=list)  # user/directory setup: repeated in the runtime
    packages: list[str] = field(default_factory=list)  # non-build packages the runtime needs


@dataclass(slots=True)
class Split:
    recipe: str
    text: str
    runtime_image: str
    builder: str
    artifacts: list[str]
    checks: list[str]


def classify_runs(ctx: LintContext, blocks: list[Block]) -> RunRoles:
    roles = RunRoles()
    for block in blocks:
        if block.name != "RUN":
            continue
        run = ctx.build.run_of(block.instruction)
        if run is None:
            continue
        invs = ctx.invocations(run)
        if not invs:
            continue
        installs = [i for i in invs if INSTALLERS.get(i.name) and _installed(i)]
        if installs:
            for inv in installs:
                roles.packages += [p for p in _installed(inv) if not is_build_package(p) and p not in FETCH_TOOLS]
            continue
        if all(i.name in SETUP_COMMANDS for i in invs) and _self_contained(invs):
            roles.setup.append(block)
    return roles


def _self_contained(invs: list) -> bool:  # type: ignore[type-arg]
    """Every path a chmod/chown/ln/touch of the RUN changes was made by its own ``mkdir``;
    no output redirection (``echo x > /app/conf``) writes a file the runtime lacks."""
    made: set[str] = set()
    for inv in invs:
        words = [a for a in inv.argv if a is not None]
        if len(words) != len(inv.argv) or ">" in inv.text:
            return False
        if inv.name == "mkdir":
            made.update(w.rstrip("/") for w in words if not w.startswith("-"))
        elif inv.name in _PATH_CHANGERS:
            operands = [w for w in words if not w.startswith("-")]
            paths = operands[1:] if inv.name in ("chown", "chmod") else operands
            if inv.name == "ln" or not paths or any(p.rstrip("/") not in made for p in paths):
                return False
    return True


def _installed(inv) -> list[str]:  # type: ignore[no-untyped-def]
    words = [a for a in inv.argv if a is not None]
    sub = next((w for w in words if not w.startswith("-")), None)
    if sub not in ("install", "add"):
        return []
    skip, names = False, []
    for w in words[words.index(sub) + 1 :]:
        if skip:
            skip = False
            continue
        if w in ("--virtual", "-t", "-o", "--repository", "-X"):
            skip = True
            continue
        if not w.startswith("-"):
            names.append(normalise(w))
    virtual = inv.option("--virtual", "-t") if inv.name == "apk" else None
    return [n for n in names if n != virtual]


def last_build_index(ctx: LintContext, blocks: list[Block], kinds: tuple[str, ...] = ("build",)) -> int | None:
    last = None
    for index, block in enumerate(blocks):
        run = ctx.build.run_of(block.instruction) if block.name == "RUN" else None
        if run is None:
            continue
        for inv in ctx.invocations(run):
            step = build_step(inv) or ("install" in kinds and compiling_install(inv)) or None
            if step is not None and step.kind in kinds:
                last = index
    return last


def check_tail(ctx: LintContext, tail: list[Block], artifacts: list[str] = ()) -> None:  # type: ignore[assignment]
    for block in tail:
        run = ctx.build.run_of(block.instruction) if block.name == "RUN" else None
        if run is None:
            continue
        for inv in ctx.invocations(run):
            if inv.name in TOOL_COMMANDS:
                raise Decline(f"line {block.instruction.start_line} still runs `{inv.name}` after the build")
        text = block.instruction.text
        for artifact in artifacts:
            name = artifact.rstrip("/").rsplit("/", 1)[-1]
            if artifact.rstrip("/") in text or (name and re.search(rf"(^|[/\s]){re.escape(name)}($|[\s/;&|])", text)):
                # `RUN cp build/app /usr/local/bin/` after the build: in the runtime stage that
                # RUN finds no build tree, and the copied path may exist only because of it.
                raise Decline(f"the RUN on line {block.instruction.start_line} after the build uses {artifact}")


@dataclass(slots=True)
class Runtime:
    image: str
    family: str  # debian | ubuntu | alpine | distroless | busybox | nginx
    has_shell: bool


def assemble(ctx: LintContext, st: StageText, last: int, builder: str, runtime: Runtime, artifacts: list[str],
             *, prelude: list[str] = (), roles: RunRoles | None = None,  # type: ignore[assignment]
             keep_meta: Callable[[Block], bool] = lambda b: True, extra_runtime: list[str] = (),  # type: ignore[assignment]
             pre_copy: list[str] = (), inherit_config: bool = True,  # type: ignore[assignment]
             ) -> str:
    """The builder + runtime text replacing the stage."""
    blocks = st.blocks
    head, tail = blocks[: last + 1], blocks[last + 1 :]
    roles = roles or classify_runs(ctx, head)
    check_tail(ctx, tail, artifacts)
    if not runtime.has_shell and (roles.setup or any(b.name == "RUN" for b in tail)):
        raise Decline("RUN instructions must run in the runtime stage, which has no shell")
    packages = [p for p in roles.packages if not (runtime.family == "distroless" and p in STATIC_RUNTIME_HAS)]
    if packages and not runtime.has_shell:
        raise Decline(f"the runtime needs packages ({', '.join(packages)}) a distroless image cannot install")
    out = [builder_from(st.stage, builder), *prelude]
    out += [b.text() for b in head if b.name not in RUNTIME_META]
    moved = [b for b in head if b.name in RUNTIME_META] + tail
    runtime_lines: list[str] = []
    install = install_line(runtime.family, packages)
    if install is None:
        raise Decline(f"dockopt cannot install {', '.join(packages)} on {runtime.image}")
    runtime_lines += [install] if install else []
    runtime_lines += [b.text(with_comments=False) for b in roles.setup]
    cwd = workdir_after(head, start=st.base_workdir)
    if inherit_config and cwd is None:
        raise Decline("the stage's working directory is not known (a variable, or the base image's WORKDIR)")
    if inherit_config and cwd != "/":
        runtime_lines.append(f"WORKDIR {cwd}\n")
    if inherit_config:
        runtime_lines += env_lines(head)
    runtime_lines += list(pre_copy)
    runtime_lines += [copy_from(builder, a) for a in artifacts]
    users = [b for b in head if b.name == "USER"]
    if inherit_config and users and not any(b.name == "USER" for b in tail):
        runtime_lines.append(users[-1].text(with_comments=False))
    moved_text: list[str] = []
    for block in moved:
        if not keep_meta(block):
            if block.comment_lines.strip():
                moved_text.append(block.comment_lines)
            continue
        text = block.text()
        if block.name in ("CMD", "ENTRYPOINT") and not runtime.has_shell:
            converted = exec_form(block.instruction)
            if converted is None:
                raise Decline(f"the {block.name} on line {block.instruction.start_line} needs a shell")
            text = block.comment_lines + converted
        if block.name == "HEALTHCHECK" and not runtime.has_shell:
            raise Decline("the HEALTHCHECK needs tools the runtime image lacks")
        moved_text.append(text)
    args = arg_lines(head, "".join(runtime_lines + moved_text + list(extra_runtime)))
    runtime_text = [runtime_from(st.stage, runtime.image), *args, *runtime_lines, *extra_runtime, *moved_text]
    return "".join(out) + "\n" + "".join(runtime_text)
