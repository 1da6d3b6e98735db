"""The trace harness (tests/trace): it disproves each defect class of issue 14 and proves the
correct rewrite of the same input — every case is a pair, wrong fix and right fix."""
from __future__ import annotations

import pytest

from tests.trace import prove, unavailable
from tests.trace.build import Unprovable, plan
from tests.trace.declared import is_cache_command, without_cache_flags
from tests.trace.run import _ambiguous, _canonical
from tests.trace.sandbox import Record
from tests.tracekit import check, needs_sandbox



# Issue 14, item 1: the second script joined with && without grouping.
ITEM_1 = [
    pytest.param(  # RUN false + RUN rm -rf /opt/old || true: the failure is masked
        "FROM debian\nRUN false\nRUN rm -rf /opt/old || true\n",
        "FROM debian\nRUN false && rm -rf /opt/old || true\n",
        "FROM debian\nRUN false && { rm -rf /opt/old || true; }\n",
        id="or-true-masks-failure"),
    pytest.param(  # the same when the first RUN fails only in a scenario
        "FROM debian\nRUN make\nRUN rm -rf /opt/old || true\n",
        "FROM debian\nRUN make && rm -rf /opt/old || true\n",
        "FROM debian\nRUN make && { rm -rf /opt/old || true; }\n",
        id="or-true-masks-a-scenario-failure"),
    pytest.param(  # a ';' in the second script hides a failed install
        "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN echo cleaning; rm -rf /var/lib/apt/lists/*\n",
        "FROM debian\nRUN apt-get update && apt-get install -y curl && echo cleaning; rm -rf /var/lib/apt/lists/*\n",
        "FROM debian\nRUN apt-get update && apt-get install -y curl && { echo cleaning; rm -rf /var/lib/apt/lists/*; }\n",
        id="semicolon-in-second"),
    pytest.param(  # DO101's old safe fix: `|| true` swallows the install's failure
        "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/* || true\n",
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* || true\n",
        "FROM debian\nRUN apt-get update && apt-get install -y curl && { rm -rf /var/lib/apt/lists/* || true; }\n",
        id="do101-or-true"),
    pytest.param(  # a failed useradd now skips `set -ex`: later failures are ignored
        "FROM debian\nRUN useradd app\nRUN set -ex; gpg --verify app.sig; tar -xf app.tgz\n",
        "FROM debian\nRUN useradd app && set -ex; gpg --verify app.sig; tar -xf app.tgz\n",
        "FROM debian\nRUN useradd app && { set -ex; gpg --verify app.sig; tar -xf app.tgz; }\n",
        id="set-ex-second"),
    pytest.param(  # a leaked cd from an `|| exit 0` first RUN
        "FROM debian\nRUN cd /srv || exit 0\nRUN make install\n",
        "FROM debian\nRUN cd /srv || exit 0 && make install\n",
        "FROM debian\nRUN (cd /srv || exit 0) && make install\n",
        id="leaked-cd"),
    pytest.param(  # a cd into a directory the first RUN made leaks into the second
        "FROM debian\nRUN mkdir -p /build && cd /build && cmake ..\nRUN make install\n",
        "FROM debian\nRUN mkdir -p /build && cd /build && cmake .. && make install\n",
        "FROM debian\nRUN (mkdir -p /build && cd /build && cmake ..) && make install\n",
        id="leaked-cd-mkdir"),
    pytest.param(  # a leaked export
        "FROM debian\nRUN export CC=clang || exit 0\nRUN make\n",
        "FROM debian\nRUN export CC=clang || exit 0 && make\n",
        "FROM debian\nRUN (export CC=clang || exit 0) && make\n",
        id="leaked-export"),
    pytest.param(  # a leaked umask
        "FROM debian\nRUN umask 077 || exit 0\nRUN install -d /data\n",
        "FROM debian\nRUN umask 077 || exit 0 && install -d /data\n",
        "FROM debian\nRUN (umask 077 || exit 0) && install -d /data\n",
        id="leaked-umask"),
    pytest.param(  # exit 0 in the first RUN ends the merged script early
        "FROM debian\nRUN grep -q done /etc/state && exit 0; make\nRUN make install\n",
        "FROM debian\nRUN grep -q done /etc/state && exit 0; make && make install\n",
        "FROM debian\nRUN (grep -q done /etc/state && exit 0; make) && make install\n",
        id="exit-0"),
]


@needs_sandbox
@pytest.mark.parametrize(("original", "wrong", "right"), ITEM_1)
def test_item_1_merges_without_grouping_are_disproven(original: str, wrong: str, right: str) -> None:
    check(original, wrong, "disproven")
    # `RUN false` fails in every world, the real build too, so nothing after it ever runs: the
    # comparison up to it is the whole comparison (build.fails_in_every_world). The right merge
    # is proven there, and where the first RUN fails only in a scenario (`make`).
    check(original, right, "proven")


@needs_sandbox
def test_item_1_the_failing_invocation_is_named() -> None:
    check(*next(p for p in ITEM_1 if p.id == "semicolon-in-second").values[:2], "disproven", ("`apt-get update` (in /, 1st call) exits 1", "the original fails at line 2", "the fixed file builds"))


# Issue 14, item 2: a cache cleanup before a later step that reads the cache.
ITEM_2 = [
    pytest.param(  # lists removed before the install of the next RUN
        "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n",
        "FROM debian\nRUN apt-get update && rm -rf /var/lib/apt/lists/*\nRUN apt-get install -y curl\n",
        "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        id="later-run"),
    pytest.param(  # ... or of a stage built FROM this one
        "FROM debian AS base\nRUN apt-get update && apt-get install -y ca-certificates\n"
        "FROM base\nRUN apt-get install -y curl\n",
        "FROM debian AS base\nRUN apt-get update && apt-get install -y ca-certificates && rm -rf /var/lib/apt/lists/*\n"
        "FROM base\nRUN apt-get install -y curl\n",
        "FROM debian AS base\nRUN apt-get update && apt-get install -y ca-certificates\n"
        "FROM base\nRUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
        id="derived-stage"),
]


@needs_sandbox
@pytest.mark.parametrize(("original", "wrong", "right"), ITEM_2)
def test_item_2_cleanup_before_a_later_reader_is_disproven(original: str, wrong: str, right: str) -> None:
    check(original, wrong, "disproven", ("apt-get install -y curl", "100"))
    check(original, right, "proven")


@needs_sandbox
def test_item_3_cleanup_after_the_tool_is_gone_is_disproven() -> None:
    original = "FROM alpine\nRUN apk add go && go build -o /app ./... && apk del go\n"
    check(original, original.replace("apk del go", "apk del go && go clean -cache"), "disproven", ("127",))
    check(original, original.replace("&& apk del go", "&& go clean -cache && apk del go"), "proven")
    virtual = "FROM alpine\nRUN apk add --virtual .build-deps go gcc && go build ./... && apk del .build-deps\n"
    check(virtual, virtual.replace("apk del .build-deps", "apk del .build-deps && go clean -cache"), "disproven")


# Declared cache cleanups: the only difference a safe fix may make.
@needs_sandbox
@pytest.mark.parametrize(("original", "fixed"), [
    ("FROM python\nRUN pip install flask\n", "FROM python\nRUN pip install --no-cache-dir flask\n"),
    ("FROM alpine\nRUN apk add curl\n", "FROM alpine\nRUN apk add --no-cache curl\n"),
    ("FROM debian\nRUN apt-get update && apt-get install -y curl\n",
     "FROM debian\nRUN apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*\n"),
    ("FROM node\nRUN npm ci\n", "FROM node\nRUN npm ci && npm cache clean --force\n"),
    ("FROM golang\nRUN go build ./...\n", "FROM golang\nRUN go build ./... && go clean -cache\n"),
    ("FROM python\nRUN pip install flask\n", "FROM python\nRUN pip install flask && pip cache purge\n"),
])
def test_declared_cache_cleanups_are_allowed(original: str, fixed: str) -> None:
    check(original, fixed, "proven")


@needs_sandbox
@pytest.mark.parametrize("fixed", [
    "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /tmp/*\n",  # not a cache
    "FROM debian\nRUN apt-get update && apt-get install -y curl && apt-get autoremove -y\n",
    "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",  # not a cache flag
])
def test_anything_else_added_is_a_difference(fixed: str) -> None:
    check("FROM debian\nRUN apt-get update && apt-get install -y curl\n", fixed, "disproven")


def test_declared_cache_commands_are_exact() -> None:
    assert is_cache_command("/usr/bin/rm", ("-rf", "/var/lib/apt/lists/x_Packages", "/var/lib/apt/lists/partial"), "/")
    assert is_cache_command("/usr/bin/rm", ("-rf", "lists"), "/var/lib/apt")
    assert not is_cache_command("/usr/bin/rm", ("-rf", "/var/lib/apt/lists/../../dpkg"), "/")
    assert not is_cache_command("/usr/bin/rm", ("-rf", "/var/lib/apt/lists/*", "/opt/app"), "/")
    assert not is_cache_command("/usr/bin/npm", ("cache", "clean"), "/")  # npm refuses without --force
    assert without_cache_flags("/usr/local/bin/pip3.12", ("install", "--no-cache-dir", "x")) == ("install", "x")
    assert without_cache_flags("/usr/bin/apt-get", ("install", "--no-cache")) == ("install", "--no-cache")


# How the builder runs a RUN: SHELL, exec form, heredocs, WORKDIR, ENV/ARG, USER.
@needs_sandbox
def test_shell_instruction_is_respected() -> None:
    pipefail = 'FROM debian\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL https://x | tar -xz\n'
    check(pipefail, pipefail.replace('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n', ""), "disproven")


@needs_sandbox
def test_exec_form_and_heredoc_runs() -> None:
    check('FROM debian\nRUN ["sh", "-c", "make && make install"]\n',
          'FROM debian\nRUN ["sh", "-c", "make; make install"]\n', "disproven")
    check('FROM debian\nRUN ["make", "install"]\n', 'FROM debian\nRUN make install\n', "proven")
    heredoc = "FROM debian\nRUN <<EOF\nset -e\nmake\nmake install\nEOF\n"
    check(heredoc, heredoc.replace("set -e\n", ""), "disproven")
    check(heredoc, "FROM debian\nRUN set -e; make; make install\n", "proven")


@needs_sandbox
def test_workdir_env_arg_and_user_reach_the_commands() -> None:
    base = "FROM debian\nARG MODE=release\nENV CC=gcc\nWORKDIR /src\nUSER app\nRUN make $MODE\n"
    check(base, base.replace("WORKDIR /src", "WORKDIR /srv"), "disproven", ("/srv",))
    check(base, base.replace("ENV CC=gcc", "ENV CC=clang"), "disproven", ("environment",))
    check(base, base.replace("USER app", "USER root"), "disproven", ("runs as",))
    check(base, base.replace("ARG MODE=release", "ARG MODE=debug"), "disproven")


@needs_sandbox
def test_copied_files_and_directories_exist_later() -> None:
    text = "FROM debian\nWORKDIR /app\nCOPY . .\nCOPY run.sh /usr/local/bin/\nRUN ./configure && cd /app && run.sh\n"
    verdict = prove(text, text.replace("&& run.sh", "&& run.sh && true"))
    assert verdict.proven, verdict


# What the harness cannot run is never proven.
@needs_sandbox
@pytest.mark.parametrize(("original", "category"), [
    ('FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\nRUN echo x\n', "not a POSIX shell"),
    ('FROM debian\nSHELL ["powershell", "-Command"]\nRUN Get-Item x\nRUN echo x\n', "not a POSIX shell"),
    ('FROM debian\nSHELL ["/bin/zsh", "-c"]\nRUN make\nRUN echo x\n', "shell not available"),
    ('FROM debian\nRUN "$(which gmake)" all\nRUN echo x\n', "gap"),  # `which` prints nothing here
])
def test_what_cannot_run_is_unprovable(original: str, category: str) -> None:
    verdict = prove(original, original.replace("\nRUN echo x", " && echo x"))
    assert verdict.status == "unprovable" and verdict.category.startswith(category), verdict


@needs_sandbox
def test_gaps_of_the_stub_world_are_filled_for_both_sides() -> None:
    # The directory a tarball makes, the ./configure in it, a sourced file, a command whose
    # name is computed: the original stops there at first; the harness creates what is
    # missing and proves again, so the leaked cd into the tarball's directory is caught.
    original = ("FROM debian\nRUN tar -xzf git-2.43.2.tar.gz && cd git-2.43.2 && ./configure && "
                ". /etc/build.env && ${MAKE:-gmake} all\nRUN make install\n")
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("git-2.43.2",))
    check(original, original.replace("RUN tar", "RUN (tar").replace("\nRUN make install", ") && make install"),
          "proven")


def test_unparsable_text_is_unprovable() -> None:
    with pytest.raises(Unprovable, match="does not parse"):
        plan("FROM debian\nRUN <<EOF\nmake\n")


@needs_sandbox
def test_pipelines_are_compared_in_a_canonical_order() -> None:
    # Pipeline members (and a member's command substitutions) record in any order; the same
    # build proves equal to itself every time, and a changed pipe is still a difference.
    original = 'FROM debian\nRUN ldd "$(php -r \'echo 1;\')"/*.so | awk \'{print $1}\' | sort -u\nRUN echo x\n'
    for _ in range(3):
        check(original, original.replace("\nRUN echo x", " && echo x"), "proven")
    check("FROM debian\nRUN curl -fsSL x | tar -xz\n", "FROM debian\nRUN tar -xz | curl -fsSL x\n", "disproven")
    check("FROM debian\nRUN v=$(uname -m) && make\n", "FROM debian\nRUN uname -m && make\n", "disproven")


@needs_sandbox
def test_builtins_run_for_real_and_commands_are_stubs() -> None:
    # `[ -d ]` sees the directory mkdir made; the stub of `test`'s external twin is not used.
    text = "FROM debian\nRUN mkdir -p /opt/x && [ -d /opt/x ] && touch /opt/x/ok\n"
    check(text, text.replace("[ -d /opt/x ]", "[ -d /opt/y ]"), "disproven")


@needs_sandbox
def test_a_difference_under_one_shell_only_is_found() -> None:
    # `echo -e` is a builtin whose output differs between dash and bash; what it writes is a
    # file the build leaves, compared at the end of the stage.
    original = "FROM debian\nRUN printf 'a\\n' > /etc/motd\n"
    verdict = prove(original, "FROM debian\nRUN echo -e 'a' > /etc/motd\n")
    assert verdict.disproven and "under dash" in verdict.reason, verdict


def test_a_fix_the_builder_cannot_see_is_proven_without_running() -> None:
    """DO404's casing fix in a Windows stage: the sandbox has no PowerShell, but BuildKit reads
    both files into the same instructions. Any other difference still needs the sandbox."""
    shell = 'SHELL ["powershell", "-Command"]\n'
    original = f"FROM mcr.microsoft.com/windows/servercore:ltsc2022 as Build\n{shell}RUN Write-Host hi\n"
    verdict = prove(original, original.replace(" as ", " AS "))
    assert verdict.proven and verdict.category == "identical", str(verdict)
    for changed in (original.replace("hi", "ho"), original.replace("Write-Host hi", "Write-Host  hi"),
                    original.replace("as Build", "as Other")):
        assert not prove(original, changed).proven


# `sudo` (with -H, -E, -n, -u USER only) runs the command after it as root, which a build
# already is: a declared cleanup or flag behind it is the same cleanup or flag, and the world
# model's effects apply to the command it runs.
def test_sudo_is_seen_through_exactly() -> None:
    assert is_cache_command("/usr/bin/sudo", ("npm", "cache", "clean", "--force"), "/")
    assert is_cache_command("/usr/bin/sudo", ("-H", "-u", "root", "rm", "-rf", "/var/lib/apt/lists/x"), "/")
    assert not is_cache_command("/usr/bin/sudo", ("npm", "cache", "clean"), "/")
    assert not is_cache_command("/usr/bin/sudo", ("-i", "npm", "cache", "clean", "--force"), "/")  # a login shell
    assert not is_cache_command("/usr/bin/sudo", ("rm", "-rf", "/opt/app"), "/")
    assert without_cache_flags("/usr/bin/sudo", ("-H", "pip3", "install", "--no-cache-dir", "x")) == \
        ("-H", "pip3", "install", "x")
    assert without_cache_flags("/usr/bin/sudo", ("apt-get", "install", "--no-cache-dir")) == \
        ("apt-get", "install", "--no-cache-dir")


@needs_sandbox
@pytest.mark.parametrize(("original", "fixed"), [
    ("FROM cimg/python\nRUN sudo npm install -g yarn\n",
     "FROM cimg/python\nRUN sudo npm install -g yarn && sudo npm cache clean --force\n"),
    ("FROM gitpod/workspace\nRUN sudo -H pip3 install numpy\n",
     "FROM gitpod/workspace\nRUN sudo -H pip3 install --no-cache-dir numpy\n"),
    ("FROM debian\nRUN sudo apt-get update && sudo apt-get install -y curl\n",
     "FROM debian\nRUN sudo apt-get update && sudo apt-get install -y curl && sudo rm -rf /var/lib/apt/lists/*\n"),
])
def test_sudo_before_a_declared_cleanup_is_declared(original: str, fixed: str) -> None:
    check(original, fixed, "proven")


@needs_sandbox
@pytest.mark.parametrize(("original", "fixed", "words"), [
    ("FROM node\nRUN npm ci\n", "FROM node\nRUN npm ci && sudo npm cache clean\n", ("sudo npm cache clean",)),
    ("FROM node\nRUN npm ci\n", "FROM node\nRUN npm ci && sudo -i npm cache clean --force\n", ("sudo -i",)),
    ("FROM python\nRUN sudo -H pip3 install numpy\n", "FROM python\nRUN sudo -H pip3 install --no-compile numpy\n",
     ("--no-compile",)),
    # sudo rm of the lists deletes them in the world model: a later install fails
    ("FROM debian\nRUN sudo apt-get update\nRUN sudo apt-get install -y curl\n",
     "FROM debian\nRUN sudo apt-get update && sudo rm -rf /var/lib/apt/lists/*\nRUN sudo apt-get install -y curl\n",
     ("100",)),
])
def test_sudo_with_anything_else_is_a_difference(original: str, fixed: str, words: tuple[str, ...]) -> None:
    check(original, fixed, "disproven", words)


# Concurrency: commands the shell runs concurrently compare as unordered, by the shell's
# semantics (pipes on a command's or its ancestors' stdin/stdout; background jobs), never by
# chance; everything else keeps its order.
def _record(path: str, pid: int, stdin: int = 0, stdout: int = 0, ancestors: tuple[int, ...] = (),
            async_root: int = 0) -> Record:
    return Record(0, path, (), "/", "0022", stdin, stdout, pid, 1, (), async_root, ancestors)


def test_members_under_a_pipeline_member_are_unordered() -> None:
    # echo "$(grep k SUMS | awk '{print $1}')" FILE | sha256sum -c -: echo is a builtin in the
    # pipeline's subshell (stdout 13); grep and awk run under it, sha256sum reads 13.
    grep = _record("/usr/bin/grep", 4, stdout=11, ancestors=(12, 13))
    awk = _record("/usr/bin/awk", 5, stdin=11, stdout=12, ancestors=(12, 13))
    sha = _record("/usr/bin/sha256sum", 3, stdin=13)
    after = _record("/usr/bin/make", 6)
    assert _canonical((grep, awk, sha, after)) == _canonical((sha, grep, awk, after))
    assert _canonical((grep, awk, sha, after))[-1] == after
    # without the shared pipe (two separate commands) the order stays
    assert _canonical((_record("/a", 2), _record("/b", 3))) != _canonical((_record("/b", 2), _record("/a", 3)))


def test_repeated_commands_of_one_pipeline_are_not_made_to_fail() -> None:
    # find ... | sort -u | xargs ... | sort -u > deps.txt (tianon adsb readsb): which `sort -u`
    # is "the 1st call" depends on scheduling, so failing it would fail the middle one in one
    # build and the last in the next (a false "disproven" on the corpus). Their order is
    # canonical by pipe ends, and neither is made to fail; a lone repeated command still is.
    first = _record("/usr/bin/sort", 3, stdin=11, stdout=12)
    last = _record("/usr/bin/sort", 5, stdin=13)
    xargs = _record("/usr/bin/xargs", 4, stdin=12, stdout=13)
    assert _canonical((first, xargs, last)) == _canonical((last, xargs, first))
    keys = [(r.path, r.args, r.cwd) for r in (first, xargs, last)]
    assert _ambiguous((first, xargs, last), keys) == {0, 2}
    apart = (_record("/usr/bin/sort", 3), _record("/usr/bin/sort", 4))
    assert _ambiguous(apart, [(r.path, r.args, r.cwd) for r in apart]) == set()


@needs_sandbox
def test_a_pipeline_repeating_a_command_proves_every_time() -> None:
    original = ("FROM debian\nRUN find /out -type f | sort -u | xargs -r dpkg-query --search | cut -d: -f1 "
                "| sort -u > /deps.txt\nRUN echo x\n")
    for _ in range(3):
        check(original, original.replace("\nRUN echo x", " && echo x"), "proven")
    # a real change in such a pipeline is still found
    check(original, original.replace("| cut -d: -f1 ", ""), "disproven")


def test_background_jobs_are_ordered_by_their_start_only() -> None:
    # browsh & sleep 10: browsh (the job's first process, pid 2) and sleep (pid 3) record in any order
    browsh, sleep = _record("/usr/bin/browsh", 2, async_root=2), _record("/usr/bin/sleep", 3)
    assert _canonical((browsh, sleep)) == _canonical((sleep, browsh)) == [browsh, sleep]
    # sleep 10; browsh &: the job starts after sleep ended; its place is after it, whatever the log says
    sleep, browsh = _record("/usr/bin/sleep", 2), _record("/usr/bin/browsh", 3, async_root=3)
    assert _canonical((browsh, sleep)) == [sleep, browsh]


@needs_sandbox
def test_concurrent_commands_prove_every_time() -> None:
    checksums = ("FROM centos\nRUN echo \"$(grep k /tmp/SUMS | awk '{print $1}')\" /usr/local/bin/k | sha256sum -c -; "
                 "echo \"$(grep m /tmp/SUMS | awk '{print $1}')\" /usr/local/bin/m | sha256sum -c -\nRUN echo x\n")
    background = "FROM debian\nRUN TERM=xterm browsh & pidsave=$!; sleep 10; kill $pidsave || true\nRUN echo x\n"
    for original in (checksums, background) * 3:
        check(original, original.replace("\nRUN echo x", " && echo x"), "proven")


@needs_sandbox
@pytest.mark.parametrize(("original", "fixed"), [
    ("FROM debian\nRUN sleep 1; foo & wait\n", "FROM debian\nRUN foo & sleep 1; wait\n"),  # the job starts earlier
    ("FROM debian\nRUN sleep 1; foo\n", "FROM debian\nRUN foo; sleep 1\n"),
    ("FROM debian\nRUN echo \"$(grep k SUMS | awk '{print $1}')\" k | sha256sum -c -; make\n",
     "FROM debian\nRUN make; echo \"$(grep k SUMS | awk '{print $1}')\" k | sha256sum -c -\n"),
    ("FROM debian\nRUN browsh & sleep 1; kill $! || true\n", "FROM debian\nRUN sleep 1; kill $! || true\n"),
])
def test_reordered_commands_that_are_not_concurrent_still_differ(original: str, fixed: str) -> None:
    check(original, fixed, "disproven")


@needs_sandbox
@pytest.mark.parametrize("original", [
    # mkdir without -p under a directory the real image has (useradd -m made /home/gradle)
    "FROM debian\nRUN useradd -m gradle && mkdir /home/gradle/.gradle && cd /home/gradle/.gradle\nRUN make\n",
    # a clone has the scripts the build runs from it
    "FROM fedora\nRUN git clone --depth 1 https://github.com/gperftools/gperftools.git && cd gperftools && "
    "./autogen.sh && ./configure\nRUN make\n",
    # a quoted redirect target ending in a variable: its directory is not a command to stub
    "FROM debian\nENV V=8.5.3\nRUN phpenv install $V && echo 'memory_limit = 1G;' >> \"/root/.phpenv/versions/$V/etc/x.ini\" "
    "&& cd /root/.phpenv\nRUN make\n",
])
def test_more_gaps_of_the_stub_world_are_filled(original: str) -> None:
    # Filled, the world runs the original to the end: the leaked cd of a wrong merge is caught
    # and the grouped merge proven (both were 'unprovable: gap' before).
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("make",))
    check(original, wrong.replace("RUN ", "RUN (", 1).replace(" && make", ") && make"), "proven")


def test_bash_as_sh_missing_script_is_a_gap_to_fill() -> None:
    # aws-codebuild: `sh $RUBY_BUILD_SRC_DIR/install.sh` under bash as /bin/sh
    from tests.trace.run import Outcome, fill_gap
    from tests.trace.sandbox import Layout
    empty = Layout(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
    gap = "sh: /usr/local/rbenv/plugins/ruby-build/install.sh: No such file or directory"
    filled = fill_gap(Outcome(gap=gap, gap_cwd="/"), empty)
    assert filled is not None and filled.paths == {"/usr/local/rbenv/plugins/ruby-build/install.sh"}


def test_a_gap_fill_that_makes_the_original_fail_proves_nothing() -> None:
    """Filling the gap `./tool/run.sh` creates /tool, so the original's `[ ! -e /tool ]` then
    fails and both sides would stop there, before the RUNs the fix merged: that proved nothing
    (unprovable). The test is forced now (guards.py, the real build passes it), so the merged
    RUNs are compared: a right merge is proven, naming the forced test, a wrong one disproven."""
    original = "FROM debian\nRUN ./tool/run.sh\nRUN [ ! -e /tool ]\nRUN echo a > /a\nRUN echo b > /b\n"
    fixed = "FROM debian\nRUN ./tool/run.sh\nRUN [ ! -e /tool ]\nRUN echo a > /a && echo b > /b\n"
    verdict = prove(original, fixed)
    if unavailable() is None:
        assert verdict.proven and "`[ ! -e /tool ]` true" in verdict.reason, str(verdict)
        assert prove(original, fixed.replace("echo b > /b", "echo c > /b")).disproven
    else:
        assert not verdict.proven, str(verdict)


def test_a_fill_made_failure_after_every_changed_instruction_still_proves() -> None:
    """The merged RUNs run before the step the fill made fail: every scenario still runs them."""
    original = "FROM debian\nRUN ./tool/run.sh\nRUN echo a > /a\nRUN echo b > /b\nRUN mkdir /tool\n"
    fixed = "FROM debian\nRUN ./tool/run.sh\nRUN echo a > /a && echo b > /b\nRUN mkdir /tool\n"
    if unavailable() is None:
        assert prove(original, fixed).proven


@needs_sandbox
@pytest.mark.parametrize("original", [
    # a download unpacked into a directory the build makes (erlang's $ERL_TOP, kismet, chinadns):
    # the relative commands the scripts name are in it, as in every directory the harness makes
    "FROM debian\nRUN mkdir -vp /usr/src/otp && tar -xzf otp.tgz -C /usr/src/otp && cd /usr/src/otp && "
    "./otp_build autoconf\nRUN make\n",
    "FROM debian\nRUN mkdir chinadns && cd chinadns && tar xzf c.tgz --strip 1 && ./configure\nRUN make\n",
    # the gap /tmp/g/gradlew is filled, which makes /tmp/g before the build's own `mkdir /tmp/g`
    # (aws-codebuild's gradle wrappers): that first mkdir still succeeds
    "FROM debian\nRUN mkdir /tmp/g && gradle -p /tmp/g wrapper && /tmp/g/gradlew init && cd /tmp/g\nRUN make\n",
])
def test_directories_the_build_makes_hold_its_downloads(original: str) -> None:
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("make",))
    check(original, wrong.replace("RUN ", "RUN (", 1).replace(" && make", ") && make"), "proven")


@needs_sandbox
def test_a_filled_directory_is_made_once() -> None:
    """Only the first mkdir of a directory a fill made succeeds: a second one fails as it would
    in the real build (the claim is per root, so it holds across RUNs)."""
    from tests.trace.build import layout
    from tests.trace.run import execute
    from tests.trace.sandbox import Layout
    text = "FROM debian\nRUN mkdir /tmp/g && /tmp/g/gradlew\nRUN mkdir /tmp/g || echo again > /again\n"
    built = plan(text)
    initial, relative = layout(built)
    initial = Layout(initial.names, initial.paths | {"/tmp/g/gradlew"}, initial.dirs, initial.files, initial.relative)
    outcome, _ = execute(built, initial, relative, "dash", snapshot=True)
    assert [(e.args, e.status) for e in outcome.events if e.path.endswith("mkdir")] == [(("/tmp/g",), 0),
                                                                                        (("/tmp/g",), 1)]
    assert outcome.result == ("ok",) and any(path.endswith("again") for path, _ in outcome.files[0])


@needs_sandbox
@pytest.mark.parametrize("original", [
    # a redirect into a directory the unpacked sources have, after a cd only xtrace shows
    # (docker-library postgres alpine): the directory is made where the shell was
    "FROM alpine\nRUN set -eux && mkdir -p /usr/src/pg && tar -xf pg.tgz -C /usr/src/pg && apk add gcc && "
    "cd /usr/src/pg && awk 1 src/include/m.h > src/include/m.h.new\nRUN make\n",
    # a script COPYed from a build context the corpus lacks, run by /bin/bash (vscode-dev-containers)
    "FROM debian\nRUN /bin/bash /tmp/library-scripts/common-debian.sh true vscode && cd /tmp/library-scripts\nRUN make\n",
    # a positive file test on what an install makes, and `command -v` of what it installs
    "FROM debian\nRUN set -eux && cmake --install . && [ -s /usr/local/bin/idle3 ] && tini=\"$(command -v tini)\" && "
    "cd /usr/local\nRUN make\n",
])
def test_what_a_real_build_would_have_is_filled(original: str) -> None:
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("make",))
    check(original, wrong.replace("RUN ", "RUN (", 1).replace(" && make", ") && make"), "proven")


@needs_sandbox
def test_a_negative_file_test_is_not_filled() -> None:
    """Only a positive test is filled (a file can be added, never taken away): `[ ! -e X ]`
    that then fails stops the filled world's build in the changed RUN: unprovable."""
    original = ("FROM debian\nRUN set -eux; make install; [ -s /usr/local/bin/idle3 ]; [ ! -e /usr/local/bin/ ]\n"
                "RUN echo a > /a\n")
    verdict = prove(original, original.replace("\nRUN echo", " && echo"))
    assert verdict.status == "unprovable" and verdict.category == "gap: fill made the build fail", verdict


@needs_sandbox
def test_a_sourced_stand_in_sets_what_the_script_reads() -> None:
    """php apache: `. "$APACHE_ENVVARS"` (a file apt installs), then `set -u` reads its
    variables: the stand-in file assigns them, so the build runs on and a leaked cd is caught."""
    original = ("FROM debian\nENV E=/etc/apache2/envvars\nRUN set -eux && apt-get install -y apache2 && . \"$E\" && "
                "mkdir -p \"$APACHE_RUN_DIR\" && chown \"$APACHE_RUN_USER\" \"$APACHE_RUN_DIR\" && cd \"$APACHE_RUN_DIR\""
                "\nRUN make\n")
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("make",))
    check(original, wrong.replace("RUN set", "RUN (set").replace(" && make", ") && make"), "proven")


def test_an_unset_variable_is_filled_once() -> None:
    from tests.trace.run import Outcome, fill_gap
    from tests.trace.sandbox import Layout
    gap = "/bin/sh: 1: APACHE_RUN_DIR: parameter not set"
    for layout in (Layout(paths=frozenset({"/usr/local/bin/tool"})), Layout(files=frozenset({"/etc/apache2/envvars"}))):
        filled = fill_gap(Outcome(gap=gap, gap_cwd="/"), layout)
        assert filled is not None and filled.variables == {"APACHE_RUN_DIR"}
        assert fill_gap(Outcome(gap=gap, gap_cwd="/"), filled) is None


@needs_sandbox
def test_a_variable_the_base_image_sets_is_filled_into_the_environment() -> None:
    """wordpress on php: `set -u` reads $PHP_INI_DIR, which php's image sets by ENV and the stub
    world lacks; the environment of every stage gets it (unless the file sets it), so the build
    runs on and a leaked cd is caught."""
    original = ('FROM php:8.2-apache\nRUN set -eu; mkdir -p "$PHP_INI_DIR/conf.d"; cd "$PHP_INI_DIR/conf.d"\n'
                "FROM 0\nRUN set -u; cd \"$PHP_INI_DIR\"\nRUN make\n")
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("/filled/PHP_INI_DIR",))
    check(original, wrong.replace('RUN set -u; cd "$PHP_INI_DIR" && make', 'RUN (set -u; cd "$PHP_INI_DIR") && make'),
          "proven")


@needs_sandbox
def test_busybox_sh_runs_as_a_posix_shell() -> None:
    """kaniko: `RUN ["busybox", "sh", "-c", "..."]` in a scratch stage (the whole file was
    unprovable: 'runs busybox'); busybox's ash is a POSIX shell like an image's /bin/sh."""
    original = ('FROM busybox:musl AS bb\nFROM scratch\nRUN ["busybox", "sh", "-c", "mkdir -p /kaniko && cd /kaniko"]\n'
                'RUN make\nRUN make install\n')
    check(original, original.replace("RUN make\nRUN make install", "RUN make && make install"), "proven")
    check(original, original.replace("RUN make\nRUN make install", "RUN make install && make"), "disproven")
    # the script really runs: what it does is compared
    check(original, original.replace("cd /kaniko", "cd /kaniko && touch x"), "disproven")


@needs_sandbox
def test_add_apt_repository_updates_the_lists() -> None:
    """aws-codebuild ubuntu 5.0: `apt-add-repository -y ...` then `apt-get install firefox`
    after an earlier RUN emptied the lists: Ubuntu's add-apt-repository updates them (unless
    -n), so the install works and the filled world's build reaches the merged RUNs."""
    original = ("FROM ubuntu\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
                "RUN tar zxf git.tgz && cd git-2.43.2 && make\n"
                "RUN set -ex && apt-add-repository -y ppa:x && apt-get install -y firefox\nRUN echo a > /a\nRUN echo b > /b\n")
    fixed = original.replace("\nRUN echo b", " && echo b")
    check(original, fixed, "proven")
    verdict = prove(original.replace("-y ppa", "-n -y ppa"), fixed.replace("-y ppa", "-n -y ppa"))
    assert verdict.status == "unprovable" and verdict.category == "gap: fill made the build fail", verdict


@needs_sandbox
@pytest.mark.parametrize("original", [
    # kaniko benchmark_fs: the image's bash lives in /usr/local/bin
    'FROM bash:5\nSHELL ["/usr/local/bin/bash", "-c"]\nRUN mkdir -p /w && cd /w\nRUN make\n',
    # tianon docker-master: `tini="$(command -v tini-static)"` under set -e (xtrace ends in `+ tini=`)
    'FROM debian\nRUN set -eux && apt-get install -y tini && tini="$(command -v tini-static)" && cd /usr/local\nRUN make\n',
])
def test_shells_and_lookups_of_real_images_run(original: str) -> None:
    wrong = original.replace("\nRUN make", " && make")
    check(original, wrong, "disproven", ("make",))
    check(original, wrong.replace("RUN ", "RUN (", 1).replace(" && make", ") && make"), "proven")


PYTHON_LINKS = ("FROM debian\nRUN set -eux; ./configure; make install\n"
                "RUN set -eux; \\\n\tfor src in idle3 pip3 python3; do \\\n\t\tdst=\"$(echo \"$src\" | tr -d 3)\"; \\\n"
                "\t\t[ -s \"/usr/local/bin/$src\" ]; \\\n\t\t[ ! -e \"/usr/local/bin/$dst\" ]; \\\n"
                "\t\tln -svT \"$src\" \"/usr/local/bin/$dst\"; \\\n\tdone\n")


@needs_sandbox
def test_tr_filters_as_the_real_one_does() -> None:
    """docker-library python: `dst="$(echo "$src" | tr -d 3)"` names the link; a silent tr
    made dst empty and `[ ! -e /usr/local/bin/ ]` stopped the merged RUN (unprovable)."""
    fixed = PYTHON_LINKS.replace("make install\nRUN set -eux; \\", "make install; \\")
    check(PYTHON_LINKS, fixed, "proven")
    # the computed name is compared: a different one is found
    check("FROM debian\nENV V=idle3\nRUN dst=\"$(echo \"$V\" | tr -d 3)\" && mkdir \"/opt/$dst\"\n",
          "FROM debian\nENV V=idle4\nRUN dst=\"$(echo \"$V\" | tr -d 3)\" && mkdir \"/opt/$dst\"\n", "disproven",
          ("idle4",))
    check("FROM debian\nRUN v=\"$(echo ab-c | tr a-z A-Z)\" && mkdir \"/$v\"\n",
          "FROM debian\nRUN v=\"$(echo ab-c | tr a-z A-Z)\" && mkdir /AB-C\n", "proven")


@needs_sandbox
def test_rm_r_removes_what_the_build_made() -> None:
    """aws-codebuild ubuntu 3.0: `mkdir warmup && cd warmup && dotnet new && cd .. && rm -rf
    warmup` in two RUNs: the rm really removes the directory mkdir made, so the second mkdir
    succeeds (it failed 'File exists' and stopped the filled world's build: unprovable)."""
    warmup = "RUN set -ex && mkdir warmup && cd warmup && dotnet new && cd .. && rm -rf warmup\n"
    original = ("FROM debian\nRUN tar -xzf git.tgz && cd git-2.43.2 && make\n" + warmup
                + "RUN echo a > /a\nRUN echo b > /b\n" + warmup)
    fixed = original.replace("\nRUN echo b", " && echo b")
    check(original, fixed, "proven")
    # what rm removes is compared: a fix that drops the rm leaves /warmup behind
    check(original, fixed.replace(" && rm -rf warmup\n", "\n", 1), "disproven")


@needs_sandbox
def test_an_original_stopping_before_the_changed_steps_proves_nothing() -> None:
    # The stub cat prints nothing, so the `case` stops the original at line 2 in every scenario
    # and the merge below (which leaks the cd into make install) never runs: it was "proven: 2
    # scenarios" (with `[ -e /etc/nginx/nginx.conf ]`, a test, which guards.py now forces).
    # Now it is not proven, in a world without any gap filled too.
    stop = 'RUN case "$(cat /etc/flavour)" in y) ;; *) exit 1;; esac\n'
    original = f"FROM debian\n{stop}RUN cd /srv || exit 0\nRUN make install\n"
    wrong = f"FROM debian\n{stop}RUN cd /srv || exit 0 && make install\n"
    check(original, wrong, "unprovable", ("stops before the end of the changed steps",))
    # without that stop the same wrong merge is disproven
    check(original.replace(stop, ""), wrong.replace(stop, ""), "disproven")
    # a stop after every changed step still lets them run in every scenario
    late = f"FROM debian\nRUN mkdir /x\nRUN touch /x/a\n{stop}"
    check(late, late.replace("\nRUN touch", " && touch"), "proven")


@needs_sandbox
def test_stubs_answer_what_machine_the_build_runs_on() -> None:
    # docker-library style: an empty $(dpkg --print-architecture) took the `*) exit 1` branch,
    # so the merged RUNs after it never ran. The stubs answer as an x86_64 Debian builder.
    original = ('FROM debian\nRUN arch="$(dpkg --print-architecture)"; case "$arch" in amd64) m="$(uname -m)";; '
                '*) exit 1;; esac; [ "$m" = x86_64 ] && [ "$(nproc)" -ge 1 ] && [ "$(locale charmap)" = UTF-8 ] '
                '&& [ "$(rpm --query --queryformat=\'%{ARCH}\' rpm)" = x86_64 ]\nRUN cd /srv || exit 0\nRUN make install\n')
    check(original, original.replace("\nRUN make install", " && make install"), "disproven")
    grouped = original.replace("\nRUN cd /srv || exit 0\nRUN make install", "\nRUN (cd /srv || exit 0) && make install")
    check(original, grouped, "proven")
    assert "forced" not in prove(original, grouped).reason  # the answers, not forced tests, got it there


@needs_sandbox
def test_add_unpack_makes_a_directory_a_workdir_can_enter() -> None:
    """home-assistant: `ADD --unpack=true URL /usr/src/bashio` then `WORKDIR /usr/src/bashio`: the
    destination is the unpacked tree, a directory (it was a stub file, and the harness crashed
    entering it)."""
    original = ("FROM debian\nADD --unpack=true https://example.org/b.tar.gz /usr/src/b\nWORKDIR /usr/src/b\n"
                "RUN cd /srv || exit 0\nRUN make install\n")
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("/srv",))


@needs_sandbox
def test_rm_of_an_empty_operand_removes_nothing() -> None:
    """tomcat: GNUPGHOME="$(mktemp -d)" is empty in the stub world, and `rm -rf "$GNUPGHOME"`
    removed the current directory (the build had made it), so the next `mkdir` failed."""
    original = ('FROM debian\nRUN mkdir -p /opt/t\nWORKDIR /opt/t\nRUN set -eux; d="$(mktemp -d)"; rm -rf "$d"; '
                'mkdir webapps\nRUN cd /srv || exit 0\nRUN make install\n')
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("/srv",))


@needs_sandbox
@pytest.mark.parametrize(("command", "printed"), [
    ("basename /usr/src/wordpress/wp-content/themes", "themes"), ("basename /a/b/ ", "b"),
    ("basename x.tar.gz .tar.gz", "x"), ("basename .tar.gz .tar.gz", ".tar.gz"), ("basename /", "/"),
    ("dirname /usr/src/x", "/usr/src"), ("dirname x", "."), ("dirname /x", "/"), ("dirname a//b/", "a"),
])
def test_basename_and_dirname_print_what_they_print_everywhere(command: str, printed: str) -> None:
    """wordpress: dir="$(basename "${dir%/}")"; mkdir "wp-content/$dir" made 'wp-content/' (File
    exists) when the stub basename printed nothing."""
    original = (f'FROM debian\nRUN set -eu; d="$({command})"; [ "$d" = "{printed}" ] || exit 1; cd /srv\n'
                "RUN make install\n")
    verdict = prove(original, original.replace("\nRUN make install", " && make install"))
    assert verdict.disproven and "forced" not in verdict.reason, verdict


@needs_sandbox
def test_a_stub_reading_a_pipe_reads_it_to_the_end() -> None:
    """jupyter pyspark (SHELL bash -o pipefail): `echo "$sum *f" | sha256sum -c -` failed with 141
    when the stub sha256sum exited before echo wrote (SIGPIPE), and passed otherwise: the same
    file's trace changed between builds ("not deterministic"). The writer here is slow on purpose."""
    slow = 'i=0; while :; do i=$((i+1)); case $i in 30000) break;; esac; done'
    original = (f'FROM debian\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN {{ {slow}; echo "abc *f"; }} '
                "| sha256sum -c -\nRUN cd /srv || exit 0\nRUN make install\n")
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("/srv",))


def _outcome(*commands: str) -> "Outcome":
    from tests.trace.run import Event, Outcome
    return Outcome(events=[Event(0, f"/usr/bin/{c}", (), "/", "0022", (), "root", 0, (False, False)) for c in commands])


def test_a_difference_only_the_first_build_shows_is_not_a_verdict() -> None:
    """Under heavy load a build lost a call now and then (13 'not deterministic' verdicts in the
    whole-corpus runs, never reproduced alone). A side whose rebuild differs from its first build
    is built a third time: two agreeing fresh builds stand for it; the difference must stand
    between the confirmed builds to disprove; builds that keep changing stay unprovable."""
    from tests.trace.prove import _compare
    full, lost, other = _outcome("a", "b", "c"), _outcome("a", "c"), _outcome("a", "x", "c")

    def builder(*results: "Outcome"):  # type: ignore[no-untyped-def]
        queue = list(results)
        return lambda plan_, **_: (queue.pop(0), {})

    original = fixed = None
    # the original's first build lost `b`; its two rebuilds agree with the fixed file's rebuild
    assert _compare(builder(full, full, full), original, fixed, lost, full, None, "bash", 1) is None  # type: ignore[arg-type]
    # the same, but the fixed file really runs `x`: disproven on the confirmed builds
    verdict = _compare(builder(full, full, other), original, fixed, lost, other, None, "bash", 1)  # type: ignore[arg-type]
    assert verdict is not None and verdict.disproven
    # the original's builds keep changing: unprovable
    verdict = _compare(builder(full, lost), original, fixed, lost, other, None, "bash", 1)  # type: ignore[arg-type]
    assert verdict is not None and verdict.status == "unprovable" and "not deterministic" in verdict.reason


@needs_sandbox
def test_a_literal_failure_stops_every_build_so_nothing_after_it_is_uncompared() -> None:
    """slackbot's failure example: `RUN echo About to fail!` + `RUN exit 1`, merged. The real
    build stops at `exit 1` too; what follows it runs in no build. A stop that is computed (a
    `case` on a stub's output) still leaves the steps after it unproven."""
    original = "FROM ubuntu\nRUN echo About to fail!\nRUN exit 1\n"
    check(original, "FROM ubuntu\nRUN echo About to fail! && exit 1\n", "proven")
    check(original, "FROM ubuntu\nRUN echo About to fail! && exit 2\n", "disproven")
    check(original, "FROM ubuntu\nRUN echo About to fail!; exit 0\n", "disproven")
    computed = 'FROM ubuntu\nRUN case "$(cat /etc/flavour)" in y) ;; *) exit 1;; esac\nRUN cd /srv || exit 0\nRUN make install\n'
    check(computed, computed.replace("\nRUN make install", " && make install"), "unprovable")



@needs_sandbox
def test_a_stop_in_a_filled_world_under_one_shell_only_is_that_shells_own() -> None:
    """ingress-nginx test-runner: `cd /tmp/luarocks*` matches the downloaded tarball and the
    extracted directory; bash's cd then says "too many arguments" (a real image whose sh is
    bash would too), dash enters the first match. In a world with a gap filled that counted as
    the fill's doing and nothing was proven; as in an unfilled world, it takes a stop under
    every shell, and dash compared every step after it."""
    original = ('FROM debian\nENV TOOL=/opt/t/bin/tool\nRUN "$TOOL" --version\n'
                "RUN wget -qO /tmp/lr.tgz https://x/lr.tar.gz && tar -C /tmp -xzf /tmp/lr.tgz && cd /tmp/lr* "
                "&& ./configure\nRUN cd /srv || exit 0\nRUN make install\n")
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("under dash",))
    check(original, original.replace("\nRUN cd /srv || exit 0\nRUN make install",
                                     "\nRUN (cd /srv || exit 0) && make install"), "proven")


@needs_sandbox
def test_an_arg_without_a_value_gets_one_when_the_build_needs_it() -> None:
    """kaniko's run fixture: `ARG file` then `RUN echo run > $file`, built by kaniko's test with
    --build-arg file=...; without one the redirect names no file and the build stopped at once.
    The world where the build gets its --build-args runs on, and a leaked cd is caught."""
    original = "FROM debian\nARG file\nRUN echo run > $file\nRUN cd /srv || exit 0\nRUN make install\n"
    check(original, original.replace("\nRUN make install", " && make install"), "disproven", ("/srv",))
    check(original, original.replace("\nRUN cd /srv || exit 0\nRUN make install",
                                     "\nRUN (cd /srv || exit 0) && make install"), "proven")


@needs_sandbox
def test_a_command_name_with_a_leading_blank_fails_in_every_world() -> None:
    """vimagick's ansible: `... && \\ useradd -rm ...` runs " useradd", which no PATH holds: the
    real build stops there too, so nothing after it is left uncompared; a fix that changes the
    failing RUN itself is still disproven."""
    original = "FROM ubuntu\nRUN apt-get install -y sudo && \\ useradd -m test\nRUN echo a > /a\nRUN echo b > /b\n"
    check(original, original.replace("\nRUN echo b", " && echo b"), "proven")
    check(original, original.replace("&& \\ useradd", "&& useradd"), "disproven")


def test_a_shell_message_captured_into_an_xtrace_line_is_a_gap() -> None:
    """tomcat jre: `nativeLines="$(catalina.sh configtest 2>&1)"` under set -x traces the shell's
    "not found" inside the assignment: that is the gap (catalina.sh, from the COPYed tree), while
    `+ grep 'not found'` only echoes a command's words (jenkins) and is none."""
    from tests.trace.run import _gap
    assert _gap("+ nativeLines=/bin/sh: 1: catalina.sh: not found\n") == "+ nativeLines=/bin/sh: 1: catalina.sh: not found"
    assert _gap("+ nativeLines='/bin/sh: line 1: catalina.sh: command not found'\n") != ""
    assert _gap("+ grep 'not found'\n") == ""
