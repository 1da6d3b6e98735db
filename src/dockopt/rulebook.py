"""The rule book: one TOML file per rule under the repository's ``rules/`` directory.

The rule book is the single source of every rule's documentation: ``dockopt rule``, the
generated ``docs/rules/*.md``, SARIF rule metadata and the example-driven tests read it.
Installed wheels carry it as ``dockopt/rulebook_data`` (see pyproject.toml).

File format (``rules/DO101.toml``)::

    code = "DO101"
    name = "cleanup-in-later-layer"
    severity = "warning"            # error | warning | info
    default = true                  # in the default selection?
    fix = "safe"                    # best fix offered: safe | unsafe | suggestion | none
    summary = "one line"
    what = "what it does"
    why = "why it matters"
    instead = "what to write instead"
    fix_safety = "when the fix is safe, and why"

    [[examples]]
    title = "..."
    bad = '''dockerfile that must trigger the rule'''
    fixed = '''the same after `dockopt fix --select CODE`'''            # optional
    fixed_unsafe = '''after `dockopt fix --unsafe-fixes --select CODE`'''  # optional
    context = { "package.json" = "{}" }   # optional build-context files

    [[examples]]
    title = "..."
    good = '''dockerfile that must not trigger the rule'''
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from dockopt.diagnostics import Severity, rule_url

FIX_KINDS = ("safe", "unsafe", "suggestion", "none")


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    bad: str | None = None
    good: str | None = None
    fixed: str | None = None
    fixed_unsafe: str | None = None
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleDoc:
    code: str
    name: str
    severity: Severity
    default: bool
    fix: str
    summary: str
    what: str
    why: str
    instead: str
    fix_safety: str
    examples: tuple[Example, ...]
    path: Path

    @property
    def url(self) -> str:
        return rule_url(self.code)


class RuleBookError(Exception):
    pass


def rulebook_dir() -> Path:
    """``rules/`` of a source checkout (editable installs), else the copy inside the wheel."""
    here = Path(__file__).resolve().parent
    packaged = here / "rulebook_data"
    if packaged.is_dir():
        return packaged
    checkout = here.parent.parent / "rules"
    if checkout.is_dir():
        return checkout
    raise RuleBookError(f"rule book not found (looked in {packaged} and {checkout})")


_KEYS = {"code", "name", "severity", "default", "fix", "summary", "what", "why", "instead", "fix_safety", "examples"}
_EXAMPLE_KEYS = {"title", "bad", "good", "fixed", "fixed_unsafe", "context"}


def load_rule_doc(path: Path) -> RuleDoc:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleBookError(f"{path}: {exc}") from None
    unknown = set(data) - _KEYS
    missing = _KEYS - set(data) - {"examples"}
    if unknown or missing:
        raise RuleBookError(f"{path}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if data["fix"] not in FIX_KINDS:
        raise RuleBookError(f"{path}: fix must be one of {FIX_KINDS}")
    examples = []
    for raw in data.get("examples", []):
        bad_keys = set(raw) - _EXAMPLE_KEYS
        if bad_keys:
            raise RuleBookError(f"{path}: unknown example keys {sorted(bad_keys)}")
        if ("bad" in raw) == ("good" in raw):
            raise RuleBookError(f"{path}: example {raw.get('title')!r} needs exactly one of bad/good")
        examples.append(
            Example(
                title=raw.get("title", ""),
                bad=raw.get("bad"),
                good=raw.get("good"),
                fixed=raw.get("fixed"),
                fixed_unsafe=raw.get("fixed_unsafe"),
                context=dict(raw.get("context", {})),
            )
        )
    return RuleDoc(
        code=data["code"],
        name=data["name"],
        severity=Severity.parse(data["severity"]),
        default=bool(data["default"]),
        fix=data["fix"],
        summary=data["summary"].strip(),
        what=data["what"].strip(),
        why=data["why"].strip(),
        instead=data["instead"].strip(),
        fix_safety=data["fix_safety"].strip(),
        examples=tuple(examples),
        path=path,
    )


@functools.cache
def load_rulebook() -> dict[str, RuleDoc]:
    """Every rule's documentation, keyed by code, in code order."""
    docs = {}
    for path in sorted(rulebook_dir().glob("DO*.toml")):
        doc = load_rule_doc(path)
        if path.stem != doc.code:
            raise RuleBookError(f"{path}: file name does not match code {doc.code}")
        docs[doc.code] = doc
    return docs
