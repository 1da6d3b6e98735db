"""``dockopt.shell.options``: the ``set`` options a RUN runs with, read one way for the merge
primitive and the later-consumer checks."""
from __future__ import annotations

import pytest

from dockopt.shell import parse_script
from dockopt.shell.options import errexit_from_start, first_set, shell_options

SH = ["/bin/sh", "-c"]


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        (["/bin/sh", "-c"], frozenset()),
        (["/bin/bash", "-eo", "pipefail", "-c"], frozenset({"errexit", "pipefail"})),
        (["/bin/bash", "-o", "errexit", "-c"], frozenset({"errexit"})),
        (["/bin/bash", "--login", "-ex", "-c"], frozenset({"errexit", "xtrace"})),
        (["/bin/bash", "-Z", "-c"], None),  # a flag we do not know
        (["cmd", "/S", "/C"], None),
    ],
)
def test_shell_options(shell: list[str], expected: frozenset[str] | None) -> None:
    assert shell_options(shell) == expected


@pytest.mark.parametrize(
    ("shell", "script", "expected"),
    [
        (SH, "apt-get update; apt-get install -y curl", False),
        (["/bin/bash", "-e", "-c"], "apt-get update; apt-get install -y curl", True),
        (["/bin/bash", "-o", "errexit", "-c"], "apt-get update; apt-get install -y curl", True),
        (SH, "set -eux; apt-get update; apt-get install -y curl", True),
        (SH, "set -o errexit; apt-get update; apt-get install -y curl", True),
        (SH, "set -e\napt-get update\nset +e\napt-get install -y curl", False),
        (SH, "set -e; apt-get update; set +o errexit; apt-get install -y curl", False),
        (SH, "set -e; apt-get update; set +x; apt-get install -y curl", True),
        (SH, "set -e; apt-get update; set $FLAGS; apt-get install -y curl", False),
        (SH, "set -e; eval \"$SETUP\"; apt-get install -y curl", False),
        (SH, "set -e; . ./env.sh; apt-get install -y curl", False),
        (SH, "apt-get update; set -e; apt-get install -y curl", False),  # not the first command
        (SH, "(set -e); apt-get update; apt-get install -y curl", False),  # in a subshell
        (SH, "! set -e; apt-get update", False),
        (SH, "set -e && apt-get update; apt-get install -y curl", True),  # -e is on from the set on
    ],
)
def test_errexit_from_start(shell: list[str], script: str, expected: bool) -> None:
    assert errexit_from_start(shell, parse_script(script)) is expected


def test_first_set_reads_only_the_first_top_level_command() -> None:
    first = first_set(parse_script("set -eu -o pipefail; make"))
    assert first is not None and first.enables == {"errexit", "nounset", "pipefail"}
    assert first_set(parse_script("make; set -e")) is None
