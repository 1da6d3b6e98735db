"""``--format gitlab``: a GitLab Code Quality report (a Code Climate subset).

An array of ``{description, check_name, fingerprint, severity, location: {path, lines:
{begin, end}}}`` objects, the fields GitLab's merge-request widget reads. Severities map
info -> ``info``, warning -> ``minor``, error -> ``major`` (GitLab's ``critical`` and
``blocker`` are kept for security-grade findings that dockopt does not produce).

The fingerprint is the one SARIF uses (see ``_common.fingerprint``): stable across edits
elsewhere in the file, and unique per finding, because GitLab collapses findings that
share a fingerprint and compares fingerprints between the source and target branch to
decide what a merge request introduced or resolved.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dockopt.diagnostics import Severity
from dockopt.report._common import findings, portable_path

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = ["render"]

_SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}


def render(files: Sequence[FileReport], rules: Mapping[str, RuleDoc]) -> str:
    del rules  # the check name is the code, which every diagnostic carries
    issues: list[dict[str, Any]] = []
    for finding in findings(files):
        diag = finding.diagnostic
        issues.append(
            {
                # The widget shows only the description, so it carries the code too.
                "description": f"{diag.code}: {diag.message}",
                "check_name": diag.code,
                "fingerprint": finding.fingerprint,
                "severity": _SEVERITY[diag.severity],
                "location": {
                    "path": portable_path(finding.report.path),
                    "lines": {"begin": diag.start.line, "end": max(diag.end.line, diag.start.line)},
                },
            }
        )
    # ASCII escapes: the bytes do not depend on the runner's locale (see json_format).
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"
