"""The text side of a split: a stage cut into instruction blocks, and new stage text.

A *block* is one instruction of the stage with the comment and blank lines directly above
it, so that moving an instruction between the builder and the runtime stage moves its
comments too (a fix never loses a comment). The replaced range runs from the FROM line to
the end of the stage's last instruction; trivia after it is left where it is.
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

from dockopt.model import Build, Stage
from dockopt.syntax import Instruction
from dockopt.toolchain.images import image_workdir, parse_image

# Instructions that only describe how the image runs: they move to the runtime stage.
RUNTIME_META = frozenset({"CMD", "ENTRYPOINT", "EXPOSE", "HEALTHCHECK", "LABEL", "STOPSIGNAL", "VOLUME", "ONBUILD"})
# ENV variables that configure a build only; the runtime stage does not need them.
BUILD_ONLY_ENV = re.compile(
    r"^(CGO_ENABLED|GO[A-Z0-9_]*|CARGO_[A-Z_]*|RUSTFLAGS|MAVEN_[A-Z_]*|GRADLE_[A-Z_]*|PIP_[A-Z_]*|"
    r"npm_config_[a-z_]*|NPM_CONFIG_[A-Z_]*|YARN_[A-Z_]*|CC|CXX|CFLAGS|CXXFLAGS|LDFLAGS|DEBIAN_FRONTEND)$"
)
_SHELL_SPECIAL = re.compile(r"[$;&|<>()`*?\[\]{}~'\"\\#\n]")


@dataclass(frozen=True, slots=True)
class Block:
    instruction: Instruction
    leading: str  # comment and blank lines directly above the instruction

    @property
    def name(self) -> str:
        return self.instruction.name

    def text(self, with_comments: bool = True) -> str:
        body = self.instruction.text
        if not body.endswith("\n"):
            body += "\n"
        return (self.leading if with_comments else "") + body

    @property
    def comments(self) -> str:
        return self.leading

    @property
    def comment_lines(self) -> str:
        """The comments that must survive when the instruction itself is rewritten or
        dropped: the lines above it, then the comment lines inside its continuation
        (BuildKit skips those, but they are the author's)."""
        return self.leading + "".join(f"{line}\n" for line in self.instruction.inner_comment_lines)


@dataclass(frozen=True, slots=True)
class StageText:
    stage: Stage
    blocks: list[Block]
    start: int  # source offset of the FROM line
    end: int  # just past the stage's last instruction line
    # The working directory the stage starts in (the base image's WORKDIR: /go for golang);
    # None when dockopt does not know it, so that no relative path is resolved against a guess.
    base_workdir: str | None = "/"

    def workdir(self, upto: int | None = None) -> str | None:
        """The working directory after ``blocks[:upto]``, starting from the base image's."""
        return workdir_after(self.blocks, upto, start=self.base_workdir)


def stage_text(build: Build, stage: Stage) -> StageText:
    source = build.document.source
    previous_end = stage.from_instruction.line_end
    blocks = []
    for ins in stage.instructions:
        blocks.append(Block(ins, source[previous_end : ins.line_start]))
        previous_end = ins.line_end
    base_workdir = image_workdir(parse_image(stage.base_resolved)) if stage.base_stage is None else None
    return StageText(stage, blocks, stage.from_instruction.line_start, previous_end, base_workdir)


def stage_name(build: Build, tool: str, reserved: str | None = None) -> str:
    """A stage name after the tool (``go-build``), else ``build``, that no stage uses yet."""
    taken = {s.name for s in build.stages if s.name} | ({reserved.lower()} if reserved else set())
    for candidate in (f"{tool}-build", "build", *(f"{tool}-build-{n}" for n in range(2, 50))):
        if candidate not in taken:
            return candidate
    return f"{tool}-build-x"


def keyword(ins: Instruction, name: str) -> str:
    """``name`` in the casing the file uses for its FROM keyword."""
    return name.lower() if ins.keyword.islower() else name


def builder_from(stage: Stage, name: str) -> str:
    """The stage's FROM line, renamed to the builder's name (``AS`` in the file's casing)."""
    ins = stage.from_instruction
    text = ins.text if ins.text.endswith("\n") else ins.text + "\n"
    as_word = keyword(ins, "AS")
    if stage.name_written is not None and len(ins.arguments) >= 3:
        arg = ins.arguments[2]
        a, b = arg.start - ins.line_start, arg.end - ins.line_start
        return text[:a] + name + text[b:]
    end = ins.end - ins.line_start
    return text[:end] + f" {as_word} {name}" + text[end:]


def runtime_from(stage: Stage, image: str) -> str:
    ins = stage.from_instruction
    line = f"{keyword(ins, 'FROM')} {image}"
    if stage.name_written:
        line += f" {keyword(ins, 'AS')} {stage.name_written}"
    return line + "\n"


def workdir_after(blocks: list[Block], upto: int | None = None, start: str | None = "/") -> str | None:
    """The working directory after ``blocks[:upto]``; None when a WORKDIR uses a variable or
    a relative one follows an unknown start."""
    cwd: str | None = start
    for block in blocks[:upto]:
        if block.name == "WORKDIR" and block.instruction.values:
            target = block.instruction.values[0]
            if "$" in target or (cwd is None and not target.startswith("/")):
                cwd = None
                continue
            cwd = posixpath.normpath(posixpath.join(cwd or "/", target))
    return cwd


def resolve(path: str, cwd: str | None) -> str | None:
    if "$" in path or any(ch in path for ch in "*?["):
        return None
    if path.startswith("/"):
        return posixpath.normpath(path)
    if cwd is None:
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def exec_form(ins: Instruction) -> str | None:
    """A CMD/ENTRYPOINT in exec form (for images without a shell); None when the shell matters."""
    if ins.is_json:
        return ins.text if ins.text.endswith("\n") else ins.text + "\n"
    if ins.is_continued or _SHELL_SPECIAL.search(ins.args_text) or not ins.args_text.strip():
        return None
    words = ins.args_text.split()
    return f"{ins.keyword} {json.dumps(words)}\n"


def env_lines(blocks: list[Block]) -> list[str]:
    """ENV instructions a runtime needs too (build-only variables left out)."""
    out = []
    for block in blocks:
        if block.name != "ENV":
            continue
        values = block.instruction.values
        names = [values[i] for i in range(0, len(values) - 2, 3)]
        if names and all(BUILD_ONLY_ENV.match(n) for n in names):
            continue
        out.append(block.text(with_comments=False))
    return out


def uses_variable(text: str, name: str) -> bool:
    return re.search(r"\$\{?" + re.escape(name) + r"\b", text) is not None


def arg_lines(blocks: list[Block], used_by: str) -> list[str]:
    """ARG declarations whose variables the runtime text uses (a new stage forgets them)."""
    out = []
    for block in blocks:
        if block.name == "ARG" and any(uses_variable(used_by, v.split("=", 1)[0]) for v in block.instruction.values):
            out.append(block.text(with_comments=False))
    return out


def install_line(family: str, packages: list[str]) -> str | None:
    """A runtime package install in the family's idiom (cache left out of the layer)."""
    if not packages:
        return ""
    names = " ".join(sorted(set(packages)))
    if family == "alpine":
        return f"RUN apk add --no-cache {names}\n"
    if family in ("debian", "ubuntu"):
        return ("RUN apt-get update \\\n    && apt-get install -y --no-install-recommends "
                f"{names} \\\n    && rm -rf /var/lib/apt/lists/*\n")
    return None


def copy_from(builder: str, source: str, dest: str | None = None) -> str:
    return f"COPY --from={builder} {source} {dest or source}\n"
