"""Every rule-book example behaves: bad fires, good is silent, fix(bad) == fixed."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.checks import ENGINE_DEFAULTS, SYNTAX_ERROR, UNUSED_SUPPRESSION, all_rules, rule_defaults
from dockopt.rulebook import Example, RuleDoc, load_rulebook
from tests.lintkit import fixed, run

DOCS = load_rulebook()
EXAMPLES = [(doc, ex) for doc in DOCS.values() for ex in doc.examples]


def _lint_kwargs(doc: RuleDoc, ex: Example, tmp_path: Path) -> dict[str, object]:
    kwargs: dict[str, object] = {"unused": doc.code == UNUSED_SUPPRESSION[0]}
    if ex.context:
        for name, content in ex.context.items():
            target = tmp_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        kwargs["context"] = tmp_path
        kwargs["dockerfile"] = tmp_path / "Dockerfile"
    return kwargs


@pytest.mark.parametrize(("doc", "ex"), EXAMPLES, ids=[f"{d.code}-{e.title}" for d, e in EXAMPLES])
def test_example(doc: RuleDoc, ex: Example, tmp_path: Path) -> None:
    kwargs = _lint_kwargs(doc, ex, tmp_path)
    text = (ex.bad if ex.bad is not None else ex.good or "").lstrip("\n")
    # Unused-suppression examples need the suppressed rules running too.
    enabled = list(DOCS) if doc.code == UNUSED_SUPPRESSION[0] else [doc.code]
    codes = [d.code for d in run(text, *enabled, **kwargs).diagnostics]  # type: ignore[arg-type]
    if ex.bad is not None:
        assert doc.code in codes, f"{doc.code} should fire on: {ex.title}"
    else:
        assert doc.code not in codes, f"{doc.code} should be silent on: {ex.title}"
    if ex.fixed is not None:
        assert fixed(text, doc.code, **kwargs).text == ex.fixed.lstrip("\n")  # type: ignore[arg-type]
    if ex.fixed_unsafe is not None:
        assert fixed(text, doc.code, unsafe=True, **kwargs).text == ex.fixed_unsafe.lstrip("\n")  # type: ignore[arg-type]


def test_every_rule_has_docs_and_matching_metadata() -> None:
    rules = all_rules()
    engine_codes = {SYNTAX_ERROR[0], UNUSED_SUPPRESSION[0]}
    assert set(DOCS) == set(rules) | engine_codes
    for code, rule in rules.items():
        doc = DOCS[code]
        assert (rule.name, rule.severity, rule.default) == (doc.name, doc.severity, doc.default), code
        assert any(e.bad for e in doc.examples) and any(e.good for e in doc.examples), code
    for code, name in (SYNTAX_ERROR, UNUSED_SUPPRESSION):
        assert (name, ENGINE_DEFAULTS[code]) == (DOCS[code].name, DOCS[code].default), code


def test_rule_defaults_match_the_rule_book() -> None:
    # The CLI selects rules from rule_defaults() (the classes), never parsing the rule book.
    expected = {code: doc.default for code, doc in DOCS.items()}
    assert rule_defaults() == expected
    assert list(rule_defaults()) == list(expected)  # same (code) order


def test_every_fixable_rule_shows_a_fix() -> None:
    for doc in DOCS.values():
        if doc.fix in ("safe", "unsafe"):
            assert any(e.fixed or e.fixed_unsafe for e in doc.examples), doc.code
