"""--fetch-sizes: download sizes from the server (HEAD, a ranged GET), cached, bounded, off by
default; and what extracting an archive of known size adds (the measured expansion ratios).

Every request goes to a local http.server on 127.0.0.1 run in a thread by this module.
"""
from __future__ import annotations

import http.server
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockopt import parse
from dockopt.cli.main import main
from dockopt.layers import LayerPlan, simulate
from dockopt.layers.archive_ratios import ARCHIVES, RATIO, SPREAD
from dockopt.layers.downloads import OFF_HINT, UNRESOLVED, DownloadSizer
from dockopt.model import build_model

SIZE = 123_456


class _Handler(http.server.BaseHTTPRequestHandler):
    """``/file``: HEAD and GET with Content-Length; ``/no-head``: HEAD refused (405), a ranged GET
    answered 206 with Content-Range; ``/no-length``: HEAD without a length, GET 206;
    ``/slow``: answers after a second; ``/moved``: 302 to /file; anything else 404."""

    requests: list[tuple[str, str]] = []

    def _answer(self) -> None:
        type(self).requests.append((self.command, self.path))
        path = self.path
        if path == "/slow":
            time.sleep(1.0)
        if path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/file")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/no-head" and self.command == "HEAD":
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path in ("/no-head", "/no-length") and self.command == "GET" and self.headers.get("Range") == "bytes=0-0":
            self.send_response(206)
            self.send_header("Content-Range", f"bytes 0-0/{SIZE}")
            self.send_header("Content-Length", "1")
            self.end_headers()
            self.wfile.write(b"x")
            return
        if path == "/no-length" and self.command == "HEAD":
            self.send_response(200)
            self.end_headers()
            return
        if path.split("?")[0].startswith(("/file", "/slow", "/a.tar", "/b.tar", "/c.zip")):
            self.send_response(200)
            self.send_header("Content-Length", str(SIZE))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(b"x" * SIZE)
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = _answer
    do_GET = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache / "dockopt"


def plan(text: str, downloads: DownloadSizer | None, context: object = None) -> LayerPlan:
    return simulate(build_model(parse(text)), context, downloads)


def layer(p: LayerPlan, line: int):  # type: ignore[no-untyped-def]
    return next(x for s in p.stages for x in s.layers if x.instruction.start_line == line)


def test_head_content_length(server: str, private_cache: Path) -> None:
    sized = DownloadSizer(private_cache).for_file().size(f"{server}/file")
    assert (sized.size, sized.why) == (SIZE, "HTTP Content-Length")
    assert _Handler.requests == [("HEAD", "/file")]  # the file itself is never fetched


@pytest.mark.parametrize("path", ["/no-head", "/no-length"])
def test_ranged_get_when_head_says_nothing(server: str, private_cache: Path, path: str) -> None:
    sized = DownloadSizer(private_cache).for_file().size(server + path)
    assert (sized.size, sized.why) == (SIZE, "HTTP Content-Range")
    assert _Handler.requests == [("HEAD", path), ("GET", path)]


def test_redirects_keep_head(server: str, private_cache: Path) -> None:
    assert DownloadSizer(private_cache).for_file().size(f"{server}/moved").size == SIZE
    assert _Handler.requests == [("HEAD", "/moved"), ("HEAD", "/file")]


def test_cache_hit_asks_nothing(server: str, private_cache: Path) -> None:
    DownloadSizer(private_cache).for_file().size(f"{server}/file")
    again = DownloadSizer(private_cache).for_file().size(f"{server}/file")  # a new process, the same disk cache
    assert again.size == SIZE and "cached" in again.why
    assert _Handler.requests == [("HEAD", "/file")]
    stored = json.loads((private_cache / "download-sizes.json").read_text())
    assert stored["sizes"][f"{server}/file"][0] == SIZE


def test_timeout_is_unknown(server: str, private_cache: Path) -> None:
    sized = DownloadSizer(private_cache, timeout=0.2).for_file().size(f"{server}/slow")
    assert sized.size is None and sized.why == "no answer within 0.2 s"
    assert not (private_cache / "download-sizes.json").exists()  # failures are never cached


def test_404_is_unknown_and_not_cached(server: str, private_cache: Path) -> None:
    sizer = DownloadSizer(private_cache)
    assert sizer.for_file().size(f"{server}/missing") == sizer.for_file().size(f"{server}/missing")
    assert sizer.for_file().size(f"{server}/missing").why == "HTTP 404"
    assert _Handler.requests == [("HEAD", "/missing")]  # asked once per process
    DownloadSizer(private_cache).for_file().size(f"{server}/missing")
    assert len(_Handler.requests) == 2  # not on disk: the next run asks again


def test_refused_connection_is_unknown(private_cache: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sized = DownloadSizer(private_cache).for_file().size(f"http://127.0.0.1:{port}/x")
    assert sized.size is None and sized.why.startswith("request failed")


def test_urls_per_file_are_bounded(server: str, private_cache: Path) -> None:
    budget = DownloadSizer(private_cache, max_urls=2).for_file()
    answers = [budget.size(f"{server}/file?{n}") for n in range(3)]
    assert [a.size for a in answers] == [SIZE, SIZE, None]
    assert answers[2].why == "more than 2 URLs in this file" and len(_Handler.requests) == 2
    assert budget.size(f"{server}/file?0").size == SIZE  # a cached answer costs nothing


def test_credentials_are_never_sent(server: str, private_cache: Path) -> None:
    user_url = server.replace("http://", "http://user:secret@")
    sized = DownloadSizer(private_cache).for_file().size(f"{user_url}/file")
    assert sized.size is None and "credentials" in sized.why and _Handler.requests == []


def test_download_then_extract_is_sized(server: str, private_cache: Path) -> None:
    text = (f"FROM busybox\nRUN wget -q -O /tmp/a.tar.gz {server}/a.tar.gz\n"
            "RUN mkdir -p /opt && tar -xzf /tmp/a.tar.gz -C /opt\n"
            f"RUN curl -fsSL {server}/b.tar.xz | tar -xJ -C /srv\n"
            f"RUN curl -fsSLo /c.zip {server}/c.zip && unzip /c.zip -d /c && rm /c.zip\n"
            f"ADD {server}/file /added\n")
    p = plan(text, DownloadSizer(private_cache))
    assert layer(p, 2).added == SIZE and not layer(p, 2).added_unknown
    extracted = layer(p, 3).effects[-1]
    assert extracted.size == round(SIZE * RATIO["gz"]) and ".tar.gz archive" in extracted.size_note
    assert layer(p, 4).added == round(SIZE * RATIO["xz"])  # the pipe: the URL's size, xz by tar's -J
    # no measured ratio for zip: the extraction stays unknown, and says why
    zipped = [e for e in layer(p, 5).effects if e.category == "extracted"]
    assert zipped[0].size is None and "no measured expansion ratio for .zip" in zipped[0].size_note
    assert layer(p, 5).added_unknown
    assert layer(p, 6).added == SIZE


def test_extraction_into_an_unnamed_directory_still_counts(server: str, private_cache: Path) -> None:
    """`curl URL | tar -xz` unpacks into the current directory, whose other files the simulator
    cannot tell apart: no path is tracked, but the bytes count, and are never a known 0."""
    text = f"FROM busybox\nWORKDIR /src\nRUN curl -fsSL {server}/a.tar.gz | tar -xz\n"
    fetched = layer(plan(text, DownloadSizer(private_cache)), 3)
    assert fetched.added == round(SIZE * RATIO["gz"]) and not fetched.added_unknown
    unfetched = layer(plan(text, None), 3)
    assert unfetched.added == 0 and unfetched.added_unknown
    assert any(OFF_HINT in note for note in unfetched.notes)


def test_unresolved_variable_stays_unknown(server: str, private_cache: Path) -> None:
    text = f"FROM busybox\nARG VERSION\nRUN curl -o /a.tgz {server}/$VERSION/a.tgz\nRUN tar -xzf /a.tgz -C /opt\n"
    p = plan(text, DownloadSizer(private_cache))
    (download,) = layer(p, 3).effects
    assert download.size is None and download.size_note == UNRESOLVED
    assert layer(p, 4).added_unknown and "unknown size" in layer(p, 4).effects[0].size_note
    assert _Handler.requests == []
    # an ARG with a default is resolved, and asked
    resolved = plan(text.replace("ARG VERSION", "ARG VERSION=file"), DownloadSizer(private_cache))
    assert layer(resolved, 3).added == SIZE


def test_context_archive_is_expanded(tmp_path: Path) -> None:
    from dockopt.context.build_context import BuildContext

    (tmp_path / "app.tar.gz").write_bytes(b"z" * 10_000)
    p = plan("FROM busybox\nADD app.tar.gz /opt/\nCOPY app.tar.gz /keep/\nRUN tar -xzf /keep/app.tar.gz -C /srv\n",
             None, BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path))
    assert layer(p, 2).added == round(10_000 * RATIO["gz"])  # ADD unpacks it: the layer holds its files
    assert layer(p, 3).added == 10_000
    assert layer(p, 4).added == round(10_000 * RATIO["gz"])  # sized without any network


def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every outgoing connection attempt, recorded and refused."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network use in a test of the option being off")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_off_by_default_no_request(server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM busybox\nRUN wget -O /tmp/a.tar.gz {server}/a.tar.gz && tar -xzf /tmp/a.tar.gz\n"
                          f"RUN rm /tmp/a.tar.gz\nADD {server}/file /f\n")
    attempts = _no_network(monkeypatch)
    assert main(["layers", str(dockerfile)]) == 0
    out = capsys.readouterr().out
    assert f"unknown size: {OFF_HINT}" in out
    main(["check", "--no-config", str(dockerfile)])
    main(["fix", "--diff", str(dockerfile)])
    main(["layers", "--format", "json", str(dockerfile)])
    capsys.readouterr()
    assert attempts == [] and _Handler.requests == []
    # the config turns it on; --no-fetch-sizes wins over the config
    (tmp_path / ".dockopt.toml").write_text("fetch-sizes = true\n")
    from dockopt.config import clear_caches

    clear_caches()
    assert main(["layers", "--no-fetch-sizes", str(dockerfile)]) == 0
    main(["check", "--no-fetch-sizes", str(dockerfile)])
    assert attempts == [] and _Handler.requests == []
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert main(["layers", str(dockerfile)]) == 0
    assert "(download, ~123 kB: HTTP Content-Length)" in capsys.readouterr().out
    assert ("HEAD", "/a.tar.gz") in _Handler.requests
    clear_caches()


def test_check_fetch_sizes_sizes_the_waste(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM busybox\nRUN wget -O /tmp/a.tar.gz {server}/file\nRUN rm /tmp/a.tar.gz\n")
    main(["check", "--no-config", "--no-source", "--select", "DO101", str(dockerfile)])
    assert "unknown size" in capsys.readouterr().out
    main(["check", "--no-config", "--no-source", "--select", "DO101", "--fetch-sizes", str(dockerfile)])
    assert "(~123 kB)" in capsys.readouterr().out
    main(["check", "--no-config", "--show-settings", "--fetch-sizes", str(dockerfile)])
    assert "fetch-sizes" in capsys.readouterr().out


def test_expansion_ratios_are_the_measured_medians() -> None:
    """The shipped ratios are what scripts/measure_archive_ratios.py computed from its rows."""
    assert len(ARCHIVES) >= 20
    for fmt in ("gz", "xz", "bz2"):
        ratios = [files / compressed for _, f, compressed, _, files, _ in ARCHIVES if f == fmt]
        assert len(ratios) == SPREAD[fmt][0] >= 10
        assert RATIO[fmt] == round(statistics.median(ratios), 2)
    assert RATIO["tar"] == round(statistics.median(files / tar for _, _, _, tar, files, _ in ARCHIVES), 2)
