"""THE primitive that joins shell text into a RUN: merging RUNs, appending a cleanup.

Every fixer that turns several RUNs into one, or adds a command to a RUN, goes through
``join_runs`` / ``append_to_run`` (DO101, DO102, DO103, DO105, DO106, and the span merges of
DO101); the equivalence argument is here, once.

What equivalent means (the team's definition of a safe fix): the build fails exactly when
the original fails, runs the same commands in the same order, directory, environment and
shell options, and leaves the same final filesystem (except declared caches, see
``Fix.removes_caches``).

The builder runs ``RUN A`` / ``RUN B`` as two fresh shells (``SHELL`` + script), in the same
WORKDIR with the same ENV when nothing but comments separates them, and stops at the first
that exits non-zero. One merged RUN must therefore run B exactly when A succeeded, with the
shell state B would have had fresh, and exit non-zero exactly when A or B did. POSIX sh
(dash and bash alike; each fact below is a test in tests/test_merge_semantics.py):

1. ``;`` and newlines bind looser than ``&&``/``||``, which are left-associative and of
   equal precedence: ``A && B`` attaches to A's *last* statement L only, and
   ``x || y && B`` is ``(x || y) && B``. So ``A && B`` runs B exactly when A's script
   would have exited 0, and B needs braces whenever its own top level has ``||``, ``;``,
   ``!``, ``&`` or a compound command: ``A && { B; }`` (status: B's). A plain ``&&`` chain
   stays unbraced for readability.
2. A's shell state (cd, variables, functions, aliases, traps, umask, exec redirections,
   exit/exec, set options, ...) reaches B in one shell. Non-option state is contained by a
   subshell: ``( A ) && B`` (an EXIT trap set in A runs when the subshell exits, as it did
   when A's shell exited; ``exit n`` leaves the subshell with n).
3. ``set -e`` is ignored inside every command of an and-or list but the last, including
   inside subshells and groups there: ``( set -e; false; echo x ) && y`` prints x. So:
   - when A must be isolated (its state or options would reach B) and -e may be on
     anywhere in A, ``( A ) && B`` is not used. Instead, with -e from SHELL,
     ``( A ); B``: the subshell is a statement of its own, so -e holds in it as it did in
     A's own shell, and a failing subshell stops the shell with A's status. Without -e from
     SHELL but with A's first command a ``set`` that turns -e on (``set -eux; ...``),
     ``set -e; ( A ); set +e; B``: turning -e on just before A changes nothing in A, a
     failing A stops the shell with its status, and ``set +e`` gives B the options it had
     fresh. Otherwise refused;
   - when A needs no isolation, its last statement L goes left of ``&&`` only when -e is
     off while L runs (reading A's ``set`` commands in order) or cannot matter in L
     ("neutral": simple commands and pipelines joined by ``&&``/``||``, no compound
     command, no function call, no eval);
   - otherwise, when -e is certainly on when L runs and L is a simple command, pipeline or
     subshell (whose failure exits the shell), the join is ``A; B``: a failing L still stops
     the build with its status, and B's statements stay at the top level;
   - else refused.
4. ``set`` options A leaves changed reach B unless A is isolated (point 3). They need no
   isolation when B sets the same option itself first (``set -eux; ...``: only that ``set``
   runs under A's options), or when the option cannot matter in B (xtrace/verbose only print
   to the log; pipefail without a pipeline; nounset without a ``$``; noglob without an
   unquoted glob; errexit when B is one neutral statement).
5. Refused outright: scripts that do not parse, a shell comment (it would swallow what
   follows on the logical line), a background job (it would run on while B runs, instead of
   being killed when A's container process exits), a trailing operator, heredocs in a
   merge, exec-form RUNs, ``set`` with options we cannot read, and a second RUN with flags
   the first lacks (its commands would lose their mount). Different flags the other way
   round are unsafe (the second's commands gain the first's mounts).

Appending a command C (a cleanup: ``rm -rf /var/lib/apt/lists/*``, ``apt-get clean``, ...)
is the join of A with the one-command script C, with two differences: A's non-option state
does not need a subshell (C is a literal command of a known tool that does not depend on
the directory or variables; a cleanup must see A's exported cache locations), but A must not
set a trap (it would run after C), start a background job, or define a function or alias
(it could shadow C's name). C runs only when A succeeded; if C itself fails the build fails
where the original passed, so callers append only commands that succeed whenever their tool
is installed (see the DO102 tool-presence check). A heredoc RUN whose body is the script gets
C inside the body, after its last statement, by the same rules.

Layout: the joined text keeps the file's continuation style (``_continuation_style``), its
escape character and line endings; comment lines between two RUNs stay inside the new
continuation (BuildKit skips them there).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dockopt.diagnostics import Applicability, Edit
from dockopt.fixes import script_facts as facts
from dockopt.model import Build, Run
from dockopt.shell import Script, parse_script
from dockopt.shell.options import command_name, first_set, shell_options
from dockopt.syntax import Document, Instruction
from dockopt.text import physical_lines

__all__ = [
    "JoinForm", "MergePlan", "append_command", "append_to_run", "blocking_instruction", "ends_badly", "insert_before",
    "has_comment", "join_form", "join_refusal", "join_runs", "join_text", "plan_merge", "state_leak",
]


@dataclass(frozen=True, slots=True)
class MergePlan:
    """Edits that perform a merge or an append, how far they can be trusted, and why not."""

    edits: tuple[Edit, ...]
    applicability: Applicability
    reason: str  # why it is not safe (empty when safe)
    removes_caches: tuple[str, ...] = ()  # paths of caches the edits remove (append_to_run)


@dataclass(frozen=True, slots=True)
class JoinForm:
    """How script B follows script A: ``[( ]A[ )] OP [{ ]B[; }]``."""

    subshell_left: bool  # ( A ): keep A's state from B
    group_right: bool  # { B; }: B's own ||, ;, ! stay B's
    operator: str  # "&&", or ";" when -e already stops the script after a failing A
    # ``set -e; ( A ); set +e; B``: A begins by turning -e on, so turning it on just before
    # changes nothing in A, and the failing subshell then stops the shell with A's status.
    errexit_guard: bool = False


class Refused(str):
    """Why two scripts cannot be joined (a plain string with a type of its own)."""


# -- the semantic decision --------------------------------------------------------------
def join_form(left: Script, right: Script, start: frozenset[str], *, append: bool = False) -> JoinForm | Refused:
    """The form in which ``right`` can follow ``left`` in one shell started with the options
    ``start`` (from SHELL), or why it cannot. See the module docstring, points 1-5."""
    for script, which in ((left, "first"), (right, "second")):
        if script.has_errors:
            return Refused(f"the {which} script does not parse")
        if not script.statements:
            return Refused(f"the {which} script is empty")
        if facts.background(script):
            return Refused(f"the {which} script starts a background job")
        if ends_badly(script.text):
            return Refused(f"the {which} script {ends_badly(script.text)}")
    if has_comment(left.text):
        return Refused("the first script has a shell comment, which would swallow what follows it")
    changed, unknown = facts.options_changed(left, start)
    if unknown:
        return Refused("the first script runs `set` with options that cannot be read")
    errexit_in_left = "errexit" in start or facts.may_enable_errexit(left)
    leak = _append_leak(left) if append else facts.leaks(left)
    if leak and append:
        return Refused(leak)
    prefix = first_set(right)
    felt = [option for option in sorted(changed)
            if not (prefix is not None and (option in prefix.enables or option in prefix.disables))
            and not append and not facts.option_harmless(option, right)]
    if leak or felt:
        # A's state must not reach B: a subshell. Left of `&&` it would switch -e off.
        why = leak or f"it leaves `set -o {felt[0]}` changed for the second"
        if not errexit_in_left:
            group = not facts.plain_and_chain(right)
            if group and has_comment(right.text):
                return Refused("the second script has a shell comment, which would swallow the closing brace")
            return JoinForm(True, group, "&&")
        if "errexit" in start:
            return JoinForm(True, False, ";")  # ( A ); B - the shell's own -e stops after a failing A
        first = first_set(left)
        if first is not None and "errexit" in first.enables:
            # set -e; ( A ); set +e; B - A's first command turns -e on anyway
            return JoinForm(True, False, ";", errexit_guard=True)
        return Refused(f"the first script changes the shell state ({why}) and uses `set -e`, which a "
                       "subshell keeping that state from the second would switch off")
    last = left.statements[-1]
    group = not facts.plain_and_chain(right)
    if group and has_comment(right.text):
        return Refused("the second script has a shell comment, which would swallow the closing brace")
    if not facts.errexit_maybe_on_at_last(left, start) or facts.neutral(left, last):
        return JoinForm(False, group, "&&")
    if facts.errexit_on_at_end(left, start) and last.kind in ("command", "pipeline", "subshell"):
        if not any(c.negated for c in last.commands if c.depth == 0):
            return JoinForm(False, False, ";")
    return Refused("the first script's last command relies on `set -e`, which `&&` would switch off")


def _append_leak(left: Script) -> str | None:
    """State in ``left`` that could change an appended literal command."""
    if facts.has_trap(left):
        return "the script sets a trap, which would run after the appended command"
    if left.functions or facts._FUNCTION_DEF.search(left.text):
        return "the script defines a shell function, which could shadow the appended command"
    if any(command_name(c) in ("alias", "eval", ".", "source") for c in left.commands):
        return "the script defines aliases or runs code we cannot read in its own shell"
    if any(command_name(c) in ("exit", "exec", "return") and not (c.in_subshell or c.in_substitution)
           for c in left.commands):
        return "the script may end (exit/exec) before an appended command would run"
    return None


def join_text(left: str, right: str, form: JoinForm) -> str:
    """The joined script text (one line), as the shell will read the merged RUN."""
    head = f"( {left.strip()} )" if form.subshell_left else _strip_end(left)
    if form.errexit_guard:
        head = f"set -e; {head}; set +e"
    tail = f"{{ {_strip_end(right)}; }}" if form.group_right else right.strip()
    return f"{head} {form.operator} {tail}" if form.operator == "&&" else f"{head}; {tail}"


def _strip_end(text: str) -> str:
    return text.rstrip().rstrip(";").rstrip()


# -- text-level helpers kept from the first version (used by the rules) ------------------
def blocking_instruction(build: Build, first: Instruction, second: Instruction) -> Instruction | None:
    """An instruction between the two RUNs, if any (comments and blank lines are not)."""
    between = [i for i in build.document.instructions if first.start_line < i.start_line < second.start_line]
    return between[0] if between else None


def state_leak(run: Run) -> str | None:
    """What in this RUN's script would change the meaning of a command appended to it."""
    if run.source is None:
        return "the script is not a POSIX shell script"
    script = run.script
    if script is None or script.has_errors:
        return "the shell script does not parse"
    return facts.leaks(script)


def ends_badly(text: str) -> str | None:
    """Text endings after which ``&& next`` would change meaning or not parse."""
    stripped = text.rstrip().rstrip(";").rstrip()
    if has_comment(text):
        return "contains a shell comment, which could swallow the appended command"
    if stripped.endswith("&") and not stripped.endswith("&&"):
        return "ends with a background '&'"
    if stripped.endswith(("&&", "||", "|", "\\")):
        return "ends with an operator"
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


# -- merging a span of RUNs --------------------------------------------------------------
def join_runs(build: Build, runs: Sequence[Run]) -> MergePlan | None:
    """Edits that fold ``runs[1:]`` into ``runs[0]``, or None when that is not provably
    equivalent or cannot be written. ``runs`` must be consecutive RUNs of one stage with
    nothing but comments and blank lines between them."""
    plan = _join(build, runs)
    return plan if isinstance(plan, MergePlan) else None


def join_refusal(build: Build, runs: Sequence[Run]) -> str | None:
    """Why ``join_runs`` gives no plan for ``runs`` (None when it gives one)."""
    plan = _join(build, runs)
    return None if isinstance(plan, MergePlan) else str(plan)


def plan_merge(build: Build, first: Run, second: Run) -> MergePlan | None:
    """``join_runs`` of two RUNs (the name the rules used first)."""
    return join_runs(build, (first, second))


def _join(build: Build, runs: Sequence[Run]) -> MergePlan | Refused:
    if len(runs) < 2:
        return Refused("nothing to merge")
    document = build.document
    first = runs[0]
    unsafe: list[str] = []
    for before, run in zip(runs, runs[1:]):
        a, b = before.instruction, run.instruction
        if a.is_json or b.is_json:
            return Refused("an exec-form RUN has no shell text to join")
        if a.heredocs or b.heredocs:
            return Refused("a heredoc RUN cannot be joined as text")
        if run.source is None or before.source is None:
            return Refused("the script is not a POSIX shell script")
        if run.stage is not first.stage or blocking_instruction(build, a, b) is not None:
            return Refused("an instruction between the RUNs")
        if run.shell != first.shell:
            return Refused("the RUNs use different shells")
        if {f.text for f in b.flags} - {f.text for f in first.instruction.flags}:
            # The joined RUN carries the first RUN's flags: the second's commands would lose
            # their own mount, network or security mode. Not even an unsafe fix.
            return Refused("the second RUN has flags the first lacks")
        if [f.text for f in first.instruction.flags] != [f.text for f in b.flags]:
            unsafe.append("the RUNs have different flags (the second's commands get the first's mounts)")
        last_line = physical_lines(a.text.rstrip("\r\n"))[-1] if a.text.strip() else ""
        if last_line.lstrip().startswith("#"):
            return Refused("the first RUN ends with a comment line")
    start = shell_options(first.shell)
    if start is None:
        return Refused("the SHELL has flags dockopt does not know")
    # Decide each join on the text the shell will read so far.
    forms: list[JoinForm] = []
    text = first.source.text  # type: ignore[union-attr]
    for run in runs[1:]:
        right = run.source.text  # type: ignore[union-attr]
        form = join_form(parse_script(text), parse_script(right), start)
        if isinstance(form, Refused):
            return form
        forms.append(form)
        text = join_text(text, right, form)
    edits = _join_edits(document, runs, forms)
    if edits is None:
        return Refused("the RUNs' layout cannot be joined")
    if unsafe:
        return MergePlan(edits, Applicability.UNSAFE, "; ".join(unsafe))
    return MergePlan(edits, Applicability.SAFE, "")


def _join_edits(document: Document, runs: Sequence[Run], forms: list[JoinForm]) -> tuple[Edit, ...] | None:
    source = document.source
    escape = document.escape
    nl = _newline(document)
    indent, leading = _continuation_style(document, runs[0].instruction)
    opens = ["" for _ in runs]
    closes = ["" for _ in runs]
    for index, form in enumerate(forms, start=1):
        if form.subshell_left:
            opens[0] = ("set -e; ( " if form.errexit_guard else "( ") + opens[0]
            closes[index - 1] += " ); set +e" if form.errexit_guard else " )"
        if form.group_right:
            opens[index] = "{ "
            closes[index] = "; }"
    edits: list[Edit] = []
    first = runs[0]
    if opens[0]:
        at = first.source.to_source(0)  # type: ignore[union-attr]
        edits.append(Edit(at, at, opens[0]))
    for index in range(1, len(runs)):
        a, b = runs[index - 1].instruction, runs[index].instruction
        form = forms[index - 1]
        head_end = _head_end(source, a, _content_end(a))
        if _content_end(a) < a.end:
            return None  # comment lines or a dangling escape after the content: leave it
        between = source[a.line_end : b.line_start]
        kept = [line for line in physical_lines(between) if line.strip().startswith("#")]
        comments = "".join(f"{line.rstrip()}{nl}" for line in kept)
        args_src = b.to_source(b.args_start)
        head = source[b.start + len(b.keyword) : args_src]
        if any(line.strip().startswith("#") for line in physical_lines(head)):
            if b.flags:
                return None
            body_prefix = head.lstrip(" \t")  # comment lines between `RUN \` and the command
        else:
            body_prefix = ""
        op = form.operator
        close = closes[index - 1]
        if op == ";":
            joined = f"{close}; {escape}{nl}{comments}{indent}{body_prefix}{opens[index]}"
        elif leading:
            joined = f"{close} {escape}{nl}{comments}{indent}&& {body_prefix}{opens[index]}"
        else:
            joined = f"{close} && {escape}{nl}{comments}{indent}{body_prefix}{opens[index]}"
        if body_prefix and opens[index]:
            return None  # a brace before comment lines would be skipped with them
        edits.append(Edit(head_end, args_src, joined))
    last = runs[-1].instruction
    if closes[-1]:
        end = _content_end(last)
        if end < last.end:
            return None
        at = _head_end(source, last, end)
        edits.append(Edit(at, end, closes[-1]))
    return tuple(edits)


def _head_end(source: str, ins: Instruction, content_end: int) -> int:
    head_end = content_end
    while head_end > ins.start and source[head_end - 1] in " \t;":
        head_end -= 1  # "a;" + "&& b" would not parse
    return head_end


# -- appending a command -----------------------------------------------------------------
def append_to_run(build: Build, run: Run, command: str, *, removes_caches: Sequence[str] = ()) -> MergePlan | None:
    """Edits appending the literal ``command`` to ``run`` so that it runs exactly when the
    script succeeded (module docstring), or None. The plan is SAFE as far as the shell is
    concerned; whether removing ``removes_caches`` is safe is the caller's decision."""
    plan = _append(build, run, command, tuple(removes_caches))
    return plan if isinstance(plan, MergePlan) else None


def insert_before(build: Build, run: Run, at: int, command: str, *,
                  removes_caches: Sequence[str] = ()) -> MergePlan | None:
    """Edits running the literal ``command`` just before the command of ``run`` that starts
    at source offset ``at`` (a cleanup placed before ``apk del go``), or None.

    ``X && R`` becomes ``X && command && R`` and ``X; R`` becomes ``X; command; R``: the
    command runs exactly when R would have, R's status and the script's are kept when the
    command succeeds (callers insert only commands that succeed where their tool exists).
    R must be a plain command of the script's own shell: not in a pipeline, a subshell, a
    substitution or a compound command, not negated; the script must not define functions or
    aliases that could shadow the command."""
    ins = run.instruction
    source, script = run.source, run.script
    if ins.is_json or ins.heredocs or source is None or script is None or script.has_errors:
        return None
    if _append_leak(script) is not None and "exit" not in (_append_leak(script) or ""):
        return None
    target = next((c for c in script.commands if source.to_source(c.span[0]) == at), None)
    if target is None or target.depth != 0 or target.negated or target.in_pipeline or target.in_subshell:
        return None
    if target.in_substitution or target.background or not target.assignments == [] or target.redirects:
        return None
    if target.connector == "&&":
        text = f"{command} && "
    elif target.connector in (None, ";", "\n"):
        text = f"{command}; "
    else:
        return None
    return MergePlan((Edit(at, at, text),), Applicability.SAFE, "", tuple(removes_caches))


def append_refusal(build: Build, run: Run, command: str) -> str | None:
    plan = _append(build, run, command, ())
    return None if isinstance(plan, MergePlan) else str(plan)


def append_command(build: Build, run: Run, command: str) -> Edit | None:
    """The single edit of ``append_to_run`` (the name the rules used first)."""
    plan = append_to_run(build, run, command)
    return plan.edits[0] if plan is not None and len(plan.edits) == 1 else None


def _append(build: Build, run: Run, command: str, caches: tuple[str, ...]) -> MergePlan | Refused:
    ins = run.instruction
    if ins.is_json:
        return Refused("an exec-form RUN has no shell text to append to")
    if run.source is None or run.script is None:
        return Refused("the script is not a POSIX shell script")
    start = shell_options(run.shell)
    if start is None:
        return Refused("the SHELL has flags dockopt does not know")
    if not facts.plain_and_chain(parse_script(command)) or has_comment(command):
        return Refused("only plain commands joined by && are appended (anything else needs braces)")
    if ins.heredocs:
        return _append_heredoc(build, run, command, start, caches)
    form = join_form(run.script, parse_script(command), start, append=True)
    if isinstance(form, Refused):
        return form
    edit = _append_edit(build, ins, command, form.operator)
    if edit is None:
        return Refused("the RUN's layout cannot take an appended command")
    return MergePlan((edit,), Applicability.SAFE, "", caches)


def _append_edit(build: Build, ins: Instruction, command: str, operator: str) -> Edit | None:
    document = build.document
    source = document.source
    # Append after the last character BuildKit reads, not after the instruction's last line:
    # a RUN may go on past its content with a dangling escape at the end of the file, or with
    # comment lines inside the continuation. Appending after those would turn `curl \` into
    # `curl \ && ...` (an escaped space: one more, empty-looking argument) or edit a comment.
    content_end = _content_end(ins)
    head_end = _head_end(source, ins, content_end)
    # What follows the content (an escape and comment lines) stays, after the same blanks.
    keep = source[head_end:content_end].replace(";", "") if content_end < ins.end else ""
    nl = _newline(document)
    if not ins.is_continued:
        return Edit(head_end, content_end, f" {operator} {command}{keep}" if operator == "&&" else f"; {command}{keep}")
    indent, leading = _continuation_style(document, ins)
    if operator == ";":
        return Edit(head_end, content_end, f"; {document.escape}{nl}{indent}{command}{keep}")
    if leading:
        return Edit(head_end, content_end, f" {document.escape}{nl}{indent}&& {command}{keep}")
    return Edit(head_end, content_end, f" && {document.escape}{nl}{indent}{command}{keep}")


_SHEBANG = re.compile(r"#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(sh|bash|dash|ash)(\s+(-[a-zA-Z]+\s*)*)?$")


def _append_heredoc(build: Build, run: Run, command: str, start: frozenset[str],
                    caches: tuple[str, ...]) -> MergePlan | Refused:
    """``RUN <<EOF`` whose body is the script: the command goes inside the body."""
    ins = run.instruction
    source = run.source
    assert source is not None
    if len(ins.heredocs) != 1 or source.text != ins.heredocs[0].content or ins.heredocs[0].chomp:
        return Refused("only a RUN whose single heredoc body is the whole script takes an appended command")
    body = ins.heredocs[0].content
    if "\r" in body:
        # BuildKit hands a heredoc body to the shell byte for byte: a CRLF line's last word
        # ends in a CR (`apt-get update\r` fails), where the text after it would not.
        return Refused("the heredoc body has CRLF line endings, which the shell reads as part of the words")
    first_line = body.split("\n", 1)[0]
    if first_line.startswith("#!"):
        m = _SHEBANG.fullmatch(first_line)
        if m is None:
            return Refused("the heredoc runs an interpreter other than sh or bash")
        flags = (m.group(4) or "").split()
        parsed = shell_options(("sh", *flags))
        if parsed is None:
            return Refused("the heredoc's interpreter has flags dockopt does not know")
        start = parsed  # a shebang script does not use SHELL
    script = parse_script(body)
    form = join_form(_without_comments(script), parse_script(command), start, append=True)
    if isinstance(form, Refused):
        return form
    last = script.statements[-1]
    end = last.span[1]
    line_end = body.find("\n", end)
    rest = body[end : line_end if line_end != -1 else len(body)]
    if "\\" in rest:
        return Refused("the heredoc's last line continues")
    at = source.to_source(end)
    if form.operator == ";" and not rest.strip():
        content = f"{_newline(build.document)}{command}"
        at = source.to_source(end + len(rest.rstrip("\r")))
    else:
        content = f" {form.operator} {command}" if form.operator == "&&" else f"; {command}"
    return MergePlan((Edit(at, at, content),), Applicability.SAFE, "", caches)


def _without_comments(script: Script) -> Script:
    """A heredoc body's comments end at their line: the appended text goes before them, so
    for the join decision the body counts as comment-free when its last statement is."""
    if not has_comment(script.text):
        return script
    last = script.statements[-1]
    line_start = script.text.rfind("\n", 0, last.span[0]) + 1
    if has_comment(script.text[line_start : last.span[1]]):
        return script  # a comment inside the last statement's lines: join_form refuses
    return parse_script(_blank_comments(script.text))


def _blank_comments(text: str) -> str:
    out = []
    for line in text.split("\n"):
        out.append("" if line.lstrip().startswith("#") else line)
    return "\n".join(out)


# -- layout ------------------------------------------------------------------------------
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


def _content_end(ins: Instruction) -> int:
    """Source offset just past the last character of the instruction's logical line."""
    if not ins.segments:
        return ins.end
    last = ins.segments[-1]
    return min(ins.end, last.source_start + last.length)
