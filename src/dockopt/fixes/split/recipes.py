"""The compiled-artifact recipes: Go, Rust, C, Java, and a Node build served by nginx.

Each recipe finds the artifacts (from the build command's ``-o``, or the program the
image runs), picks the runtime image, and hands both to ``native.assemble``. A recipe
raises ``Decline`` (with the reason) rather than guess: the fix must build.
"""
from __future__ import annotations

import posixpath
import re

from dockopt.checks.base import LintContext
from dockopt.fixes.split.layout import Block, StageText, resolve, stage_name
from dockopt.fixes.split.native import Decline, Runtime, RunRoles, Split, assemble, classify_runs, last_build_index
from dockopt.toolchain.commands import Step
from dockopt.toolchain.images import alpine_version, debian_codename, java_version, parse_image
from dockopt.toolchain.packages import runtime_library
from dockopt.toolchain.stage import StageFacts

_WRAPPERS = ("tini", "dumb-init", "exec", "env", "--")
# Programs an image runs that no build of the stage produced: copying one of these as "the
# binary" (``/usr/local/bin/sh`` from ``CMD ["sh", "-c", ...]``) ships an interpreter and not
# the application.
INTERPRETERS = frozenset({
    "sh", "bash", "ash", "dash", "zsh", "ksh", "python", "python2", "python3", "node", "nodejs", "ruby", "perl",
    "php", "java", "dotnet", "lua", "Rscript", "R", "tclsh", "erl", "elixir", "mix", "iex", "deno", "bun",
    "gunicorn", "uwsgi", "uvicorn", "supervisord", "nginx", "httpd", "apache2", "npm", "yarn", "npx",
})


def entry_program(facts: StageFacts) -> tuple[str, list[str]]:
    """The program word the image runs as written (``./app``, ``/usr/local/bin/app``) and its args."""
    words = list(facts.entry or [])
    while words and (words[0].rsplit("/", 1)[-1] in _WRAPPERS or words[0].startswith("-")):
        words = words[1:]
    return (words[0], words[1:]) if words else ("", [])


def block_index(st: StageText, step: Step, facts: StageFacts) -> int:
    ins = facts.run_of(step).instruction
    return next(i for i, b in enumerate(st.blocks) if b.instruction is ins)


def step_cwd(ctx: LintContext, st: StageText, step: Step, facts: StageFacts) -> str | None:
    """The directory a build step runs in: WORKDIR, then any literal ``cd`` before it in the RUN."""
    cwd = st.workdir(block_index(st, step, facts))
    for inv in ctx.invocations(facts.run_of(step)):
        if inv is step.invocation or inv.start >= step.invocation.start:
            break
        if inv.name == "cd" and not inv.in_subshell:
            target = inv.argv[0] if inv.argv else None
            cwd = resolve(target, cwd) if target else None
    return cwd


def family_of(ctx: LintContext, facts: StageFacts) -> str:
    return ctx.layers.stage_plan(facts.stages[0]).family


def _entry_artifact(facts: StageFacts, st: StageText, search: list[str]) -> str | None:
    """The program the image runs, as an absolute path, when it is one the build can have made."""
    word, _args = entry_program(facts)
    if not word or "$" in word:
        return None
    if re.sub(r"[0-9.]+$", "", word.rsplit("/", 1)[-1]) in INTERPRETERS:
        raise Decline(f"the image runs `{word}`, an interpreter or server, not a program the build made")
    if "/" in word:
        return resolve(word, st.workdir())
    return posixpath.join(search[0], word) if search else None


def _runtime_packages(ctx: LintContext, facts: StageFacts, family: str) -> list[str]:
    """Runtime libraries for the kept -dev packages; Decline on one dockopt does not know."""
    out = []
    for install in facts.kept_installs:
        for tool in install.tools:
            lib = runtime_library(tool, family)
            if lib is None:
                raise Decline(f"dockopt does not know which runtime library replaces {tool}")
            if lib:
                out.append(lib)
    return out


def _shell_runtime(ctx: LintContext, facts: StageFacts, prefer_static: bool = False) -> Runtime:
    image = parse_image(facts.stages[0].base_resolved)
    family = family_of(ctx, facts)
    if family == "alpine":
        return Runtime(f"alpine:{alpine_version(image) or '3.20'}", "alpine", True)
    if family == "ubuntu" and image is not None and image.name == "ubuntu":
        return Runtime(image.written, "ubuntu", True)
    if family == "debian":
        return Runtime(f"debian:{debian_codename(image) or 'bookworm'}-slim", "debian", True)
    raise Decline(f"dockopt has no runtime image for a {family} builder")


def _with_fallback(ctx: LintContext, st: StageText, last: int, builder: str, first: Runtime, fallback: Runtime,
                   artifacts: list[str], **kwargs: object) -> tuple[str, Runtime]:
    try:
        return assemble(ctx, st, last, builder, first, artifacts, **kwargs), first  # type: ignore[arg-type]
    except Decline:
        return assemble(ctx, st, last, builder, fallback, artifacts, **kwargs), fallback  # type: ignore[arg-type]


def go(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    go_steps = [s for s in steps if s.tool == "go"]
    if not go_steps:
        raise Decline("no go build step")
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    artifacts = []
    for step in go_steps:
        if step.output:
            out = resolve(step.output, step_cwd(ctx, st, step, facts))
            if out is None:
                raise Decline(f"the output of `{step.text}` is not a fixed path")
            artifacts.append(out + ("/" if step.output.endswith("/") else ""))
    env = {k: v.value for k, v in facts.final.runs[-1].scope.items()} if facts.final.runs else {}
    if not artifacts:
        gobin = env.get("GOBIN") or posixpath.join(env.get("GOPATH") or "/go", "bin")
        found = _entry_artifact(facts, st, [gobin])
        if found is None:
            raise Decline("neither `-o` nor the image's command names the binary")
        artifacts.append(found)
    cgo = env.get("CGO_ENABLED") == "1" or any(s.invocation.env.get("CGO_ENABLED") == "1" for s in go_steps)
    builder = stage_name(ctx.build, "go", st.stage.name)
    shell = _shell_runtime(ctx, facts)
    if cgo:
        roles = classify_runs(ctx, st.blocks[: last + 1])
        roles.packages += _runtime_packages(ctx, facts, shell.family)
        text = assemble(ctx, st, last, builder, shell, artifacts, roles=roles)
        runtime = shell
    else:
        static = Runtime("gcr.io/distroless/static-debian12", "distroless", False)
        text, runtime = _with_fallback(ctx, st, last, builder, static, shell, artifacts,
                                       prelude=["ENV CGO_ENABLED=0\n"])
    checks = ["the binary is static (the builder sets CGO_ENABLED=0)" if not cgo else
              "the runtime has the C libraries the cgo binary links",
              "files the program reads at run time (templates, config, migrations) are copied too"]
    if runtime.family == "distroless":
        checks.append("distroless has no shell: CMD/ENTRYPOINT are in exec form; the user is root unless USER says")
    return Split("go", text, runtime.image, builder, artifacts, checks)


def rust(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    if not any(s.tool == "cargo" for s in steps):
        raise Decline("no cargo build step")
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    env = facts.final.runs[-1].env() if facts.final.runs else {}
    cargo_bin = posixpath.join(env.get("CARGO_HOME", "/usr/local/cargo"), "bin")
    artifact = _entry_artifact(facts, st, [cargo_bin])
    if artifact is None:
        raise Decline("the image's command does not name the binary")
    runtime = _shell_runtime(ctx, facts)
    builder = stage_name(ctx.build, "rust", st.stage.name)
    roles = classify_runs(ctx, st.blocks[: last + 1])
    roles.packages += ["ca-certificates"] + _runtime_packages(ctx, facts, runtime.family)
    text = assemble(ctx, st, last, builder, runtime, [artifact], roles=roles)
    checks = ["the runtime's glibc is not older than the builder's (same Debian release)",
              "shared libraries the binary links (ldd) are installed", "files the program reads at run time are copied"]
    return Split("rust", text, runtime.image, builder, [artifact], checks)


def c(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    c_steps = [s for s in steps if s.tool in ("cc", "make")]
    if not c_steps:
        raise Decline("no C build step")
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    artifacts = []
    for step in c_steps:
        if step.output:
            out = resolve(step.output, step_cwd(ctx, st, step, facts))
            if out is None:
                raise Decline(f"the output of `{step.text}` is not a fixed path")
            artifacts.append(out)
    entry = _entry_artifact(facts, st, ["/usr/local/bin"])
    explicit = bool(artifacts)
    if not artifacts:
        if entry is None:
            raise Decline("neither `-o` nor the image's command names the program")
        artifacts.append(entry)
    elif entry not in artifacts and not _runs_on_path(facts, artifacts):
        # `gcc -o /usr/local/lib/ext.so` in a Python image: the runtime would get the library
        # and not the application the image runs.
        raise Decline("the image's command does not run the program the build makes")
    static = any(s.invocation.has("-static") for s in c_steps)
    builder = stage_name(ctx.build, "c", st.stage.name)
    if static:
        runtime = Runtime("busybox:latest", "busybox", True)
        roles = classify_runs(ctx, st.blocks[: last + 1])
        if roles.packages:
            raise Decline("busybox cannot install packages")
        if any(i.name in _DISTRO_USER_TOOLS for b in roles.setup for i in ctx.invocations(ctx.build.run_of(b.instruction))):  # type: ignore[arg-type]
            raise Decline("busybox has no useradd/groupadd/usermod for the user setup")
        text = assemble(ctx, st, last, builder, runtime, artifacts, roles=roles)
    else:
        runtime = _shell_runtime(ctx, facts)
        roles = classify_runs(ctx, st.blocks[: last + 1])
        roles.packages += _runtime_packages(ctx, facts, runtime.family)
        text = assemble(ctx, st, last, builder, runtime, artifacts, roles=roles)
    checks = ["shared libraries the program links (ldd) are installed in the runtime",
              "files `make install` put elsewhere (data, man pages, plugins) are copied if needed"]
    # The proven recipes build with `-o`: a program found only through the image's command
    # (`make install` put it there) is a guess at what the build made, so a recipe of its own.
    recipe = ("c-static" if static else "c") if explicit else "c-make"
    return Split(recipe, text, runtime.image, builder, artifacts, checks)


def _runs_on_path(facts: StageFacts, artifacts: list[str]) -> bool:
    """Whether the image's command is a bare name one of the artifacts provides on PATH."""
    word, _args = entry_program(facts)
    on_path = ("/usr/local/bin/", "/usr/bin/", "/usr/local/sbin/", "/usr/sbin/", "/bin/", "/sbin/")
    return bool(word) and "/" not in word and any(
        a.rsplit("/", 1)[-1] == word and a.startswith(on_path) for a in artifacts)


# User tools of a distribution that busybox lacks (its adduser/addgroup take other options).
_DISTRO_USER_TOOLS = frozenset({"useradd", "groupadd", "usermod", "adduser", "addgroup"})
_JAR = re.compile(r"\.(jar|war)$")


def java(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    if not any(s.tool in ("maven", "gradle") for s in steps):
        raise Decline("no maven/gradle build step")
    word, args = entry_program(facts)
    if word.rsplit("/", 1)[-1] != "java" or "-jar" not in args:
        raise Decline("the image does not run `java -jar <file>`")
    jar = args[args.index("-jar") + 1] if args.index("-jar") + 1 < len(args) else ""
    artifact = resolve(jar, st.workdir()) if _JAR.search(jar) else None
    if artifact is None:
        raise Decline("the jar the image runs is not a fixed path")
    image = parse_image(facts.stages[0].base_resolved)
    version = java_version(image)
    if version is None:
        raise Decline("the Java version of the builder image is not in its tag")
    alpine = family_of(ctx, facts) == "alpine"
    runtime = Runtime(f"eclipse-temurin:{version}-jre{'-alpine' if alpine else ''}", "alpine" if alpine else "ubuntu",
                      True)
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    builder = stage_name(ctx.build, "java", st.stage.name)
    text = assemble(ctx, st, last, builder, runtime, [artifact])
    checks = ["the application needs no JDK tools (javac, jlink, JSP compilation) at run time"]
    return Split("java", text, runtime.image, builder, [artifact], checks)


_STATIC_SERVERS = {"serve": ("-s", "--single"), "http-server": (), "live-server": ()}


def node_static(ctx: LintContext, facts: StageFacts, st: StageText, steps: list[Step]) -> Split:
    if not any(s.tool == "js" for s in steps):
        raise Decline("no npm/yarn build step")
    word, args = entry_program(facts)
    name = word.rsplit("/", 1)[-1]
    if name == "npx" and args:
        name, args = args[0], args[1:]
    if name not in _STATIC_SERVERS:
        raise Decline("the image does not serve static files")
    positional = [a for i, a in enumerate(args) if not a.startswith("-") and not (i and args[i - 1] in ("-l", "-p", "--listen", "--port"))]
    directory = resolve(positional[0] if positional else ".", st.workdir())
    if directory is None or directory == "/":
        raise Decline("the directory served is not a fixed path")
    last = last_build_index(ctx, st.blocks)
    assert last is not None
    builder = stage_name(ctx.build, "node", st.stage.name)
    runtime = Runtime("nginx:1.27-alpine", "alpine", True)

    def keep(block: Block) -> bool:  # nginx brings its own command, port and user
        return block.name not in ("CMD", "ENTRYPOINT", "EXPOSE", "USER", "ENV", "WORKDIR", "HEALTHCHECK")

    text = assemble(ctx, st, last, builder, runtime, [], roles=RunRoles(), keep_meta=keep, inherit_config=False,
                    extra_runtime=[f"COPY --from={builder} {directory}/ /usr/share/nginx/html/\n", "EXPOSE 80\n"])
    checks = ["nginx listens on port 80 (publish that port instead of the old one)"]
    if any(a in ("-s", "--single") for a in args):
        checks.append("`serve -s` sent unknown paths to index.html: add `try_files $uri /index.html;` to nginx")
    return Split("node-static", text, runtime.image, builder, [directory + "/"], checks)


RECIPES = {"go": go, "rust": rust, "c": c, "java": java, "node-static": node_static}
