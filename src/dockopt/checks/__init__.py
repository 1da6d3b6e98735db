"""The rule implementations: one module per rule, ``doNNN_kebab_name.py``.

Rules are discovered from the module names, so adding a rule is: write the module with a
``Rule`` subclass (code, name, severity at the top, ``check`` below) and add
``rules/DONNN.toml`` (its documentation and examples). ``tests/test_rulebook.py`` fails if
the two disagree.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from dockopt.checks.base import Finding, LintContext, Rule

# DO000/DO001 are not rule modules: the engine emits them (parse errors, unused suppressions).
SYNTAX_ERROR = ("DO000", "syntax-error")
UNUSED_SUPPRESSION = ("DO001", "unused-suppression")

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


__all__ = ["Finding", "LintContext", "Rule", "SYNTAX_ERROR", "UNUSED_SUPPRESSION", "all_rules"]
