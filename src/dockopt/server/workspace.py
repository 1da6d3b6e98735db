"""Workspace folders, settings and configuration reloads.

Configuration is discovered per file exactly as ``dockopt check`` discovers it (the nearest
configuration file upward from the Dockerfile), so each workspace folder naturally gets its
own. The server caches parsed configuration files and build-context listings between
keystrokes; :meth:`ServerWorkspace.reload` drops both when the client reports a changed
configuration or ``.dockerignore`` file (``workspace/didChangeWatchedFiles``) or a save.

A broken configuration file is shown to the user once (``window/showMessage``): again only
when the message changes or after the configuration has read fine. The file is linted with the default settings meanwhile, so editing the
configuration never leaves the editor silent.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from dockopt.config import CONFIG_NAMES, ConfigError, clear_caches
from dockopt.runner import RunOptions, RunSettings
from dockopt.selection import CliOverrides
from dockopt.server.analysis import Analysis, lint_text
from dockopt.server.positions import PositionMap

# Files whose change alters what a Dockerfile's check says: configuration and ignore files.
WATCHED_GLOBS = tuple(f"**/{name}" for name in CONFIG_NAMES) + ("**/.dockerignore", "**/*.dockerignore")
DEFAULT_DEBOUNCE_S = 0.15


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """``initializationOptions`` the client may send (all optional; camelCase as LSP clients
    write them): the command line's selection flags, ``config``/``noConfig``, and the delay
    between the last keystroke and the re-check."""

    run: RunOptions
    debounce_s: float = DEFAULT_DEBOUNCE_S

    @classmethod
    def from_client(cls, raw: Any) -> tuple[ServerOptions, list[str]]:
        """The options and a list of problems with what the client sent (reported, not fatal)."""
        problems: list[str] = []
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if raw is not None and not isinstance(raw, Mapping):
            problems.append(f"initializationOptions must be an object, not {type(raw).__name__}")

        def codes(key: str) -> list[str] | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"initializationOptions.{key} must be a list of rule codes")
                return None
            return [v.strip().upper() for v in value if v.strip()]

        def path(key: str) -> Path | None:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                problems.append(f"initializationOptions.{key} must be a path")
                return None
            return Path(os.path.abspath(os.path.expanduser(value)))

        overrides = CliOverrides(select=codes("select"), extend_select=codes("extendSelect") or (),
                                 ignore=codes("ignore") or ())
        debounce = data.get("debounceMs", DEFAULT_DEBOUNCE_S * 1000)
        if not isinstance(debounce, (int, float)) or isinstance(debounce, bool) or debounce < 0:
            problems.append("initializationOptions.debounceMs must be a number of milliseconds")
            debounce = DEFAULT_DEBOUNCE_S * 1000
        run = RunOptions(overrides=overrides, config_file=path("config"), no_config=data.get("noConfig") is True)
        return cls(run, debounce / 1000), problems


def uri_to_path(uri: str, folders: list[Path]) -> Path:
    """The file a document URI stands for. Unsaved documents (``untitled:``) are treated as
    a ``Dockerfile`` in the first workspace folder (or the working directory), so they get
    that folder's configuration."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = unquote(parsed.path)
        if os.name == "nt" and path.startswith("/") and path[2:3] == ":":  # pragma: no cover
            path = path[1:]
        return Path(os.path.abspath(path))
    base = folders[0] if folders else Path.cwd()
    return base / "Dockerfile"


class ServerWorkspace:
    """Settings shared by every open document, and what invalidates them."""

    def __init__(self, options: ServerOptions, folders: list[Path],
                 notify_error: Callable[[str], None]) -> None:
        self.options = options
        self.folders = folders
        self._notify_error = notify_error
        self._reported: set[str] = set()
        self.settings = RunSettings(options.run)
        self._fallback = RunSettings(RunOptions(overrides=options.run.overrides, no_config=True))

    def reload(self) -> None:
        """Forget parsed configuration files and context listings: something changed on disk."""
        clear_caches()
        self.settings = RunSettings(self.options.run)
        self._fallback = RunSettings(RunOptions(overrides=self.options.run.overrides, no_config=True))

    def forget_contexts(self) -> None:
        """Drop the build-context listings (a file was saved; the context may have changed)."""
        self.settings.forget_contexts()
        self._fallback.forget_contexts()

    def analyse(self, uri: str, version: int | None, text: str, encoding: str) -> Analysis:
        path = uri_to_path(uri, self.folders)
        settings = self.settings
        try:
            settings.for_file(path)
            result = lint_text(text, path, settings)
            self._reported.clear()  # the configuration reads again: a new breakage is news
        except ConfigError as error:
            message = f"dockopt: {error}; checking with the default settings until it is fixed"
            if message not in self._reported:
                self._reported.add(message)
                self._notify_error(message)
            settings = self._fallback
            result = lint_text(text, path, settings)
        return Analysis(uri, version, text, path, settings, result, PositionMap(text, encoding))
