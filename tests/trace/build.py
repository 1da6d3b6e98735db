"""A Dockerfile as the harness builds it: per stage, the steps that run or touch the root.

Stages are built in file order (as the classic builder does; BuildKit skips stages the
target does not need, which can only hide differences), each from a fresh root or, when it
is built ``FROM`` an earlier stage, from a copy of that stage's finished root. Steps:

- ``RunStep``: the argv the builder executes (``SHELL`` + script for shell form, the heredoc
  body when the RUN is only a heredoc, the JSON array for exec form), in the stage's
  ``WORKDIR``, with its ``ENV`` and ``ARG`` values (defaults) in the environment;
- ``DirStep``: ``WORKDIR`` creates its directory (and RUN mount targets exist);
- ``CopyStep``: ``COPY``/``ADD`` destinations exist afterwards (directories, and empty stub
  files for file sources), so later ``cd`` and tests see them.

What the harness cannot run raises ``Unprovable`` with the reason (a PowerShell/cmd SHELL, a
shell it does not have, a heredoc run by another interpreter, a file that does not parse).
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockopt.model import Build, Run, Variable, build_model, substitute
from dockopt.syntax import Instruction, parse
from tests.trace import world
from tests.trace.sandbox import Layout


class Unprovable(Exception):
    """The harness cannot run this build; the message says why (one line)."""


@dataclass(frozen=True, slots=True)
class RunStep:
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cwd: str
    user: str
    line: int
    index: int  # the instruction's position in the document (for the common-prefix shortcut)
    unset_args: tuple[str, ...] = ()  # ARGs in scope without a value (no default, no --build-arg)


@dataclass(frozen=True, slots=True)
class DirStep:
    path: str
    index: int


@dataclass(frozen=True, slots=True)
class CopyStep:
    dest: str  # absolute
    sources: tuple[str, ...]
    into_dir: bool  # the destination is a directory (trailing /, several or directory sources)
    index: int


Step = RunStep | DirStep | CopyStep


@dataclass(slots=True)
class StagePlan:
    index: int
    base: int | None  # the earlier stage it is built FROM, if any
    steps: list[Step] = field(default_factory=list)
    workdir: str = "/"
    user: str = "root"


@dataclass(slots=True)
class Plan:
    stages: list[StagePlan]
    texts: list[str]  # every script and argv word, for the layout
    instruction_texts: list[str]  # every instruction's source text, in order


POSIX_SHELL_NAMES = {"sh": "/bin/sh", "ash": "/bin/sh", "dash": "/usr/bin/dash", "bash": "/bin/bash"}
NON_POSIX = {"cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh", "pwsh.exe"}
UNAVAILABLE_SHELLS = {"zsh", "ksh", "mksh", "busybox", "fish", "csh", "tcsh"}


def _shell_argv(argv: list[str]) -> list[str]:
    """The shell the builder would start, mapped to the harness's (or Unprovable)."""
    name = posixpath.basename(argv[0]).lower()
    if name == "busybox" and len(argv) > 1 and posixpath.basename(argv[1]) in ("sh", "ash"):
        # ``busybox sh -c ...`` (kaniko's scratch stages): busybox's ash is a POSIX shell, which
        # dash and bash stand in for as they do for an image's /bin/sh; another applet
        # (``busybox mkdir``) is a command like any other, a stub.
        return ["/bin/sh", *argv[2:]]
    if name == "busybox":
        return argv
    if name in NON_POSIX:
        raise Unprovable(f"runs {argv[0]} (not a POSIX shell)")
    if name in UNAVAILABLE_SHELLS:
        raise Unprovable(f"runs {argv[0]}, which the harness does not have")
    if name in POSIX_SHELL_NAMES:
        # An absolute path where the root has the shell (/bin, /usr/bin) is kept; elsewhere
        # (kaniko's SHELL ["/usr/local/bin/bash", "-c"]) it is the same shell at the usual place.
        where = posixpath.dirname(argv[0])
        mapped = argv[0] if where in ("/bin", "/usr/bin") and name != "ash" else POSIX_SHELL_NAMES[name]
        return [mapped, *argv[1:]]
    return argv


def _run_argv(run: Run) -> list[str]:
    ins = run.instruction
    if ins.is_json:
        argv = list(ins.values)
        if not argv:
            raise Unprovable(f"line {ins.start_line}: an empty exec-form RUN")
        return _shell_argv(argv)
    if not run.shell:
        raise Unprovable(f"line {ins.start_line}: an empty SHELL")
    shell = _shell_argv(list(run.shell))
    source = run.source
    if source is None:
        raise Unprovable(f"line {ins.start_line}: the builder runs it with {run.shell[0]}")
    script = source.text
    heredoc_only = len(ins.heredocs) == 1 and re.fullmatch(r"\d*<<-?\s*\S+", ins.args_text.strip()) is not None
    if heredoc_only and script.startswith("#!"):
        # BuildKit runs a heredoc with a shebang as a file, by that interpreter.
        line = script.split("\n", 1)[0][2:].split()
        if not line:
            raise Unprovable(f"line {ins.start_line}: a heredoc with an empty shebang")
        interpreter = _shell_argv(line[:1])
        if posixpath.basename(line[0]) not in POSIX_SHELL_NAMES:
            raise Unprovable(f"line {ins.start_line}: a heredoc run by {line[0]}")
        return [*interpreter, *line[1:2], "-c", script]
    return [*shell, script]


def _declare_args(ins: Instruction, scope: dict[str, Variable], global_args: dict[str, Variable]) -> None:
    for word in ins.values:
        name, eq, value = word.partition("=")
        if eq:
            scope[name] = Variable(name, substitute(value.strip("\"'"), scope), "arg", ins)
        else:
            inherited = global_args.get(name)
            if (inherited is None or inherited.value is None) and name in world.PLATFORM_ARGS:
                # BuildKit's automatic platform ARGs: an ``ARG TARGETARCH`` without a value
                # gets the build's platform (home-assistant: ``[ -z "$TARGETARCH" ] && exit 1``)
                inherited = Variable(name, world.PLATFORM_ARGS[name], "arg", ins)
            scope[name] = inherited or Variable(name, None, "arg", ins)


def _declare_env(ins: Instruction, scope: dict[str, Variable]) -> None:
    values = ins.values
    for i in range(0, len(values) - 2, 3):
        value = values[i + 1]
        if values[i + 2] == "=" and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        scope[values[i]] = Variable(values[i], substitute(value, scope), "env", ins)


def _resolve(path: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, path)) if path else workdir


def plan(text: str) -> Plan:
    document = parse(text)
    if document.errors:
        raise Unprovable(f"does not parse: line {document.errors[0].line}: {document.errors[0].message}")
    build = build_model(document)
    if not build.stages:
        raise Unprovable("no stage")
    index_of = {id(ins): i for i, ins in enumerate(document.instructions)}
    stages: list[StagePlan] = []
    final_scopes: list[dict[str, Variable]] = []
    texts: list[str] = []
    for stage in build.stages:
        base = stage.base_stage.index if stage.base_stage is not None else None
        current = StagePlan(stage.index, base)
        if base is not None:
            current.workdir, current.user = stages[base].workdir, stages[base].user
        # The environment: the base image's (the builder's defaults: PATH, HOME), or what the
        # stage it is built FROM ended with; ENV and ARG add to it (``$PATH`` expands).
        if base is not None:
            scope = {k: v for k, v in final_scopes[base].items() if v.kind == "env"}
        else:
            scope = {k: Variable(k, v, "env", None) for k, v in world.BASE_ENV.items()}
        for ins in stage.instructions:
            _step(build, ins, index_of[id(ins)], current, scope, texts)
        stages.append(current)
        final_scopes.append(scope)
    return Plan(stages, texts, [ins.text for ins in document.instructions])


def _step(build: Build, ins: Instruction, index: int, stage: StagePlan, scope: dict[str, Variable],
          texts: list[str]) -> None:
    name = ins.name
    if name == "ARG":
        _declare_args(ins, scope, build.global_args)
    elif name == "ENV":
        _declare_env(ins, scope)
    elif name == "WORKDIR" and ins.values:
        value = substitute(ins.values[0], scope) or ins.values[0]
        stage.workdir = _resolve(value, stage.workdir)
        stage.steps.append(DirStep(stage.workdir, index))
    elif name == "USER" and ins.values:
        stage.user = substitute(ins.values[0], scope) or ins.values[0]
    elif name in ("COPY", "ADD"):
        _copy(ins, index, stage, scope)
    elif name == "RUN":
        run = build.run_of(ins)
        assert run is not None
        for mount in run.mounts:
            target = mount.get("target") or mount.get("dst") or mount.get("destination")
            if mount.get("type") == "secret":
                path = target or f"/run/secrets/{mount.get('id', '')}"
                stage.steps.append(CopyStep(_resolve(path, stage.workdir), (path,), False, index))
            elif target:
                stage.steps.append(DirStep(_resolve(target, stage.workdir), index))
        argv = _run_argv(run)
        texts.extend(argv)
        env = {k: v.value for k, v in scope.items() if v.value is not None}
        unset = tuple(sorted(k for k, v in scope.items() if v.value is None and v.kind == "arg"))
        stage.steps.append(RunStep(tuple(argv), tuple(sorted(env.items())), stage.workdir, stage.user,
                                   ins.start_line, index, unset))


_GIT_SOURCE = re.compile(r"^git@|^[a-z+]+://[^#]*\.git(#|$)")
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$")


def _copy(ins: Instruction, index: int, stage: StagePlan, scope: dict[str, Variable]) -> None:
    values = list(ins.values)
    if ins.heredocs:
        values = [h.name for h in ins.heredocs] + values[-1:]
    if len(values) < 2:
        return
    *sources, dest_written = values
    dest = substitute(dest_written, scope) or dest_written
    into_dir = (dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
                or any(_looks_like_dir(s) for s in sources)
                or (ins.name == "ADD" and any(_ARCHIVE.search(s) and "://" not in s for s in sources))
                # ``ADD --unpack=true URL.tar.gz /usr/src/bashio`` unpacks a remote archive too, and
                # ``ADD https://github.com/x/y.git#v1 /src`` checks out a repository: directories
                or (ins.name == "ADD" and any(f.name == "unpack" and (f.value or "true") == "true" for f in ins.flags)
                    and any(_ARCHIVE.search(s.strip("\"'")) for s in sources))
                or (ins.name == "ADD" and any(_GIT_SOURCE.search(s.strip("\"'")) for s in sources)))
    stage.steps.append(CopyStep(_resolve(dest, stage.workdir), tuple(sources), into_dir, index))


def _looks_like_dir(source: str) -> bool:
    base = posixpath.basename(source.rstrip("/"))
    return source.endswith("/") or source in (".", "./") or any(c in source for c in "*?[") or "." not in base


# --- the layout: which stubs, directories and files a root starts with ---------------------

_COMMAND_POSITION = (r"(?:^|[;&|(){}!`\"'\n]|\$\(|\b(?:then|do|else|elif|exec|command|nohup|sudo|time|xargs|env)\b)"
                     r"\s*(?:\w+=\S*\s+)*")
# Bare command names at a command position; a name only a variable or a stub's output
# supplies is found when the build stops there (prove.fill_gap) and added.
_NAME = re.compile(_COMMAND_POSITION + r"([A-Za-z_][\w.+-]{0,63})(?![\w/])")
_ABSOLUTE_COMMAND = re.compile(_COMMAND_POSITION + r"(/[^\s;&|()<>\"'`$*?\[\]]+)")
_RELATIVE_COMMAND = re.compile(_COMMAND_POSITION + r"((?:\.{1,2}/|[\w.-]+/)[^\s;&|()<>\"'`$*?\[\]]*[\w.-])")
_CD_TARGET = re.compile(r"(?:^|[;&|(){}\s])cd\s+([\"']?)(/[^\s;&|()<>\"'`*?]+)\1")
# A file a script runs with a shell (``sh ./build.sh``): a stub file there, which the shell
# reads as a script that does nothing.
_SHELL_OPERAND = re.compile(r"(?:^|[;&|(){}\s])(?:sh|bash|dash|ash)\s+(?:-\w+\s+)*([\w./-]*[\w-]\.sh|\.{0,2}/[^\s;&|()<>\"'`$*?]+)")
_REDIRECT_TARGET = re.compile(r"(?<![<>&\d])\d?>>?\s*([\"']?)(/[^\s;&|()<>\"'`$*?]+)\1")
_SOURCED = re.compile(r"(?:^|[;&|(){}\s])(?:\.|source)\s+([\"']?)(/[^\s;&|()<>\"'`$*?]+)\1")


def layout(*plans: Plan) -> tuple[Layout, frozenset[str]]:
    """The initial root for both sides (the union of what their scripts name), and the
    relative command paths (``./configure``) to place in every directory the harness makes."""
    names: set[str] = set()
    paths: set[str] = set()
    relative: set[str] = set()
    dirs: set[str] = set()
    files: set[str] = set()
    everything = "\n".join(t for p in plans for t in p.texts)
    for p in plans:
        for stage in p.stages:
            for step in stage.steps:
                if isinstance(step, RunStep):
                    _scan(step, names, paths, relative, dirs, files, everything)
    return (Layout(frozenset(names), frozenset(paths), frozenset(dirs), frozenset(files), frozenset(relative)),
            frozenset(relative))


def _scan(step: RunStep, names: set[str], paths: set[str], relative: set[str], dirs: set[str], files: set[str],
          everything: str) -> None:
    env = {k: Variable(k, v, "env", None) for k, v in step.env}
    for word in step.argv:
        names.update(_NAME.findall(word))
        for match in _ABSOLUTE_COMMAND.finditer(word):
            # ``>> "/opt/x/$V/conf"``: a directory, not a command; nor a path a script makes with
            # mkdir (``cp -R $(nix-store -qR result/) /tmp/nix-store-closure`` after ``mkdir
            # /tmp/nix-store-closure``: the word after ``$(...)`` is no command)
            if not match.group(1).endswith("/") and not _made_by_mkdir(match.group(1), everything):
                paths.add(match.group(1))
        for match in _RELATIVE_COMMAND.finditer(word):
            relative.add(match.group(1))
        for match in _CD_TARGET.finditer(word):
            target = substitute(match.group(2), env)
            if target and "$" not in target and not _created_by_script(target, everything):
                dirs.add(posixpath.normpath(target))
        for match in _SOURCED.finditer(word):
            files.add(match.group(2))
        for match in _SHELL_OPERAND.finditer(word):
            (paths if match.group(1).startswith("/") else relative).add(match.group(1))
        for match in _REDIRECT_TARGET.finditer(word):
            parent = posixpath.dirname(match.group(2))
            if parent not in ("/", "/dev", "/proc") and not parent.startswith(("/dev/", "/proc/")) \
                    and not _created_by_script(parent, everything):
                dirs.add(parent)
    if step.argv and "/" not in step.argv[0]:
        names.add(step.argv[0])


def _made_by_mkdir(path: str, everything: str) -> bool:
    return re.search(r"\bmkdir\b[^;&|\n]*\s[\"']?" + re.escape(path.rstrip("/")) + r"/?[\"']?(?=[\s;&|)]|$)",
                     everything) is not None


def _created_by_script(path: str, everything: str) -> bool:
    """Whether a script creates the directory itself (then creating it first would break it)."""
    escaped = re.escape(path.rstrip("/"))
    return re.search(r"\b(mkdir|clone|mv|cp|ln|tar|unzip)\b[^;&|\n]*\s[\"']?" + escaped + r"/?[\"']?(?=[\s;&|)]|$)",
                     everything) is not None


_LITERAL_FAILURE = re.compile(r"\s*(?:exit\s+0*[1-9]\d*|false)\s*;?\s*")


def script_index(argv: tuple[str, ...]) -> int | None:
    """Where a RUN's script is in its argv: a POSIX shell's ``-c SCRIPT`` (last word), else
    None (an exec-form ``python -c`` is a stub's argument, not a script)."""
    shell = posixpath.basename(argv[0]) if argv else ""
    if shell in _SCRIPT_SHELLS and len(argv) >= 3 and argv[-2].endswith("c") and argv[-2].startswith("-"):
        return len(argv) - 1
    return None


_SCRIPT_SHELLS = frozenset({"sh", "bash", "dash", "ash"})


def fails_in_every_world(build: Plan, index: int) -> bool:
    """Whether the RUN at instruction ``index`` is a literal failure (``RUN exit 1``, ``RUN
    false``): the real build stops there too, whatever the world, so nothing after it runs in
    any real build of the file (slackbot's failure example, the issue's ``RUN false``)."""
    for stage in build.stages:
        for step in stage.steps:
            if isinstance(step, RunStep) and step.index == index:
                where = script_index(step.argv)
                return where is not None and _LITERAL_FAILURE.fullmatch(step.argv[where]) is not None
    return False

