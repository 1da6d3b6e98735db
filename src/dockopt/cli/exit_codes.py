"""Exit codes of every ``dockopt`` command (a public contract, see the README).

A module of their own so that the subcommand modules need not import the argument parser
(``cli.main`` imports them lazily; importing it back from them was a cycle).
"""
from __future__ import annotations

EXIT_OK = 0  # no findings at or above the severity threshold
EXIT_FINDINGS = 1  # findings (verify: dockopt is wrong about a fix)
EXIT_ERROR = 2  # usage, configuration or I/O errors
