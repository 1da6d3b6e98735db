"""``--format sarif``: a SARIF 2.1.0 log for GitHub code scanning and other SARIF viewers.

Shape decisions, and why:

* One run; ``tool.driver.rules`` holds a descriptor for every rule of the rule book (so
  ``ruleIndex`` values and rule help do not depend on which rules happened to fire) plus
  one for each foreign code that fired (hadolint ``DLxxxx``, ShellCheck ``SCxxxx``), built
  from the diagnostic since those have no rule-book entry.
* Locations are relative POSIX URIs with ``uriBaseId: "%SRCROOT%"``, the convention GitHub
  resolves against the checkout. ``originalUriBaseIds`` declares the base without an
  absolute ``uri``: the log stays byte-for-byte reproducible and leaks no runner paths.
* ``columnKind`` is ``unicodeCodePoints`` because dockopt columns count characters; SARIF's
  default (UTF-16 code units) would be off by one after every astral character.
* ``partialFingerprints`` uses our own key ``dockopt/v1`` (see ``_common.fingerprint``:
  code, path, normalised first-line text, occurrence counter). Not ``primaryLocationLineHash``:
  GitHub's upload action computes that key itself from the file and warns about every result
  whose value it does not recognise.
* Related locations get ids and are linked from the message text (``[text](id)``): GitHub
  only shows related locations that the message links to.
* Secret rules (DO2xx) carry a ``security`` tag and a ``security-severity`` score
  (``SECURITY_SEVERITY``): GitHub code scanning then lists them as security alerts ranked
  by that score, the others stay ordinary alerts.
* Files that could not be read are ``toolExecutionNotifications`` of the run's invocation
  (``executionSuccessful: false``); the other files' results are all still there.
* Every fix (safe, unsafe or suggestion) is exported with its applicability in
  ``properties``: consumers that apply SARIF fixes can filter on it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import dockopt
from dockopt.diagnostics import Diagnostic, Severity, rule_url
from dockopt.report._common import Finding, findings, portable_path
from dockopt.text import LineIndex, Location

if TYPE_CHECKING:
    from dockopt.report import FileReport
    from dockopt.rulebook import RuleDoc

__all__ = ["FINGERPRINT_KEY", "SCHEMA_URI", "render", "sarif_log"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/dockopt/dockopt"
FINGERPRINT_KEY = "dockopt/v1"
SRCROOT = "%SRCROOT%"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub shows "problem.severity" for non-security alerts; "recommendation" is its info level.
_PROBLEM_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}
# A "[text](target)" sequence in a plain-text SARIF message is an embedded link; literal
# brackets that would form one must be backslash-escaped (SARIF 2.1.0, 3.11.6).
# GitHub's security-severity scores (a string, 0.0-10.0; >= 9 critical, >= 7 high, >= 4
# medium): a secret shipped in an image layer is high, a credential in ARG/ENV medium.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "3.0"}
SECURITY_PREFIX = "DO2"
_LINK_LIKE = re.compile(r"\[[^\]]*\]\(")


def render(files: Sequence[FileReport], rules: Mapping[str, RuleDoc],
           errors: Sequence[tuple[str | None, str]] = ()) -> str:
    # ASCII escapes: the bytes do not depend on the runner's locale (see json_format).
    return json.dumps(sarif_log(files, rules, errors), indent=2, ensure_ascii=True) + "\n"


def sarif_log(files: Sequence[FileReport], rules: Mapping[str, RuleDoc],
              errors: Sequence[tuple[str | None, str]] = ()) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict (for tests and for callers that post-process it)."""
    all_findings = list(findings(files))
    descriptors: list[dict[str, Any]] = [_descriptor(doc) for _, doc in sorted(rules.items())]
    rule_index = {d["id"]: i for i, d in enumerate(descriptors)}
    for finding in all_findings:
        diag = finding.diagnostic
        if diag.code not in rule_index:
            rule_index[diag.code] = len(descriptors)
            descriptors.append(_foreign_descriptor(diag))
    results = [_result(f, rule_index[f.diagnostic.code]) for f in all_findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "dockopt",
                "version": dockopt.__version__,
                "semanticVersion": dockopt.__version__,
                "informationUri": INFORMATION_URI,
                "rules": descriptors,
            }
        },
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "The directory dockopt ran in; result paths are relative to it."}}
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if errors:
        # Files that could not be checked: the log still carries every other file's results,
        # and says the run was incomplete (SARIF 3.20.21 toolExecutionNotifications).
        notifications = []
        for path, message in errors:
            notification: dict[str, Any] = {"level": "error", "message": {"text": message},
                                            "descriptor": {"id": "file-error"}}
            if path and path != "-":
                notification["locations"] = [{"physicalLocation": {"artifactLocation": artifact_location(path)}}]
            notifications.append(notification)
        run["invocations"] = [{"executionSuccessful": False, "toolExecutionNotifications": notifications}]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


# -- rule descriptors ----------------------------------------------------------------------


def _descriptor(doc: RuleDoc) -> dict[str, Any]:
    sections = (
        ("What it does", doc.what),
        ("Why is this bad?", doc.why),
        ("Instead", doc.instead),
        ("Fix safety", doc.fix_safety),
    )
    text = [doc.summary] + [f"{title}\n{body}" for title, body in sections if body]
    markdown = [f"**{doc.summary}**"] + [f"## {title}\n\n{body}" for title, body in sections if body]
    text.append(f"Documentation: {doc.url}")
    markdown.append(f"[Rule documentation]({doc.url})")
    return {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.what or doc.summary},
        "help": {"text": "\n\n".join(text), "markdown": "\n\n".join(markdown)},
        "helpUri": doc.url,
        "defaultConfiguration": {"level": _LEVEL[doc.severity]},
        "properties": _properties(doc.code, doc.severity),
    }


def _properties(code: str, severity: Severity) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": ["dockerfile", "dockopt"],
        "precision": "high",
        "problem.severity": _PROBLEM_SEVERITY[severity],
    }
    if code.startswith(SECURITY_PREFIX):
        properties["tags"].append("security")
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    return properties


def _foreign_descriptor(diag: Diagnostic) -> dict[str, Any]:
    """A descriptor for a code without rule-book entry, from what the diagnostic carries."""
    source = "hadolint" if diag.code.startswith("DL") else "shellcheck" if diag.code.startswith("SC") else "dockopt"
    url = rule_url(diag.code)
    name = diag.name or diag.code
    summary = name if name != diag.code else f"{source} rule {diag.code}"
    return {
        "id": diag.code,
        "name": name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": summary},
        "help": {
            "text": f"{summary}\n\nDocumentation: {url}",
            "markdown": f"**{summary}**\n\n[Rule documentation]({url})",
        },
        "helpUri": url,
        "defaultConfiguration": {"level": _LEVEL[diag.severity]},
        "properties": {"tags": ["dockerfile", source], "problem.severity": _PROBLEM_SEVERITY[diag.severity]},
    }


# -- results -------------------------------------------------------------------------------


def artifact_location(path: str) -> dict[str, Any]:
    """A relative path under %SRCROOT%; absolute paths become ``file://`` URIs."""
    posix = portable_path(path)
    if posix.startswith("/") or re.match(r"^[A-Za-z]:/", posix):
        # Outside the working directory: an absolute URI stands on its own.
        drive = "/" if not posix.startswith("/") else ""
        return {"uri": "file://" + quote(drive + posix, safe="/:")}
    return {"uri": quote(str(PurePosixPath(posix)), safe="/"), "uriBaseId": SRCROOT}


def _region(start: Location, end: Location) -> dict[str, int]:
    if (end.line, end.column) < (start.line, start.column):
        end = start
    return {"startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column}


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    diag = finding.diagnostic
    location = artifact_location(finding.report.path)
    related: list[dict[str, Any]] = []
    links: list[str] = []
    for number, (description, where) in enumerate(diag.related, start=1):
        related.append(
            {
                "id": number,
                "physicalLocation": {
                    "artifactLocation": dict(location),
                    "region": {"startLine": where.line, "startColumn": where.column},
                },
                "message": {"text": description},
            }
        )
        links.append(f"[{_escape_brackets(description)}]({number})")
    message = diag.message
    if links or _LINK_LIKE.search(message):
        # Once a message holds (or seems to hold) embedded links, its literal brackets and
        # backslashes must be escaped so that viewers do not read them as link syntax.
        message = _escape_brackets(message)
    if links:
        message += "\nRelated: " + ", ".join(links)
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[diag.severity],
        "message": {"text": message},
        "locations": [
            {"physicalLocation": {"artifactLocation": location, "region": _region(diag.start, diag.end)}}
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if related:
        result["relatedLocations"] = related
    if diag.fix is not None:
        result["fixes"] = [_fix(diag, finding.index, location)]
    return result


def _fix(diag: Diagnostic, index: LineIndex, location: dict[str, Any]) -> dict[str, Any]:
    assert diag.fix is not None
    replacements = []
    for edit in sorted(diag.fix.edits, key=lambda e: (e.start, e.end)):
        replacement: dict[str, Any] = {"deletedRegion": _region(index.location(edit.start), index.location(edit.end))}
        if edit.content:  # an absent insertedContent means "delete" (SARIF 3.57.3)
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    return {
        "description": {"text": diag.fix.message},
        "artifactChanges": [{"artifactLocation": dict(location), "replacements": replacements}],
        "properties": {"applicability": diag.fix.applicability.value},
    }


def _escape_brackets(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
