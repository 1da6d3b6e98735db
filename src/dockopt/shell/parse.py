"""``parse_script``: tree-sitter-bash syntax tree -> ``Script`` of simple commands.

The walk normalises the tree before reading it, because tree-sitter-bash's shapes do not
match bash's grammar in several places (each guarded by a test in tests/test_shell.py):

* ``a && b > log`` parses as a redirect of the whole list; in bash it belongs to ``b``.
* ``grep 2>/dev/null -q pat f`` puts ``-q pat f`` under the redirect as extra
  "destinations"; they are arguments of ``grep``.
* ``cat <<EOF | sh``, ``cat <<EOF && x``: whatever follows a heredoc start on its line is
  nested *inside* the heredoc redirect (pipelines, ``&&`` chains, more redirects, words).
* ``foo\\<newline>bar`` becomes two words; bash reads one.

So every and-or list is first flattened into a chain of ``_Unit`` (operator, node, extra
redirects) in source order, which is exactly bash's view of ``a | b && c || d``: pipes bind
tighter than ``&&``/``||``, both are left-associative. Contexts (pipeline, conditional,
negation) are then derived from the chain rather than from tree-sitter's nesting.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from dockopt.shell.commands import REDIRECTS, CommandBuilder
from dockopt.shell.fixups import blank_backtick_comments, rotate_leading_heredocs
from dockopt.shell.guard import bounded_parse, parses_in_time
from dockopt.shell.model import Command, Script, Statement
from dockopt.shell.words import Ctx

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

_SEPARATORS = frozenset({";", "&", ";;", ";&", ";;&", "\n"})
_STATEMENT_KINDS = {
    "command": "command", "declaration_command": "command", "unset_command": "command",
    "test_command": "command", "variable_assignment": "command",
    "variable_assignments": "command", "list": "list", "pipeline": "pipeline",
    "subshell": "subshell", "compound_statement": "group", "if_statement": "if",
    "for_statement": "for", "c_style_for_statement": "for", "while_statement": "while",
    "case_statement": "case", "function_definition": "function", "negated_command": "negated",
    "ERROR": "error", "arith": "arith",
}
# What may follow `&&`/`||` inside a heredoc redirect: any statement node.
_COMMANDISH = frozenset(_STATEMENT_KINDS) | {"redirected_statement"}


@functools.lru_cache(maxsize=1)
def tree_sitter_parser() -> Parser:
    """The tree-sitter parser, built once: importing tree_sitter costs start-up time that a
    CLI run with no RUN instruction (or ``dockopt rule``) should not pay."""
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def _parse_tree(data: bytes) -> Tree | None:
    """tree-sitter's tree of ``data``, or None when parsing it would take too long."""
    if not parses_in_time(data):
        return None
    return bounded_parse(tree_sitter_parser(), data)


def _byte_to_char(text: str) -> list[int]:
    """Character offset of every UTF-8 byte offset (continuation bytes map to their char)."""
    table: list[int] = []
    for index, char in enumerate(text):
        code = ord(char)
        width = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        table.extend([index] * width)
    table.append(len(text))
    return table


# 57% of the corpus's RUN scripts repeat an earlier one (docker-library variants, common
# apt-get/pip lines), so parses are shared by text. Sharing is safe because a Script is
# never mutated once built: ``Command`` and ``Script`` are mutable dataclasses only so the
# walk below can fill them; no consumer assigns to them or edits their lists.
# Small on purpose: repeats are mostly close together (an LRU of 256 gets 98% of the hits
# of an unbounded cache on the corpus), and every cached object is one more for the garbage
# collector to traverse: at 4096 the full collections ate the whole gain.
@functools.lru_cache(maxsize=256)
def parse_script(text: str) -> Script:
    """Parse the script /bin/sh receives (continuations joined, or a heredoc body).

    Results are cached by text and shared: treat the returned Script as read-only."""
    source, origin = rotate_leading_heredocs(blank_backtick_comments(text))
    data = source.encode("utf-8", "surrogatepass")
    conv = None if len(data) == len(source) else _byte_to_char(source)
    if origin is not None:  # offsets in the rewritten text -> offsets in ``text``
        conv = origin if conv is None else [origin[c] for c in conv]
    tree = _parse_tree(data)
    walker = _Walker(text, conv)
    if tree is None:  # over its parse budget: read nothing, flag all of it
        return Script(text, [], [], True, [(0, len(text))])
    root = tree.root_node
    try:
        walker.program(root)
    except RecursionError:
        # Hundreds of nested subshells or substitutions: keep what was read, flag the rest.
        return Script(text, walker.commands, walker.statements, True, [(0, len(text))],
                      walker.functions)
    script = Script(text, walker.commands, walker.statements, root.has_error,
                    functions=walker.functions)
    if root.has_error:
        try:
            walker.collect_errors(root, script.errors)
        except RecursionError:
            script.errors.append((0, len(text)))
    return script


class _Unit:
    """One element of a flattened and-or chain: ``op`` joins it to the previous one."""

    __slots__ = ("negated", "node", "op", "redirects")

    def __init__(self, op: str | None, node: Node | None, redirects: list[Node] | None = None):
        self.op = op
        self.node = node
        self.redirects: list[Node] = redirects if redirects is not None else []
        self.negated = False


class _Walker(CommandBuilder):
    def __init__(self, text: str, conv: list[int] | None):
        self.text = text
        self.conv = conv
        self.commands: list[Command] = []
        self.statements: list[Statement] = []
        self.functions: dict[str, tuple[int, int]] = {}
        self.subshells = 0  # ids handed out by enter_subshell
        # Only then can a word be split by a backslash-newline (see join_continued).
        self.continued = "\\\n" in text

    # -- statement sequences -------------------------------------------------------------

    def program(self, root: Node) -> None:
        ctx = Ctx()
        items = self.sequence_items(root.children)
        for index, (node, separator) in enumerate(items):
            first = len(self.commands)
            background = separator == "&"
            connector = None if index == 0 else (";" if items[index - 1][1] != "&" else "&")
            units = self.flatten(node)
            self.chain(units, ctx._replace(background=True) if background else ctx, connector)
            commands = self.commands[first:]
            for command in commands:
                command.statement = index
            kind = node.type
            if len(units) > 1:  # judged on bash's structure, not tree-sitter's nesting
                ops = {unit.op for unit in units[1:]}
                kind = "list" if ops & {"&&", "||"} else "pipeline"
            elif units and units[0].node is not None:
                inner = units[0].node
                kind = inner.type
                if kind == "compound_statement" and inner.children[0].type == "((":
                    kind = "arith"
            self.statements.append(Statement(_STATEMENT_KINDS.get(kind, "command"),
                                             self.span(node), tuple(commands), separator))

    def sequence_items(self, children: list[Node]) -> list[tuple[Node, str | None]]:
        """Statements of a body with the separator after each (newline when implicit)."""
        items: list[tuple[Node, str | None]] = []
        for child in children:
            kind = child.type
            if kind in _SEPARATORS:
                if items and items[-1][1] is None:
                    items[-1] = (items[-1][0], kind)
            elif child.is_named and kind != "comment":
                if items and items[-1][1] is None:
                    items[-1] = (items[-1][0], "\n")
                items.append((child, None))
        return items

    def sequence(self, children: list[Node], ctx: Ctx, connector: str | None) -> None:
        previous: str | None = None
        for index, (node, separator) in enumerate(self.sequence_items(children)):
            if index:
                connector = "&" if previous == "&" else ";"
            local = ctx._replace(background=True) if separator == "&" else ctx
            self.chain(self.flatten(node), local, connector)
            previous = separator

    def enter_subshell(self, ctx: Ctx, **changes: object) -> Ctx:
        """``ctx`` for the commands of a new shell process (see ``Ctx.subshell``)."""
        self.subshells += 1
        return ctx._replace(subshell=ctx.subshell + (self.subshells,), **changes)

    def walk_substitution(self, node: Node, ctx: Ctx) -> None:
        self.sequence(node.children, self.enter_subshell(ctx, in_subshell=True, in_substitution=True,
                                                         in_pipeline=False, negated=False, background=False,
                                                         depth=ctx.depth + 1), None)

    # -- and-or chains ---------------------------------------------------------------------

    def flatten(self, node: Node) -> list[_Unit]:
        """The and-or chain of a statement, as ``_Unit`` values in source order.

        tree-sitter nests ``a && b && c`` to the left, one level per operator: the lists are
        unwound with an explicit stack, so a RUN of a thousand ``&&`` does not exhaust
        Python's recursion limit.
        """
        units: list[_Unit] = []
        work: list[tuple[str | None, Node]] = [(None, node)]
        while work:
            op, current = work.pop()
            kind = current.type
            if kind in ("list", "pipeline"):
                items: list[tuple[str | None, Node]] = []
                pending = op
                for child in current.children:
                    if not child.is_named:
                        if child.type in ("&&", "||", "|", "|&"):
                            pending = child.type
                    elif child.type != "comment":
                        items.append((pending, child))
                        pending = None
                work.extend(reversed(items))
                continue
            if kind == "negated_command":
                inner = [c for c in current.children if c.is_named and c.type != "comment"]
                sub = self.flatten(inner[0]) if inner else []
                if sub:
                    sub[0].negated = not sub[0].negated
            elif kind == "redirected_statement":
                sub = self.flatten_redirected(current)
            else:
                sub = [_Unit(None, current)]
            if sub:
                if op is not None or units:
                    sub[0].op = op
                units.extend(sub)
        return units

    def flatten_redirected(self, node: Node) -> list[_Unit]:
        body: Node | None = None
        redirects: list[Node] = []
        for child in node.children:
            if child.type in REDIRECTS:
                redirects.append(child)
            elif child.is_named and child.type != "comment" and body is None:
                body = child
        units = self.flatten(body) if body is not None else [_Unit(None, None)]
        if not units:
            units = [_Unit(None, None)]
        # Quirk: `a && b > log` -- the redirect belongs to the last element only.
        last = units[-1]
        tail: list[_Unit] = []
        for redirect in redirects:
            last.redirects.append(redirect)
            if redirect.type == "heredoc_redirect":
                tail.extend(self.heredoc_tail(redirect))
        return units + tail

    def heredoc_tail(self, redirect: Node) -> list[_Unit]:
        """What tree-sitter nests inside ``<<EOF`` but bash reads as following it (the
        nested redirects and words are read by ``heredoc``)."""
        tail: list[_Unit] = []
        op: str | None = None
        for child in redirect.children:
            kind = child.type
            if kind in ("&&", "||"):
                op = kind
            elif kind == "pipeline":  # `| stmt`: its own first unit joins our pipeline
                tail.extend(self.flatten(child))
                if tail and tail[0].op is None:
                    tail[0].op = "|"
            elif kind in _COMMANDISH and op is not None:  # `&& right` / `|| right`
                sub = self.flatten(child)
                if sub:
                    sub[0].op = op
                tail.extend(sub)
                op = None
        return tail

    def chain(self, units: list[_Unit], ctx: Ctx, connector: str | None) -> None:
        """Emit a flattened and-or chain, deriving pipeline/conditional/negated contexts."""
        count = len(units)
        i = 0
        while i < count:
            j = i + 1
            while j < count and units[j].op in ("|", "|&"):
                j += 1
            head = units[i]
            local = ctx
            if j - i > 1:
                local = local._replace(in_pipeline=True)
            if head.op == "||" and not local.conditional:
                local = local._replace(conditional=True)
            if head.negated:
                local = local._replace(negated=not local.negated)
            for k in range(i, j):
                unit = units[k]
                op = connector if k == 0 else unit.op
                # Each member of a pipeline runs in a shell process of its own.
                self.unit(unit, self.enter_subshell(local) if j - i > 1 else local, op)
            i = j

    # -- elements --------------------------------------------------------------------------

    def unit(self, unit: _Unit, ctx: Ctx, connector: str | None) -> None:
        node = unit.node
        kind = node.type if node is not None else "command"
        if node is None or kind in ("command", "declaration_command", "unset_command",
                                    "variable_assignment", "variable_assignments"):
            self.command(node, unit.redirects, ctx, connector)
        elif kind == "test_command":
            self.test_command(node, unit.redirects, ctx, connector)
        else:
            self.compound(node, unit.redirects, ctx, connector)

    def compound(self, node: Node, redirect_nodes: list[Node], ctx: Ctx,
                 connector: str | None) -> None:
        kind = node.type
        if redirect_nodes:
            redirects, _extra = self.redirects(redirect_nodes, ctx)
            ctx = ctx._replace(group_redirects=ctx.group_redirects + tuple(redirects))
        inner = ctx._replace(depth=ctx.depth + 1)
        body = inner._replace(conditional=True)
        children = node.children
        if kind == "subshell":
            self.sequence(children, self.enter_subshell(inner, in_subshell=True), connector)
        elif kind == "compound_statement":
            if children and children[0].type == "((":
                self.find_substitutions(node, ctx)
            else:
                self.sequence(children, inner, connector)
        elif kind == "if_statement":
            self.if_statement(node, inner, connector)
        elif kind in ("while_statement", "for_statement", "c_style_for_statement"):
            head = [c for c in children if c.type != "do_group"]
            if kind == "while_statement":  # the condition runs at least once
                self.sequence(head, inner, connector)
            else:  # the words of `for x in $(ls)`: expanded once, before the body
                for child in head:
                    if child.is_named and child.type != "comment":
                        if kind == "for_statement":
                            self.word(child, inner)
                        else:
                            self.find_substitutions(child, inner)
            for child in children:
                if child.type == "do_group":
                    self.sequence(child.children, body, None)
        elif kind == "case_statement":
            for child in children:
                if child.type == "case_item":
                    self.case_item(child, body)
                elif child.is_named:
                    self.word(child, inner)  # walks $(...) in the subject
        elif kind == "function_definition":
            self.function_definition(node, body)
        else:  # ERROR and anything unforeseen: salvage the statements inside
            self.sequence(children, inner, connector)

    def if_statement(self, node: Node, ctx: Ctx, connector: str | None) -> None:
        body = ctx._replace(conditional=True)
        condition: list[Node] = []
        consequence: list[Node] = []
        in_condition = True
        for child in node.children:
            kind = child.type
            if kind == "then":
                in_condition = False
            elif kind in ("elif_clause", "else_clause"):
                break
            elif kind not in ("if", "fi"):
                (condition if in_condition else consequence).append(child)
        self.sequence(condition, ctx, connector)
        self.sequence(consequence, body, None)
        for child in node.children:
            # an elif condition may not run either; its body is conditional like the rest
            if child.type == "elif_clause":
                self.if_statement(child, body, None)
            elif child.type == "else_clause":
                self.sequence(child.children, body, None)

    def case_item(self, node: Node, ctx: Ctx) -> None:
        after_patterns = False
        body: list[Node] = []
        for child in node.children:
            if not after_patterns:
                if child.type == ")":
                    after_patterns = True
                elif child.is_named:
                    self.word(child, ctx)  # walks $(...) in a pattern
                continue
            body.append(child)
        self.sequence(body, ctx, None)

    def function_definition(self, node: Node, ctx: Ctx) -> None:
        name_node = node.child_by_field_name("name")
        name = self.literal_word(name_node).text if name_node is not None else None
        if name is not None:
            self.functions[name] = self.span(node)
        body = node.child_by_field_name("body")
        if body is not None:
            self.compound(body, [], ctx._replace(function=name, depth=ctx.depth - 1), None)

    # -- diagnostics -----------------------------------------------------------------------

    def collect_errors(self, node: Node, out: list[tuple[int, int]]) -> None:
        for child in node.children:
            if child.type == "ERROR" or child.is_missing:
                out.append(self.span(child))
            elif child.has_error:
                self.collect_errors(child, out)
