"""DO402 heavy-final-base: the shipped stage runs on a full image where a slim one exists.

``python:3.12`` -> ``python:3.12-slim``, ``node:20`` -> ``node:20-slim``, ``ruby``/``perl``
likewise, ``debian:bookworm`` -> ``debian:bookworm-slim``, an OpenJDK/Temurin JDK ->
``eclipse-temurin:<v>-jre``, ``golang`` running a prebuilt binary -> distroless/static.
Never alpine for Python (no manylinux wheels on musl: pip builds from source). Ubuntu has
no slim variant and is skipped; so are images whose tag already says slim/alpine, base
references with variables, development/tool images and stages that build with the
toolchain the full image carries (DO401 reports those: never both on one image). Also
silent for a stage on a full node/python/ruby/perl/golang image (built on buildpack-deps)
that itself uses what only that image provides: git/hg/svn (not in
-slim), `gem`/`bundle install` on the full ruby image (native extensions compile with its
gcc), a compiler or build step, and any `go` command on a golang image (`go get` cannot run
on distroless). The fix is a suggestion editing the FROM image: a slim image lacks compilers
and some libraries, which a user must check.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.do401_build_tools_in_final_stage import evidence_of
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers.sizes import human
from dockopt.toolchain.images import IMAGE_SIZES, Lighter, image_size, lighter_variant, toolchain_of
from dockopt.toolchain.stage import StageFacts, shipped_facts


# Programs the -slim and distroless variants lack, which the full images (buildpack-deps) carry.
_FULL_IMAGE_TOOLS = frozenset({"git", "hg", "svn", "bzr", "gcc", "g++", "cc", "c++", "make", "cmake", "autoconf",
                               "automake", "libtool", "pkg-config", "node-gyp"})
# JVM builds need the JDK that a JRE lacks (kafka-manager runs sbt on openjdk:8).
_JDK_TOOLS = frozenset({"sbt", "mvn", "mvnw", "gradle", "gradlew", "javac", "ant", "lein", "jar"})


_COMPILER_PACKAGES = frozenset({"gcc", "g++", "build-essential", "build-base", "clang", "gcc-c++", "cpp"})


def _uses_full_image(ctx: LintContext, facts: StageFacts) -> bool:
    """Whether the shipped stages run something only the full image provides."""
    installed = {p for i in facts.installs for p in i.packages}
    toolchain = toolchain_of(facts.image)
    image = facts.image
    if toolchain == "java" and any(inv.name in _JDK_TOOLS for stage in facts.stages for run in stage.runs
                                   for inv in ctx.invocations(run)):
        return True
    if toolchain not in ("node", "python", "ruby", "go") and not (
            image is not None and image.official and image.name == "perl" and "slim" not in image.tag):
        # debian:bookworm and its -slim both lack compilers and git: what a stage installs
        # with apt works on either, so nothing here depends on the full image.
        return False
    if facts.builds:
        return True
    headers = [p for p in installed if p.endswith(("-dev", "-devel"))]
    if headers and not installed & _COMPILER_PACKAGES:
        # Headers without a compiler of their own: something compiles against them with the full
        # image's gcc (editly: libxext-dev for `npm install -g editly`'s native gl module).
        return True
    for stage in facts.stages:
        for run in stage.runs:
            for inv in ctx.invocations(run):
                if inv.name in _FULL_IMAGE_TOOLS and inv.name not in installed:
                    return True  # `git clone` on node:20 works, on node:20-slim it does not
                if toolchain == "go" and inv.name == "go":
                    return True  # `go get` needs the toolchain; distroless has none
                if toolchain == "ruby" and (inv.name == "gem" and inv.subcommand == "install"
                                            or inv.name == "bundle" and inv.subcommand in (None, "install")):
                    return True  # native extensions (mailcatcher's eventmachine) compile with gcc
    return False


class HeavyFinalBase(Rule):
    code = "DO402"
    name = "heavy-final-base"
    severity = Severity.INFO

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        facts = shipped_facts(ctx)
        if facts is None or facts.dev_reason is not None or facts.image is None:
            return
        root = facts.stages[0]
        if "$" in root.base:
            return
        if evidence_of(facts) is not None:
            return  # the stage builds with its tools: DO401's finding (never both on one image)
        if _uses_full_image(ctx, facts):
            return
        image = facts.image
        path = str(ctx.path or "").lower()
        if "jdk" in image.tag.lower() and "jdk" in path.replace(image.tag.lower(), ""):
            return  # a file of a JDK image variant (docker-library/tomcat's jdk21/...): the JDK is the point
        lighter = lighter_variant(image)
        if lighter is None and toolchain_of(image) == "go" and not facts.builds:
            full = image_size(image)
            lighter = Lighter("gcr.io/distroless/static-debian12", "a static Go binary (CGO_ENABLED=0) needs no "
                              "toolchain and no libc", full - IMAGE_SIZES["distroless-static"] if full else None)
        if lighter is None:
            return
        ins = root.from_instruction
        arg = ins.arguments[0] if ins.arguments else None
        where = "" if root is facts.final else f" (the shipped stage '{facts.final.label}' builds on it)"
        note = " (not alpine: musl has no manylinux wheels, so pip would build from source)" if image.name == "python" else ""
        message = (f"the shipped image is based on the full `{root.base}`{where}; {lighter.image} would save "
                   f"{human(lighter.saves)}: {lighter.why}{note}")
        fix = None
        if arg is not None:
            fix = Fix(Applicability.SUGGESTION,
                      f"Use {lighter.image} (check that nothing at run time needs what the full image adds: "
                      "compilers, headers, extra libraries)", (Edit(arg.start, arg.end, lighter.image),))
        yield Finding.at(ins, message, fix)
