"""BuildKit's AST dump format, for comparing with its reference ``result`` files.

``(run ["--mount=type=cache"] "echo hi")`` — the keyword lower-cased, flags as Go's
``%q`` of a string slice, every argument quoted like Go's ``strconv.Quote``.
"""
from __future__ import annotations

import unicodedata

from dockopt.syntax.nodes import Document, Instruction

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """Go's strconv.Quote: printable runes stay, others become \\x/\\u/\\U escapes."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
            continue
        code = ord(ch)
        if _go_printable(ch):
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_printable(ch: str) -> bool:
    if ch == " ":
        return True
    category = unicodedata.category(ch)
    # Go's IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    return category[0] in "LMNPS"


def dump_instruction(ins: Instruction) -> str:
    text = ins.keyword.lower()
    if ins.flags:
        text += " [" + " ".join(go_quote(f.text) for f in ins.flags) + "]"
    if ins.onbuild is not None:
        return f"{text} ({dump_instruction(ins.onbuild)})"
    for arg in ins.arguments:
        text += " " + go_quote(arg.value)
    return text.strip()


def dump(document: Document) -> str:
    """The whole AST as BuildKit's parser test prints it (one line per instruction)."""
    return "".join(f"({dump_instruction(ins)})\n" for ins in document.instructions)
