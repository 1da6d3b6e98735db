"""The LSP wiring: pygls handlers, debouncing, one analysis thread, crash isolation.

All analysis runs on one worker thread, in order: dockopt's caches (configuration files,
build-context listings, the tree-sitter parser) are then never shared between threads, and
the event loop stays free to read the client's messages, so a ``$/cancelRequest`` is seen
while a long check runs. Every handler body is guarded: an exception is logged to the
client's log channel (``window/logMessage``, with the traceback) and the request answers
with an empty result, so one bad request or document never takes the server down.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dockopt import __version__
from dockopt.config import CONFIG_NAMES
from dockopt.server.actions import KINDS, code_actions
from dockopt.server.analysis import Analysis, warm_up
from dockopt.server.hover import hover
from dockopt.server.inlay import inlay_hints
from dockopt.server.lsp_diagnostics import diagnostics_for
from dockopt.server.positions import encoding_name
from dockopt.server.workspace import WATCHED_GLOBS, ServerOptions, ServerWorkspace, uri_to_path

T = TypeVar("T")
logger = logging.getLogger(__name__)

_RELOADING_NAMES = frozenset(CONFIG_NAMES) | {".dockerignore"}


def _reloads(path: Path) -> bool:
    """Whether a change to ``path`` can change a check: configuration and ignore files."""
    return path.name in _RELOADING_NAMES or path.name.endswith(".dockerignore")


class DockoptLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("dockopt", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.analysis_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dockopt-analysis")
        self.dockopt: ServerWorkspace | None = None
        self.analyses: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    # --- messages to the client -----------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def show_error(self, message: str) -> None:
        """A message the user should see (shown once per problem by the callers)."""
        self.log(message, types.MessageType.Error)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))

    def show_error_from_thread(self, message: str) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.show_error, message)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls' own errors (a message it cannot read): log them, do not pop up a window.
        try:
            self.log(f"dockopt server: {error}", types.MessageType.Error)
        except Exception:  # noqa: BLE001 - the channel itself may be broken
            logger.exception("cannot report %s", error)

    # --- analysis -----------------------------------------------------------------------------

    @property
    def workspace_settings(self) -> ServerWorkspace:
        if self.dockopt is None:  # a client that skipped initialize: defaults
            self.dockopt = ServerWorkspace(ServerOptions.from_client(None)[0], [], self.show_error_from_thread)
        return self.dockopt

    def encoding(self) -> str:
        return encoding_name(self.workspace.position_encoding)

    async def in_thread(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.analysis_thread, work)

    async def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text (made now if the last one is stale)."""
        try:
            document = self.workspace.get_text_document(uri)
            text, version = document.source, document.version
        except Exception:  # noqa: BLE001 - a URI the client never opened
            return None
        found = self.analyses.get(uri)
        if found is not None and found.version == version and found.text == text:
            return found
        settings, encoding = self.workspace_settings, self.encoding()
        analysis = await self.in_thread(lambda: settings.analyse(uri, version, text, encoding))
        latest = self.analyses.get(uri)
        if uri in self.open_uris() and (latest is None or latest.version is None or version is None
                                        or latest.version <= version):
            self.analyses[uri] = analysis
        return analysis

    def open_uris(self) -> set[str]:
        return set(self.workspace.text_documents)

    async def publish(self, uri: str) -> None:
        analysis = await self.current(uri)
        if analysis is None or uri not in self.open_uris():
            return
        diagnostics = await self.in_thread(lambda: diagnostics_for(analysis))
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=analysis.version, diagnostics=diagnostics))

    def schedule(self, uri: str, delay: float) -> None:
        """Re-check ``uri`` after ``delay`` seconds, unless another change comes first."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later() -> None:
            try:
                if delay:
                    await asyncio.sleep(delay)
                await self.publish(uri)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one document's failure must not stop the server
                self.log(f"dockopt: checking {uri} failed:\n{traceback.format_exc()}", types.MessageType.Error)
            finally:
                if self.pending.get(uri) is task:
                    del self.pending[uri]

        task = asyncio.ensure_future(later())
        self.pending[uri] = task

    def recheck_all(self) -> None:
        for uri in self.open_uris():
            self.schedule(uri, 0)


def guarded(default: Callable[[], T]) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
    """Run an async handler; on an exception, log it to the client and answer ``default()``."""

    def decorate(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(handler)
        async def run(params: Any) -> T:
            try:
                return await handler(params)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the point: a crash answers empty, the server lives
                server.log(f"dockopt: {handler.__name__} failed:\n{traceback.format_exc()}", types.MessageType.Error)
                return default()
        return run
    return decorate


server = DockoptLanguageServer()


@server.feature(types.INITIALIZE)
def initialize(params: types.InitializeParams) -> None:
    server.loop = asyncio.get_running_loop()
    options, problems = ServerOptions.from_client(params.initialization_options)
    folders = [uri_to_path(f.uri, []) for f in params.workspace_folders or []]
    if not folders and params.root_uri:
        folders = [uri_to_path(params.root_uri, [])]
    server.dockopt = ServerWorkspace(options, folders, server.show_error_from_thread)
    for problem in problems:
        server.show_error(f"dockopt: {problem}")
    server.analysis_thread.submit(warm_up)  # imports while the client finishes starting


@server.feature(types.INITIALIZED)
async def initialized(params: types.InitializedParams) -> None:
    server.log(f"dockopt {__version__} language server ready (position encoding {server.encoding()})",
               types.MessageType.Info)
    watched = server.client_capabilities.workspace
    dynamic = watched is not None and watched.did_change_watched_files is not None and \
        bool(watched.did_change_watched_files.dynamic_registration)
    if not dynamic:
        server.log("dockopt: the client cannot watch files; configuration changes are picked up on save")
        return
    watchers = [types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_GLOBS]
    try:
        await server.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
            id="dockopt-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
    except Exception as error:  # noqa: BLE001 - the client said it could; carry on without
        server.log(f"dockopt: cannot watch configuration files ({error}); they are re-read on save")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(params: types.DidOpenTextDocumentParams) -> None:
    server.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(params: types.DidChangeTextDocumentParams) -> None:
    server.schedule(params.text_document.uri, server.workspace_settings.options.debounce_s)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(params: types.DidSaveTextDocumentParams) -> None:
    # A save is when files next to the Dockerfile may have changed too (and clients without
    # file watching still get their configuration re-read).
    settings = server.workspace_settings
    if _reloads(uri_to_path(params.text_document.uri, settings.folders)):
        await server.in_thread(settings.reload)  # on the analysis thread: it owns the caches
        server.analyses.clear()
        server.recheck_all()
        return
    await server.in_thread(settings.reload)
    server.analyses.pop(params.text_document.uri, None)
    server.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = server.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    server.analyses.pop(uri, None)
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
    settings = server.workspace_settings
    if not any(_reloads(uri_to_path(change.uri, settings.folders)) for change in params.changes):
        return
    server.log("dockopt: configuration or ignore file changed; re-checking open Dockerfiles")
    await server.in_thread(settings.reload)
    server.analyses.clear()
    server.recheck_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
async def did_change_workspace_folders(params: types.DidChangeWorkspaceFoldersParams) -> None:
    settings = server.workspace_settings
    removed = {uri_to_path(f.uri, []) for f in params.event.removed}
    settings.folders = [f for f in settings.folders if f not in removed] + \
        [uri_to_path(f.uri, []) for f in params.event.added]


def _versioned_edits() -> bool:
    workspace = server.client_capabilities.workspace
    return bool(workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
@guarded(list)
async def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
    analysis = await server.current(params.text_document.uri)
    if analysis is None:
        return []
    versioned = _versioned_edits()
    return await server.in_thread(lambda: code_actions(analysis, params, versioned))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
@guarded(list)
async def inlay_hint(params: types.InlayHintParams) -> list[types.InlayHint]:
    analysis = await server.current(params.text_document.uri)
    if analysis is None:
        return []
    return await server.in_thread(lambda: inlay_hints(analysis, params.range))


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded(lambda: None)
async def on_hover(params: types.HoverParams) -> types.Hover | None:
    analysis = await server.current(params.text_document.uri)
    if analysis is None:
        return None
    return await server.in_thread(lambda: hover(analysis, params.position))
