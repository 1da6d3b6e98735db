"""Which Dockerfile line made which image layer, and which build step missed the cache.

``docker history`` (and the image config it comes from) lists one entry per instruction of
the shipped stage chain, oldest first, after the base image's own entries; FROM and ARGs
before the first FROM leave none. Both builders record every other instruction, metadata
ones included (as ``empty_layer`` entries), so the last N entries belong to the N
instructions of the chain. Each pairing is checked by keyword (``RUN``/``COPY``/``ENV``...)
as the builder recorded it, because triggers inherited through ``ONBUILD`` add entries the
Dockerfile does not show; on a mismatch the walk skips whichever side explains it.

Build steps (for the cache report) are named differently by the two builders: the legacy
builder counts every instruction of the file ("Step 7/15"), BuildKit counts the
filesystem-changing ones of each stage ("[build 3/5]", FROM included unless the stage is
built on another stage of the file).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dockopt.model import Build, Stage
from dockopt.syntax import Instruction
from dockopt.verify.build import BuildStep
from dockopt.verify.saved_image import HistoryEntry

INSTRUCTION_KEYWORDS = frozenset({
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
})
# What BuildKit turns into a build step (a vertex of its graph) rather than image metadata.
BUILDKIT_STEP_INSTRUCTIONS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})
_SHORT_TEXT = 60


@dataclass(frozen=True, slots=True)
class MappedEntry:
    """One history entry of a built image, tied to the Dockerfile line that made it."""

    line: int | None  # 1-based line of the instruction; the root FROM's line for base entries
    instruction: str  # keyword as the builder recorded it ("RUN"); "FROM" for base image entries
    text: str  # the instruction as written, shortened, for tables
    size_bytes: int
    is_layer: bool  # False: a metadata-only entry (ENV, CMD, ...): no filesystem layer
    from_base: bool  # part of the base image, not built from this Dockerfile
    layer_index: int | None  # 0-based index among the image's layers (None for metadata)


@dataclass(frozen=True, slots=True)
class MappedStep:
    step: BuildStep
    line: int | None  # None when the step could not be tied to an instruction


def history_keyword(entry: HistoryEntry) -> str | None:
    """The instruction keyword a history entry records, or None for an imported layer.

    Legacy builder: metadata and COPY/ADD are ``/bin/sh -c #(nop) KEYWORD ...``, a RUN is the
    command line itself (``/bin/sh -c ...``, ``|1 ARG=v /bin/sh -c ...`` or the exec form).
    BuildKit: ``KEYWORD ...``, written in upper case (``RUN /bin/sh -c ... # buildkit``).
    """
    text = entry.created_by.strip()
    if not text:
        return None  # `docker import` and scratch-built base layers record no command
    if "#(nop)" in text:
        after = text.split("#(nop)", 1)[1].split()
        return after[0].upper() if after else None
    first = text.split(None, 1)[0]
    # Upper case as written: a legacy exec-form RUN of a command called `env` must not read as ENV.
    if first in INSTRUCTION_KEYWORDS:
        return first
    return "RUN"


def short_text(ins: Instruction, limit: int = _SHORT_TEXT) -> str:
    """The instruction's logical line with runs of blanks collapsed, cut at ``limit``."""
    text = " ".join(ins.logical.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stage_chain(build: Build, target: str | None) -> list[Stage]:
    """The shipped stage and the in-file stages its FROM builds on, root first."""
    return list(reversed(build.shipped_stages(target)))


def map_history(build: Build, target: str | None, history: Sequence[HistoryEntry]) -> list[MappedEntry]:
    """Tie each history entry (oldest first) to its instruction; see the module docstring."""
    chain = stage_chain(build, target)
    if not chain:
        return []
    root_from = chain[0].from_instruction
    expected: list[Instruction] = [ins for stage in chain for ins in stage.instructions]
    paired: dict[int, Instruction] = {}
    i, j = len(history) - 1, len(expected) - 1
    while i >= 0 and j >= 0:
        recorded = history_keyword(history[i])
        if recorded == expected[j].name:
            paired[i] = expected[j]
            i, j = i - 1, j - 1
        elif i > 0 and history_keyword(history[i - 1]) == expected[j].name:
            i -= 1  # an entry the Dockerfile does not show (an ONBUILD trigger)
        else:
            j -= 1  # an instruction the builder recorded no entry for
    base_entries = i + 1  # everything older than the first paired entry is the base image
    out: list[MappedEntry] = []
    layer_index = 0
    for index, entry in enumerate(history):
        ins = paired.get(index)
        is_layer = not entry.empty_layer
        if ins is not None:
            line, keyword, text, base = ins.start_line, ins.name, short_text(ins), False
        elif index < base_entries:
            line, keyword, text, base = root_from.start_line, "FROM", short_text(root_from), True
        else:
            line, keyword, text, base = None, history_keyword(entry) or "?", entry.created_by[:_SHORT_TEXT], False
        out.append(MappedEntry(line, keyword, text, entry.size_bytes, is_layer, base,
                               layer_index if is_layer else None))
        if is_layer:
            layer_index += 1
    return out


# ----------------------------------------------------------------------------------- build steps

_BUILDKIT_NAME = re.compile(r"^\[(?:(?P<stage>.*?)\s+)?(?P<pos>\d+)/(?P<total>\d+)\]\s*(?P<rest>.*)$")
_LEGACY_KEY = re.compile(r"^Step (?P<pos>\d+)/(?P<total>\d+)$")


def map_steps(build: Build, steps: Sequence[BuildStep], buildkit: bool) -> list[MappedStep]:
    """Tie build steps to Dockerfile lines (None where the naming cannot be followed)."""
    if buildkit:
        return [MappedStep(step, _buildkit_line(build, step)) for step in steps]
    instructions = [ins for ins in build.document.instructions if ins.name]
    out = []
    for step in steps:
        m = _LEGACY_KEY.match(step.key)
        line = None
        if m and int(m["total"]) == len(instructions):
            ins = instructions[int(m["pos"]) - 1]
            if _same_keyword(ins, step.name):
                line = ins.start_line
        out.append(MappedStep(step, line))
    return out


def _buildkit_line(build: Build, step: BuildStep) -> int | None:
    m = _BUILDKIT_NAME.match(step.name)
    if m is None:
        return None
    stage = _buildkit_stage(build, m["stage"] or "")
    if stage is None:
        return None
    candidates = [ins for ins in stage.instructions if ins.name in BUILDKIT_STEP_INSTRUCTIONS]
    if stage.base_stage is None:
        candidates.insert(0, stage.from_instruction)  # FROM is step 1 unless the base is a stage
    pos, total = int(m["pos"]), int(m["total"])
    if total != len(candidates) or not 1 <= pos <= total:
        return None
    ins = candidates[pos - 1]
    return ins.start_line if _same_keyword(ins, m["rest"]) else None


def _buildkit_stage(build: Build, label: str) -> Stage | None:
    if not label:
        return build.stages[-1] if len(build.stages) == 1 else None
    if label.startswith("stage-") and label[6:].isdigit():
        index = int(label[6:])
        return build.stages[index] if index < len(build.stages) else None
    return build.stage(label)


def _same_keyword(ins: Instruction, shown: str) -> bool:
    words = shown.split(None, 1)
    return bool(words) and words[0].upper() == ins.name
