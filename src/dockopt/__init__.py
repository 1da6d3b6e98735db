"""dockopt: a Dockerfile linter and optimizer that simulates layer effects.

Public API:
    parse(source)  -> Document   (lossless: str(parse(source)) == source)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Document", "parse", "__version__"]

if TYPE_CHECKING:
    from dockopt.syntax import Document, parse


def __getattr__(name: str) -> Any:
    # Lazy, so that `import dockopt.diagnostics` (and the CLI's start-up) stays cheap.
    if name in ("Document", "parse"):
        from dockopt import syntax

        return getattr(syntax, name)
    raise AttributeError(name)
