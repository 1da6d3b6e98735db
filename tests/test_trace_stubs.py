"""The trace harness's stub world (tests/trace/stub.c, world.py): what real programs do on
every machine, modelled the same for both sides of a proof. Each case is a corpus stop that
made a fix unprovable (the original's build ended before the changed steps), now proven, with
the wrong fix of the same input still disproven."""
from __future__ import annotations

import os

import pytest

from tests.trace import sandbox, world
from tests.trace.sandbox import Layout
from tests.tracekit import TAIL, check, needs_sandbox, right, wrong


def run_script(script: str, names: set[str], cwd: str = "/tmp") -> tuple[sandbox.RunResult, dict[str, bytes]]:
    """One RUN in a fresh dash root; the records and the files it left under /tmp and /opt."""
    root = sandbox.new_root(Layout(names=frozenset(names)), "dash")
    try:
        result = sandbox.run(root, ["/bin/sh", "-c", script], dict(world.BASE_ENV), cwd)
        files: dict[str, bytes] = {}
        for top in ("tmp", "opt", "usr/local/bin"):
            for directory, _, names_ in os.walk(root / top):
                for name in names_:
                    path = os.path.join(directory, name)
                    with open(path, "rb") as handle:
                        files["/" + os.path.relpath(path, root)] = handle.read()
        return result, files
    finally:
        sandbox.remove_root(root)


# --- pure text filters run for real ------------------------------------------------------------

REDIS = ("FROM debian\nRUN set -eux; arch=\"$(dpkg --print-architecture | awk -F- '{ print $NF }')\"; "
         "case \"$arch\" in amd64) url=gosu-amd64;; *) echo >&2 \"unsupported: '$arch'\"; exit 1;; esac; "
         "wget -O /usr/local/bin/gosu \"$url\"\n" + TAIL)


@needs_sandbox
def test_a_filter_computes_the_value_a_script_branches_on() -> None:
    """docker-library redis: `dpkg --print-architecture | awk -F- '{ print $NF }'` printed
    nothing (a silent awk stub), the script took `*) exit 1` and the merge after it ran in no
    scenario (unprovable: 'stops before the end of the changed steps')."""
    check(REDIS, wrong(REDIS), "disproven", ("make",))
    check(REDIS, right(REDIS), "proven")


@needs_sandbox
def test_what_a_filter_computes_is_compared() -> None:
    version = "FROM debian\nENV V=10.1.59\nRUN major=\"$(echo \"$V\" | cut -d. -f1)\" && mkdir \"/opt/tomcat-$major\"\n"
    check(version, version.replace('"/opt/tomcat-$major"', "/opt/tomcat-10"), "proven")
    check(version, version.replace('"/opt/tomcat-$major"', "/opt/tomcat-11"), "disproven", ("tomcat-11",))


@needs_sandbox
def test_a_failing_filter_scenario_still_fails() -> None:
    """The scenario's failure wins over the real filter: the invocation it makes fail is not
    run, so the `|| exit 0` that swallows it is seen to skip `make` in the wrong merge."""
    original = "FROM debian\nRUN echo a-b | awk -F- '{ print $2 }' > /opt/b || exit 0\nRUN make\n"
    merged = "FROM debian\nRUN echo a-b | awk -F- '{ print $2 }' > /opt/b || exit 0 && make\n"
    check(original, merged, "disproven", ("awk",))
    check(original, merged.replace("RUN echo", "RUN (echo").replace(" && make", ") && make"), "proven")


@needs_sandbox
def test_filters_record_their_real_status_and_output() -> None:
    result, files = run_script(
        "a=\"$(dpkg --print-architecture | awk -F- '{ print $NF }')\"; echo \"$a\" > /tmp/arch; "
        "printf 'b\\na\\n' | sort | head -1 > /tmp/first; basename /x/y.tar.gz .tar.gz > /tmp/base; "
        "echo x | sed -e s/x/y/ > /tmp/sed; awk 'BEGIN { exit 3 }' </dev/null; echo $? > /tmp/status; "
        "echo q | awk '{ print }' /etc/passwd > /tmp/operand; sed -i s/a/b/ /etc/passwd",
        {"dpkg", "awk", "sort", "head", "basename", "sed"})
    assert result.status == 0, result.stderr
    assert files["/tmp/arch"] == b"amd64\n"
    assert files["/tmp/first"] == b"a\n" and files["/tmp/base"] == b"y\n" and files["/tmp/sed"] == b"y\n"
    assert files["/tmp/status"] == b"3\n"
    # a file operand or an in-place edit: the silent stub, as before
    assert files["/tmp/operand"] == b""
    statuses = {(os.path.basename(r.path), r.args[:1]): r.status for r in result.records}
    assert statuses[("awk", ("BEGIN { exit 3 }",))] == 3
    assert [os.path.basename(r.path) for r in result.records] == [
        "dpkg", "awk", "sort", "head", "basename", "sed", "awk", "awk", "sed"]


# --- downloads leave a file ---------------------------------------------------------------------

TOMCAT = ("FROM debian\nWORKDIR /usr/local/tomcat\nRUN set -eux; success=; "
          "for url in https://dlcdn.apache.org/t.tar.gz https://archive.apache.org/t.tar.gz; do "
          "if curl -fL -o t.tar.gz \"$url\" && [ -s t.tar.gz ]; then success=1; break; fi; done; "
          "[ -n \"$success\" ]; tar -xf t.tar.gz\n" + TAIL)


@needs_sandbox
def test_a_download_leaves_a_non_empty_file() -> None:
    """docker-library tomcat: `curl -fL -o "$f" "$url" && [ -s "$f" ]` never found the file
    (the curl stub wrote none), so `[ -n "$success" ]` stopped every build before the merge."""
    check(TOMCAT, wrong(TOMCAT), "disproven", ("make",))
    check(TOMCAT, right(TOMCAT), "proven")


@needs_sandbox
def test_a_failing_download_leaves_no_file() -> None:
    # the scenario where the first curl fails takes the second mirror: the right merge is
    # proven in it, the wrong one disproven in the all-succeed scenario already
    check(TOMCAT, right(TOMCAT).replace("t.tar.gz\n", "t.tar.gz && rm t.tar.gz\n", 1), "disproven")
    result, files = run_script("curl -fsSLo /tmp/a.tgz https://e.org/a.tgz; [ -s /tmp/a.tgz ]", {"curl"})
    assert result.status == 0 and files["/tmp/a.tgz"].startswith(b"#!/.trace/stub\n")
    failing = sandbox.key_bytes("/usr/bin/curl", ("-fsSLo", "/tmp/a.tgz", "https://e.org/a.tgz"), "/tmp")
    root = sandbox.new_root(Layout(names=frozenset({"curl"})), "dash")
    try:
        done = sandbox.run(root, ["/bin/sh", "-c", "curl -fsSLo /tmp/a.tgz https://e.org/a.tgz || [ ! -e /tmp/a.tgz ]"],
                           dict(world.BASE_ENV), "/tmp", fail=b"22\n0\n" + failing)
        assert done.status == 0 and [r.status for r in done.records] == [22], done.stderr
    finally:
        sandbox.remove_root(root)


@needs_sandbox
def test_download_forms() -> None:
    result, files = run_script(
        "curl -fsSL -o /opt/o.tgz https://e.org/o.tgz; curl -fL -O 'https://e.org/d/r.tar.gz?sig=1'; "
        "curl --output-dir /opt --create-dirs -o sub/c.zip https://e.org/c.zip; curl -fsSL https://e.org/x | sh; "
        "curl -fsSLo - https://e.org/y > /dev/null; "
        "wget -qO /opt/w.tgz https://e.org/w.tgz; wget -qO- https://e.org/s | sh; wget -P /opt/p https://e.org/a/p.deb; "
        "wget https://e.org/q/dl?id=1; wget -O /usr/local/bin/gosu https://e.org/gosu; gosu --version; "
        "echo keep > /opt/keep; curl -o /opt/keep https://e.org/keep; wget --spider https://e.org/spider.tgz",
        {"curl", "wget", "sh"})
    assert result.status == 0, result.stderr
    assert set(files) == {"/opt/o.tgz", "/tmp/r.tar.gz", "/opt/sub/c.zip", "/opt/w.tgz", "/opt/p/p.deb",
                          "/tmp/dl?id=1", "/usr/local/bin/gosu", "/opt/keep"}
    assert files["/opt/o.tgz"] == b"#!/.trace/stub\n# downloaded from https://e.org/o.tgz\n"
    assert files["/opt/keep"] == b"keep\n"
    # the downloaded program runs as an invocation of its own
    assert any(r.path == "/usr/local/bin/gosu" and r.args == ("--version",) for r in result.records)


# --- rm, BuildKit's platform ARGs, the layout ---------------------------------------------------

@needs_sandbox
def test_rm_of_an_empty_operand_removes_nothing() -> None:
    """tomcat: `GNUPGHOME="$(mktemp -d)"; ...; rm -rf "$GNUPGHOME"` — the stub's mktemp prints
    nothing, and `rm -rf ""` removed the working directory the build had made."""
    original = ("FROM debian\nRUN mkdir -p /usr/local/tomcat\nWORKDIR /usr/local/tomcat\n"
                "RUN set -eux; d=\"$(mktemp -d)\"; rm -rf \"$d\"; rm -rf .; mkdir webapps\n" + TAIL)
    check(original, wrong(original), "disproven", ("make",))
    check(original, right(original), "proven")


@needs_sandbox
def test_buildkit_platform_args_have_the_builders_values() -> None:
    """home-assistant docker-base: `ARG TARGETARCH` then `[ -z "$TARGETARCH" ] && exit 1`
    ('please use Docker BuildKit'): BuildKit gives every stage that declares it the platform."""
    original = ("ARG TARGETPLATFORM\nFROM debian\nARG TARGETARCH\nARG TARGETPLATFORM\n"
                "RUN if [ -z \"$TARGETARCH\" ]; then echo 'use BuildKit'; exit 1; fi; "
                "case \"$TARGETARCH/$TARGETPLATFORM\" in amd64/linux/amd64) ;; *) exit 1;; esac\n" + TAIL)
    check(original, wrong(original), "disproven", ("make",))
    check(original, right(original), "proven")
    # a value the Dockerfile gives stays its own
    given = original.replace("ARG TARGETARCH\n", "ARG TARGETARCH=arm64\n")
    check(given, right(given), "unprovable", ("stops before the end of the changed steps",))


@needs_sandbox
def test_a_path_a_script_makes_with_mkdir_is_no_command() -> None:
    """huggingface TGI Dockerfile.nix: `RUN mkdir /tmp/nix-store-closure` then `cp -R
    $(nix-store -qR result/) /tmp/nix-store-closure`: the word after `$(...)` was taken for a
    command, its stub file made the mkdir fail ('File exists')."""
    original = ("FROM debian\nRUN mkdir /tmp/closure\nRUN cp -R $(nix-store -qR result/) /tmp/closure\n" + TAIL)
    check(original, wrong(original), "disproven", ("make",))
    check(original, right(original), "proven")


@needs_sandbox
def test_add_of_a_remote_archive_to_unpack_or_a_repository_is_a_directory() -> None:
    """home-assistant: `ADD --unpack=true "https://.../v1.tar.gz" /usr/src/bashio` then
    `WORKDIR /usr/src/bashio`: a stub file stood where the directory is (the harness raised
    FileExistsError)."""
    for add in ('ADD --unpack=true "https://e.org/archive/v1.tar.gz" /usr/src/bashio\n',
                "ADD https://github.com/x/y.git#v1 /usr/src/bashio\n"):
        original = f"FROM debian\n{add}WORKDIR /usr/src/bashio\nRUN mv bashio-*/lib /usr/lib/bashio\n" + TAIL
        check(original, wrong(original), "disproven", ("make",))
        check(original, right(original), "proven")


def test_a_missing_busybox_is_said_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "busybox" else real_which(name))
    if sandbox.shutil.which("dash") is None or sandbox.shutil.which("bash") is None:
        pytest.skip("no dash or bash here")
    try:
        sandbox._store_for.__wrapped__(-1)
    except RuntimeError as error:
        assert "busybox" in str(error) and "\n" not in str(error)
    else:
        pytest.fail("a store without busybox was made")


@needs_sandbox
def test_a_variable_the_base_image_sets_is_filled_for_both_sides() -> None:
    """docker-library tomcat (jdk): `set -u` then `--with-java-home="$JAVA_HOME"`, which the
    base image (eclipse-temurin) sets and the Dockerfile does not: the build stopped there
    ('JAVA_HOME: parameter not set', a gap) before the merge. The filled value is the base
    image's ENV, the same on both sides; the Dockerfile's own ENV still wins."""
    original = ("FROM eclipse-temurin\nRUN set -eux; mkdir -p \"$JAVA_HOME/lib\"; cd \"$JAVA_HOME\"; "
                "java --version\n" + TAIL)
    check(original, wrong(original), "disproven", ("make",))
    check(original, right(original), "proven")
    # an ENV that a fix moves before the reader is a difference, not hidden by the fill
    late_env = original.replace("RUN cd /srv", "ENV JAVA_HOME=/opt/java\nRUN cd /srv")
    moved = late_env.replace("ENV JAVA_HOME=/opt/java\n", "").replace("FROM eclipse-temurin\n",
                                                                      "FROM eclipse-temurin\nENV JAVA_HOME=/opt/java\n")
    check(late_env, moved, "disproven", ("java",))
