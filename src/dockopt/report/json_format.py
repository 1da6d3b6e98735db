"""``--format json``: one JSON array of ``Diagnostic.to_json`` objects.

This output is a public contract (see ``Diagnostic.to_json`` and the README): the array is
sorted by file, line, column and code, indented by two spaces, and ``[]`` when nothing was
found. Non-ASCII characters are written as ``\\uXXXX`` escapes so that the bytes on stdout
are the same whatever the terminal's or CI runner's locale — a consumer decodes them to
the same strings, and nothing is lost to an encoder that cannot represent a character.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dockopt.report._common import findings

if TYPE_CHECKING:
    from dockopt.report import FileReport

__all__ = ["render"]


def render(files: Sequence[FileReport]) -> str:
    items: list[dict[str, Any]] = [f.diagnostic.to_json(f.index) for f in findings(files)]
    # The contract sorts on the diagnostic's own ``file`` field; reports are already in
    # path order, this keeps the promise even if a diagnostic names another file.
    items.sort(key=lambda o: (o["file"], o["line"], o["column"], o["code"]))
    return json.dumps(items, indent=2, ensure_ascii=True) + "\n"
