"""What the merge primitive needs to know about a shell script before joining text to it.

Every question here is answered conservatively: "maybe" counts as "yes" whenever a "yes"
makes the merge primitive choose a more careful form or refuse. The reasoning that uses
these facts is in ``dockopt.fixes.merge`` (module docstring); this module only reads scripts.

Facts:
- ``leaks``: shell state other than ``set`` options that a command at the script's top
  level leaves for the commands after it (cd, variables, functions, aliases, traps, exit,
  exec, ...). ``None`` when there is none.
- ``options_changed``: the ``set`` options (by long name) the script may leave different
  from how it started, and whether that is unknown (``set -$flags``).
- ``may_enable_errexit``: any ``set`` anywhere (any depth) that may turn on ``-e``.
- ``errexit_on_at_end``: ``-e`` is certainly on when the last top-level statement runs.
- ``neutral``: a statement in which ``-e`` has no effect except on the status of its very
  last command: simple commands and pipelines joined by ``&&``/``||``, no compound command,
  no function call, no ``eval``/``.``, command substitutions of the same kind only.
"""
from __future__ import annotations

import re

from dockopt.shell import Command, Script, Statement
from dockopt.shell.options import SetCommand, command_name, read_set

# Builtins whose effect outlives the command when run in the current shell (or that run
# arbitrary code in it). ``command``/``builtin`` prefixes are looked through.
STATEFUL_COMMANDS = frozenset(
    {
        "cd", "pushd", "popd", "export", "set", "source", ".", "umask", "unset", "alias",
        "unalias", "shopt", "trap", "exec", "exit", "return", "ulimit", "declare", "typeset",
        "local", "readonly", "eval", "hash", "shift", "enable", "setopt", "read", "getopts",
        "mapfile", "readarray", "let", "wait", "break", "continue", "times", "fg", "bg",
        "disown", "jobs", "history", "complete", "compgen", "caller", "suspend", "logout",
    }
)
# Syntax that assigns a shell variable without a command name saying so: a for loop's
# variable, ${X:=v} / ${X=v}, arithmetic assignments, printf -v.
_HIDDEN_ASSIGNMENT = re.compile(
    r"(^|[\s;&|(){}])(for|select)\s+[A-Za-z_]"
    r"|\$\{[#!]?[A-Za-z_][A-Za-z_0-9]*:?="
    r"|\$?\(\([^)]*[^=!<>]=[^=]"
    r"|\(\([^)]*(\+\+|--)"
    r"|\bprintf\s+-v\b"
)
_FUNCTION_DEF = re.compile(r"(^|[\s;&|({])(function\s+[^\s(){}]+|[^\s;&|(){}=$`'\"]+\s*\(\s*\))")

# Options whose only effect is what the shell prints to the build log.
LOG_ONLY_OPTIONS = frozenset({"xtrace", "verbose"})
_NOT_NEUTRAL_NAMES = frozenset({"eval", ".", "source", "exec", "trap", "command", "builtin"})


def _top(command: Command) -> bool:
    """Runs in the script's own shell (its state changes persist)."""
    return not (command.in_subshell or command.in_substitution or command.in_pipeline)


def leaks(script: Script) -> str | None:
    """Non-option shell state the script may leave for commands appended after it."""
    for command in script.commands:
        if command.background:
            return "it starts a background job"
        if not _top(command):
            continue
        name = command_name(command)
        if name is None and command.assignments and command.name is None:
            names = ", ".join(a.name for a in command.assignments)
            return f"it assigns shell variable{'s' if len(command.assignments) > 1 else ''} {names}"
        if name is None and command.name is not None:
            return "it runs a command whose name is computed"
        if name == "set":
            if read_set(command).positional:
                return "'set' changes the positional parameters"
            continue  # options: see options_changed
        if name in STATEFUL_COMMANDS:
            return f"'{name}' changes the shell state for the commands after it"
        if name in script.functions:
            return f"it calls the shell function '{name}', which may change the shell state"
    if script.functions or _FUNCTION_DEF.search(script.text):
        return "it defines a shell function"
    if _HIDDEN_ASSIGNMENT.search(script.text):
        return "it assigns a shell variable (a loop variable, ${X:=...} or arithmetic)"
    return None


def background(script: Script) -> bool:
    return any(c.background for c in script.commands)


def has_trap(script: Script) -> bool:
    return any(command_name(c) == "trap" for c in script.commands)


def set_commands(script: Script, *, top_only: bool) -> list[tuple[Command, SetCommand]]:
    out = []
    for command in script.commands:
        if command_name(command) != "set":
            continue
        if top_only and not _top(command):
            continue
        out.append((command, read_set(command)))
    return out


def options_changed(script: Script, start: frozenset[str]) -> tuple[frozenset[str], bool]:
    """(options that may differ after the script from ``start``, unknown) - top level only.

    A ``set`` at depth 0 that is not conditional decides its options from there on (``set
    -e; ...; set +e`` leaves -e as it was); one in a compound command or right of ``||``
    makes its options "maybe changed"."""
    state = {option: True for option in start}
    maybe: set[str] = set()
    unknown = False
    for command, parsed in set_commands(script, top_only=True):
        unknown |= parsed.unknown
        if command.depth == 0 and not command.conditional and not command.negated:
            state.update({option: True for option in parsed.enables})
            state.update({option: False for option in parsed.disables})
        else:
            maybe |= parsed.enables | parsed.disables
    changed = {option for option, on in state.items() if on != (option in start)}
    return frozenset(changed | maybe), unknown


def errexit_maybe_on_at_last(script: Script, start: frozenset[str]) -> bool:
    """-e may be on while the last top-level statement runs: on from before it (by the
    ``set``s of the statements before, read in order), or turned on inside it."""
    last = len(script.statements) - 1
    on = "errexit" in start
    maybe = False
    for command, parsed in set_commands(script, top_only=False):
        if command.statement == last:
            maybe |= parsed.unknown or "errexit" in parsed.enables
            continue
        if command.in_subshell or command.in_substitution or command.in_pipeline:
            continue
        if parsed.unknown:
            maybe = True
        elif command.depth == 0 and not command.conditional and not command.negated:
            if "errexit" in parsed.enables:
                on = True
            if "errexit" in parsed.disables:
                on = False
        elif "errexit" in parsed.enables:
            maybe = True
    return on or maybe


def may_enable_errexit(script: Script) -> bool:
    """A ``set`` anywhere in the script (any depth, even in a subshell) may turn on -e."""
    return any(p.unknown or "errexit" in p.enables for _, p in set_commands(script, top_only=False))


def errexit_on_at_end(script: Script, start: frozenset[str]) -> bool:
    """-e is certainly on when the script's last top-level statement starts.

    On from the start and never mentioned by a ``set`` (outside subshells), or turned on by
    a ``set`` that begins a top-level statement (so it ran if that statement was reached)
    with no ``set`` mentioning it after."""
    sets = set_commands(script, top_only=True)
    on = "errexit" in start
    last = len(script.statements) - 1
    for command, parsed in sets:
        if parsed.unknown or "errexit" in parsed.disables:
            on = False
            continue
        if "errexit" in parsed.enables:
            unconditional = (command.depth == 0 and not command.conditional and not command.negated
                             and command.connector in (None, ";", "\n") and command.statement < last)
            on = on or unconditional
    return on


def neutral(script: Script, statement: Statement) -> bool:
    """-e matters in ``statement`` at most for its last command (see the module docstring)."""
    if statement.kind not in ("command", "list", "pipeline", "negated"):
        return False
    for command in statement.commands:
        name = command_name(command)
        if name is None and command.name is not None:
            return False  # computed name: could be a function or eval
        if name in _NOT_NEUTRAL_NAMES or (name is not None and name in script.functions):
            return False
        if command.in_substitution:
            # $( ) runs with -e in dash: keep its content a single and-or list too.
            if command.depth != 1 or command.connector not in (None, "|", "&&", "||"):
                return False
        elif command.depth != 0:
            return False
    return True


def single_neutral(script: Script) -> bool:
    """The whole script is one neutral statement: -e changes nothing in it."""
    return len(script.statements) == 1 and neutral(script, script.statements[0])


def plain_and_chain(script: Script) -> bool:
    """One statement of simple commands and pipelines joined by ``&&`` only: it can follow
    ``&&`` without braces (``a && b && c`` = ``(a && b) && c``)."""
    if len(script.statements) != 1 or not neutral(script, script.statements[0]):
        return False
    return all(c.connector in (None, "&&", "|") and not c.negated
               for c in script.statements[0].commands if not c.in_substitution)


def uses_pipelines(script: Script) -> bool:
    return any(c.in_pipeline for c in script.commands)


def expands_parameters(script: Script) -> bool:
    return "$" in script.text


def uses_globs(script: Script) -> bool:
    return any(word.glob for c in script.commands for word in c.words)


def option_harmless(option: str, script: Script) -> bool:
    """Whether ``option`` being on instead of off (or the reverse) changes nothing in ``script``
    other than the build log, errexit aside (see ``single_neutral``)."""
    if option in LOG_ONLY_OPTIONS:
        return True
    if option == "pipefail":
        return not uses_pipelines(script)
    if option == "nounset":
        return not expands_parameters(script)
    if option == "noglob":
        return not uses_globs(script)
    if option == "errexit":
        return single_neutral(script)
    return False
