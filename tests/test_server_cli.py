"""``dockopt server`` from the command line: the subcommand exists without the extra, and a
missing extra is one line naming the fix, exit 2, never a traceback."""
from __future__ import annotations

import subprocess
import sys

from dockopt.cli.main import build_parser


def test_server_subcommand_is_listed() -> None:
    assert "server" in build_parser().format_help()


def test_missing_extra_is_one_line_and_exit_2() -> None:
    # pygls made unimportable, as in an install without dockopt[server].
    code = ("import sys; sys.modules['pygls'] = None; sys.modules['pygls.lsp'] = None; "
            "sys.modules['pygls.lsp.server'] = None; "
            "from dockopt.cli.main import main; sys.exit(main(['server']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "dockopt: dockopt server needs the 'server' extra (pygls and lsprotocol): pip install 'dockopt[server]'"]
    assert proc.stdout == ""
