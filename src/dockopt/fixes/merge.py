"""Merging one RUN into another: the edit, in the file's own style, and whether it is safe.

Serves DO105 (mergeable RUNs) and, later, the cleanup/update merges of DO101/DO103.

Two shell-form RUNs ``RUN a`` and ``RUN b`` become ``RUN a && b``. That is equivalent when:
- both use the same flags (mounts, network, security) and the same SHELL, in the same stage,
  with nothing but comments and blank lines between them (no ENV/ARG/WORKDIR/USER/...);
- neither is exec form nor has heredocs (the text cannot simply be joined);
- the first leaves no shell state that would change the second: ``cd``, ``export``, ``set``,
  ``source``/``.``, ``umask``, variable assignments, functions, ``exit``/``exec``... run at the
  top level (inside a subshell or command substitution they do not leak);
- the first does not end in a comment (the ``&&`` would be commented out) or with ``&``.
``a; b`` followed by ``c`` gives ``a; b && c``: sh's and-or lists are left-associative and
bind tighter than ``;``, so ``c`` runs exactly when ``b`` succeeded, as in the original.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockopt.diagnostics import Applicability, Edit
from dockopt.model import Build, Run
from dockopt.syntax import Document, Instruction
from dockopt.text import physical_lines

# Builtins whose effect outlives the command when run in the current shell.
STATEFUL_COMMANDS = frozenset(
    {
        "cd", "pushd", "popd", "export", "set", "source", ".", "umask", "unset", "alias",
        "unalias", "shopt", "trap", "exec", "exit", "return", "ulimit", "declare", "typeset",
        "local", "readonly", "eval", "hash", "shift", "enable", "builtin", "setopt",
    }
)
_FUNCTION_DEF = re.compile(r"(^|[\s;&|({])(function\s+\w+|\w[\w-]*\s*\(\s*\))")


@dataclass(frozen=True, slots=True)
class MergePlan:
    edits: tuple[Edit, ...]
    applicability: Applicability
    reason: str  # why it is not safe (empty when safe)


def blocking_instruction(build: Build, first: Instruction, second: Instruction) -> Instruction | None:
    """An instruction between the two RUNs, if any (comments and blank lines are not)."""
    between = [i for i in build.document.instructions if first.start_line < i.start_line < second.start_line]
    return between[0] if between else None


def state_leak(run: Run) -> str | None:
    """What in this RUN's script would change the meaning of a command appended to it."""
    source = run.source
    if source is None:
        return "the script is not a POSIX shell script"
    script = run.script
    if script is None or script.has_errors:
        return "the shell script does not parse"
    for command in script.commands:
        if command.in_subshell or command.in_substitution:
            continue
        name = command.name.value if command.name is not None else None
        if name is None and command.assignments:
            return f"it assigns shell variable{'s' if len(command.assignments) > 1 else ''} " + ", ".join(
                a.name for a in command.assignments
            )
        if name in STATEFUL_COMMANDS:
            return f"'{name}' changes the shell state for the commands after it"
    if _FUNCTION_DEF.search(source.text):
        return "it defines a shell function"
    return None


def ends_badly(text: str) -> str | None:
    """Text endings after which ``&& next`` would change meaning or not parse."""
    stripped = text.rstrip()
    if has_comment(text):
        return "it contains a shell comment, which could swallow the appended command"
    if stripped.endswith("&") and not stripped.endswith("&&"):
        return "it ends with a background '&'"
    if stripped.endswith(("&&", "||", "|")):
        return "it ends with an operator"
    return None


def has_comment(text: str) -> bool:
    """Whether the shell text contains a comment (an unquoted ``#`` starting a word)."""
    if "#" not in text:  # most scripts: skip the character walk
        return False
    quote = ""
    prev = " "
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                prev = "x"
                continue
            if ch == quote:
                quote = ""
        elif ch == "\\":
            i += 2
            prev = "x"
            continue
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (prev.isspace() or prev in ";&|()"):
            return True
        prev = ch
        i += 1
    return False


def _continuation_style(document: Document, ins: Instruction) -> tuple[str, bool]:
    """(indent, leading_operator) used by the instruction's continuation lines."""
    lines = physical_lines(ins.text)
    for line in lines[1:]:
        body = line.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        indent = line[: len(line) - len(body)]
        return indent or "    ", body.startswith(("&&", "||", ";"))
    return "    ", True


def _newline(document: Document) -> str:
    text = document.source
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def plan_merge(build: Build, first: Run, second: Run) -> MergePlan | None:
    """Edits that fold ``second`` into ``first``, or None when they cannot be joined as text."""
    a, b = first.instruction, second.instruction
    document = build.document
    if a.is_json or b.is_json or a.heredocs or b.heredocs:
        return None
    if first.source is None or second.source is None:
        return None  # not a POSIX shell (PowerShell, cmd): `&&` may not even exist there
    if first.stage is not second.stage or blocking_instruction(build, a, b) is not None:
        return None
    if {f.text for f in b.flags} - {f.text for f in a.flags}:
        # The joined RUN carries the first RUN's flags: the second's commands would lose
        # their own mount (a cache or `from=` mount they read), network or security mode,
        # which breaks the build more often than not. Not even an unsafe fix.
        return None
    source = document.source
    escape = document.escape
    nl = _newline(document)
    # Keep comment lines that sit between the two RUNs: inside a continuation BuildKit skips them.
    between = source[a.line_end : b.line_start]
    kept = [line for line in physical_lines(between) if line.strip().startswith("#")]
    last_line = physical_lines(a.text.rstrip("\r\n"))[-1] if a.text.strip() else ""
    if last_line.lstrip().startswith("#"):
        return None
    if first.source is not None and ends_badly(first.source.text):
        return None  # the joined text would mean something else or not parse: no fix at all
    indent, leading = _continuation_style(document, a)
    head_end = a.end
    while head_end > a.start and source[head_end - 1] in " \t;":
        head_end -= 1  # "a;" + "&& b" would not parse
    args_src = b.to_source(b.args_start)
    head = source[b.start + len(b.keyword) : args_src]
    if any(line.strip().startswith("#") for line in physical_lines(head)):
        # Comment lines between `RUN \` and the command: keep them inside the continuation.
        if b.flags:
            return None
        second_body = head.lstrip(" \t") + source[args_src : b.end]
    else:
        second_body = source[args_src : b.end]
    comments = "".join(f"{line.rstrip()}{nl}" for line in kept)
    if leading:
        joined = f" {escape}{nl}{comments}{indent}&& {second_body}"
    else:
        joined = f" && {escape}{nl}{comments}{indent}{second_body}"
    edits = (Edit(head_end, b.end, joined),)

    reasons = []
    if [f.text for f in a.flags] != [f.text for f in b.flags]:
        reasons.append("the RUNs have different flags")
    if first.shell != second.shell:
        reasons.append("the RUNs use different shells")
    if second.script is None or second.script.has_errors:
        reasons.append("the second RUN's script does not parse here, so its equivalence is unproven")
    leak = state_leak(first)
    if leak:
        reasons.append(f"the first RUN's state would reach the second: {leak}")
    if reasons:
        return MergePlan(edits, Applicability.UNSAFE, "; ".join(reasons))
    return MergePlan(edits, Applicability.SAFE, "")


def append_command(build: Build, run: Run, command: str) -> Edit | None:
    """An edit appending ``&& command`` to a shell-form RUN, in its continuation style."""
    ins = run.instruction
    if ins.is_json or ins.heredocs or run.source is None or ends_badly(run.source.text):
        return None
    document = build.document
    source = document.source
    # Append after the last character BuildKit reads, not after the instruction's last line:
    # a RUN may go on past its content with a dangling escape at the end of the file, or with
    # comment lines inside the continuation. Appending after those would turn `curl \` into
    # `curl \ && ...` (an escaped space: one more, empty-looking argument) or edit a comment.
    content_end = _content_end(ins)
    head_end = content_end
    while head_end > ins.start and source[head_end - 1] in " \t;":
        head_end -= 1  # "a;" + "&& b" would not parse
    # What follows the content (an escape and comment lines) stays, after the same blanks.
    keep = source[head_end:content_end].replace(";", "") if content_end < ins.end else ""
    nl = _newline(document)
    if not ins.is_continued:
        return Edit(head_end, content_end, f" && {command}{keep}")
    indent, leading = _continuation_style(document, ins)
    if leading:
        return Edit(head_end, content_end, f" {document.escape}{nl}{indent}&& {command}{keep}")
    return Edit(head_end, content_end, f" && {document.escape}{nl}{indent}{command}{keep}")


def _content_end(ins: Instruction) -> int:
    """Source offset just past the last character of the instruction's logical line."""
    if not ins.segments:
        return ins.end
    last = ins.segments[-1]
    return min(ins.end, last.source_start + last.length)
