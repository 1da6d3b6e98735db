"""LSP position arithmetic of ``dockopt server`` (no server process needed)."""
from __future__ import annotations

import pytest

pytest.importorskip("lsprotocol", reason="the server extra is not installed: pip install -e '.[test]'")

from hypothesis import given, strategies as st  # noqa: E402
from lsprotocol import types as t  # noqa: E402

from dockopt.server.actions import replacement  # noqa: E402
from dockopt.server.positions import PositionMap  # noqa: E402
from tests.server_client import apply_text_edits  # noqa: E402

EMOJI = "\U0001F600"  # outside the BMP: 2 UTF-16 units, 4 UTF-8 bytes, 1 character


def test_utf16_counts_surrogate_pairs() -> None:
    text = f'FROM x\nRUN echo "{EMOJI}" && false\n'
    positions = PositionMap(text, "utf-16")
    offset = text.index("&&")
    assert positions.position(offset) == t.Position(line=1, character=offset - 7 + 1)
    assert positions.offset(t.Position(line=1, character=offset - 7 + 1)) == offset


def test_other_encodings() -> None:
    text = f"a{EMOJI}é b"
    offset = text.index("b")
    assert PositionMap(text, "utf-8").position(offset).character == 1 + 4 + 2 + 1
    assert PositionMap(text, "utf-32").position(offset).character == offset
    assert PositionMap(text, t.PositionEncodingKind.Utf8).position(offset).character == 8


def test_line_breaks_are_lsps() -> None:
    # LSP ends lines at \r\n, \n and a lone \r; \x85 and \u2028 are inside a line.
    text = "a\r\nb\rc\x85d\u2028e\nf"
    positions = PositionMap(text)
    assert positions.position(text.index("b")) == t.Position(line=1, character=0)
    assert positions.position(text.index("c")) == t.Position(line=2, character=0)
    assert positions.position(text.index("e")) == t.Position(line=2, character=4)
    assert positions.position(text.index("f")) == t.Position(line=3, character=0)
    # Between \r and \n is the end of the line's content; past the end clamps.
    assert positions.position(1) == positions.position(2) == t.Position(line=0, character=1)
    assert positions.offset(t.Position(line=0, character=99)) == 1
    assert positions.offset(t.Position(line=99, character=0)) == len(text)


@given(st.text(alphabet=st.sampled_from(["a", "\n", "\r", EMOJI, "é", "\u2028"]), max_size=40), st.data())
def test_round_trip(text: str, data: st.DataObject) -> None:
    positions = PositionMap(text)
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1 : offset + 1] == "\r\n":  # no LSP position between \r and \n
        offset -= 1
    assert positions.offset(positions.position(offset)) == offset


_PIECES = st.lists(st.sampled_from(["a", "b", "\n", "\r\n", EMOJI]), max_size=20).map("".join)


@given(_PIECES, _PIECES)
def test_replacement_is_one_edit_from_old_to_new(old: str, new: str) -> None:
    start, end, content = replacement(old, new)
    assert old[:start] + content + old[end:] == new
    edit = t.TextEdit(range=PositionMap(old).range(start, end), new_text=content)
    assert apply_text_edits(old, [edit]) == new


def test_apply_text_edits_helper_counts_utf16() -> None:
    # The test client's own position arithmetic (used by test_server.py) is right.
    edit = t.TextEdit(range=t.Range(start=t.Position(line=0, character=2), end=t.Position(line=0, character=3)),
                      new_text="X")
    assert apply_text_edits(f"{EMOJI}ab", [edit]) == f"{EMOJI}Xb"
