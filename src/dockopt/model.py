"""The build model: stages, base images, ARG/ENV scope and what each RUN executes.

Built from a parsed ``Document``; read by the layer simulator and the rules. It knows what
BuildKit knows before building: which stage an instruction belongs to, which variables are
set (and whether their values are known), which shell a RUN uses and the exact script text
it receives, with a map from script offsets back to the Dockerfile.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockopt.syntax import Document, Instruction

if TYPE_CHECKING:
    from dockopt.shell import Script

DEFAULT_SHELL = ("/bin/sh", "-c")
WINDOWS_SHELL = ("cmd", "/S", "/C")  # Docker's default SHELL on Windows images
# Shells whose scripts we understand; anything else (PowerShell, cmd) is analysed as nothing.
POSIX_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    value: str | None  # None: declared without a known value (build-arg or unknown)
    kind: str  # "arg" | "env"
    instruction: Instruction | None


def substitute(text: str, scope: dict[str, Variable]) -> str | None:
    """Replace ``$X``/``${X}`` with known values; None if any variable is unknown."""
    unknown = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unknown
        var = scope.get(m.group(1) or m.group(4))
        if var is None or var.value is None:
            unknown = True
            return m.group(0)
        operator, word = m.group(2), m.group(3) or ""
        # BuildKit's modifiers: ${X:-word} is word when X is empty (or unset), ${X-word} only when
        # unset; ${X:+word} is word when X is non-empty, ${X+word} when set. A declared variable
        # is set: `ARG SOURCE=` then `${SOURCE:-other}file.txt` names otherfile.txt.
        if (operator == ":-" and not var.value) or operator == "+" or (operator == ":+" and var.value):
            alternative = substitute(word, scope)
            unknown = unknown or alternative is None
            return alternative or ""
        if operator == ":+":
            return ""
        return var.value

    result = _VAR.sub(repl, text)
    return None if unknown else result


@dataclass(slots=True)
class ScriptSource:
    """The text a shell runs, with a map back to Dockerfile offsets.

    ``pieces`` are (script offset, source offset, length) runs; text between runs (such as
    the newline we add between a command line and its heredoc body) maps to the nearest run.
    """

    text: str
    pieces: list[tuple[int, int, int]]

    def to_source(self, offset: int) -> int:
        best = self.pieces[0] if self.pieces else (0, 0, 0)
        for piece in self.pieces:
            if piece[0] <= offset:
                best = piece
            else:
                break
        script_start, source_start, length = best
        return source_start + max(0, min(offset - script_start, length))


@dataclass(eq=False)
class Run:
    """What a RUN instruction executes."""

    instruction: Instruction
    stage: Stage
    shell: tuple[str, ...]
    scope: dict[str, Variable]
    mounts: list[dict[str, str]]

    @property
    def exec_form(self) -> bool:
        return self.instruction.is_json

    @property
    def posix(self) -> bool:
        """Whether dockopt can analyse the script (POSIX-like shell)."""
        if self.exec_form:
            argv = self.instruction.values
            return len(argv) >= 3 and _basename(argv[0]) in POSIX_SHELLS and argv[1] == "-c"
        return bool(self.shell) and _basename(self.shell[0]) in POSIX_SHELLS

    @functools.cached_property
    def source(self) -> ScriptSource | None:
        """The script the shell receives, or None when there is none we can analyse."""
        ins = self.instruction
        if not self.posix:
            return None
        if ins.is_json:
            start = ins.arguments[2].start if len(ins.arguments) > 2 else ins.start
            return ScriptSource(ins.values[2], [(0, start, 0)])
        args_src = ins.to_source(ins.args_start)
        text = ins.args_text
        pieces = [(0, args_src, len(text))]
        if len(ins.segments) > 1:
            pieces = []
            for seg in ins.segments:
                lo = max(seg.logical_start, ins.args_start)
                hi = seg.logical_start + seg.length
                if hi > lo:
                    pieces.append((lo - ins.args_start, seg.source_start + lo - seg.logical_start, hi - lo))
        if ins.heredocs:
            # BuildKit: a RUN whose command is only the heredoc runs the body as the script;
            # otherwise the shell gets the command line followed by the heredoc bodies.
            first = ins.heredocs[0]
            if len(ins.heredocs) == 1 and re.fullmatch(r"\d*<<-?\s*\S+", text.strip()):
                body = first.content
                return ScriptSource(body, [(0, first.body_start, len(body))])
            for doc in ins.heredocs:
                text += "\n"
                pieces.append((len(text), doc.body_start, len(doc.content)))
                text += doc.content + doc.name
        return ScriptSource(text, pieces)

    @functools.cached_property
    def script(self) -> Script | None:
        """The parsed shell script (tree-sitter-bash), or None when not analysable."""
        if self.source is None:
            return None
        from dockopt.shell import parse_script

        return parse_script(self.source.text)

    def env(self) -> dict[str, str]:
        return {k: v.value for k, v in self.scope.items() if v.value is not None}


@dataclass(slots=True)
class Stage:
    index: int
    from_instruction: Instruction
    base: str  # image reference as written
    base_resolved: str | None  # with global ARGs substituted, when known
    name: str | None  # lower-cased, as BuildKit compares stage names
    name_written: str | None
    instructions: list[Instruction] = field(default_factory=list)
    base_stage: Stage | None = None
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name_written or str(self.index)


@dataclass(slots=True)
class Build:
    document: Document
    global_args: dict[str, Variable]
    stages: list[Stage]
    runs_by_instruction: dict[int, Run]

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (case-insensitive) or index, as ``COPY --from`` resolves it."""
        ref_l = ref.lower()
        for stage in self.stages:
            if stage.name == ref_l:
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def final_stage(self, target: str | None = None) -> Stage | None:
        if target:
            return self.stage(target)
        return self.stages[-1] if self.stages else None

    def run_of(self, instruction: Instruction) -> Run | None:
        return self.runs_by_instruction.get(id(instruction))

    def shipped_stages(self, target: str | None = None) -> list[Stage]:
        """The final stage and the stages its FROM chain builds on (their layers ship too)."""
        out: list[Stage] = []
        stage = self.final_stage(target)
        while stage is not None and stage not in out:
            out.append(stage)
            stage = stage.base_stage
        return out

    def needed_stages(self, target: str | None = None) -> list[Stage]:
        """The stages a build of ``target`` (the final stage by default) runs, in build order:
        BuildKit builds only that stage, the stages it builds FROM and every stage named by
        ``COPY --from`` or ``RUN --mount=from=`` in them, transitively."""
        final = self.final_stage(target)
        if final is None:
            return []
        needed: set[int] = set()
        pending = [final.index]
        while pending:
            index = pending.pop()
            if index in needed:
                continue
            needed.add(index)
            stage = self.stages[index]
            if stage.base_stage is not None:
                pending.append(stage.base_stage.index)
            for ins in stage.instructions:
                refs = ins.flag_values("from")
                for mount in ins.flag_values("mount"):
                    for part in mount.split(","):
                        key, _, value = part.partition("=")
                        if key.strip().lower() == "from":
                            refs.append(value.strip())
                for ref in refs:
                    found = self.stage(ref)
                    if found is not None:
                        pending.append(found.index)
        return [stage for stage in self.stages if stage.index in needed]


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1].lower().removesuffix(".exe")


def _parse_mount(spec: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in spec.split(","):
        key, eq, value = part.partition("=")
        out[key.strip().lower()] = value.strip() if eq else "true"
    return out


def _declare(ins: Instruction, scope: dict[str, Variable], inherited: dict[str, Variable]) -> None:
    """ARG: each word is NAME or NAME=default; a bare NAME takes the global default."""
    for word in ins.values:
        name, eq, value = word.partition("=")
        if eq:
            resolved = substitute(_unquote(value), scope)
            scope[name] = Variable(name, resolved, "arg", ins)
        elif name in inherited:
            scope[name] = Variable(name, inherited[name].value, "arg", ins)
        else:
            scope[name] = Variable(name, None, "arg", ins)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def build_model(document: Document) -> Build:
    global_args: dict[str, Variable] = {}
    stages: list[Stage] = []
    runs: dict[int, Run] = {}
    scope: dict[str, Variable] = {}
    shell: tuple[str, ...] = DEFAULT_SHELL
    current: Stage | None = None
    for ins in document.instructions:
        if ins.name == "FROM":
            values = ins.values
            base = values[0] if values else ""
            name_written = values[2] if len(values) >= 3 and values[1].lower() == "as" else None
            resolved = substitute(base, global_args)
            current = Stage(
                index=len(stages),
                from_instruction=ins,
                base=base,
                base_resolved=resolved,
                name=name_written.lower() if name_written else None,
                name_written=name_written,
            )
            parent = next((s for s in stages if resolved is not None and s.name == resolved.lower()), None)
            current.base_stage = parent
            # A stage built on another stage inherits its ENV (and SHELL); ARGs do not carry over.
            scope = _stage_env(parent) if parent else {}
            shell = _stage_shell(parent, document.escape) if parent else _default_shell(resolved or base, document.escape)
            stages.append(current)
            continue
        if current is None:
            if ins.name == "ARG":
                _declare(ins, global_args, {})
            continue
        current.instructions.append(ins)
        if ins.name == "ARG":
            _declare(ins, scope, global_args)
        elif ins.name == "ENV":
            values = ins.values
            for i in range(0, len(values) - 2, 3):
                value = _unquote(values[i + 1]) if values[i + 2] == "=" else values[i + 1]
                scope[values[i]] = Variable(values[i], substitute(value, scope), "env", ins)
        elif ins.name == "SHELL" and ins.is_json and ins.values:
            shell = tuple(ins.values)
        elif ins.name == "RUN":
            mounts = [_parse_mount(v) for v in ins.flag_values("mount")]
            run = Run(ins, current, shell, dict(scope), mounts)
            current.runs.append(run)
            runs[id(ins)] = run
    return Build(document, global_args, stages, runs)


def _stage_env(stage: Stage) -> dict[str, Variable]:
    env: dict[str, Variable] = _stage_env(stage.base_stage) if stage.base_stage else {}
    for ins in stage.instructions:
        if ins.name == "ENV":
            values = ins.values
            for i in range(0, len(values) - 2, 3):
                env[values[i]] = Variable(values[i], _unquote(values[i + 1]), "env", ins)
    return env


def _default_shell(image: str, escape: str = "\\") -> tuple[str, ...]:
    """The shell a RUN gets without SHELL: cmd on a Windows image, /bin/sh elsewhere. An image
    of unknown family in a file whose escape character is the backtick is taken for Windows:
    that directive exists for Windows paths (``C:\\``), and a Linux file has no use for it. Its
    RUNs then run under cmd.exe, which dockopt does not analyse (a ``&&`` merge proven under sh
    would prove nothing there)."""
    from dockopt.layers.base_images import family_of

    family = family_of(image)
    if family == "windows" or (family == "unknown" and escape == "`"):
        return WINDOWS_SHELL
    return DEFAULT_SHELL


def _stage_shell(stage: Stage, escape: str = "\\") -> tuple[str, ...]:
    shell = (_stage_shell(stage.base_stage, escape) if stage.base_stage
             else _default_shell(stage.base_resolved or stage.base, escape))
    for ins in stage.instructions:
        if ins.name == "SHELL" and ins.is_json and ins.values:
            shell = tuple(ins.values)
    return shell
