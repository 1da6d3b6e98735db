"""Helpers for the language-server tests: a pytest-lsp client driving ``dockopt server``."""
from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "dockopt", "server"]
TIMEOUT = 60  # seconds; generous for a loaded 2-core machine (not a timing assertion)


class RecordingClient(LanguageClient):
    """pytest-lsp's client, also keeping every ``publishDiagnostics`` in order: several can
    arrive in one read, so waiting for "the next notification" could miss one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[t.PublishDiagnosticsParams] = []
        self.publish_event = asyncio.Event()

    async def wait_published(self, uri: str, *, after: int = 0, version: int | None = None) -> t.PublishDiagnosticsParams:
        """The first diagnostics for ``uri`` published after the first ``after`` ones (and for
        ``version``, when given)."""
        async def wait() -> t.PublishDiagnosticsParams:
            while True:
                for params in self.published[after:]:
                    if params.uri == uri and (version is None or params.version == version):
                        return params
                self.publish_event.clear()
                await self.publish_event.wait()
        return await asyncio.wait_for(wait(), TIMEOUT)


def _record_publish(client: RecordingClient, params: t.PublishDiagnosticsParams) -> None:
    DEFAULT_CLIENT_FEATURES[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS](client, params)
    client.published.append(params)
    client.publish_event.set()


def _make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record_publish})
    return client


async def start(root: Path, *, capabilities: str = "neovim@v0.7.0", options: Any = None,
                folders: list[Path] | None = None, command: list[str] | None = None,
                position_encodings: list[str] | None = None) -> RecordingClient:
    client = await ClientServerConfig(server_command=command or SERVER, client_factory=_make_client).start()
    assert isinstance(client, RecordingClient)
    folders = folders or [root]
    caps = client_capabilities(capabilities)
    if position_encodings is not None:
        caps.general = t.GeneralClientCapabilities(position_encodings=position_encodings)
    await client.initialize_session(t.InitializeParams(
        capabilities=caps,
        root_uri=root.as_uri(),
        workspace_folders=[t.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
        initialization_options=options,
    ))
    return client


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


@contextlib.asynccontextmanager
async def served(root: Path, **options: Any) -> AsyncIterator[RecordingClient]:
    """A server started as :func:`start` starts it (same options), stopped when the block
    ends, also when it fails."""
    client = await start(root, **options)
    try:
        yield client
    finally:
        await stop(client)


class Documents:
    """Open documents on the client side: text and version, applying edits like an editor."""

    def __init__(self, client: RecordingClient) -> None:
        self.client = client
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    async def wait_for(self, uri: str, version: int, after: int | None = None) -> list[t.Diagnostic]:
        """The diagnostics published for ``uri`` at ``version`` (waits for them)."""
        params = await self.client.wait_published(uri, version=version, after=after or 0)
        return list(params.diagnostics)

    async def open(self, path: Path, text: str) -> list[t.Diagnostic]:
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = text, 1
        waiting = asyncio.ensure_future(self.wait_for(uri, 1, after=len(self.client.published)))
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="dockerfile", version=1, text=text)))
        return await waiting

    def change_nowait(self, uri: str, text: str) -> int:
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri]

    async def change(self, uri: str, text: str) -> list[t.Diagnostic]:
        waiting = asyncio.ensure_future(self.wait_for(uri, self.versions[uri] + 1, after=len(self.client.published)))
        self.change_nowait(uri, text)
        return await waiting

    async def apply(self, edit: t.WorkspaceEdit) -> tuple[str, list[t.Diagnostic]]:
        """Apply a workspace edit as an editor would, send the change, return the new text
        and the diagnostics the server publishes for it."""
        changes: list[tuple[str, int | None, list[t.TextEdit]]] = []
        for document_change in edit.document_changes or []:
            assert isinstance(document_change, t.TextDocumentEdit)
            changes.append((document_change.text_document.uri, document_change.text_document.version,
                            list(document_change.edits)))
        for uri, edits in (edit.changes or {}).items():
            changes.append((uri, None, edits))
        assert len(changes) == 1
        uri, version, edits = changes[0]
        if version is not None:
            assert version == self.versions[uri], "an edit for another version of the document"
        text = apply_text_edits(self.texts[uri], edits)
        return text, await self.change(uri, text)


def _offset(text: str, position: t.Position) -> int:
    """UTF-16 position -> str offset, written independently of the server's PositionMap."""
    lines = text.splitlines(keepends=True) if text else [""]
    offset = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, char in enumerate(line):
        if units >= position.character:
            return offset + i
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + len(line.rstrip("\r\n"))


def apply_text_edits(text: str, edits: list[t.TextEdit]) -> str:
    spans = sorted(((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def dockopt_fix(path: Path, text: str, *args: str) -> str:
    """What ``dockopt fix`` makes of ``text`` as the file at ``path`` (standard input mode)."""
    # Bytes, not text mode: universal newlines would turn a CRLF file's \r\n into \n.
    proc = subprocess.run([sys.executable, "-m", "dockopt", "fix", "-", "--stdin-filename", str(path), *args],
                          input=text.encode("utf-8"), capture_output=True, cwd=path.parent, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return proc.stdout.decode("utf-8")


def whole(text: str) -> t.Range:
    return t.Range(start=t.Position(line=0, character=0), end=t.Position(line=text.count("\n") + 1, character=0))
