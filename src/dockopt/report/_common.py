"""Helpers shared by the reporters: ordering, fingerprints, rule metadata, sanitising.

Every reporter walks the same sorted view of the findings so that all formats agree on
order, and the machine formats (SARIF, GitLab) share one fingerprint definition so that a
finding keeps its identity whichever CI system stores it.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockopt.diagnostics import Applicability, Diagnostic
from dockopt.text import LineIndex

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = [
    "Finding",
    "findings",
    "fingerprint",
    "fix_state",
    "portable_path",
    "rule_name",
    "sanitize_terminal",
    "sorted_reports",
]

# Version tag of the fingerprint recipe below. Bump it (and the SARIF key) if the recipe
# changes, so that CI systems see a new key instead of silently mismatching old values.
FINGERPRINT_VERSION = "v1"

_WS = re.compile(r"\s+")
# C0/C1 control characters other than tab and newline: a Dockerfile (or a message quoting
# one) may carry ESC sequences that would reprogram the user's terminal if echoed raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnostic with the context every reporter needs."""

    report: FileReport
    index: LineIndex
    diagnostic: Diagnostic
    line_text: str  # the first reported line, whitespace-normalised
    occurrence: int  # earlier findings of this code on an identical line of this file

    @property
    def fingerprint(self) -> str:
        # Computed on demand: only gitlab and sarif print it, and hashlib costs start-up time.
        return fingerprint(self.diagnostic.code, self.report.path, self.line_text, self.occurrence)


def sorted_reports(files: Sequence[FileReport]) -> list[FileReport]:
    """Files by path: output must not depend on the order the runner finished them in."""
    return sorted(files, key=lambda r: r.path)


def findings(files: Sequence[FileReport]) -> Iterator[Finding]:
    """Every diagnostic, sorted by file, line, column and code, with its fingerprint."""
    for report in sorted_reports(files):
        index = LineIndex(report.text)
        seen: dict[tuple[str, str], int] = {}
        for diag in sorted(report.diagnostics, key=Diagnostic.sort_key):
            line_text = _line_text(index, diag.start.line)
            key = (diag.code, line_text)
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            yield Finding(report, index, diag, line_text, occurrence)


def _line_text(index: LineIndex, line: int) -> str:
    if not 1 <= line <= index.line_count:
        return ""
    # Whitespace is normalised so that re-indenting a line keeps its findings' identity.
    return _WS.sub(" ", index.line_text(line).strip())


def fingerprint(code: str, path: str, line_text: str, occurrence: int) -> str:
    """Stable identity of a finding across unrelated edits.

    The recipe is sha256 over the rule code, the displayed path, the whitespace-normalised
    text of the first reported line and an occurrence counter (the n-th finding of that code
    on an identical line in that file). Line numbers are deliberately left out: adding a
    line above a finding must not turn it into a "new" alert (and re-open dismissed ones).
    The counter keeps identical lines (two ``RUN apt-get update``) apart, which GitLab
    requires: it shows only one finding per fingerprint.
    """
    import hashlib  # lazily: only the gitlab and sarif formats fingerprint (start-up time)

    payload = "\0".join((FINGERPRINT_VERSION, code, portable_path(path), line_text, str(occurrence)))
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def portable_path(path: str) -> str:
    """Forward slashes and no leading ``./``: how CI systems spell a path in the repository.

    ``dockopt check ./Dockerfile`` and ``dockopt check Dockerfile`` must produce the same
    SARIF URI, GitLab path and fingerprint, or each spelling would open a new alert.
    """
    path = path.replace("\\", "/")
    while path.startswith("./") and len(path) > 2:
        path = path[2:].lstrip("/")
    return path


def rule_name(diag: Diagnostic, rules: Mapping[str, RuleDoc]) -> str:
    """The rule's name; hadolint/ShellCheck codes have no RuleDoc, so the diagnostic's own."""
    doc = rules.get(diag.code)
    if doc is not None:
        return doc.name
    return diag.name or diag.code


def fix_state(diag: Diagnostic, unsafe_fixes_enabled: bool) -> str:
    """``applicable`` (``dockopt fix`` would apply it), ``hidden`` (needs --unsafe-fixes),
    ``suggestion`` (shown, never applied) or ``none``."""
    fix = diag.fix
    if fix is None:
        return "none"
    if fix.applicability is Applicability.SAFE:
        return "applicable"
    if fix.applicability is Applicability.UNSAFE:
        return "applicable" if unsafe_fixes_enabled else "hidden"
    return "suggestion"


def sanitize_terminal(text: str) -> str:
    """Make control characters visible (U+2400 "control pictures") instead of executing them."""
    return _CONTROL.sub(lambda m: _picture(m.group()), text)


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"

