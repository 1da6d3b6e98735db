"""Download sizes: what ``--fetch-sizes`` (config ``fetch-sizes = true``) asks the server.

A static linter cannot know how big a downloaded file is; the server can say it without
sending the file. When the option is on, each literal ``http(s)://`` URL that a RUN downloads
(``curl -o``/``-O``, ``wget``, a ``curl | tar`` pipe) or an ``ADD <url>`` fetches is asked
once: an HTTP ``HEAD`` and its ``Content-Length``, else a ``GET`` of one byte (``Range:
bytes=0-0``) and the total in its ``Content-Range`` (servers that refuse HEAD, or answer it
without a length). Redirects are followed with the same method. Only the standard library
(urllib, honouring the usual ``*_proxy`` variables) is used.

Bounded: a short timeout per request (``TIMEOUT`` seconds), at most ``MAX_URLS_PER_FILE``
URLs asked over the network per Dockerfile, and an on-disk cache keyed by URL
(``$XDG_CACHE_HOME/dockopt/download-sizes.json``, else ``~/.cache/dockopt/...``) whose answers
are reused for ``CACHE_DAYS`` days; only sizes are cached, never failures. Everything else
stays "unknown", with the reason where the output has room: a URL with a variable dockopt
cannot resolve, one that carries credentials (never sent anywhere), a failure, a timeout.
When the option is off nothing here runs and no connection is made.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# json, tempfile, time, socket and urllib are imported where used: every lint run imports this
# module (the simulator names its types), and only --fetch-sizes runs need them (start-up time).
if TYPE_CHECKING:
    import urllib.request

TIMEOUT = 3.0  # seconds per request: a linter must not hang on a slow server
MAX_URLS_PER_FILE = 12
CACHE_DAYS = 7  # a URL's content may change ("latest" links); a week-old size is re-asked
CACHE_FILE = "download-sizes.json"
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:\d+-\d+|\*)/(\d+)\s*$", re.I)

# Why a download's size is unknown without the option: the hint `dockopt layers` shows.
OFF_HINT = "--fetch-sizes asks the server"
UNRESOLVED = "the URL has a variable dockopt cannot resolve"


@dataclass(frozen=True, slots=True)
class Sized:
    """A download's size, or None with the reason (``why``) it is unknown."""

    size: int | None
    why: str


def cache_dir() -> Path:
    """Where the answers are kept: ``$XDG_CACHE_HOME/dockopt``, else ``~/.cache/dockopt``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base and os.path.isabs(base) else Path.home() / ".cache") / "dockopt"


def literal_url(word: str | None) -> str | None:
    """``word`` when it is a plain http(s) URL, else None (a variable, another scheme)."""
    if word is None or not word.lower().startswith(("http://", "https://")):
        return None
    if any(ch in word for ch in "$`{} \t\n") or "*" in word:
        return None
    return word


def _opener() -> urllib.request.OpenerDirector:
    import urllib.request

    class SameMethodRedirect(urllib.request.HTTPRedirectHandler):
        """Follow redirects keeping HEAD a HEAD (urllib turns every redirect into a GET, which
        would start downloading the file the HEAD meant to avoid)."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None:
                new.method = req.get_method()
            return new

    return urllib.request.build_opener(SameMethodRedirect())


class DownloadSizer:
    """Sizes of downloads, from the cache or the server (one instance per process)."""

    def __init__(self, cache: Path | None = None, *, timeout: float = TIMEOUT,
                 max_urls: int = MAX_URLS_PER_FILE) -> None:
        self.cache_path = (cache if cache is not None else cache_dir()) / CACHE_FILE
        self.timeout = timeout
        self.max_urls = max_urls
        self._answers: dict[str, Sized] = {}  # this process's answers, failures included
        self._disk: dict[str, list[float]] | None = None
        self._opener: urllib.request.OpenerDirector | None = None

    def for_file(self) -> FileSizes:
        """A budget of network requests for one Dockerfile."""
        return FileSizes(self)

    # -- the cache ---------------------------------------------------------------------
    def _cached(self, url: str) -> int | None:
        import time

        if self._disk is None:
            self._disk = self._read_disk()
        entry = self._disk.get(url)
        if entry is None or time.time() - entry[1] > CACHE_DAYS * 86400:
            return None
        return int(entry[0])

    def _read_disk(self) -> dict[str, list[float]]:
        import json

        try:
            data = json.loads(self.cache_path.read_text())
        except (OSError, ValueError):
            return {}
        entries = data.get("sizes") if isinstance(data, dict) else None
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items()
                if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)}

    def _remember(self, url: str, size: int) -> None:
        """Add one answer to the cache file (re-read first: other processes write it too);
        written to a temporary file and renamed, so a reader never sees half a file."""
        import json
        import tempfile
        import time

        disk = self._read_disk()
        disk[url] = [size, time.time()]
        self._disk = disk
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".download-sizes.", dir=self.cache_path.parent)
            with os.fdopen(fd, "w") as out:
                json.dump({"version": 1, "sizes": disk}, out)
            os.replace(tmp, self.cache_path)
        except OSError:
            pass  # an unwritable cache costs a request next time, nothing else

    # -- asking ------------------------------------------------------------------------
    def known(self, url: str) -> Sized | None:
        """The answer without the network: this process's, or the disk cache's."""
        if url in self._answers:
            return self._answers[url]
        cached = self._cached(url)
        if cached is not None:
            self._answers[url] = Sized(cached, "HTTP Content-Length, cached")
            return self._answers[url]
        return None

    def ask(self, url: str) -> Sized:
        """Ask the server (HEAD, then a one-byte ranged GET); cache a size."""
        answer = self._ask(url)
        self._answers[url] = answer
        if answer.size is not None:
            self._remember(url, answer.size)
        return answer

    def _ask(self, url: str) -> Sized:
        import urllib.error
        import urllib.request

        from dockopt import __version__

        if self._opener is None:
            self._opener = _opener()

        headers = {"User-Agent": f"dockopt/{__version__} (--fetch-sizes)", "Accept-Encoding": "identity"}
        head_failure = ""
        try:
            with self._opener.open(urllib.request.Request(url, headers=headers, method="HEAD"),
                                   timeout=self.timeout) as response:
                length = response.headers.get("Content-Length", "")
                if length.strip().isdigit() and int(length) > 0:
                    return Sized(int(length), "HTTP Content-Length")
                head_failure = "no Content-Length"
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 404, 410):
                return Sized(None, f"HTTP {exc.code}")
            head_failure = f"HEAD: HTTP {exc.code}"  # 403/405/501: some servers refuse HEAD only
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Sized(None, _failure(exc, self.timeout))
        try:
            request = urllib.request.Request(url, headers={**headers, "Range": "bytes=0-0"})
            with self._opener.open(request, timeout=self.timeout) as response:
                if response.status == 206:
                    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                    if match:
                        return Sized(int(match[1]), "HTTP Content-Range")
                length = response.headers.get("Content-Length", "")
                if response.status == 200 and length.strip().isdigit():
                    return Sized(int(length), "HTTP Content-Length")  # the body is not read
                return Sized(None, f"the server did not say ({head_failure})")
        except urllib.error.HTTPError as exc:
            return Sized(None, f"HTTP {exc.code}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return Sized(None, _failure(exc, self.timeout))


def _failure(exc: BaseException, timeout: float) -> str:
    import socket

    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    return f"request failed: {reason}"


class FileSizes:
    """The sizer as one Dockerfile's simulation uses it: at most ``max_urls`` URLs go to the
    network (cached answers are free)."""

    def __init__(self, sizer: DownloadSizer) -> None:
        self.sizer = sizer
        self.asked = 0

    def size(self, url: str) -> Sized:
        import urllib.parse

        parts = urllib.parse.urlsplit(url)
        if parts.username or parts.password:
            return Sized(None, "the URL carries credentials; dockopt does not send them")
        known = self.sizer.known(url)
        if known is not None:
            return known
        if self.asked >= self.sizer.max_urls:
            return Sized(None, f"more than {self.sizer.max_urls} URLs in this file")
        self.asked += 1
        return self.sizer.ask(url)
