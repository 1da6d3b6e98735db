"""Forced guards: worlds in which a shell test on real output takes the value the real build gives it.

A stub prints nothing and writes empty files, so a script's own checks of real output fail in
the stub world: ``[ -n "$success" ]`` after a download loop, ``[ "$(jshell ...)" = UTF-8 ]``,
``test "$(id postgres)" = "uid=26(postgres) ..."``, ``if [ "$VERSION_CODENAME" != bullseye ];
then exit 1; fi``. The original then stops before the steps the fix changed, in every
scenario, and the fix is unprovable (``prove._prove_in``).

A test (``[ ... ]``, ``test ...``) is a pure builtin: apart from expanding its words it only
sets ``$?``. So a world in which one test's outcome is *forced* is a world like any other, as
long as both sides force the same test: ``instrument`` rewrites every test command of every
shell-form RUN into ``__trace_guard K [ ... ]``, numbered in build order, and both files must
give the same sequence of tests (the fixer copies bodies verbatim; a fix that adds, drops or
reorders a test has no corresponding guards, and is left unprovable). ``__trace_guard``, a shell
function defined in front of every script on its first line (line numbers unchanged),
evaluates the test unless ``/.trace/guards/K.t`` (forced true) or ``K.f`` (forced false)
exists, and appends ``K forced status`` to ``/.trace/guardlog``, which ``run._run_step`` reads.

``prove`` searches the forced set only for an original that stops before the end of the
changed steps under every shell: it flips the last test the stopping RUN evaluated (a failed
test is forced true, a passed one false: ``if [ ... ]; then exit 1``), rebuilds, and repeats
while each flip moves the stop on. The real build passes every check it makes (it builds), so
the world found is closer to it than the stub world; the comparison in it is the usual one.
``[[ ... ]]`` is syntax, not a command, and stays unforced. An ``if``/``elif`` condition
with no test in it (jenkins: ``if find ... | xargs ldd | grep 'not found'; then exit 1; fi``,
where the stub grep succeeds) is guarded as a whole: ``__trace_condition K; case $? in 0) :;;
1) ! :;; *) CONDITION; __trace_logged K $?;; esac``, on the same line (a condition is exempt
from ``set -e`` whatever it runs). Loop conditions are never guarded. So
is a ``! PIPELINE`` that ends the script (``RUN ! cmp /bin/busybox /bin/busybox.foreign``, or
the merged ``a && { ! cmp ...; }``): ``{ __trace_condition K || case $? in 1) ! :;; *) !
PIPELINE; __trace_logged K $? || ! :;; esac; }``; mid-script a ``!`` pipeline stops nothing.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from dockopt.shell.parse import _byte_to_char, _parse_tree, parse_script
from tests.trace.build import Plan, RunStep, script_index

FUNCTION = "__trace_guard"
CONDITION = "__trace_condition"  # an `if` condition: 0/1 forced, 2 evaluate it
LOG = "__trace_logged"
GUARD_DIR = ".trace/guards"
GUARD_LOG = ".trace/guardlog"
# One line, so that every line of the script keeps its number; `local` keeps the function's
# variables out of the script (and of `set -a`'s exports); `if "$@"` is exempt from `set -e`.
DEFINITION = (
    f'{FUNCTION}() {{ local __trace_k="$1"; shift; '
    f'if [ -e "/{GUARD_DIR}/$__trace_k.t" ]; then echo "$__trace_k 1 0" >>/{GUARD_LOG}; return 0; fi; '
    f'if [ -e "/{GUARD_DIR}/$__trace_k.f" ]; then echo "$__trace_k 1 1" >>/{GUARD_LOG}; return 1; fi; '
    f'if "$@"; then echo "$__trace_k 0 0" >>/{GUARD_LOG}; return 0; '
    f'else local __trace_s=$?; echo "$__trace_k 0 $__trace_s" >>/{GUARD_LOG}; return "$__trace_s"; fi; }}; '
    f'{CONDITION}() {{ if [ -e "/{GUARD_DIR}/$1.t" ]; then echo "$1 1 0" >>/{GUARD_LOG}; return 0; fi; '
    f'if [ -e "/{GUARD_DIR}/$1.f" ]; then echo "$1 1 1" >>/{GUARD_LOG}; return 1; fi; return 2; }}; '
    f'{LOG}() {{ echo "$1 0 $2" >>/{GUARD_LOG}; return "$2"; }}; '
)
MAX_FLIPS = 8  # forced tests tried per proof before giving up
LOOP_EVALUATIONS = 8


def _tests(script: str) -> list[tuple[int, str]]:
    """(offset, source text) of each ``[ ... ]``/``test ...`` command of a script, in order."""
    found: list[tuple[int, str]] = []
    for command in parse_script(script).commands:
        name = command.name_value
        if command.name is None or name not in ("[", "test"):
            continue
        start = command.name.span[0]
        found.append((start, script[start:command.span[1]]))
    return sorted(found)


def _conditions(script: str, tests: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(start, end) of each ``if``/``elif`` condition that holds no test command: a check of
    real output by a pipeline (jenkins: ``if find ... | xargs ldd | grep 'not found'; then
    exit 1; fi``), forced as a whole. Conditions with a test are forced through the test."""
    tree = _parse_tree(script.encode("utf-8", "surrogatepass"))
    if tree is None or tree.root_node.has_error:
        return []
    chars = _byte_to_char(script)
    found: list[tuple[int, int, str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type not in ("if_statement", "elif_clause"):
            continue
        keywords = [c.type for c in node.children]
        if "then" not in keywords:
            continue
        condition = [c for c in node.children[1:keywords.index("then")] if c.type not in (";", "\n", "&", "comment")]
        if not condition or any(c.type in ("if_statement", "heredoc_body") for c in condition):
            continue
        start, end = chars[condition[0].start_byte], chars[condition[-1].end_byte]
        if not any(start <= offset < end for offset, _ in tests):
            found.append((start, end, "if"))
    # A script that ends with `! PIPELINE` (buildah: `RUN ! cmp /bin/busybox /bin/busybox.foreign`)
    # fails when the pipeline succeeds, which a stub always does. Only in last place: mid-script
    # a `!` pipeline never stops the shell (it is exempt from `set -e`), so it stops nothing.
    statements = [c for c in tree.root_node.children if c.is_named and c.type != "comment"]
    last = statements[-1] if statements else None
    # `a && b && ! P`, and the merge primitive's `a && { ! P; }`
    while last is not None and last.type in ("list", "compound_statement") and last.named_children:
        inner = [c for c in last.named_children if c.type != "comment"]
        last = inner[-1] if inner else None
    if last is not None and last.type == "negated_command":
        start, end = chars[last.start_byte], chars[last.end_byte]
        if not any(start <= offset < end for offset, _ in tests):
            found.append((start, end, "not"))
    return found


def instrument(build: Plan) -> tuple[Plan, list[str]]:
    """The plan with every test command and test-free ``if`` condition guarded, and their
    texts in build order (whitespace folded) for the correspondence check."""
    texts: list[str] = []
    stages = []
    for stage in build.stages:
        steps = []
        for step in stage.steps:
            where = script_index(step.argv) if isinstance(step, RunStep) else None
            if where is None:
                steps.append(step)
                continue
            assert isinstance(step, RunStep)
            script = step.argv[where]
            tests = _tests(script)
            edits = sorted([(offset, offset + len(text), "test") for offset, text in tests]
                           + _conditions(script, tests))
            rewritten = script
            numbers = range(len(texts), len(texts) + len(edits))
            for (start, end, kind), number in reversed(list(zip(edits, numbers))):
                if kind == "test":
                    rewritten = f"{rewritten[:start]}{FUNCTION} {number} {rewritten[start:]}"
                elif kind == "if":  # the condition runs unless forced; its status is logged and kept
                    rewritten = (f"{rewritten[:start]}{CONDITION} {number}; case $? in 0) :;; 1) ! :;; *) "
                                 f"{rewritten[start:end]}; {LOG} {number} $?;; esac{rewritten[end:]}")
                else:  # the last `! PIPELINE`: `||` keeps `set -e` off the forced values, as `!` does
                    rewritten = (f"{rewritten[:start]}{{ {CONDITION} {number} || case $? in 1) ! :;; *) "
                                 f"{rewritten[start:end]}; {LOG} {number} $? || ! :;; esac; }}{rewritten[end:]}")
            texts.extend(("if " if kind == "if" else "") + " ".join(script[start:end].split())
                         for start, end, kind in edits)
            if edits:
                rewritten = DEFINITION + rewritten
            steps.append(replace(step, argv=(*step.argv[:where], rewritten)))
        stages.append(replace(stage, steps=steps))
    return Plan(stages, build.texts, build.instruction_texts), texts


_LOG_LINE = re.compile(r"(\d+) ([01]) (\d+)")


def read_log(text: str) -> list[tuple[int, bool, int]]:
    """The guard log: (test number, forced, status) per evaluation, in order."""
    return [(int(m.group(1)), m.group(2) == "1", int(m.group(3)))
            for m in map(_LOG_LINE.fullmatch, text.splitlines()) if m]


def next_flip(evaluations: list[tuple[int, bool, int]], tried: set[int]) -> tuple[int, bool] | None:
    """The last test the stopping RUN evaluated that has not been forced yet, with the value
    to force (the other one: a failed test true, a passed one false), or None. A test the RUN
    evaluated more than ``LOOP_EVALUATIONS`` times is a loop's condition: forcing it would loop
    without end (until the RUN's timeout) or not at all, so it is left alone."""
    times = Counter(number for number, _, _ in evaluations)
    for number, was_forced, status in reversed(evaluations):
        if not was_forced and number not in tried and times[number] <= LOOP_EVALUATIONS:
            return number, status != 0
    return None


def force(root: Path, forced: Mapping[int, bool]) -> None:
    """Write a root's forced tests (before its first RUN; a copied root keeps them)."""
    if not forced:
        return
    where = root / GUARD_DIR
    where.mkdir(parents=True, exist_ok=True)
    for number, value in forced.items():
        (where / f"{number}.{'t' if value else 'f'}").touch()


def take_log(root: Path) -> list[tuple[int, bool, int]]:
    """The tests the last RUN evaluated (and an empty log for the next)."""
    log = root / GUARD_LOG
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return []
    log.unlink()
    return read_log(text)
