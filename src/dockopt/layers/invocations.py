"""From a RUN's parsed shell script to the command invocations the knowledge base reads.

This is the only place the simulator touches the shell analysis: each simple command
becomes an ``Invocation`` with its expanded argv (``None`` for words whose value is not
known statically), its redirects, and its span in the Dockerfile. Wrappers (``sudo``,
``env``, ``nice``...) are unwrapped, and ``sh -c '...'`` scripts are analysed in turn.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockopt.model import Run, ScriptSource

WRAPPERS = frozenset({"sudo", "env", "nice", "nohup", "time", "stdbuf", "ionice", "chroot-not", "gosu", "su-exec"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass(slots=True)
class Invocation:
    name: str  # basename of the command (``apt-get``)
    argv: list[str | None]  # arguments after the name
    redirects: list[tuple[str, str | None]]  # (operator, target) e.g. (">", "/etc/x")
    start: int  # Dockerfile source span of the whole simple command
    end: int
    text: str  # the command as written (for messages)
    in_subshell: bool = False
    subshell: tuple[int, ...] = ()  # the shell process that runs it (shell.words.Ctx.subshell)
    statement: int = 0  # the top-level statement of the script it belongs to
    connector: str | None = None  # the operator before it ("&&", "||", "|", ";"; see shell Command)
    in_substitution: bool = False
    conditional: bool = False
    pipe_from: str | None = None  # name of the command piping into this one
    pipe_to: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # FOO=bar prefixes

    def has(self, *flags: str) -> bool:
        return any(a in flags for a in self.argv if a is not None)

    def option(self, *names: str) -> str | None:
        """Value of ``--name VALUE``, ``--name=VALUE``, ``-o VALUE``, ``-oVALUE`` or a cluster
        ending in the letter (``-fsSLo VALUE``, ``-xzf FILE``, ``-qO-``)."""
        argv = self.argv
        for i, arg in enumerate(argv):
            if arg is None or not arg.startswith("-"):
                continue
            following = argv[i + 1] if i + 1 < len(argv) else None
            for name in names:
                if arg == name:
                    return following
                if name.startswith("--"):
                    if arg.startswith(name + "="):
                        return arg[len(name) + 1 :]
                    continue
                if arg.startswith("--") or len(name) != 2:
                    continue
                letters = arg[1:]
                at = letters.find(name[1])
                if at == -1:
                    continue
                rest = letters[at + 1 :]
                return rest if rest else following
        return None

    @property
    def subcommand(self) -> str | None:
        """The first non-option argument (``install`` in ``apt-get -y install x``); None if unknown."""
        for arg in self.argv:
            if arg is None:
                return None
            if not arg.startswith("-"):
                return arg
        return None

    @property
    def positionals(self) -> list[str | None]:
        return [a for a in self.argv if a is None or not a.startswith("-")]


# Computed once per Run: the simulator and several rules (through LintContext.invocations,
# and modules that call this directly) all read the same RUNs. Weak keys: an entry goes
# away with its Build. Callers only read invocations, never change them.
_BY_RUN: weakref.WeakKeyDictionary[Run, tuple[Invocation, ...]] = weakref.WeakKeyDictionary()


def invocations(run: Run) -> Iterator[Invocation]:
    """Every command the RUN executes, in order, wrappers and ``sh -c`` unwrapped."""
    found = _BY_RUN.get(run)
    if found is None:
        found = _BY_RUN[run] = tuple(_of_run(run))
    return iter(found)


def _of_run(run: Run) -> Iterator[Invocation]:
    source = run.source
    script = run.script
    ins = run.instruction
    if ins.is_json and not ins.heredocs:
        # Exec form runs its argv without a shell: one command, analysed like shell form
        # (``RUN ["apt-get", "install", "-y", "curl"]`` installs curl all the same).
        values = ins.values
        if values and values[0]:
            inv = Invocation(values[0].rsplit("/", 1)[-1], list(values[1:]), [], ins.start, ins.end,
                             " ".join(values))
            if source is None or inv.name not in SHELLS:
                yield from _unwrap(inv, ScriptSource(inv.text, [(0, ins.start, 0)]), run.env(), 0)
                return
    if source is None or script is None:
        return
    env = run.env()
    # $HOME is the shell's, not an ARG/ENV: keep it symbolic (resolve() maps it to the user's home)
    # instead of losing the word (`rm -rf "$HOME/.cargo/registry"` then removes nothing).
    env.setdefault("HOME", "$HOME")
    yield from _from_script(script, source, env, depth=0)


def _from_script(script, source: ScriptSource, env: dict[str, str], depth: int) -> Iterator[Invocation]:  # type: ignore[no-untyped-def]
    from dockopt.shell import expand_word

    commands = list(script.commands)
    previous = None
    # Assignments inside a subshell hold for the rest of that subshell only: each shell process
    # (``Command.subshell``) reads a copy of its parent's variables as they were when it began
    # (the merge primitive wraps whole RUN scripts in one, ``( V=1 && curl .../$V )``).
    scopes: dict[tuple[int, ...], dict[str, str]] = {(): env}

    def scope_of(process: tuple[int, ...]) -> dict[str, str]:
        if process not in scopes:
            scopes[process] = dict(scope_of(process[:-1]))
        return scopes[process]

    for command in commands:
        scope = scope_of(command.subshell)
        if command.name is None:
            for assignment in command.assignments:
                value = expand_word(assignment.value, scope) if assignment.value is not None else ""
                if value is not None:
                    scope[assignment.name] = value
            previous = command
            continue
        words = [command.name, *command.args]
        argv = [expand_word(w, scope) for w in words]
        redirects = [
            (r.op, expand_word(r.target, scope) if r.target is not None else None) for r in command.redirects
        ]
        start, end = command.span
        inv = Invocation(
            name=(argv[0] or "").rsplit("/", 1)[-1],
            argv=argv[1:],
            redirects=redirects,
            start=source.to_source(start),
            end=source.to_source(max(start, end - 1)) + 1,
            text=source.text[start:end],
            in_subshell=command.in_subshell or command.in_substitution,
            subshell=command.subshell,
            statement=command.statement,
            connector=command.connector,
            in_substitution=command.in_substitution,
            conditional=command.conditional,
            env={a.name: (expand_word(a.value, scope) or "") for a in command.assignments if a.value is not None},
        )
        if command.connector == "|" and previous is not None and previous.name is not None:
            inv.pipe_from = (previous.name.value or "").rsplit("/", 1)[-1]
        yield from _unwrap(inv, source, scope, depth)
        previous = command


def _unwrap(inv: Invocation, source: ScriptSource, env: dict[str, str], depth: int) -> Iterator[Invocation]:
    if inv.name in WRAPPERS:
        rest = list(inv.argv)
        while rest and rest[0] is not None and (rest[0].startswith("-") or "=" in rest[0]):
            rest.pop(0)
        if inv.name in ("gosu", "su-exec") and rest:
            rest.pop(0)  # the user
        if rest and rest[0] is not None:
            inv.name, inv.argv = rest[0].rsplit("/", 1)[-1], rest[1:]
            yield from _unwrap(inv, source, env, depth)
        return
    if inv.name in SHELLS and depth < 3:
        argv = inv.argv
        if "-c" in argv:
            i = argv.index("-c")
            if i + 1 < len(argv) and argv[i + 1] is not None:
                from dockopt.shell import parse_script

                inner = parse_script(argv[i + 1])
                # Offsets inside the inner script are not mapped: report the outer command's span.
                for sub in _from_script(inner, ScriptSource(argv[i + 1], [(0, inv.start, 0)]), dict(env), depth + 1):
                    sub.start, sub.end = inv.start, inv.end
                    sub.in_subshell = True
                    sub.subshell = inv.subshell + (-1 - inv.start, *sub.subshell)  # the `sh -c` process
                    yield sub
                return
    yield inv
