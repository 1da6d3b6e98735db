"""What rules produce: diagnostics, fixes and text edits.

These types are the contract between the rules, the engine, the fixer and the reporters.
The JSON reporter prints them field for field (see ``Diagnostic.to_json``), and that JSON
is a public contract: keep the field names stable.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dockopt.text import LineIndex, Location

__all__ = ["Applicability", "Diagnostic", "Edit", "Fix", "Location", "Severity", "rule_url"]

DOCS_BASE_URL = "https://github.com/dockopt/dockopt/blob/main/docs/rules/"


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= threshold`` means "at least as serious"."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class Applicability(enum.Enum):
    """How far a fix may be trusted.

    SAFE: the build behaves the same: it fails exactly when the original fails, runs the
    same commands in the same order, directory, environment and shell options, and leaves
    the same final filesystem, except the package-manager caches the fix declares in
    ``Fix.removes_caches`` and that nothing later reads; applied by ``dockopt fix``.
    UNSAFE: may change the image or the build (the message says what might break); applied
    only with ``--unsafe-fixes``.
    SUGGESTION: shown to the user (diff, message), never applied.
    """

    SAFE = "safe"
    UNSAFE = "unsafe"
    SUGGESTION = "suggestion"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``source[start:end]`` with ``content`` (character offsets into the decoded text)."""

    start: int
    end: int
    content: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad edit range {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]
    # Absolute paths (directories end in "/") of the package-manager caches the fix removes
    # from the image; the only filesystem difference a safe fix may make. ``dockopt verify``
    # compares the images "equal except these". Public (JSON ``removes_caches``): keep the name.
    removes_caches: tuple[str, ...] = ()

    @property
    def start(self) -> int:
        return min(e.start for e in self.edits)

    @property
    def end(self) -> int:
        return max(e.end for e in self.edits)




@dataclass(slots=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    file: str
    start: Location
    end: Location
    fix: Fix | None = None
    # Character offsets of the reported range in the decoded text; used by the text
    # reporter's excerpts. Not part of the JSON contract.
    start_offset: int = 0
    end_offset: int = 0
    # Other places the message talks about (e.g. the RUN that created what a later RUN
    # removes): (description, location). SARIF prints them as relatedLocations.
    related: list[tuple[str, Location]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return rule_url(self.code)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.start.line, self.start.column, self.code)

    def to_json(self, index: LineIndex) -> dict[str, Any]:
        """The public JSON object (see the README's "JSON output" section)."""
        fix: dict[str, Any] | None = None
        if self.fix is not None:
            edits = []
            for e in self.fix.edits:
                a, b = index.location(e.start), index.location(e.end)
                edits.append(
                    {"line": a.line, "column": a.column, "end_line": b.line,
                     "end_column": b.column, "content": e.content}
                )
            fix = {
                "applicability": self.fix.applicability.value,
                "message": self.fix.message,
                "edits": edits,
                "removes_caches": list(self.fix.removes_caches),
            }
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.start.line,
            "column": self.start.column,
            "end_line": self.end.line,
            "end_column": self.end.column,
            "fix": fix,
            "url": self.url,
        }


def rule_url(code: str) -> str:
    """Documentation URL of a rule: ours, hadolint's (DLxxxx) or ShellCheck's (SCxxxx)."""
    if code.startswith("DL"):
        return f"https://github.com/hadolint/hadolint/wiki/{code}"
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return f"{DOCS_BASE_URL}{code}.md"
