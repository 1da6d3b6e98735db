"""The errors of ``dockopt verify``'s engine layer, in a module of their own because every other
engine module (the CLI wrapper, ``docker save`` reading, layer tars) raises them."""
from __future__ import annotations


class EngineError(Exception):
    """A Docker engine operation failed."""


class EngineUnavailable(EngineError):
    """No Docker engine can be reached (the message is one line, fit for a CLI error)."""
