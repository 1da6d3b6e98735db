"""``dockopt verify``'s pieces that need no engine: history and build steps mapped to lines,
the builder choice, secret targets and the suggested secret-mount rewrite, the reports.

The histories below are what Docker 20.10 recorded for ``MULTI_STAGE`` (``docker history
--no-trunc``, oldest first), with both builders.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockopt.model import build_model
from dockopt.syntax import parse
from dockopt.verify.build import BuildStep
from dockopt.verify.fixing import plan_fixes, secret_rewrite
from dockopt.verify.layermap import history_keyword, map_history, map_steps
from dockopt.verify.report import ImageSide, VerifyReport, docker_size, to_json, to_text
from dockopt.verify.saved_image import HistoryEntry
from dockopt.verify.secret_proof import secret_targets
from dockopt.verify.session import choose_builder, legacy_created_images

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
