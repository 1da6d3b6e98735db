"""Hostile paths among the files a run is given: broken and looping symlinks, a FIFO nobody
writes to, a device that never ends, a directory, undecodable and unreadable files.

Whatever the mix, ``check`` and ``fix`` must report each bad path as one ``dockopt: PATH...``
line, exit 2, never print a traceback, never hang, still report (and fix) the good files,
and write nothing to the bad ones.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.fileio import FileError, read_source

FIXABLE = "FROM golang:1.22 as build\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\n"
FIXED = FIXABLE.replace(" as build", " AS build")


def dockopt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dockopt", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=60)


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "good.Dockerfile").write_text(FIXABLE)
    (tmp_path / "dangling.Dockerfile").symlink_to("nowhere")
    (tmp_path / "loop.Dockerfile").symlink_to("loop.Dockerfile")
    (tmp_path / "link.Dockerfile").symlink_to("good.Dockerfile")  # the same file twice: checked once
    (tmp_path / "latin1.Dockerfile").write_bytes(b"FROM a\nLABEL who=Jos\xe9\n")
    (tmp_path / "binary.Dockerfile").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "Dockerfile").mkdir()  # a directory with a Dockerfile's name is walked, not read
    (tmp_path / "Dockerfile" / "Dockerfile").write_text(FIXABLE)
    os.mkfifo(tmp_path / "fifo.Dockerfile")
    return tmp_path


def _errors(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("dockopt: ")]
    return {line.split(": ", 2)[1].split(":")[0]: line for line in lines}


@pytest.mark.parametrize("how", ["directory", "explicit"])
def test_check_reports_each_bad_path_once_and_goes_on(hostile: Path, how: str) -> None:
    paths = ["."] if how == "directory" else sorted(p.name for p in hostile.iterdir()) + ["/dev/zero", "missing"]
    proc = dockopt("check", "--no-source", *paths, cwd=hostile)
    errors = _errors(proc)
    assert proc.returncode == 2
    assert "no such file" in errors["dangling.Dockerfile"]
    assert "symbolic links" in errors["loop.Dockerfile"]
    assert "not valid UTF-8" in errors["latin1.Dockerfile"] and "latin1.Dockerfile:2:" in errors["latin1.Dockerfile"]
    assert "not valid UTF-8" in errors["binary.Dockerfile"]
    if how == "explicit":
        assert errors["/dev/zero"] == "dockopt: /dev/zero: not a regular file"
        assert "no such file" in errors["missing"]
    # the FIFO has no writer: it reads as an empty file, it does not hang the run
    assert "fifo.Dockerfile:1:1: DO000" in proc.stdout
    # the good file (once, although a symlink names it too) and the one inside the directory
    assert proc.stdout.count("good.Dockerfile:1:") + proc.stdout.count("link.Dockerfile:1:") == 1
    assert "Dockerfile/Dockerfile:1:" in proc.stdout


def test_fix_writes_the_good_files_and_nothing_else(hostile: Path) -> None:
    before = {p.name: (p.lstat().st_mtime_ns, p.is_symlink()) for p in hostile.iterdir()}
    proc = dockopt("fix", ".", cwd=hostile)
    _errors(proc)
    assert proc.returncode == 2
    assert (hostile / "good.Dockerfile").read_text() == FIXED
    assert (hostile / "Dockerfile" / "Dockerfile").read_text() == FIXED
    assert (hostile / "latin1.Dockerfile").read_bytes() == b"FROM a\nLABEL who=Jos\xe9\n"
    assert (hostile / "binary.Dockerfile").read_bytes() == bytes(range(256)) * 8
    after = {p.name for p in hostile.iterdir()}
    assert after == set(before), "no temporary or new files"
    for name, (_mtime, was_link) in before.items():
        assert (hostile / name).is_symlink() == was_link


def test_unreadable_file_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root, mode 000 is still readable: make open() itself refuse, as it does for other users.
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\n")
    real_open = os.open

    def refusing_open(file, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(FileError, match=r"^.*Dockerfile: permission denied$"):
        read_source(path)


def test_oversized_regular_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dockopt.fileio as fileio

    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n" + b"# x\n" * 1000)
    monkeypatch.setattr(fileio, "MAX_FILE_BYTES", 1000)
    with pytest.raises(FileError, match="too large for a Dockerfile"):
        read_source(path)


def test_endless_pipe_is_cut_off_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dockopt.fileio as fileio

    monkeypatch.setattr(fileio, "MAX_FILE_BYTES", 1 << 20)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # The writer holds the FIFO open read-write, so a writer exists before read_source opens it.
    end = os.open(fifo, os.O_RDWR)
    writer = subprocess.Popen(["cat", "/dev/zero"], stdout=end)
    os.close(end)
    try:
        with pytest.raises(FileError, match="too large for a Dockerfile"):
            read_source(fifo)
    finally:
        writer.kill()
        writer.wait()
