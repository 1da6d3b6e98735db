"""``--format checkstyle``: Checkstyle 4.3 XML, the lingua franca of CI lint dashboards.

    <checkstyle version="4.3">
      <file name="Dockerfile">
        <error line="3" column="5" severity="warning" message="..." source="dockopt.DO101"/>
      </file>
    </checkstyle>

Files without findings are omitted (Jenkins' warnings plugin and reviewdog only need the
findings). Attribute values are escaped for XML, including tab/CR/LF as character
references — a raw newline in an attribute would be normalised to a space by every XML
parser. Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates) become
U+FFFD, and non-ASCII characters are written as character references so that the bytes
do not depend on the output encoding.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import TYPE_CHECKING

from dockopt.diagnostics import Severity
from dockopt.report._common import findings

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = ["escape_attribute", "render"]

_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_SPECIAL = re.compile('[&<>"\t\n\r]')


def escape_attribute(value: str) -> str:
    """The text of a double-quoted XML attribute value holding exactly ``value``."""
    value = _NOT_XML.sub("\ufffd", value)
    value = _SPECIAL.sub(lambda m: _ESCAPES[m.group()], value)
    return value.encode("ascii", "xmlcharrefreplace").decode("ascii")


def render(files: Sequence[FileReport], rules: Mapping[str, RuleDoc]) -> str:
    del rules  # checkstyle carries no rule metadata beyond the source id
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    # Grouped by path: a file named twice on the command line still gets one <file>.
    for path, group in groupby(findings(files), key=lambda f: f.report.path):
        out.append(f'  <file name="{escape_attribute(path)}">')
        for finding in group:
            diag = finding.diagnostic
            attrs = (
                ("line", str(diag.start.line)),
                ("column", str(diag.start.column)),
                ("severity", _SEVERITY[diag.severity]),
                ("message", diag.message),
                ("source", f"dockopt.{diag.code}"),
            )
            rendered = " ".join(f'{key}="{escape_attribute(value)}"' for key, value in attrs)
            out.append(f"    <error {rendered}/>")
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"
