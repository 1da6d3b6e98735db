"""Simple commands, ``[``/``[[`` tests, assignments and redirects (including heredocs).

Half of the tree-sitter-bash quirks live here: words that a redirect swallowed
(``grep 2>/dev/null -q pat f``), redirects that tree-sitter nested inside a heredoc
redirect (``cat <<EOF > /etc/x``), words split by a backslash-newline. See parse.py for the
statement-level ones.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dockopt.shell.model import LIT, Assignment, Command, Heredoc, Part, Redirect, Word
from dockopt.shell.words import (
    Ctx,
    WordBuilder,
    heredoc_body_word,
    literal_value,
    merge_literals,
    unquoted_parts,
)

if TYPE_CHECKING:
    from tree_sitter import Node

_BARE_WORD = re.compile(r"(?:[^\s\\]|\\[^\n])+")
REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_TEST_EXPRESSIONS = frozenset({"binary_expression", "unary_expression", "ternary_expression",
                               "parenthesized_expression", "postfix_expression"})
# Words tree-sitter may leave inside a heredoc redirect (`cat <<EOF file`).
_HEREDOC_WORDS = frozenset({"word", "string", "raw_string", "concatenation", "simple_expansion",
                            "expansion", "number", "command_substitution"})


class CommandBuilder(WordBuilder):
    """Builds ``Command`` values; ``parse._Walker`` adds the statement structure."""

    commands: list[Command]
    continued: bool  # the text has a backslash-newline (words may need joining)

    def command(self, node: Node | None, redirect_nodes: list[Node], ctx: Ctx,
                connector: str | None) -> None:
        name: Word | None = None
        words: list[Word] = []
        assignments: list[Assignment] = []
        declarations: list[Assignment] = []
        own_redirects: list[Node] = []
        kind = "simple"
        children: list[Node] = []
        if node is not None:
            node_kind = node.type
            if node_kind == "variable_assignment":
                children = [node]
            elif node_kind == "variable_assignments":
                children = node.children
            else:
                children = node.children
                if node_kind == "declaration_command":
                    kind = "declaration"
                elif node_kind == "unset_command":
                    kind = "unset"
        keyword = kind != "simple"
        text = self.text
        plain = self.conv is None  # byte offsets are character offsets
        for child in children:
            ckind = child.type
            if ckind == "word" and plain:  # inlined fast path of self.word(): most words
                start, end = child.start_byte, child.end_byte
                raw = text[start:end]
                words.append(Word(raw, (start, end), raw) if "\\" not in raw
                             else self.word(child, ctx))
            elif ckind == "command_name":
                inner = child.children
                name = self.word(inner[0] if inner else child, ctx)
            elif ckind in REDIRECTS:
                own_redirects.append(child)
            elif ckind == "variable_assignment":
                assignment = self.assignment(child, ctx)
                if keyword:
                    declarations.append(assignment)
                    words.append(self.word(child, ctx))
                else:
                    assignments.append(assignment)
            elif keyword and name is None and not child.is_named:
                name = self.literal_word(child)
            elif child.is_named and ckind != "comment":
                words.append(self.word(child, ctx))
        if node is not None:
            start, end = self.span(node)
        else:
            start = end = 0
        redirects: list[Redirect] = []
        if own_redirects or redirect_nodes:
            redirects, extra = self.redirects(own_redirects + redirect_nodes, ctx)
            if node is not None:
                extra += self.words_before_heredocs(node, redirect_nodes)
            if extra:  # Quirk: words swallowed by a redirect in the middle of the command
                words = sorted(words + extra, key=lambda w: w.span[0])
                end = max(end, words[-1].span[1])
            if node is None:
                start, end = redirects[0].span
            for item in redirects:
                if item.span[0] < start:
                    start = item.span[0]
                if item.span[1] > end:
                    end = item.span[1]
        if name is None and words and not keyword and node is not None \
                and node.type == "command":
            name, words = words[0], words[1:]
        if self.continued and words:
            words = self.join_continued(([name] if name is not None else []) + words)
            if name is not None:
                name, words = words[0], words[1:]
        self.emit(Command(name, words, assignments, redirects, (start, end), kind,
                          tuple(declarations)), ctx, connector)

    def words_before_heredocs(self, node: Node, redirect_nodes: list[Node]) -> list[Word]:
        """Quirk: in ``python3 - <<EOF`` tree-sitter drops the ``-``: no node covers it.
        Recover any text left between the command and a heredoc redirect as words."""
        words: list[Word] = []
        covered = self.pos(node.end_byte)
        for redirect in redirect_nodes:
            start = self.pos(redirect.start_byte)
            if redirect.type == "heredoc_redirect" and start > covered:
                for m in _BARE_WORD.finditer(self.text, covered, start):
                    parts: list[Part] = []
                    unquoted_parts(m.group(), parts)
                    merged = merge_literals(parts)
                    words.append(Word(m.group(), m.span(), literal_value(merged), merged))
            covered = max(covered, self.pos(redirect.end_byte))
        return words

    def test_command(self, node: Node, redirect_nodes: list[Node], ctx: Ctx,
                     connector: str | None) -> None:
        """``[ ... ]``/``[[ ... ]]``: argv is the expression's leaves in source order."""
        children = node.children
        name = self.literal_word(children[0])
        words: list[Word] = []
        for child in children[1:]:
            self.test_words(child, ctx, words)
        redirects, extra = self.redirects(redirect_nodes, ctx)
        start, end = self.span(node)
        for item in redirects:
            end = max(end, item.span[1])
        self.emit(Command(name, words + extra, [], redirects, (start, end), "test"), ctx,
                  connector)

    def test_words(self, node: Node, ctx: Ctx, out: list[Word]) -> None:
        if node.type in _TEST_EXPRESSIONS:
            for child in node.children:
                self.test_words(child, ctx, out)
        elif not node.is_named:
            out.append(self.literal_word(node))
        elif node.type != "comment":
            out.append(self.word(node, ctx))

    def emit(self, command: Command, ctx: Ctx, connector: str | None) -> None:
        command.connector = connector
        command.in_subshell = ctx.in_subshell
        command.subshell = ctx.subshell
        command.in_substitution = ctx.in_substitution
        command.in_pipeline = ctx.in_pipeline
        command.conditional = ctx.conditional
        command.negated = ctx.negated
        command.background = ctx.background
        command.depth = ctx.depth
        command.group_redirects = ctx.group_redirects
        command.function = ctx.function
        self.commands.append(command)

    def join_continued(self, words: list[Word]) -> list[Word]:
        """Quirk: ``foo\\<newline>bar`` is one word in bash, two in tree-sitter."""
        text = self.text
        out: list[Word] = []
        for word in words:
            if out:
                gap = text[out[-1].span[1]:word.span[0]]
                if gap == "\\\n":
                    out[-1] = self.join_words(out[-1], word)
                    continue
            out.append(word)
        return out

    def assignment(self, node: Node, ctx: Ctx) -> Assignment:
        name = ""
        append = False
        value: Word | None = None
        for child in node.children:
            kind = child.type
            if kind in ("variable_name", "subscript") and not name:
                name = self.literal_word(child).text
            elif kind in ("=", "+="):
                append = kind == "+="
            elif child.is_named:
                value = self.word(child, ctx)
        start, end = self.span(node)
        if value is None:
            value = Word("", (end, end), "", ())
        return Assignment(name, value, (start, end), append)

    def redirects(self, nodes: list[Node], ctx: Ctx) -> tuple[list[Redirect], list[Word]]:
        """Redirect values, plus the words tree-sitter wrongly put under them."""
        redirects: list[Redirect] = []
        extra: list[Word] = []
        for node in nodes:
            self.redirect(node, ctx, redirects, extra)
        return redirects, extra

    def redirect(self, node: Node, ctx: Ctx, out: list[Redirect], extra: list[Word]) -> None:
        kind = node.type
        fd: int | None = None
        op = ""
        target: Word | None = None
        start = self.pos(node.start_byte)
        end = start
        if kind == "heredoc_redirect":
            self.heredoc(node, ctx, out, extra)
            return
        for child in node.children:
            ckind = child.type
            if ckind == "file_descriptor":
                text = self.literal_word(child).text
                fd = int(text) if text.isdigit() else None
            elif not child.is_named and not op:
                op = ckind
                end = self.pos(child.end_byte)
            elif child.is_named and ckind != "comment":
                word = self.word(child, ctx)
                if target is None:
                    target = word
                    end = word.span[1]
                else:
                    extra.append(word)
        if op == "<" and fd is None and self.text[start - 2:start] == "<<":
            # Quirk: after another redirect, tree-sitter reads `<<<w` as ERROR(<<) + `<w`.
            op, start = "<<<", start - 2
        out.append(Redirect(op, fd, target, (start, end)))

    def heredoc(self, node: Node, ctx: Ctx, out: list[Redirect], extra: list[Word]) -> None:
        op = "<<"
        fd: int | None = None
        delimiter: Word | None = None
        body_node: Node | None = None
        end_node: Node | None = None
        nested: list[Node] = []
        start = self.pos(node.start_byte)
        for child in node.children:
            kind = child.type
            if kind in ("<<", "<<-"):
                op = kind
                token = self.literal_word(child)
                if token.text.startswith("-"):  # Quirk: `cat -<<EOF` lexed as one "<<" token
                    dash = token.span[0]
                    extra.append(Word("-", (dash, dash + 1), "-"))
                    start = dash + 1
            elif kind == "file_descriptor":
                text = self.literal_word(child).text
                fd = int(text) if text.isdigit() else None
            elif kind == "heredoc_start":
                delimiter = self.heredoc_delimiter(child)
            elif kind == "heredoc_body":
                body_node = child
            elif kind == "heredoc_end":
                end_node = child
            elif kind in REDIRECTS:
                nested.append(child)
            elif kind in _HEREDOC_WORDS:
                extra.append(self.word(child, ctx))  # `cat <<EOF file`: file is an argument
        redirect_end = delimiter.span[1] if delimiter is not None else start + len(op)
        heredoc: Heredoc | None = None
        if delimiter is not None and body_node is not None:
            lo = self.pos(body_node.start_byte)
            hi = self.pos(end_node.start_byte) if end_node is not None else len(self.text)
            quoted = delimiter.text != delimiter.value
            body = heredoc_body_word(self, body_node, lo, hi, not quoted, op == "<<-", ctx)
            span_end = self.pos(end_node.end_byte) if end_node is not None else hi
            heredoc = Heredoc(delimiter.value or "", quoted, op == "<<-", body, (lo, span_end))
        out.append(Redirect(op, fd, delimiter, (start, redirect_end), heredoc))
        for child in nested:
            self.redirect(child, ctx, out, extra)

    def heredoc_delimiter(self, node: Node) -> Word:
        """``EOF``, ``'EOF'``, ``"EOF"``, ``\\EOF``: any quoting disables expansion."""
        word = self.literal_word(node)
        value = word.text.replace('"', "").replace("'", "").replace("\\", "")
        if value == word.text:
            return word
        return Word(word.text, word.span, value, (Part(LIT, value, True),))
