"""``dockopt verify``'s pieces that need no engine: history and build steps mapped to lines,
the builder choice, secret targets and the suggested secret-mount rewrite, the reports.

The histories below are what Docker 20.10 recorded for ``MULTI_STAGE`` (``docker history
--no-trunc``, oldest first), with both builders.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockopt.diagnostics import Diagnostic, Location, Severity
from dockopt.model import build_model
from dockopt.syntax import parse
from dockopt.verify.attribution import attribute, declared_caches, under_cache
from dockopt.verify.build import BuildResult, BuildStep
from dockopt.verify.filesystem import DEFAULT_IGNORE, FileEntry, FsDiff, normalise_pyc_header
from dockopt.verify.fixing import plan_fixes, secret_rewrite
from dockopt.verify.layermap import history_keyword, map_history, map_steps
from dockopt.verify.outcome import StepFailure, compare_outcomes, step_failure
from dockopt.verify.report import ImageSide, VerifyReport, docker_size, to_json, to_text
from dockopt.verify.saved_image import HistoryEntry
from dockopt.verify.secret_proof import secret_targets
from dockopt.verify.session import choose_builder, legacy_created_images
from dockopt.verify.smoke import ContainerRun, SmokeCheck, default_command_label, differing_aspects, smoke_check

CASES = Path(__file__).parent / "e2e" / "cases"

MULTI_STAGE = """\
ARG BASE=busybox:latest
FROM ${BASE} AS one
ARG X=1
ENV A=b
WORKDIR /app
RUN echo hi > f
COPY Dockerfile /d
RUN true
FROM one
LABEL k=v
RUN echo $X > /x
COPY --from=one /d /e
RUN rm /d
USER nobody
CMD ["sh"]
"""


def h(created_by: str, size: int = 0, empty: bool = False, comment: str = "") -> HistoryEntry:
    return HistoryEntry(created_by=created_by, size_bytes=size, empty_layer=empty, comment=comment)


LEGACY = [
    h("", 1_983_000, comment="Imported from -"),
    h("/bin/sh -c #(nop)  ARG X=1", empty=True),
    h("/bin/sh -c #(nop)  ENV A=b", empty=True),
    h("/bin/sh -c #(nop) WORKDIR /app", empty=True),
    h("|1 X=1 /bin/sh -c echo hi > f", 3),
    h("/bin/sh -c #(nop) COPY file:f864 in /d ", 208),
    h("|1 X=1 /bin/sh -c true", 0),
    h("/bin/sh -c #(nop)  LABEL k=v", empty=True),
    h("/bin/sh -c echo $X > /x", 1),
    h("/bin/sh -c #(nop) COPY file:6c47 in /e ", 208),
    h("/bin/sh -c rm /d", 0),
    h("/bin/sh -c #(nop)  USER nobody", empty=True),
    h('/bin/sh -c #(nop)  CMD ["sh"]', empty=True),
]
BK = "buildkit.dockerfile.v0"
BUILDKIT = [
    h("", 1_983_000, comment="Imported from -"),
    h("ARG X=1", empty=True, comment=BK),
    h("ENV A=b", empty=True, comment=BK),
    h("WORKDIR /app", 0, comment=BK),  # BuildKit's WORKDIR makes a (here empty) layer
    h("RUN |1 X=1 /bin/sh -c echo hi > f # buildkit", 3, comment=BK),
    h("COPY Dockerfile /d # buildkit", 208, comment=BK),
    h("RUN |1 X=1 /bin/sh -c true # buildkit", 0, comment=BK),
    h("LABEL k=v", empty=True, comment=BK),
    h("RUN /bin/sh -c echo $X > /x # buildkit", 2, comment=BK),
    h("COPY /d /e # buildkit", 208, comment=BK),
    h("RUN /bin/sh -c rm /d # buildkit", 0, comment=BK),
    h("USER nobody", empty=True, comment=BK),
    h('CMD ["sh"]', empty=True, comment=BK),
]


@pytest.mark.parametrize(("created_by", "keyword"), [
    ("/bin/sh -c #(nop)  ENV A=b", "ENV"),
    ("/bin/sh -c #(nop) COPY file:abc in /x ", "COPY"),
    ("|2 A=1 B=2 /bin/sh -c make", "RUN"),
    ("/bin/bash -o pipefail -c curl x | sh", "RUN"),
    ("env FOO=1 make", "RUN"),  # a legacy exec-form RUN of `env`, not an ENV
    ("RUN /bin/sh -c apt-get update # buildkit", "RUN"),
    ("WORKDIR /app", "WORKDIR"),
    ("", None),
])
def test_history_keyword(created_by: str, keyword: str | None) -> None:
    assert history_keyword(h(created_by)) == keyword


@pytest.mark.parametrize("history", [LEGACY, BUILDKIT], ids=["legacy", "buildkit"])
def test_history_maps_to_the_lines_of_the_stage_chain(history: list[HistoryEntry]) -> None:
    mapped = map_history(build_model(parse(MULTI_STAGE)), None, history)
    assert [(e.line, e.instruction) for e in mapped] == [
        (2, "FROM"), (3, "ARG"), (4, "ENV"), (5, "WORKDIR"), (6, "RUN"), (7, "COPY"), (8, "RUN"),
        (10, "LABEL"), (11, "RUN"), (12, "COPY"), (13, "RUN"), (14, "USER"), (15, "CMD")]
    assert mapped[0].from_base and not any(e.from_base for e in mapped[1:])
    layers = [e for e in mapped if e.is_layer]
    assert [e.layer_index for e in layers] == list(range(len(layers)))
    assert mapped[5].text == "COPY Dockerfile /d" and mapped[5].size_bytes == 208


def test_history_of_an_earlier_target_stops_at_it() -> None:
    mapped = map_history(build_model(parse(MULTI_STAGE)), "one", BUILDKIT[:7])
    assert [e.line for e in mapped] == [2, 3, 4, 5, 6, 7, 8]


def test_onbuild_triggers_are_not_lines() -> None:
    # Triggers run as part of a FROM: those of an image from a registry cannot be told apart from
    # that image's own history (they are counted with the base image); those of a stage of the
    # same file come between the two stages' entries and are skipped.
    text = "FROM busybox AS lib\nONBUILD COPY . /src\nRUN true\nFROM lib\nRUN ls /src\n"
    history = [
        h("", 1_983_000, comment="Imported from -"),
        h("ONBUILD COPY . /src", empty=True, comment=BK),
        h("RUN /bin/sh -c true # buildkit", 0, comment=BK),
        h("COPY . /src # buildkit", 5_000, comment=BK),  # the trigger, run by `FROM lib`
        h("RUN /bin/sh -c ls /src # buildkit", 0, comment=BK),
    ]
    mapped = map_history(build_model(parse(text)), None, history)
    assert [(e.line, e.instruction, e.from_base) for e in mapped] == [
        (1, "FROM", True), (2, "ONBUILD", False), (3, "RUN", False), (None, "COPY", False), (5, "RUN", False)]


def test_legacy_steps_count_every_instruction() -> None:
    steps = [BuildStep("Step 9/15", "FROM one", None), BuildStep("Step 11/15", "RUN echo $X > /x", False),
             BuildStep("Step 15/15", 'CMD ["sh"]', True), BuildStep("Step 3/14", "ARG X=1", True)]
    mapped = map_steps(build_model(parse(MULTI_STAGE)), steps, buildkit=False)
    assert [m.line for m in mapped] == [9, 11, 15, None]  # a count that does not fit maps to nothing


def test_buildkit_steps_count_filesystem_steps_per_stage() -> None:
    steps = [BuildStep("#5", "[one 2/5] WORKDIR /app", False), BuildStep("#8", "[one 4/5] COPY Dockerfile /d", True),
             BuildStep("#10", "[stage-1 1/3] RUN echo 1 > /x", False),  # BuildKit shows ARGs expanded
             BuildStep("#12", "[stage-1 3/3] RUN rm /d", False), BuildStep("#13", "[one 2/5] RUN nonsense", False)]
    mapped = map_steps(build_model(parse(MULTI_STAGE)), steps, buildkit=True)
    assert [m.line for m in mapped] == [5, 7, 11, 13, None]


def test_buildkit_steps_of_a_single_unnamed_stage() -> None:
    text = "FROM busybox\nENV A=1\nCOPY a /a\nRUN true\n"
    steps = [BuildStep("#1", "[1/3] FROM docker.io/library/busybox", None), BuildStep("#2", "[2/3] COPY a /a", False),
             BuildStep("#3", "[3/3] RUN true", False)]
    assert [m.line for m in map_steps(build_model(parse(text)), steps, buildkit=True)] == [1, 3, 4]


def test_builder_choice() -> None:
    plain, needs = parse("FROM busybox\nRUN true\n"), parse("FROM busybox\nRUN --mount=type=cache,target=/c true\n")
    assert choose_builder(None, [plain], {}) == (True, "")
    assert choose_builder(None, [plain], {"DOCKER_BUILDKIT": "0"}) == (False, "")
    assert choose_builder(None, [plain], {"DOCKER_BUILDKIT": "1"}) == (True, "")
    assert choose_builder(False, [plain], {}) == (False, "")
    use, note = choose_builder(None, [plain, needs], {"DOCKER_BUILDKIT": "0"})
    assert use and "DOCKER_BUILDKIT=0" in note


def test_docker_size_uses_dockers_units() -> None:
    assert [docker_size(n) for n in (74_821_124, 415_815, 999, 0, -19_856_468, None)] == [
        "74.8 MB", "415.8 kB", "999 B", "0 B", "-19.9 MB", "?"]


def test_secret_targets_and_the_suggested_rewrite(tmp_path: Path) -> None:
    ctx = Path(shutil.copytree(CASES / "secret-npmrc", tmp_path / "ctx"))
    outcome = plan_fixes(ctx / "Dockerfile", unsafe_fixes=False, context=None, target=None)
    assert outcome.fixed_text == outcome.original_text  # DO201 is a suggestion: nothing applied
    [target] = secret_targets(outcome.lint_context(outcome.original_text), outcome.original.diagnostics)
    assert (target.path, target.removed_line, target.stored_line) == ("/app/.npmrc", 6, 3)
    assert target.context_file == (ctx / ".npmrc").resolve()
    rewrite, why = secret_rewrite(outcome)
    assert rewrite is not None, why
    assert rewrite.secrets == {"npmrc": (ctx / ".npmrc").resolve()}
    assert "RUN --mount=type=secret,id=npmrc,target=/app/.npmrc grep -q _authToken .npmrc" in rewrite.text
    assert "COPY package.json ./" in rewrite.text and ".npmrc" not in rewrite.text.split("RUN --mount")[0]


def test_suggested_rewrite_needs_the_secret_file_in_the_context(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM node:20-slim\nARG NPM_TOKEN\n"
        'RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > /root/.npmrc\n'
        "RUN npm ci\nRUN rm /root/.npmrc\n")
    outcome = plan_fixes(tmp_path / "Dockerfile", unsafe_fixes=False, context=None, target=None)
    [target] = secret_targets(outcome.lint_context(outcome.original_text), outcome.original.diagnostics)
    assert target.path == "/root/.npmrc" and target.stored_line == 3 and target.context_file is None
    rewrite, why = secret_rewrite(outcome)
    if rewrite is None:  # the token came from a build arg: there is no file to pass with --secret
        assert "no file" in why or "offers no" in why


def test_text_and_json_of_a_failed_original() -> None:
    side = ImageSide("original", "t:original", built=False, duration_s=1.0, log_tail=["#5 ERROR: exit code: 3"])
    report = VerifyReport(dockerfile="Dockerfile", context="/ctx", target=None, builder="buildkit", engine="unix:///s",
                          fixes_applied=[], unsafe_enabled=False, findings=[], original=side,
                          verdict="original-build-failed", problem="the original Dockerfile does not build",
                          exit_code=2)
    text = to_text(report)
    assert "the original build failed; last lines of its log:\n  | #5 ERROR: exit code: 3" in text
    assert text.rstrip().endswith("dockopt verify: the original Dockerfile does not build")
    data = to_json(report)
    assert data["fixed"] is None and data["filesystem_equal"] is None and data["exit_code"] == 2
    assert data["original"]["size_bytes"] is None and data["original"]["layers"] == []


def test_legacy_created_images_are_the_steps_it_ran() -> None:
    log = """\
Step 1/6 : FROM busybox:latest AS build
 ---> 84ee0884b853
Step 2/6 : RUN echo a > /a
 ---> Running in 0123456789ab
Removing intermediate container 0123456789ab
 ---> 1111111111aa
Step 3/6 : COPY x /x
 ---> Using cache
 ---> 2222222222bb
Step 4/6 : FROM busybox:latest
 ---> 84ee0884b853
Step 5/6 : COPY --from=build /a /a
 ---> 3333333333cc
Step 6/6 : CMD ["sh"]
 ---> Running in 456789abcdef
Removing intermediate container 456789abcdef
 ---> 4444444444dd
Successfully built 4444444444dd
"""
    # the base (FROM) and the cached step's image existed before: never ours to remove
    assert legacy_created_images(log) == ["1111111111aa", "3333333333cc", "4444444444dd"]


# ----------------------------------------------------------------- build outcomes (issue 14 item 7)

BUILDKIT_0_8_FAILURE = """\
#5 [2/4] RUN echo 'deb http://deb.debian.org/debian bookworm-backport main' > /etc/apt/sources.list.d/b.list
#5 DONE 0.2s

#6 [3/4] RUN apt-get update
#6 sha256:fadb0aabd111de6100d14f5a72481c91a6e9aa55159e2f81435125edf5c771f1
#6 0.436 Err:5 http://deb.debian.org/debian bookworm-backport Release
#6 0.436   404  Not Found [IP: 203.0.113.80 80]
#6 5.711 E: The repository 'http://deb.debian.org/debian bookworm-backport Release' does not have a Release file.
#6 ERROR: executor failed running [/bin/sh -c apt-get update]: exit code: 100
------
 > [3/4] RUN apt-get update:
------
executor failed running [/bin/sh -c apt-get update]: exit code: 100
"""
# BuildKit >= 0.11 words its errors differently.
BUILDKIT_NEW_FAILURE = """\
#7 [stage-1 2/2] RUN make
#7 0.231 make: *** No targets specified and no makefile found.  Stop.
#7 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2
"""
LEGACY_FAILURE = """\
Step 1/3 : FROM debian:bookworm-slim
 ---> 1a7fc0fd98dc
Step 2/3 : RUN apt-get update
 ---> Running in 0123456789ab
Err:5 http://deb.debian.org/debian bookworm-backport Release
E: The repository 'http://deb.debian.org/debian bookworm-backport Release' does not have a Release file.
The command '/bin/sh -c apt-get update' returned a non-zero code: 100
"""
LEGACY_COPY_FAILURE = """\
Step 1/2 : FROM busybox:latest
 ---> 1527cff1580a
Step 2/2 : COPY missing /x
COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist
"""


def test_buildkit_failure_names_the_step_its_exit_code_and_last_output() -> None:
    from dockopt.verify.build import parse_buildkit_steps

    steps = parse_buildkit_steps(BUILDKIT_0_8_FAILURE)
    assert [s.failed for s in steps] == [False, True]
    failed = steps[1]
    assert failed.name == "[3/4] RUN apt-get update" and failed.exit_code == 100
    assert failed.last_output.startswith("E: The repository") and steps[0].last_output == ""
    [new] = parse_buildkit_steps(BUILDKIT_NEW_FAILURE)
    assert (new.failed, new.exit_code, new.last_output) == (True, 2, "make: *** No targets specified and no "
                                                                     "makefile found.  Stop.")


def test_legacy_failure_names_the_step_its_exit_code_and_last_output() -> None:
    from dockopt.verify.build import parse_legacy_steps

    steps = parse_legacy_steps(LEGACY_FAILURE)
    assert [(s.key, s.failed, s.exit_code) for s in steps] == [("Step 1/3", False, None), ("Step 2/3", True, 100)]
    assert steps[1].last_output.startswith("E: The repository")  # not "---> Running in ..."
    copy = parse_legacy_steps(LEGACY_COPY_FAILURE)[-1]
    assert (copy.failed, copy.exit_code) == (True, None)  # a COPY has no exit code
    built = parse_legacy_steps("Step 1/1 : FROM busybox\n ---> 1527cff1580a\nSuccessfully built 1527cff1580a\n")
    assert not any(s.failed for s in built)


def _failed_build(log: str, buildkit: bool = True) -> BuildResult:
    from dockopt.verify.build import parse_buildkit_steps, parse_legacy_steps

    steps = parse_buildkit_steps(log) if buildkit else parse_legacy_steps(log)
    return BuildResult("t:x", None, log, tuple(steps), 1.0, 1, buildkit, ("docker",))


def test_step_failure_is_tied_to_the_dockerfile_line() -> None:
    text = ("FROM debian:bookworm-slim\n# a typo in the suite\nRUN echo deb > /etc/apt/sources.list.d/b.list\n"
            "RUN apt-get update\nRUN apt-get install -y jq || echo optional\n")
    failure = step_failure(_failed_build(BUILDKIT_0_8_FAILURE), text)
    assert failure is not None and (failure.line, failure.exit_code) == (4, 100)
    assert failure.describe() == "line 4 (`RUN apt-get update`, exit code 100)"
    legacy = step_failure(_failed_build(LEGACY_FAILURE, buildkit=False),
                          "FROM debian:bookworm-slim\nRUN apt-get update\nRUN true\n")
    assert legacy is not None and (legacy.line, legacy.exit_code) == (2, 100)


@pytest.mark.parametrize(("original", "fixed", "verdict"), [
    (None, None, "both-built"),
    (None, StepFailure(3, "RUN a && b", 127, "sh: b: not found"), "fixed-build-failed"),
    (StepFailure(3, "RUN apt-get update", 100, "E: x"), None, "fixed-build-masks-failure"),
    (StepFailure(3, "RUN apt-get update", 100, "E: x"), StepFailure(2, "RUN apt-get update && y", 100, "E: x"),
     "original-build-failed"),
    (StepFailure(3, "RUN apt-get update", 100, "E: x"), StepFailure(2, "RUN y", 1, "y failed"),
     "build-failure-changed"),
    (StepFailure(3, "RUN make", 2, "make: stop"), StepFailure(3, "RUN make", 2, "make: other error"),
     "build-failure-changed"),
])
def test_build_outcomes_compared(original: StepFailure | None, fixed: StepFailure | None, verdict: str) -> None:
    result = compare_outcomes(original, fixed, "DO103 line 2")
    assert result.verdict == verdict
    if verdict in ("fixed-build-failed", "fixed-build-masks-failure", "build-failure-changed"):
        assert result.problem.startswith("this is a bug in dockopt") and "DO103 line 2" in result.problem
    if verdict == "fixed-build-masks-failure":
        assert "fails at line 3 (`RUN apt-get update`, exit code 100) but the fixed one builds" in result.problem
    if verdict == "original-build-failed":
        assert "original Dockerfile does not build" in result.problem and "the same way at line 2" in result.problem


# ------------------------------------------------------- attribution: nondeterminism, declared caches


def _file(digest: str = "a", kind: str = "file") -> FileEntry:
    return FileEntry(kind, 0o644, 0, 0, 1 if kind == "file" else 0, digest if kind == "file" else None)  # type: ignore[arg-type]


def test_nondeterminism_explains_only_differences_of_the_same_kind() -> None:
    diff = FsDiff(added={"/tmp/new": _file()}, removed={"/etc/stamp-gone": _file()},
                  changed={"/etc/build-date": (_file("a"), _file("b")), "/usr/bin/tool": (_file("a"), _file("c"))})
    repeat = FsDiff(changed={"/etc/build-date": (_file("a"), _file("z")), "/etc/stamp-gone": (_file(), _file("q"))},
                    added={"/tmp/new": _file("other")})
    split = attribute(diff, repeat)
    assert split.nondeterministic.paths() == ["/etc/build-date", "/tmp/new"]
    # /etc/stamp-gone only changes between two builds of the original: its removal is the fix's
    assert split.by_fix.paths() == ["/etc/stamp-gone", "/usr/bin/tool"]
    assert attribute(diff, None).by_fix == diff  # not measured: nothing is put down to it


def test_declared_caches_explain_removals_only() -> None:
    removed = {p: _file() for p in ("/root/.cache/pip/http-v2/a/b", "/root/.cache/pip/selfcheck.json")}
    removed.update({p: _file(kind="dir") for p in ("/root/.cache", "/root/.cache/pip", "/root/.cache/pip/http-v2",
                                                   "/root/.cache/pip/http-v2/a")})
    diff = FsDiff(removed=removed, added={"/root/.cache/pip/new": _file()},
                  changed={"/var/lib/apt/lists/lock": (_file("a"), _file("b"))})
    split = attribute(diff, None, ("/root/.cache/pip", "/var/lib/apt/lists"))
    # /root/.cache held nothing but pip's cache: pip made it for the cache, the fix spares both
    assert split.declared_caches.paths() == sorted(removed)
    assert split.by_fix.paths() == ["/root/.cache/pip/new", "/var/lib/apt/lists/lock"]
    # a directory that held something else too stays the fix's doing
    other = FsDiff(removed={**removed, "/root/.cache/other.txt": _file()})
    split = attribute(other, None, ("/root/.cache/pip",))
    assert split.by_fix.paths() == ["/root/.cache", "/root/.cache/other.txt"]
    globbed = attribute(FsDiff(removed={"/var/lib/apt/lists/deb_InRelease": _file()}), None,
                        ("/var/lib/apt/lists/*",))
    assert globbed.by_fix.is_empty and globbed.declared_caches.paths() == ["/var/lib/apt/lists/deb_InRelease"]
    assert under_cache("/var/lib/apt/lists", "/var/lib/apt/lists/") and not under_cache("/var/lib/aptx", "/var/lib/apt")


def test_declared_caches_are_read_from_the_applied_fixes() -> None:
    from types import SimpleNamespace

    def diag(fix: object) -> Diagnostic:
        start = Location(1, 1)
        return Diagnostic("DO102", "package-cache-left", Severity.WARNING, "m", "Dockerfile", start, start,
                          fix=fix)  # type: ignore[arg-type]

    fixes = [diag(SimpleNamespace(removes_caches=("/root/.cache/pip",))),
             diag(SimpleNamespace()),  # a fix that declares nothing (the field is newer than it)
             diag(SimpleNamespace(removes_caches=("/var/lib/apt/lists", "/root/.cache/pip")))]
    assert declared_caches(fixes) == ("/root/.cache/pip", "/var/lib/apt/lists")


def test_pyc_mtime_is_normalised_and_nothing_else(tmp_path: Path) -> None:
    import os
    import py_compile

    source = tmp_path / "m.py"
    source.write_text("X = 1\n")
    pycs = []
    for mtime in (1_000_000_000, 1_700_000_000):
        os.utime(source, (mtime, mtime))
        pycs.append(Path(py_compile.compile(str(source), cfile=str(tmp_path / f"m{mtime}.pyc"), doraise=True))
                    .read_bytes())
    assert pycs[0] != pycs[1] and normalise_pyc_header(pycs[0]) == normalise_pyc_header(pycs[1])
    source.write_text("X = 2\n")
    os.utime(source, (1_000_000_000, 1_000_000_000))
    changed = Path(py_compile.compile(str(source), cfile=str(tmp_path / "x.pyc"), doraise=True)).read_bytes()
    assert normalise_pyc_header(changed) != normalise_pyc_header(pycs[0])
    checked = Path(py_compile.compile(str(source), cfile=str(tmp_path / "h.pyc"), doraise=True,
                                      invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)).read_bytes()
    assert normalise_pyc_header(checked) == checked  # hash-based: reproducible, left alone
    assert "/root/.cache/pip/http*" in DEFAULT_IGNORE


# --------------------------------------------------------------------------------- the smoke run


def _run(code: int | None, stdout: str = "", stderr: str = "", container_id: str = "c" * 64) -> ContainerRun:
    return ContainerRun(None, code, stdout, stderr, 0.1, timed_out=code is None, name="dockopt-run-x",
                        container_id=container_id)


def test_smoke_output_is_compared_after_normalising_the_container_only() -> None:
    a = _run(0, f"host {'a' * 12} ok\n", container_id="a" * 64)
    b = _run(0, f"host {'b' * 12} ok\n", container_id="b" * 64)
    assert differing_aspects(a, b) == ((), ())
    digest = _run(0, "sha256 " + "d" * 64 + "\n")
    assert differing_aspects(digest, _run(0, "sha256 " + "e" * 64 + "\n")) == (("stdout",), ())
    assert differing_aspects(_run(0, "x"), _run(127, "", "exec: not found")) == (("exit status", "stdout", "stderr"),
                                                                                ())
    assert differing_aspects(_run(None, "log 1"), _run(None, "log 1\nlog 2")) == ((), ("stdout", "stderr"))


class _ScriptedEngine:
    """Stands in for DockerEngine.run_container: answers from a list, records the images run."""

    def __init__(self, *runs: ContainerRun) -> None:
        self.runs, self.images = list(runs), []  # type: ignore[var-annotated]

    def run_container(self, image: str, command: object, *, timeout: float) -> ContainerRun:
        self.images.append(image)
        return self.runs.pop(0)


def test_smoke_check_runs_the_original_again_only_when_the_images_differ() -> None:
    same = _ScriptedEngine(_run(0, "hi"), _run(0, "hi"))
    check = smoke_check(same, "t:original", "t:fixed", None, "ENTRYPOINT/CMD: hi", 5)  # type: ignore[arg-type]
    assert check.equal and check.original_again is None and same.images == ["t:original", "t:fixed"]
    clock = _ScriptedEngine(_run(0, "12:00:01"), _run(0, "12:00:02"), _run(0, "12:00:03"))
    check = smoke_check(clock, "t:original", "t:fixed", None, "date", 5)  # type: ignore[arg-type]
    assert check.equal and check.nondeterministic == ("stdout",) and clock.images[-1] == "t:original"
    broken = _ScriptedEngine(_run(0, "12:00:01"), _run(127, "", "exec: not found"), _run(0, "12:00:03"))
    check = smoke_check(broken, "t:original", "t:fixed", None, "date", 5)  # type: ignore[arg-type]
    assert not check.equal and check.differs == ("exit status", "stderr")


def test_default_command_label() -> None:
    assert default_command_label({"config": {"Entrypoint": ["/init"], "Cmd": ["jq", "--version"]}}) == (
        "ENTRYPOINT/CMD: /init jq --version")
    assert default_command_label({"config": {}}).startswith("ENTRYPOINT/CMD: (none")


def test_report_of_a_changed_smoke_run_and_set_aside_differences() -> None:
    side = ImageSide("original", "t:original", built=True, duration_s=1.0, size_bytes=10, layer_count=1)
    fixed = ImageSide("fixed", "t:fixed", built=True, duration_s=1.0, size_bytes=10, layer_count=1)
    check = SmokeCheck("ENTRYPOINT/CMD: /tool.sh", None, _run(0, "hello\n"), _run(127, "", "exec: /tool.sh: not found"),
                       _run(0, "hello\n"), ("exit status", "stdout", "stderr"))
    report = VerifyReport(dockerfile="Dockerfile", context="/ctx", target=None, builder="buildkit", engine="e",
                          fixes_applied=[], unsafe_enabled=True, findings=[], original=side, fixed=fixed,
                          fs_diff=FsDiff(), fs_nondeterministic=FsDiff(changed={"/etc/build-date": (_file(), _file("b"))}),
                          fs_declared_caches=FsDiff(removed={"/root/.cache/pip": _file(kind="dir")}),
                          declared_caches=("/root/.cache/pip",), repeat_diff_count=1, smoke=[check],
                          verdict="behaviour-changed", exit_code=1, problem="the fixes change what the image does")
    text = to_text(report)
    assert ("filesystem: equal once 1 nondeterministic path(s) and 1 removal(s) under the declared caches are set "
            "aside") in text
    assert "run ENTRYPOINT/CMD: /tool.sh: DIFFERS in exit status, stdout and stderr" in text
    assert "  fixed: exit code 127\n    stderr | exec: /tool.sh: not found" in text
    data = to_json(report)
    assert data["smoke"][0]["differs"] == ["exit status", "stdout", "stderr"]
    assert data["smoke"][0]["fixed"]["exit_code"] == 127 and data["smoke"][0]["equal"] is False
    assert data["declared_caches"] == ["/root/.cache/pip"]
    assert data["filesystem_declared_caches"]["removed"] == ["/root/.cache/pip"]
    assert data["filesystem_nondeterministic"]["changed"] == ["/etc/build-date"]
    assert data["nondeterminism"]["measured"] is True and data["filesystem_equal"] is True


def test_verify_takes_a_directory_and_splits_run_commands(tmp_path: Path) -> None:
    import argparse

    from dockopt.verify.command import dockerfile_path, smoke_commands

    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert dockerfile_path(str(tmp_path)) == tmp_path / "Dockerfile"
    args = argparse.Namespace(run_commands=["sh -c 'cd /app && ls'", "jq --version"])
    assert smoke_commands(args) == (("sh", "-c", "cd /app && ls"), ("jq", "--version"))
    assert smoke_commands(argparse.Namespace(run_commands=None)) is None
