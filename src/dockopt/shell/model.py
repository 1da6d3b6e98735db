"""The structured view of a shell script that the layer simulator and the rules read.

Everything here is plain data: no tree-sitter object outlives ``parse_script``, so a
``Script`` can be cached, compared and pickled, and callers never import tree-sitter unless
they parse.
All spans are ``(start, end)`` *character* offsets into ``Script.text`` (not bytes), because
callers map them back into the Dockerfile, which they hold as ``str``.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

Span = tuple[int, int]

# Part kinds. Plain strings rather than an Enum: they are compared in hot loops and printed
# in test failures, where a string reads better and costs nothing.
LIT: Final = "lit"  # literal characters, quotes and escapes already removed
PARAM: Final = "param"  # $X, ${X}, ${X:-default}, ... (see Part.op)
CMDSUB: Final = "cmdsub"  # $(...) or `...`
ARITH: Final = "arith"  # $((...))
OTHER: Final = "other"  # anything we do not evaluate: brace expansion, arrays, ${!X}, <(...)


# Part and Word are the most numerous objects (several per command): a frozen dataclass's
# __init__ costs 3-4x a plain one, ~15% of parse time on the corpus. They are immutable by
# convention (never assign to them); unsafe_hash keeps them usable as dict keys.
@dataclass(slots=True, unsafe_hash=True)
class Part:
    """One piece of a word, as far as expansion is concerned.

    ``quoted`` matters twice: quoted text is not field-split and its ``*?[`` are not globs.
    """

    kind: str
    text: str  # LIT: the literal value; PARAM: the parameter name; others: raw source
    quoted: bool = False
    # PARAM only: "" for $X/${X}; ":-" "-" ":+" "+" ":=" "=" ":?" "?" (operand in ``arg``);
    # "#" "##" "%" "%%" (pattern removal), "/" "//" "/#" "/%" (substitution, pattern in
    # ``arg`` and replacement in ``arg2``), ":" (substring, raw "offset[:length]" in
    # ``arg``), "len" (${#X}), "^^" "^" ",," "," (case).
    op: str = ""
    arg: tuple[Part, ...] = ()
    arg2: tuple[Part, ...] = ()


@dataclass(slots=True, unsafe_hash=True)
class Word:
    """A shell word: an argument, a command name, a redirect target, an assignment value.

    ``value`` is precomputed at parse time because rules read it constantly: it is the word
    after quote removal when the word contains no expansion at all, else None (use
    ``expand.expand_word`` with known variables for the rest).
    """

    text: str  # raw source slice
    span: Span
    value: str | None
    # None means "one unquoted literal equal to text": most words are plain, and not
    # allocating a Part for each of them keeps parsing fast (see ``parts``).
    raw_parts: tuple[Part, ...] | None = None

    @property
    def parts(self) -> tuple[Part, ...]:
        """The word's parts for expansion (quote-removed literals, parameters, ...)."""
        if self.raw_parts is not None:
            return self.raw_parts
        return (Part(LIT, self.text),) if self.text else ()

    @property
    def literal(self) -> bool:
        """True when the word's value is known without any variable (``value`` is set)."""
        return self.value is not None

    @property
    def glob(self) -> bool:
        """Whether pathname expansion may change the word (an unquoted ``*``, ``?`` or ``[``)."""
        return any(
            p.kind == LIT and not p.quoted and ("*" in p.text or "?" in p.text or "[" in p.text)
            for p in self.parts
        )

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Assignment:
    """``NAME=value`` (or ``NAME+=value``); ``value`` is an empty word for ``NAME=``."""

    name: str
    value: Word
    span: Span
    append: bool = False

    @property
    def text(self) -> str:
        return f"{self.name}{'+=' if self.append else '='}{self.value.text}"


@dataclass(frozen=True, slots=True)
class Heredoc:
    """The body of a ``<<`` redirect.

    ``body`` is a word whose parts follow heredoc rules: with an unquoted delimiter ``$X``,
    ``${X}``, ``$(...)`` are expanded (never field-split) and ``\\$ \\` \\\\ \\<newline>``
    are escapes; with a quoted one the body is literal. ``<<-`` tabs are already stripped
    from the value. So ``expand_word(heredoc.body, env)`` is the text the command reads.
    """

    delimiter: str
    quoted: bool
    strip_tabs: bool
    body: Word
    span: Span  # body plus the closing delimiter line


@dataclass(frozen=True, slots=True)
class Redirect:
    """``[fd]op target``: ``>``, ``>>``, ``<``, ``&>``, ``&>>``, ``>&``, ``<&``, ``>|``,
    ``<>``, ``<<``, ``<<-``, ``<<<``. For heredocs ``target`` is the delimiter word."""

    op: str
    fd: int | None  # the explicit descriptor (``2`` in ``2>``), None when omitted
    target: Word | None
    span: Span
    heredoc: Heredoc | None = None

    @property
    def effective_fd(self) -> int:
        """The descriptor affected: the explicit one, else 0 for input and 1 for output."""
        if self.fd is not None:
            return self.fd
        return 0 if self.op.startswith("<") else 1

    @property
    def writes(self) -> bool:
        """Whether the target is a file this redirect creates or writes."""
        return self.op in (">", ">>", "&>", "&>>", ">|", "<>")

    @property
    def appends(self) -> bool:
        return self.op in (">>", "&>>")


@dataclass(slots=True)
class Command:
    """A simple command (or a builtin form tree-sitter gives its own node: ``export``,
    ``unset``, ``[``/``[[``). Mutable only while ``parse.py`` builds it."""

    name: Word | None  # None for a pure assignment (``A=1``) or a bare redirect
    args: list[Word]
    assignments: list[Assignment]  # prefix assignments ``FOO=bar cmd``
    redirects: list[Redirect]
    span: Span
    # "simple", "declaration" (export/declare/local/readonly/typeset: see ``declarations``),
    # "unset", or "test" ([ ] / [[ ]], whose args are the expression's words and operators,
    # closing bracket included, as bash would see them for ``[``).
    kind: str = "simple"
    declarations: tuple[Assignment, ...] = ()
    # Context. ``connector`` is the operator before the smallest list element this command
    # begins (``a && b`` gives b "&&"; a newline counts as ";"), None at the start of a
    # body. It is never taken by commands inside ``$(...)``: in ``x && y $(z)`` y keeps "&&".
    connector: str | None = None
    in_subshell: bool = False  # ( ), $( ), <( ): cd/export/umask do not leak out
    subshell: tuple[int, ...] = ()  # the shell process that runs it (see shell.words.Ctx)
    in_substitution: bool = False
    in_pipeline: bool = False  # each pipeline member runs in its own subshell too
    # May not run in a successful build: in an if/case/loop body, an elif condition, a
    # function body, or right of `||`. Right of `&&` counts as running (the Dockerfile
    # convention), although `a && b; c` without `set -e` can skip b silently.
    conditional: bool = False
    negated: bool = False
    background: bool = False  # the list it belongs to ends with "&"
    depth: int = 0  # enclosing compound constructs (subshells, groups, bodies, $( ))
    # Redirects of enclosing compounds, outermost first: ``{ a; b; } > f`` writes f via a.
    group_redirects: tuple[Redirect, ...] = ()
    statement: int = 0  # index of the top-level statement in Script.statements
    function: str | None = None  # name of the enclosing function definition, if any

    @property
    def name_value(self) -> str | None:
        """The literal command name (``None`` when absent or computed)."""
        return self.name.value if self.name is not None else None

    @property
    def affects_shell(self) -> bool:
        """Whether state changes (cd, export, umask, set) persist for later commands."""
        return not (self.in_subshell or self.in_pipeline or self.background)

    @property
    def words(self) -> list[Word]:
        return ([self.name] if self.name is not None else []) + self.args

    def argv(self, env: Mapping[str, str] | None = None, *,
             assume_unset: bool = False) -> list[str | None]:
        """The argument vector as the shell builds it, with field splitting of unquoted
        expansions; an unknown word gives one None (its field count is unknown).
        See ``expand.py`` for what "unknown" means and ``assume_unset``."""
        from dockopt.shell.expand import command_argv  # expand imports this module

        return command_argv(self, env or {}, assume_unset=assume_unset)


@dataclass(frozen=True, slots=True)
class Statement:
    """A top-level list element: what ``;``, ``&`` or a newline separates.

    ``kind``: "command", "list" (``&&``/``||``), "pipeline", "subshell", "group", "if",
    "for", "while", "case", "function", "arith", "negated" or "error".
    """

    kind: str
    span: Span
    commands: tuple[Command, ...]
    separator: str | None  # ";" "&" "\n" after it, None at the end of the script


@dataclass(slots=True)
class Script:
    text: str
    commands: list[Command]  # every simple command, in execution order
    statements: list[Statement]
    # tree-sitter inserted ERROR or MISSING nodes (``errors`` has their spans), or the
    # script nests too deeply to analyse (hundreds of levels) or exceeds its parse time budget
    # (``errors`` is then the whole text)
    has_errors: bool
    errors: list[Span] = field(default_factory=list)
    functions: dict[str, Span] = field(default_factory=dict)

    def iter_commands(self, name: str | None = None) -> Iterator[Command]:
        return iter_commands(self, name)


def iter_commands(script: Script, name: str | None = None) -> Iterator[Command]:
    """Commands in execution order; with ``name``, only those whose literal name matches
    either exactly or by basename (``/usr/bin/apt-get`` matches ``apt-get``)."""
    for command in script.commands:
        if name is None:
            yield command
            continue
        value = command.name.value if command.name is not None else None
        if value is not None and (value == name or value.rpartition("/")[2] == name):
            yield command
