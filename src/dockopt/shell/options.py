"""The ``set`` options a RUN's shell runs with: from its ``SHELL`` flags and its own ``set``
commands. Read by the merge primitive (``dockopt.fixes.script_facts``) and by the later-consumer
checks (``dockopt.layers.consumers``), so both read ``-e`` the same way."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dockopt.shell.model import Command, Script

# Short option letters of ``set`` and their long names.
SET_LETTERS = {
    "e": "errexit", "u": "nounset", "x": "xtrace", "v": "verbose", "f": "noglob",
    "C": "noclobber", "a": "allexport", "n": "noexec", "b": "notify", "h": "hashall",
    "m": "monitor", "B": "braceexpand", "H": "histexpand", "P": "physical", "T": "functrace",
    "E": "errtrace", "k": "keyword", "p": "privileged", "t": "onecmd",
}

@dataclass(frozen=True, slots=True)
class SetCommand:
    """One ``set`` command: the options it turns on and off, by long name."""

    enables: frozenset[str]
    disables: frozenset[str]
    unknown: bool  # an argument we cannot read (``set -$flags``), or positional parameters
    positional: bool  # ``set -- a b`` / ``set a b``: changes $1...


def command_name(command: Command) -> str | None:
    """The literal command name, looking through ``command``/``builtin`` prefixes."""
    name = command.name_value
    if name in ("command", "builtin") and command.args:
        first = command.args[0].value
        if first is not None and not first.startswith("-"):
            return first
    return name


def read_set(command: Command) -> SetCommand:
    enables: set[str] = set()
    disables: set[str] = set()
    unknown = positional = False
    args = [a.value for a in command.args]
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg is None:
            unknown = True
            continue
        if arg in ("--", "-"):
            positional = True
            break
        if arg[:1] not in "-+" or len(arg) < 2:
            positional = True
            break
        target = enables if arg[0] == "-" else disables
        for letter in arg[1:]:
            if letter == "o":
                name = args[i] if i < len(args) else None
                i += 1
                if name is None:
                    unknown = True
                else:
                    target.add(name)
            elif letter in SET_LETTERS:
                target.add(SET_LETTERS[letter])
            else:
                unknown = True
    return SetCommand(frozenset(enables), frozenset(disables), unknown, positional)


def shell_options(shell: Sequence[str]) -> frozenset[str] | None:
    """Options the RUN's shell starts with (``SHELL ["/bin/bash", "-eo", "pipefail", "-c"]``),
    or None when its flags cannot be read (a flag we do not know)."""
    enabled: set[str] = set()
    args = list(shell[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-c", "-l", "--login", "--norc", "--noprofile", "--posix"):
            continue
        if not arg.startswith("-") or arg.startswith("--"):
            return None
        for letter in arg[1:]:
            if letter == "c":
                continue
            if letter == "o":
                if i >= len(args):
                    return None
                enabled.add(args[i])
                i += 1
            elif letter in SET_LETTERS:
                enabled.add(SET_LETTERS[letter])
            else:
                return None
    return frozenset(enabled)


def first_set(script: Script) -> SetCommand | None:
    """The ``set`` that is the first command the script runs, if any (``set -eux; ...``)."""
    if not script.commands or not script.statements:
        return None
    first = script.commands[0]
    if command_name(first) != "set" or first.depth != 0 or first.negated or first.in_pipeline:
        return None
    if first.statement != 0 or first.connector is not None:
        return None
    return read_set(first)


# Commands that may run a ``set`` the script's text does not show.
_HIDDEN_SET = frozenset({"eval", ".", "source"})


def errexit_from_start(shell: Sequence[str], script: Script | None) -> bool:
    """Whether ``-e`` is certainly on for the whole script: from the shell's flags, or a first
    ``set -e...`` that no later ``set`` (or ``eval``/``source``, which might run one) can turn
    off. Conservative: anything unreadable counts as off."""
    options = shell_options(shell)
    if options is not None and "errexit" in options:
        return True
    if script is None:
        return False
    first = first_set(script)
    if first is None or first.unknown or "errexit" not in first.enables:
        return False
    for command in script.commands[1:]:
        name = command_name(command)
        if name in _HIDDEN_SET:
            return False
        if name == "set":
            later = read_set(command)
            if later.unknown or "errexit" in later.disables:
                return False
    return True
