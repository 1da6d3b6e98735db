"""``dockopt server`` in a real editor: Debian's Neovim, headless, configured exactly as the
README's "Editors > Neovim" block says (the block is read from README.md).

The test opens a Dockerfile, waits for the server's diagnostics, runs ``:DockoptFixAll`` (the
README's command for the ``source.fixAll.dockopt`` code action) and checks the buffer: it
must hold what ``dockopt fix`` writes, and the re-published diagnostics must no longer list
the fixed findings. Skipped, with one line saying why, when ``nvim`` is not installed
(``apt-get install neovim``; CI installs it in ``scripts/provision.sh``).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the server extra is not installed: pip install -e '.[test]'")

from tests.server_client import dockopt_fix  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim not installed (apt-get install neovim): "
                                                     "the headless Neovim test is skipped")

EXAMPLE = """\
FROM python:3.12 as build
RUN apt-get update
RUN apt-get install -y build-essential
COPY . /app
RUN rm -rf /var/lib/apt/lists/*
"""

# Drives the editor as a user would: wait for diagnostics, run the README's command, wait for
# the buffer to change and the diagnostics to follow, then print the buffer.
DRIVER = r"""
local buf = vim.api.nvim_get_current_buf()
local function out(s) io.stdout:write(s .. "\n") end
local function codes()
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(found, tostring(d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)))
  end
  table.sort(found)
  return table.concat(found, ",")
end
local function text() return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, true), "\n") end
out("FILETYPE " .. vim.bo.filetype)
if not vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50) then
  out("ERROR no diagnostics arrived"); vim.cmd("cquit 3")
end
out("BEFORE " .. codes())
local before_codes, before = codes(), text()
-- Neovim 0.7 asks which action to apply (there is one); 0.8+ applies it directly.
vim.ui.select = function(items, _, on_choice) on_choice(items[1], 1) end
vim.cmd("DockoptFixAll")
if not vim.wait(60000, function() return text() ~= before end, 50) then
  out("ERROR the fix-all action changed nothing"); vim.cmd("cquit 4")
end
vim.wait(60000, function() return codes() ~= before_codes end, 50)
out("AFTER " .. codes())
out("---- buffer")
for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, true)) do out(line) end
vim.cmd("qa!")
"""


def readme_neovim_config() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- editors:neovim -->\n```lua\n(.*?)```", readme, re.S)
    assert m, "README.md lost its '<!-- editors:neovim -->' Lua block"
    return m.group(1)


def test_neovim_fix_all_as_the_readme_configures_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "init.lua").write_text(readme_neovim_config())
    (tmp_path / "drive.lua").write_text(DRIVER)
    project = tmp_path / "project"
    project.mkdir()
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(EXAMPLE)
    # `dockopt` as the README's config runs it: from PATH (this interpreter's scripts first).
    scripts = Path(sys.executable).parent
    assert (scripts / "dockopt").exists(), f"no dockopt script next to {sys.executable}"
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}
    proc = subprocess.run([NVIM, "--headless", "-i", "NONE", "-n", "-u", str(tmp_path / "init.lua"), "Dockerfile",
                           "-c", f"luafile {tmp_path / 'drive.lua'}"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "FILETYPE dockerfile" in output
    before = re.search(r"^BEFORE (.*)$", output, re.M)
    after = re.search(r"^AFTER (.*)$", output, re.M)
    assert before and after, output
    assert {"DO103", "DO404"} <= set(before.group(1).split(","))
    assert not {"DO103", "DO404"} & set(after.group(1).split(","))
    buffer = output.split("---- buffer\n", 1)[1]
    expected = dockopt_fix(dockerfile, EXAMPLE)
    assert buffer.rstrip("\n") == expected.rstrip("\n")
    assert "RUN apt-get update \\\n    && apt-get install -y build-essential" in buffer
    assert dockerfile.read_text() == EXAMPLE  # the editor applied the edit to the buffer, not the file
