"""Reporters: golden outputs for every format, SARIF schema validity, escaping, edge cases.

Golden files live in tests/golden/report/. After an intended output change, regenerate
them with ``DOCKOPT_UPDATE_GOLDEN=1 pytest tests/test_report.py`` and review the diff.
"""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import dockopt
from dockopt.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity
from dockopt.report import FORMATS, FileReport, render
from dockopt.report.checkstyle import escape_attribute
from dockopt.report.github import escape_data, escape_property
from dockopt.report.sarif import FINGERPRINT_KEY, artifact_location, sarif_log
from dockopt.rulebook import RuleDoc
from dockopt.text import LineIndex

GOLDEN = Path(__file__).parent / "golden" / "report"
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
UPDATE = os.environ.get("DOCKOPT_UPDATE_GOLDEN") == "1"


def _rule(code: str, name: str, severity: Severity, fix: str, summary: str) -> RuleDoc:
    return RuleDoc(code=code, name=name, severity=severity, default=True, fix=fix, summary=summary,
                   what=f"Flags {name}.", why="Layers only ever add files.", instead="Clean up in the same RUN.",
                   fix_safety="" if fix == "none" else f"The fix is {fix}.", examples=(),
                   path=Path(f"rules/{code}.toml"))


RULES = {
    r.code: r
    for r in (
        _rule("DO101", "cleanup-in-later-layer", Severity.WARNING, "unsafe", "Cleanup in a later layer frees nothing."),
        _rule("DO102", "package-cache-left", Severity.WARNING, "safe", "Package manager cache left in the layer."),
        _rule("DO103", "apk-cache-left", Severity.ERROR, "safe", "apk cache left in the layer."),
        _rule("DO105", "mergeable-runs", Severity.INFO, "suggestion", "Consecutive RUNs could be one layer."),
        _rule("DO404", "stage-reference", Severity.ERROR, "none", "Reference to an unknown stage."),
    )
}

MAIN_PATH = "Dockerfile"
MAIN = (
    "# syntax=docker/dockerfile:1\n"
    "FROM debian:12 AS build\n"
    "RUN apt-get update\n"
    "RUN apt-get install -y \\\n"
    "\tcurl \\\n"
    "\tca-certificates\n"
    "RUN rm -rf /var/lib/apt/lists/*\n"
    "RUN set -eux; \\\n"
    "    a; \\\n    b; \\\n    c; \\\n    d; \\\n    e; \\\n"
    "    f\n"
)
DEV_PATH = "build/Dockerfile.dev"
DEV = 'FROM alpine:3.20\r\nRUN echo "h\u00e9llo \u4e16\u754c" $VAR\r\nRUN apk add curl\r\nRUN apk add curl\r\n'


def _at(text: str, needle: str, nth: int = 0, length: int | None = None) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + (len(needle) if length is None else length)


def _diag(path: str, text: str, code: str, severity: Severity, message: str, span: tuple[int, int], *,
          fix: Fix | None = None, related: list[tuple[str, int]] | None = None) -> Diagnostic:
    index = LineIndex(text)
    name = RULES[code].name if code in RULES else code
    return Diagnostic(code=code, name=name, severity=severity, message=message, file=path,
                      start=index.location(span[0]), end=index.location(span[1]), fix=fix,
                      start_offset=span[0], end_offset=span[1],
                      related=[(d, index.location(o)) for d, o in related or []])


def _main_report() -> FileReport:
    t = MAIN
    install = (t.index("apt-get install"), t.index("ca-certificates") + len("ca-certificates"))
    cleanup = _at(t, "rm -rf /var/lib/apt/lists/*")
    line7 = _at(t, "RUN rm -rf /var/lib/apt/lists/*\n")
    update_end = _at(t, "apt-get update")[1]
    merged = (t.index("RUN set -eux"), t.index("    f\n") + len("    f"))
    diagnostics = [
        # Deliberately out of order: every format must sort.
        _diag(MAIN_PATH, t, "DO105", Severity.INFO, "This RUN could be merged into the previous one.", merged,
              fix=Fix(Applicability.SUGGESTION, "Join with the previous RUN using `&&`",
                      (Edit(merged[0] - 1, merged[0] + 4, " && "),))),
        _diag(MAIN_PATH, t, "DO101", Severity.WARNING,
              "Cleanup frees nothing: 100% of /var/lib/apt/lists stays in line 3's layer,\n"
              "because a later layer cannot shrink an earlier one.", cleanup,
              fix=Fix(Applicability.UNSAFE, "Move the cleanup into the RUN that created the files",
                      (Edit(update_end, update_end, " && rm -rf /var/lib/apt/lists/*"), Edit(*line7, ""))),
              related=[("the RUN that created the files [apt-get update]", t.index("apt-get update"))]),
        _diag(MAIN_PATH, t, "DO102", Severity.WARNING, "apt lists left in the layer by `apt-get install`.", install,
              fix=Fix(Applicability.SAFE, "Remove /var/lib/apt/lists/* in the same RUN",
                      (Edit(install[1], install[1], " \\\n\t&& rm -rf /var/lib/apt/lists/*"),))),
        _diag(MAIN_PATH, t, "DL3009", Severity.INFO, "Delete the apt-get lists after installing something",
              _at(t, "RUN apt-get update")),
        _diag(MAIN_PATH, t, "DL3008", Severity.WARNING, "Pin versions in apt get install.", _at(t, "curl")),
    ]
    return FileReport(MAIN_PATH, t, diagnostics)


def _dev_report() -> FileReport:
    t = DEV
    fixes = [Fix(Applicability.SAFE, "Use `apk add --no-cache`", (Edit(s + 7, s + 7, " --no-cache"),))
             for s in (_at(t, "apk add", 0)[0], _at(t, "apk add", 1)[0])]
    msg = 'apk cache left in the layer: use "apk add --no-cache" <pkg> & friends'
    return FileReport(DEV_PATH, t, [
        _diag(DEV_PATH, t, "SC2086", Severity.INFO, "Double quote to prevent globbing and word splitting.",
              _at(t, "$VAR")),
        _diag(DEV_PATH, t, "DO103", Severity.ERROR, msg, _at(t, "apk add curl", 1), fix=fixes[1]),
        _diag(DEV_PATH, t, "DO103", Severity.ERROR, msg, _at(t, "apk add curl", 0), fix=fixes[0]),
    ])


def _files() -> list[FileReport]:
    return [_dev_report(), _main_report(), FileReport("clean/Dockerfile", "FROM scratch\n", [])]


@pytest.fixture(autouse=True)
def _fixed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # SARIF names the tool version; pin it so that releases do not churn the golden file.
    monkeypatch.setattr(dockopt, "__version__", "0.0.0-test")


GOLDEN_CASES = {
    "text.txt": ("text", {}),
    "text-color.txt": ("text", {"color": True}),
    "text-concise.txt": ("text", {"show_source": False}),
    "json.json": ("json", {}),
    "github.txt": ("github", {}),
    "sarif.json": ("sarif", {}),
    "gitlab.json": ("gitlab", {}),
    "checkstyle.xml": ("checkstyle", {}),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    fmt, kwargs = GOLDEN_CASES[name]
    actual = render(fmt, _files(), RULES, **kwargs)
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"missing {path}: run with DOCKOPT_UPDATE_GOLDEN=1"
    assert actual == path.read_bytes().decode("utf-8"), f"{name} changed (DOCKOPT_UPDATE_GOLDEN=1)"


def test_every_format_has_a_golden_file() -> None:
    assert {fmt for fmt, _ in GOLDEN_CASES.values()} == set(FORMATS)


# -- empty results -------------------------------------------------------------------------

EMPTY = {
    "text": "All checks passed!\n",
    "json": "[]\n",
    "github": "",
    "gitlab": "[]\n",
    "checkstyle": '<?xml version="1.0" encoding="UTF-8"?>\n<checkstyle version="4.3">\n</checkstyle>\n',
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("files", [[], [FileReport("Dockerfile", "FROM scratch\n", [])]], ids=["none", "clean"])
def test_empty_results(fmt: str, files: list[FileReport]) -> None:
    out = render(fmt, files, RULES)
    if fmt == "sarif":
        log = json.loads(out)
        _validate_sarif(log)
        assert log["runs"][0]["results"] == []
        assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == sorted(RULES)
    else:
        assert out == EMPTY[fmt]


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        render("yaml", [], RULES)


# -- json ------------------------------------------------------------------------------------

def test_json_is_to_json_sorted() -> None:
    files = _files()
    items = json.loads(render("json", files, RULES))
    expected = [d.to_json(LineIndex(r.text)) for r in files for d in r.diagnostics]
    expected.sort(key=lambda o: (o["file"], o["line"], o["column"], o["code"]))
    assert items == expected


# -- sarif -----------------------------------------------------------------------------------

def _validate_sarif(log: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator.check_schema(schema)
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_sarif_validates_against_the_official_schema() -> None:
    _validate_sarif(json.loads(render("sarif", _files(), RULES)))


def test_sarif_shape_for_github_code_scanning() -> None:
    log = sarif_log(_files(), RULES)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["version"] == "0.0.0-test"
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["shortDescription"]["text"] and rule["help"]["text"] and rule["helpUri"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith(("/", "./"))
        assert re.fullmatch(r"[0-9a-f]{64}", result["partialFingerprints"][FINGERPRINT_KEY])
        assert "primaryLocationLineHash" not in result["partialFingerprints"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["DL3009"]["helpUri"] == "https://github.com/hadolint/hadolint/wiki/DL3009"
    assert by_id["SC2086"]["helpUri"] == "https://www.shellcheck.net/wiki/SC2086"
    assert by_id["DO105"]["defaultConfiguration"]["level"] == "note"
    assert "## Why is this bad?" in by_id["DO101"]["help"]["markdown"]
    fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]]
    assert len(set(fps)) == len(fps)


def test_sarif_related_locations_and_fixes() -> None:
    log = sarif_log([_main_report()], RULES)
    do101 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "DO101")
    assert do101["relatedLocations"][0]["id"] == 1
    assert do101["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5}
    # The message links the related location; its literal brackets are escaped.
    assert do101["message"]["text"].endswith("Related: [the RUN that created the files \\[apt-get update\\]](1)")
    fix = do101["fixes"][0]
    assert fix["properties"] == {"applicability": "unsafe"}
    insert, delete = fix["artifactChanges"][0]["replacements"]
    assert insert == {"deletedRegion": {"startLine": 3, "startColumn": 19, "endLine": 3, "endColumn": 19},
                      "insertedContent": {"text": " && rm -rf /var/lib/apt/lists/*"}}
    assert delete == {"deletedRegion": {"startLine": 7, "startColumn": 1, "endLine": 8, "endColumn": 1}}


def test_sarif_uris() -> None:
    assert artifact_location("./sub dir/Dockerfile") == {"uri": "sub%20dir/Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("/abs/Docker file") == {"uri": "file:///abs/Docker%20file"}
    assert artifact_location("C:\\work\\Dockerfile") == {"uri": "file:///C:/work/Dockerfile"}


# -- fingerprints ------------------------------------------------------------------------------

def _fingerprints(report: FileReport) -> list[str]:
    results = sarif_log([report], RULES)["runs"][0]["results"]
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]


def test_fingerprints_survive_unrelated_edits() -> None:
    before = _fingerprints(_dev_report())
    shifted_text = "# a new comment\n" + DEV.replace("RUN apk", "RUN   apk")
    shifted = FileReport(DEV_PATH, shifted_text, [])
    for d in _dev_report().diagnostics:
        start, end = _at(shifted_text, DEV[d.start_offset:d.end_offset], 1 if d.start.line == 4 else 0)
        index = LineIndex(shifted_text)
        shifted.diagnostics.append(Diagnostic(d.code, d.name, d.severity, d.message, d.file,
                                              index.location(start), index.location(end)))
    assert _fingerprints(shifted) == before
    assert _fingerprints(FileReport("./" + DEV_PATH, DEV, _dev_report().diagnostics)) == before
    gitlab = [i["fingerprint"] for i in json.loads(render("gitlab", [_dev_report()], RULES))]
    assert gitlab == before


# -- github ------------------------------------------------------------------------------------

def test_github_escaping() -> None:
    assert escape_data("100% \r\n done") == "100%25 %0D%0A done"
    assert escape_data("a:b,c") == "a:b,c"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_command_cannot_be_broken_by_values() -> None:
    text = "RUN x\n"
    diag = _diag("we:ird,dir/Dockerfile", text, "DO101", Severity.ERROR, "a::b\nc,d: 5%", (4, 5))
    (line,) = render("github", [FileReport("we:ird,dir/Dockerfile", text, [diag])], RULES).splitlines()
    assert line.startswith("::error ")
    props, message = line[len("::error "):].split("::", 1)  # escaped values hold no "::"
    assert props.split(",") == [
        "file=we%3Aird%2Cdir/Dockerfile", "line=1", "endLine=1", "col=5", "endColumn=6",
        "title=DO101 cleanup-in-later-layer",
    ]
    assert message == "a::b%0Ac,d: 5%25"


def test_github_levels() -> None:
    lines = render("github", _files(), RULES).splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == [
        "::notice", "::warning", "::warning", "::warning", "::notice", "::notice", "::error", "::error",
    ]


# -- checkstyle and gitlab ---------------------------------------------------------------------

def test_checkstyle_round_trips_through_an_xml_parser() -> None:
    root = ET.fromstring(render("checkstyle", _files(), RULES).encode("utf-8"))
    assert [f.get("name") for f in root] == ["Dockerfile", "build/Dockerfile.dev"]  # clean file omitted
    by_source = {e.get("source"): e for f in root for e in f}
    assert by_source["dockopt.DO101"].get("message") == _main_report().diagnostics[1].message
    assert by_source["dockopt.DO103"].get("message") == _dev_report().diagnostics[1].message
    assert by_source["dockopt.SC2086"].get("severity") == "info"
    assert escape_attribute("\x1b\u00e9\t") == "&#65533;&#233;&#9;"  # U+FFFD, é, tab


def test_gitlab_fields() -> None:
    issues = json.loads(render("gitlab", _files(), RULES))
    assert {i["severity"] for i in issues} == {"info", "minor", "major"}
    assert all(set(i) == {"description", "check_name", "fingerprint", "severity", "location"} for i in issues)
    do102 = next(i for i in issues if i["check_name"] == "DO102")
    assert do102["location"] == {"path": "Dockerfile", "lines": {"begin": 4, "end": 6}}


# -- text --------------------------------------------------------------------------------------

def test_text_colour_only_when_asked() -> None:
    plain = render("text", _files(), RULES)
    coloured = render("text", _files(), RULES, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31mDO103\x1b[0m" in coloured and "\x1b[1;33mDO101\x1b[0m" in coloured
    assert "\x1b[1;34mDL3009\x1b[0m" in coloured and "\x1b[31m^" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_carets_line_up_with_tabs_and_wide_characters() -> None:
    out = render("text", _files(), RULES).splitlines()
    # The DL3008 excerpt (the second one showing line 5): the tab expands to a 4-column stop.
    source = [i for i, line in enumerate(out) if line == "5 |     curl \\"][1]
    assert out[source + 1] == "  |     ^^^^"
    wide = out.index('2 | RUN echo "h\u00e9llo \u4e16\u754c" $VAR')
    assert out[wide + 1].index("^") == out[wide].index("$") + 2  # 世界 are 2 columns each
    assert "\r" not in "\n".join(out)


def test_text_long_spans_are_capped() -> None:
    out = render("text", [_main_report()], RULES)
    assert "  | ... (2 more lines)" in out
    assert "12 |     d; \\" in out and "13 |" not in out


def test_text_markers_and_unsafe_fixes() -> None:
    default = render("text", [_main_report()], RULES)
    assert "Dockerfile:7:5: DO101 [-] warning: Cleanup" in default
    assert "Dockerfile:4:5: DO102 [*] warning: apt lists" in default
    assert "Dockerfile:8:1: DO105 info: This RUN" in default  # suggestion: no marker, but help
    assert "= help: Join with the previous RUN" in default
    # Counted by severity (not "5 errors" for warnings), and the hint names a command that exists.
    assert default.endswith(
        "Found 5 findings: 3 warnings, 2 info.\n[*] 1 fixable with `dockopt fix` "
        "(1 hidden fix can be enabled with `dockopt fix --unsafe-fixes`).\n")
    enabled = render("text", [_main_report()], RULES, unsafe_fixes_enabled=True)
    assert "DO101 [*] warning: Cleanup" in enabled and enabled.endswith("[*] 2 fixable with `dockopt fix`.\n")
    only_hidden = FileReport(MAIN_PATH, MAIN, [_main_report().diagnostics[1]])
    assert render("text", [only_hidden], RULES).endswith(
        "No fixes available (1 hidden fix can be enabled with `dockopt fix --unsafe-fixes`).\n")


def test_text_summary_counts_rules() -> None:
    out = render("text", _files(), RULES)
    assert "\n  2  DO103   apk-cache-left\n  1  DL3008\n" in out  # foreign codes: no name to repeat
    assert "Found 8 findings: 2 errors, 3 warnings, 3 info.\n[*] 3 fixable" in out


def test_text_neutralises_control_characters() -> None:
    text = "RUN echo \x1b[2Jboom\n"
    diag = _diag("Dockerfile", text, "DO101", Severity.WARNING, "bad \x1b[31m", (9, 13))
    out = render("text", [FileReport("Dockerfile", text, [diag])], RULES)
    assert "\x1b" not in out and "\u241b[2Jboom" in out


def test_text_zero_width_and_end_of_file_spans() -> None:
    text = "FROM scratch"
    diag = _diag("Dockerfile", text, "DO404", Severity.ERROR, "at end", (12, 12))
    out = render("text", [FileReport("Dockerfile", text, [diag])], RULES).splitlines()
    assert out[1:4] == ["  |", "1 | FROM scratch", "  |             ^"]


def test_sarif_secret_rules_are_security_alerts() -> None:
    """Issue 17 item 14: GitHub code scanning ranks DO2xx as security alerts (a `security` tag
    and a `security-severity` score); other rules stay ordinary alerts."""
    from dockopt.rulebook import load_rulebook

    log = sarif_log([], load_rulebook())
    by_id = {rule["id"]: rule["properties"] for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert by_id["DO201"]["security-severity"] == "8.0" and "security" in by_id["DO201"]["tags"]
    assert by_id["DO202"]["security-severity"] == "5.5"
    assert all("security" in props["tags"] for code, props in by_id.items() if code.startswith("DO2"))
    assert not any("security-severity" in props for code, props in by_id.items() if not code.startswith("DO2"))
