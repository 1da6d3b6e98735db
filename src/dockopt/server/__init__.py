"""``dockopt server``: a Language Server Protocol server over stdio (``pip install 'dockopt[server]'``).

Modules: ``protocol`` (pygls handlers, debouncing, the analysis thread), ``workspace``
(settings, configuration discovery and reloads), ``analysis`` (one document version's lint
result and layer plan), ``positions`` (UTF-16/UTF-8/UTF-32 positions), ``lsp_diagnostics``,
``actions`` (quick fixes, fix-all, ignore), ``inlay`` (layer sizes) and ``hover``.
"""
from __future__ import annotations

import sys

MISSING_EXTRA = ("dockopt server needs the 'server' extra (pygls and lsprotocol): "
                 "pip install 'dockopt[server]'")


def run_stdio() -> int:
    """Serve one client over standard input/output until it exits; the exit code."""
    try:
        from dockopt.server.protocol import server
    except ImportError as error:
        if getattr(error, "name", "") and error.name.split(".")[0] in ("pygls", "lsprotocol", "cattrs"):
            print(f"dockopt: {MISSING_EXTRA}", file=sys.stderr)
            return 2
        raise
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Standard output is the protocol channel: a stray print() anywhere would corrupt it.
    sys.stdout = sys.stderr
    server.start_io(stdin, stdout)
    return 0
