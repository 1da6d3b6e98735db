"""Hostile input for the parser and the file I/O layer: huge, deep, binary, odd encodings,
and a file system that misbehaves while dockopt writes a fix.

Timings and memory figures are printed (``pytest -s`` shows them) so that a slow-down is
visible before it turns into a failure; the bounds asserted are deliberately generous.
"""
from __future__ import annotations

import errno
import json
import os
import random
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockopt import parse
from dockopt.fileio import FileError, SourceFile, decode, read_source, write_source
from tests.corpus import CORPUS, require_corpus

FACTOR = float(os.environ.get("DOCKOPT_FUZZ_EXAMPLES", "1"))
BOM_FIXTURES = CORPUS / "parser-cases" / "hadolint__language-docker" / "fixtures"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _timed_parse(text: str):
    t0 = time.perf_counter()
    document = parse(text)
    return document, time.perf_counter() - t0


def _report(label: str, seconds: float, size: int) -> None:
    print(f"\n[hostile] {label}: {size / 1e6:.2f} M chars parsed in {seconds:.3f} s")


# ---------------------------------------------------------------------------------------------
# Size and depth

# Runs in a child process so that its peak RSS is the parse's own, not the test session's,
# and so that a runaway parse can be stopped by a timeout.
_BIG_FILE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from dockopt import parse
    from dockopt.fileio import read_source

    source = read_source(Path(sys.argv[1]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    document = parse(source.text)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": seconds,
        "rss_before_kib": before,
        "rss_peak_kib": peak,
        "instructions": len(document.instructions),
        "errors": len(document.errors),
        "round_trip": str(document) == source.text,
    }))
    """
)
BIG_FILE_BYTES = 50_000_000
BIG_FILE_BUDGET_S = 60.0  # past this the test is skipped (and the time reported), not failed


def _write_big_dockerfile(path: Path, size: int) -> int:
    """~size bytes of RUN/COPY lines; returns the number of lines."""
    count = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("FROM alpine:3.19\n")
        chunk: list[str] = []
        while written < size:
            if count % 2:
                line = (f"RUN apt-get update && apt-get install -y --no-install-recommends pkg-{count}"
                        " && rm -rf /var/lib/apt/lists/*\n")
            else:
                line = f"COPY --chown=app:app --chmod=644 src/module_{count}/file.py /app/module_{count}/\n"
            chunk.append(line)
            written += len(line)
            count += 1
            if len(chunk) == 10_000:
                handle.write("".join(chunk))
                chunk = []
        handle.write("".join(chunk))
    return count + 1


def test_50mb_file_parses_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    lines = _write_big_dockerfile(path, BIG_FILE_BYTES)
    size = path.stat().st_size
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _BIG_FILE_SCRIPT, str(path)],
            capture_output=True, text=True, timeout=BIG_FILE_BUDGET_S * 4, env=env, check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"parsing {size / 1e6:.0f} MB took more than {BIG_FILE_BUDGET_S * 4:.0f} s")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    peak_mib = result["rss_peak_kib"] / 1024
    delta_mib = (result["rss_peak_kib"] - result["rss_before_kib"]) / 1024
    print(
        f"\n[hostile] 50 MB file: {lines} lines, {size / 1e6:.1f} MB, parsed in {result['seconds']:.1f} s "
        f"({result['seconds'] / lines * 1e6:.1f} us/line); peak RSS {peak_mib:.0f} MiB "
        f"(+{delta_mib:.0f} MiB over the decoded text, {delta_mib * 2**20 / size:.1f}x the file size)"
    )
    assert result["round_trip"]
    assert result["instructions"] == lines
    assert result["errors"] == 0
    if result["seconds"] > BIG_FILE_BUDGET_S:
        pytest.skip(f"parse took {result['seconds']:.0f} s (> {BIG_FILE_BUDGET_S:.0f} s budget)")
    # Memory must stay proportional to the input: a generous 40x bound.
    assert delta_mib * 2**20 < 40 * size


def test_100k_continuation_lines() -> None:
    source = "FROM a\nRUN echo start \\\n" + "    && echo x \\\n" * 100_000 + "    && echo end\n"
    document, seconds = _timed_parse(source)
    _report("100k continuation lines", seconds, len(source))
    assert str(document) == source
    run = document.instructions[1]
    assert (run.start_line, run.end_line) == (2, 100_003)
    assert run.logical.count("&& echo x") == 100_000
    assert run.to_source(len(run.logical) - 1) == len(source) - 2  # the "d" of "end"
    assert seconds < 30


def test_100k_comment_and_blank_lines_inside_one_continuation() -> None:
    source = "FROM a\nRUN echo a \\\n" + "# comment\n\n" * 50_000 + "  b\n"
    document, seconds = _timed_parse(source)
    _report("100k comment/blank lines in a continuation", seconds, len(source))
    assert str(document) == source
    assert document.instructions[1].logical == "RUN echo a   b"
    assert seconds < 30


def test_1mb_single_line() -> None:
    source = "FROM a\nRUN echo " + "x" * 1_000_000 + "\n"
    document, seconds = _timed_parse(source)
    _report("1 MB single line", seconds, len(source))
    assert str(document) == source
    assert len(document.instructions[1].arguments[0].value) == 1_000_005
    assert seconds < 10


LIMIT_ERROR = "dockerfile line greater than max allowed size of 65535"


@pytest.mark.parametrize(
    ("line", "error_line"),
    [
        # BuildKit reads with a bufio.Scanner (64 KiB buffer): a line of 65536 bytes or more,
        # not counting its "\n", fails the build. The limit is in bytes, not characters.
        ("RUN " + "x" * (65535 - 4) + "\n", None),
        ("RUN " + "x" * (65536 - 4) + "\n", 2),
        ("RUN " + "x" * (65536 - 4), 2),  # the last line, without a newline
        ("RUN " + "\u20ac" * 21843 + "x\n", None),  # 4 + 3 * 21843 + 1 = 65534 bytes
        ("RUN " + "\u20ac" * 21844 + "\n", 2),  # 65536 bytes in 21848 characters
        ("RUN <<EOF\n" + "y" * 70_000 + "\nEOF\n", 3),  # heredoc bodies are scanned too
    ],
    ids=["65535", "65536", "65536-at-eof", "multibyte-65534", "multibyte-65536", "heredoc-body"],
)
def test_buildkit_line_length_limit(line: str, error_line: int | None) -> None:
    document = parse("FROM a\n" + line)
    assert [e.line for e in document.errors if e.message == LIMIT_ERROR] == ([error_line] if error_line else [])


@pytest.mark.parametrize(
    "source",
    [
        "FROM a\nRUN " + "x" * (65535 - 4) + "\r\n",  # 65535 + CR = 65536 bytes before the LF
        "\ufeffRUN " + "x" * (65536 - 3 - 4) + "\n",  # BuildKit strips the BOM after scanning
    ],
    ids=["crlf", "bom"],
)
def test_buildkit_line_length_limit_counts_raw_bytes(source: str) -> None:
    assert LIMIT_ERROR in [e.message for e in parse(source).errors]


def test_10k_deep_command_substitution_parses() -> None:
    depth = 10_000
    # "$(" and ")" only, so that the 30 KB line stays under BuildKit's 64 KiB line limit.
    source = "FROM a\nRUN echo " + "$(" * depth + "x" + ")" * depth + "\n"
    document, seconds = _timed_parse(source)
    _report(f"{depth}-deep $( ) nesting", seconds, len(source))
    assert str(document) == source
    assert document.errors == []
    assert document.instructions[1].arguments[0].value.count("$(") == depth
    assert seconds < 10


@pytest.mark.parametrize("unit", ["a|", "x=(", "$["])
def test_pathological_shell_is_cut_off_by_the_parse_budget(unit: str) -> None:
    # tree-sitter-bash needed 13 s for `a|` x 20,000 (40 KB, one line under BuildKit's limit);
    # such a script is given up on and flagged, and the whole lint stays bounded.
    from dockopt.checks import all_rules
    from dockopt.linter import lint
    from dockopt.shell import parse_script
    from tests.invariants import Everything

    script_text = unit * (40_000 // len(unit))
    parse_script.cache_clear()
    start = time.perf_counter()
    script = parse_script(script_text)
    seconds = time.perf_counter() - start
    _report(f"pathological script {unit!r} x {len(script_text) // len(unit)}", seconds, len(script_text))
    assert script.has_errors and script.commands == [] and script.errors == [(0, len(script_text))]
    assert seconds < 3  # the deadline is 0.7 s for 40 KB, plus the probe's start
    start = time.perf_counter()
    lint("FROM debian\nRUN " + script_text + "\n", "Dockerfile", Everything())
    assert time.perf_counter() - start < 5
    assert all_rules()  # the lint above ran every rule


def test_a_probe_that_crashes_makes_the_script_unparsable_not_dockopt_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from dockopt.shell import guard

    crash_on_first_script = ("import os, signal, sys; sys.stdout.buffer.write(b'r'); sys.stdout.buffer.flush(); "
                             "sys.stdin.buffer.readline(); os.kill(os.getpid(), signal.SIGSEGV)")
    monkeypatch.setattr(guard, "_PROBE_CODE", crash_on_first_script)
    monkeypatch.setattr(guard, "_PROBE_PROCESS", guard._Probe())
    assert not guard.parses_in_time(b"echo hi; " * 1_000)
    monkeypatch.setattr(guard, "_PROBE_CODE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert not guard.parses_in_time(b"echo hi; " * 1_000)  # dies before it is ready
    assert guard.parses_in_time(b"echo hi")  # short scripts never need the probe


# Found by fuzzing tree-sitter-bash with heredoc-heavy soups: its parser loops without end
# on these 704 characters (the process was still parsing after 10 minutes).
ENDLESS_PARSE = '\\\n$(while`cat <<\\E`"fifi\'cat <<x-y  <<EOF |\n  x-y) <<x-y%%`cat <<\\E \\\n2<<E << <<\'Q\' <<*\n  E)2<<E$ &&\nQ <<-E$)2<<é "case?\n  x cat <<\'Q\'"$( x=${export*2<<E ?2<<\\E <<\'Q\')\t$(}\n  Q)#for`cat <<x-y &&do\nx f() <<AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA |\u2028\né\nEOF;${x:-\n  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n\tE) <<é)}function\n  x\ncat <<EOF <<<<-é |$(cat <<é |do<<-x-y &&`cat <<\\E <<\nE$$(cat <<"D"`2<<AAAAAAAAAAAAA``cat <<E$) <<x-y &&`cat <<"D"<<-\'Q\' *-$\'\n  x "$(\u2028\n  é }2<<\'Q\' |$(cat <<AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA <<"$(<(\n  x-yé\n\tD\n\tx\n\nx$(('


def test_script_that_tree_sitter_never_finishes_is_cut_off() -> None:
    from dockopt.checks import all_rules
    from dockopt.linter import lint
    from dockopt.shell import parse_script
    from tests.invariants import Everything

    parse_script.cache_clear()
    start = time.perf_counter()
    script = parse_script(ENDLESS_PARSE)
    assert script.has_errors and script.commands == [] and script.errors == [(0, len(ENDLESS_PARSE))]
    assert time.perf_counter() - start < 10
    source = "FROM debian\nRUN <<EOF\n" + ENDLESS_PARSE + "\nEOF\n"
    start = time.perf_counter()
    lint(source, "Dockerfile", Everything())
    assert time.perf_counter() - start < 20
    assert all_rules()


def test_large_ordinary_script_is_not_cut_off() -> None:
    from dockopt.shell import parse_script

    text = "; ".join(f"echo line{i} > /tmp/f{i}" for i in range(3_000))  # ~80 KB
    parse_script.cache_clear()
    script = parse_script(text)
    assert not script.has_errors and len(script.commands) == 3_000


def test_deeply_nested_json_is_not_exec_form_and_does_not_raise() -> None:
    source = "FROM a\nCMD " + "[" * 100_000 + "]" * 100_000 + "\n"
    document = parse(source)
    assert str(document) == source
    assert not document.instructions[1].is_json


def test_many_heredocs_on_one_line() -> None:
    count = 5_000
    header = "COPY " + " ".join(f"<<H{i}" for i in range(count)) + " /dst/\n"
    bodies = "".join(f"body {i}\nH{i}\n" for i in range(count))
    source = "FROM a\n" + header + bodies + "RUN true\n"
    document, seconds = _timed_parse(source)
    _report(f"{count} heredocs on one line", seconds, len(source))
    assert str(document) == source
    copy = document.instructions[1]
    assert [h.content for h in copy.heredocs[:2]] == ["body 0\n", "body 1\n"]
    assert len(copy.heredocs) == count
    assert document.instructions[2].logical == "RUN true"
    assert seconds < 10


def test_huge_unterminated_heredoc() -> None:
    source = "FROM a\nRUN <<EOF\n" + "echo line\n" * 200_000
    document, seconds = _timed_parse(source)
    _report("unterminated heredoc, 200k lines", seconds, len(source))
    assert str(document) == source
    assert [e.message for e in document.errors] == ["unterminated heredoc"]
    assert seconds < 10


def test_a_million_bare_carriage_returns() -> None:
    source = "FROM a\nRUN x" + "\r" * 1_000_000 + "\nRUN y\n"
    document, seconds = _timed_parse(source)
    assert str(document) == source
    assert [i.logical for i in document.instructions] == ["FROM a", "RUN x", "RUN y"]
    assert seconds < 10


def test_deeply_nested_onbuild_does_not_raise() -> None:
    # BuildKit's parser accepts ONBUILD ONBUILD ... and the build then rejects the chain; a
    # parser that must never raise cannot recurse once per ONBUILD word (it used to raise
    # RecursionError here).
    source = "FROM a\n" + "ONBUILD " * 3_000 + "RUN x\n"
    document = parse(source)
    assert str(document) == source
    assert any("ONBUILD" in e.message for e in document.errors)


_QUADRATIC_PROBE = textwrap.dedent(
    """
    import sys
    from dockopt import parse
    parse("#a=x" + " " * 200_000 + "y\\nFROM a\\n")
    """
)


def test_long_directive_like_first_line_is_linear() -> None:
    # A 200 KB first line "#a=x<spaces>y" took hours with a lazy (.+?)\s*$ in Python's
    # backtracking re (RE2 is linear). A child process with a timeout keeps a regression
    # from hanging the suite.
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"))
    try:
        subprocess.run([sys.executable, "-c", _QUADRATIC_PROBE], timeout=5, check=True, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("parse of a 200 KB directive-like first line did not finish within 5 s")


# ---------------------------------------------------------------------------------------------
# Decoding: binary data, NUL bytes, byte-order marks


def test_random_binary_is_rejected_with_a_located_error() -> None:
    rng = random.Random(20240601)
    for _ in range(50):
        data = rng.randbytes(rng.randint(64, 4096))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            expected_line = data.count(b"\n", 0, exc.start) + 1
            if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00\x00\xfe\xff")):
                continue  # a BOM selects another codec; covered by the property below
            with pytest.raises(FileError) as info:
                decode(data, "Dockerfile")
            message = str(info.value)
            assert message.startswith(f"Dockerfile:{expected_line}: not valid UTF-8")
            assert f"at offset {exc.start}" in message
            assert "\n" not in message


@settings(max_examples=max(1, int(300 * FACTOR)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]).flatmap(
        lambda bom: st.binary(max_size=200).map(lambda rest: bom + rest)
    ),
    st.text(max_size=100).map(lambda s: s.encode("utf-8")),
))
@example(b"\xff\xfe\x00\x00A\x00")  # UTF-16-LE BOM + U+0000 looks like a UTF-32-LE BOM
@example(b"\xed\xa0\x80")  # an encoded surrogate is not UTF-8
def test_decode_either_fails_cleanly_or_round_trips_exactly(data: bytes) -> None:
    try:
        text, encoding = decode(data, "x")
    except FileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("x")
        return
    source = SourceFile(Path("x"), text, encoding, data)
    assert source.encode(text) == data
    document = parse(text)
    assert source.encode(str(document)) == data


def test_nul_bytes_in_valid_utf8() -> None:
    data = b"FROM a\x00b\nRUN echo \x00\x00 \\\n  \x00\nLABEL k=\x00\n"
    text, encoding = decode(data, "Dockerfile")
    assert encoding == "utf-8"
    document = parse(text)
    assert str(document).encode() == data
    assert document.instructions[1].logical == "RUN echo \x00\x00   \x00"
    assert document.instructions[2].values == ["k", "\x00", "="]


BOM_CASES = ["utf8", "utf16le", "utf16be", "utf32le", "utf32be"]


@pytest.mark.parametrize("suffix", BOM_CASES)
def test_bom_fixture_decodes_and_round_trips(suffix: str, tmp_path: Path) -> None:
    fixture = BOM_FIXTURES / f"Dockerfile.bom.{suffix}"
    require_corpus(fixture)
    source = read_source(fixture)
    assert source.text.startswith("\ufeff")
    document = parse(source.text)
    assert document.bom and document.errors == []
    assert [i.name for i in document.instructions] == ["FROM", "USER", "RUN"]
    assert source.encode(str(document)) == fixture.read_bytes()
    # And through an atomic write: same bytes, same encoding, BOM kept.
    copy = tmp_path / "Dockerfile"
    copy.write_bytes(fixture.read_bytes())
    loaded = read_source(copy)
    write_source(loaded, loaded.text.replace("foo bar", "foo baz"))
    assert copy.read_bytes() == fixture.read_bytes().decode(loaded.encoding).replace("foo bar", "foo baz").encode(
        loaded.encoding
    )
    assert read_source(copy).encoding == loaded.encoding


# ---------------------------------------------------------------------------------------------
# Writing: a file system that refuses, races or fills up


def _make(tmp_path: Path, content: bytes = b"FROM a\r\nRUN x\r\n", mode: int = 0o644) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_read_only_file_is_not_written(tmp_path: Path) -> None:
    path = _make(tmp_path, mode=0o444)
    source = read_source(path)
    with pytest.raises(FileError, match="read-only"):
        write_source(source, "FROM b\n")
    assert path.read_bytes() == b"FROM a\r\nRUN x\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


def test_file_changed_after_reading_is_not_written(tmp_path: Path) -> None:
    path = _make(tmp_path)
    source = read_source(path)
    path.write_bytes(b"FROM someone-else\n")
    with pytest.raises(FileError, match="changed on disk"):
        write_source(source, "FROM b\n")
    assert path.read_bytes() == b"FROM someone-else\n"
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


def test_file_deleted_after_reading_is_not_recreated(tmp_path: Path) -> None:
    path = _make(tmp_path)
    source = read_source(path)
    path.unlink()
    with pytest.raises(FileError):
        write_source(source, "FROM b\n")
    assert os.listdir(tmp_path) == []


class _FailingFile:
    """Stands in for the temp file's handle: writes some bytes, then fails like a full disk."""

    def __init__(self, real, fail_on: str, partial: bytes = b"") -> None:
        self._real = real
        self._fail_on = fail_on
        self._partial = partial

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()

    def write(self, data: bytes) -> int:
        if self._fail_on == "write":
            self._real.write(self._partial)
            self._real.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._real.write(data)

    def flush(self) -> None:
        if self._fail_on == "flush":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._real.flush()

    def fileno(self) -> int:
        return self._real.fileno()


@pytest.mark.parametrize("fail_on", ["write", "flush"])
def test_full_disk_leaves_original_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on: str
) -> None:
    path = _make(tmp_path)
    source = read_source(path)
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FailingFile(real_fdopen(fd, *a, **k), fail_on, b"FROM"))
    with pytest.raises(FileError) as info:
        write_source(source, "FROM b\nRUN y\n")
    assert "No space left on device" in str(info.value)
    assert "original is unchanged" in str(info.value)
    assert path.read_bytes() == b"FROM a\r\nRUN x\r\n"
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


def test_fsync_failure_leaves_original_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _make(tmp_path)
    source = read_source(path)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(FileError):
        write_source(source, "FROM b\n")
    assert path.read_bytes() == b"FROM a\r\nRUN x\r\n"
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


def test_rename_failure_leaves_original_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _make(tmp_path)
    source = read_source(path)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(FileError):
        write_source(source, "FROM b\n")
    assert path.read_bytes() == b"FROM a\r\nRUN x\r\n"
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_failing_fdopen_does_not_leak_the_temp_fd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _make(tmp_path)
    source = read_source(path)

    def broken_fdopen(fd: int, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", broken_fdopen)
    before = _open_fds()
    with pytest.raises(FileError):
        write_source(source, "FROM b\n")
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]
    assert path.read_bytes() == b"FROM a\r\nRUN x\r\n"
    assert _open_fds() == before


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o664])
def test_permissions_are_preserved(tmp_path: Path, mode: int) -> None:
    path = _make(tmp_path, mode=mode)
    write_source(read_source(path), "FROM b\r\n")
    assert path.read_bytes() == b"FROM b\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(os.listdir(tmp_path)) == ["Dockerfile"]


@pytest.mark.parametrize("content", [b"FROM a\nRUN x", b"FROM a\nRUN x\n", b"FROM a\r\nRUN x\r\n\r\n", b"\xef\xbb\xbfFROM a"])
def test_final_newline_and_line_endings_are_preserved(tmp_path: Path, content: bytes) -> None:
    path = _make(tmp_path, content)
    source = read_source(path)
    document = parse(source.text)
    write_source(source, str(document).replace("FROM a", "FROM b"))
    assert path.read_bytes() == content.replace(b"FROM a", b"FROM b")


def test_symlinked_dockerfile_is_written_through_to_its_target(tmp_path: Path) -> None:
    target_dir = tmp_path / "real"
    target_dir.mkdir()
    target = target_dir / "Dockerfile.base"
    target.write_bytes(b"FROM a\n")
    link = tmp_path / "Dockerfile"
    link.symlink_to(Path("real") / "Dockerfile.base")
    write_source(read_source(link), "FROM b\n")
    assert link.is_symlink(), "the symlink was replaced by a regular file"
    assert target.read_bytes() == b"FROM b\n"
    assert sorted(os.listdir(target_dir)) == ["Dockerfile.base"]
