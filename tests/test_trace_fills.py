"""Gaps of the trace harness's stub world (tests/trace/run.py: ``_gap``, ``_shell_dirs``,
``fill_gap``): what a real build would have found where the stub world has nothing. Each case
is a corpus file whose safe fix was unprovable because the gap was misread or filled in the
wrong place; filled right, the grouped merge is proven and a merge leaking `cd` disproven."""
from __future__ import annotations

from tests.trace.run import Outcome, _clone_dir, _gap, _glob_word, _shell_dirs, fill_gap
from tests.trace.sandbox import Layout, Record
from tests.tracekit import TAIL, check, needs_sandbox, right, wrong


# --- a gap is the shell's error message, not an xtrace line ----------------------------------

def test_an_xtrace_line_that_says_not_found_is_no_gap() -> None:
    """tianon jenkins: `if find ... | grep 'not found'; then exit 1; fi` under set -x. The
    xtrace line `+ grep 'not found'` was read as a missing command (unprovable: 'gap: command
    not found'); the build stopped at its own `exit 1`, which no fill can change."""
    for trace in ("+ grep not found", "+ grep 'not found'", "++ echo 'No such file or directory'"):
        assert _gap(f"+ set -eux\n{trace}\n+ exit 1\n") == ""
    # the shell's own messages stay gaps, with or without xtrace around them
    assert _gap("+ tool --version\n/bin/sh: 1: tool: not found\n") == "/bin/sh: 1: tool: not found"
    assert _gap("+ cd dm\n/bin/sh: line 1: cd: dm: No such file or directory\n") == \
        "/bin/sh: line 1: cd: dm: No such file or directory"
    # a failed positive file test under set -x is still read from its xtrace line
    assert _gap("+ [ -s /usr/local/bin/idle3 ]\n") == "+ [ -s /usr/local/bin/idle3 ]"


# --- a relative cd under the directory the build cloned or made -------------------------------

def record(argv: tuple[str, ...], cwd: str = "/") -> Record:
    return Record(0, f"/usr/bin/{argv[0]}", argv[1:], cwd, "0022", 0, 0, 1, 0, ())


def test_the_directory_a_clone_makes() -> None:
    assert _clone_dir(record(("git", "clone", "https://github.com/o/cloud-foundation-toolkit"))) == \
        "/cloud-foundation-toolkit"
    assert _clone_dir(record(("git", "clone", "--depth", "1", "-b", "v2", "https://x/o/r.git"), "/src")) == "/src/r"
    assert _clone_dir(record(("git", "clone", "https://x/o/r.git", "dest/"), "/src")) == "/src/dest"
    assert _clone_dir(record(("git", "-C", "/x", "clone", "https://x/o/r"))) == "/r"
    assert _clone_dir(record(("git", "fetch", "origin"))) == ""
    assert _clone_dir(record(("tar", "clone", "x"))) == ""


def test_made_directories_are_tried_after_the_likely_ones() -> None:
    dirs = _shell_dirs("", "/", "/", ("/tmp/a", "/cloud-foundation-toolkit"))
    assert dirs == ("/", "/cloud-foundation-toolkit", "/tmp/a")  # latest made first
    gap = "/bin/sh: 1: cd: can't cd to dm"
    first = fill_gap(Outcome(gap=gap, gap_cwd="/", gap_cwds=dirs), Layout())
    assert first is not None and first.dirs == {"/dm"}
    # a wrong first guess leaves the gap open: the next run fills the next candidate
    second = fill_gap(Outcome(gap=gap, gap_cwd="/", gap_cwds=dirs), first)
    assert second is not None and second.dirs == {"/dm", "/cloud-foundation-toolkit/dm"}
    # an absolute target is never moved under a candidate
    absolute = fill_gap(Outcome(gap="/bin/sh: 1: cd: can't cd to /opt/x", gap_cwd="/", gap_cwds=dirs),
                        Layout(dirs=frozenset({"/opt/x"})))
    assert absolute is None


CFT = ("FROM debian\nRUN apt-get update && apt-get -y install make "
       "&& git clone https://github.com/GoogleCloudPlatform/cloud-foundation-toolkit "
       "&& cd cloud-foundation-toolkit/ && cd dm && make build && cd / && rm -rf /cloud-foundation-toolkit\n" + TAIL)


@needs_sandbox
def test_a_relative_cd_after_an_invisible_cd_into_a_clone() -> None:
    """cloud-builders-community cft: `git clone URL && cd cloud-foundation-toolkit/ && cd dm`
    without xtrace: the first cd is invisible, so `dm` was filled at /dm and the original kept
    stopping there (unprovable: 'cd into a missing directory'). The clone's directory is a
    candidate now: /cloud-foundation-toolkit/dm is filled and the build runs to the merge."""
    check(CFT, wrong(CFT), "disproven", ("make",))
    check(CFT, right(CFT), "proven")
    # the same after a directory the build's mkdir made (the stub's /.trace/made)
    made = "FROM debian\nRUN mkdir -p /opt/src/b && cd /opt/src/b && cd sub && make build\n" + TAIL
    check(made, wrong(made), "disproven", ("make",))
    check(made, right(made), "proven")


# --- a cd into a glob the unpacking would have matched ------------------------------------------

def test_a_glob_stands_for_a_name_it_matches() -> None:
    assert _glob_word("mongosh-*") == "mongosh-filled"
    assert _glob_word("/opt/jdk-1?.*") == "/opt/jdk-1x.filled"
    # brackets, or a glob before the last component: no name to stand for
    assert _glob_word("mongosh-[0-9]*") == ""
    assert _glob_word("/opt/*/bin") == ""
    assert _glob_word("plain") == ""
    gap = "/bin/sh: 1: cd: can't cd to mongosh-*"
    filled = fill_gap(Outcome(gap=gap, gap_cwd="/tmp/mongosh"), Layout())
    assert filled is not None and filled.dirs == {"/tmp/mongosh/mongosh-filled"}
    assert fill_gap(Outcome(gap=gap, gap_cwd="/tmp/mongosh"), filled) is None
    assert fill_gap(Outcome(gap="/bin/sh: 1: cd: can't cd to m-[0-9]*", gap_cwd="/"), Layout()) is None


MONGOSH = ("FROM debian\nRUN mkdir -p /tmp/mongosh && cd /tmp/mongosh "
           "&& wget -qOmongosh.tgz https://downloads.mongodb.com/compass/mongosh-1.8.0-linux-x64.tgz "
           "&& tar xf mongosh.tgz && cd mongosh-* && cp bin/* /usr/local/bin/ && rm -rf /tmp/mongosh\n" + TAIL)


@needs_sandbox
def test_a_cd_into_what_an_archive_unpacked() -> None:
    """gitpod workspace-images mongodb: `tar xf mongosh.tgz && cd mongosh-*`: the stub tar
    unpacks nothing and fill_gap refused globs (unprovable: 'cd into a missing directory').
    A directory the pattern matches is filled; the glob expands to it under dash and bash."""
    check(MONGOSH, wrong(MONGOSH), "disproven", ("make",))
    check(MONGOSH, right(MONGOSH), "proven")
    bracket = MONGOSH.replace("mongosh-*", "mongosh-[0-9]*")
    check(bracket, right(bracket), "unprovable")
