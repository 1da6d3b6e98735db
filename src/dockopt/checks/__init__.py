"""The rule implementations: one module per rule, ``doNNN_kebab_name.py``.

Rules are discovered from the module names, so adding a rule is: write the module with a
``Rule`` subclass (code, name, severity at the top, ``check`` below) and add
``rules/DONNN.toml`` (its documentation and examples). ``tests/test_rulebook.py`` fails if
the two disagree.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import re

from dockopt.checks.base import Finding, LintContext, Rule

# DO000/DO001 are not rule modules: the engine emits them (parse errors, unused suppressions).
SYNTAX_ERROR = ("DO000", "syntax-error")
UNUSED_SUPPRESSION = ("DO001", "unused-suppression")
# Whether each is in the default selection (the rule book's ``default``): DO001 only with
# --report-unused-suppressions or an explicit selection.
ENGINE_DEFAULTS = {SYNTAX_ERROR[0]: True, UNUSED_SUPPRESSION[0]: False}

_MODULE = re.compile(r"^do\d{3}_[a-z0-9_]+$")


def all_rules() -> dict[str, Rule]:
    """Every rule instance, keyed by code, in code order."""
    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(__path__):
        if not _MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two rules claim {value.code}")
                found[value.code] = value()
    return dict(sorted(found.items()))


@functools.cache
def _defaults() -> tuple[tuple[str, bool], ...]:
    return tuple(sorted({**ENGINE_DEFAULTS, **{code: rule.default for code, rule in all_rules().items()}}.items()))


def rule_defaults() -> dict[str, bool]:
    """Every code dockopt emits (rules and engine codes), in code order: in the default
    selection? Read from the rule classes, not the rule book: parsing rules/*.toml costs a
    check ~20 ms of start-up (tests/test_rulebook.py keeps the two in agreement)."""
    return dict(_defaults())


__all__ = ["ENGINE_DEFAULTS", "Finding", "LintContext", "Rule", "SYNTAX_ERROR", "UNUSED_SUPPRESSION", "all_rules",
           "rule_defaults"]
