"""DO402 heavy-final-base: the shipped stage runs on a full image where a slim one exists.

``python:3.12`` -> ``python:3.12-slim``, ``node:20`` -> ``node:20-slim``, ``ruby``/``perl``
likewise, ``debian:bookworm`` -> ``debian:bookworm-slim``, an OpenJDK/Temurin JDK ->
``eclipse-temurin:<v>-jre``, ``golang`` running a prebuilt binary -> distroless/static.
Never alpine for Python (no manylinux wheels on musl: pip builds from source). Ubuntu has
no slim variant and is skipped; so are images whose tag already says slim/alpine, base
references with variables, development/tool images and stages that build with the
toolchain the full image carries (DO401 reports those). The fix is a suggestion editing
the FROM image: a slim image lacks compilers and some libraries, which a user must check.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.do401_build_tools_in_final_stage import evidence_of
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers.sizes import human
from dockopt.toolchain.images import IMAGE_SIZES, Lighter, image_size, lighter_variant, toolchain_of
from dockopt.toolchain.stage import shipped_facts


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
        evidence = evidence_of(facts)
        if evidence is not None and evidence[2]:
            return  # the stage builds with the base image's toolchain: DO401's finding
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
