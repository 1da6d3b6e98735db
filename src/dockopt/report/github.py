"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

    ::warning file=Dockerfile,line=3,endLine=3,col=5,endColumn=20,title=DO101 cleanup-in-later-layer::message

``error``/``warning``/``notice`` follow the severity (error/warning/info). The runner parses
these lines structurally, so values are escaped the way ``@actions/core`` does it: in the
message ``%``, CR and LF become ``%25``, ``%0D`` and ``%0A``; property values additionally
escape ``:`` (``%3A``) and ``,`` (``%2C``), which delimit the command. Without escaping, a
newline in a message would end the command early and the rest of the line could be read
as a new command. Columns are 1-based and ``endColumn`` is exclusive, as everywhere in
dockopt.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dockopt.diagnostics import Severity
from dockopt.report._common import findings, rule_name

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = ["escape_data", "escape_property", "render"]

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    """Escape the message part of a workflow command (after the second ``::``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value (``file=``, ``title=``): data escaping plus ``:`` and ``,``."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(files: Sequence[FileReport], rules: Mapping[str, RuleDoc],
           errors: Sequence[tuple[str | None, str]] = ()) -> str:
    """Annotations for the findings, then an ``::error`` for each file that could not be
    checked (so one unreadable file does not hide the others' annotations)."""
    lines: list[str] = []
    for finding in findings(files):
        diag = finding.diagnostic
        name = rule_name(diag, rules)
        title = diag.code if name == diag.code else f"{diag.code} {name}"
        props = (
            ("file", finding.report.path),
            ("line", str(diag.start.line)),
            ("endLine", str(diag.end.line)),
            ("col", str(diag.start.column)),
            ("endColumn", str(diag.end.column)),
            ("title", title),
        )
        rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
        lines.append(f"::{_COMMAND[diag.severity]} {rendered}::{escape_data(diag.message)}")
    for path, message in errors:
        where = f"file={escape_property(path)}," if path and path != "-" else ""
        lines.append(f"::error {where}title=dockopt::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
