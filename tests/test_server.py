"""``dockopt server`` end to end: pytest-lsp drives the real server process over stdio.

Each test starts ``python -m dockopt server`` with a workspace in ``tmp_path`` and talks to it
as an editor does (capabilities of Neovim 0.7, the version Debian ships, unless a test says
otherwise). Edits the server offers are applied to the client's copy of the text and sent
back, so "applied and re-checked" means what an editor would see.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcRequestCancelled

from dockopt.layers.sizes import human

from tests.server_client import Documents, dockopt_fix, served, whole

pytestmark = pytest.mark.asyncio(loop_scope="function")

EXAMPLE = """\
# An example with the mistakes dockopt finds.
FROM python:3.12 as build
RUN apt-get update
RUN apt-get install -y build-essential
COPY . /app
WORKDIR /app
RUN pip install -r requirements.txt
RUN rm -rf /var/lib/apt/lists/*

FROM python:3.12-slim
COPY --from=build /app /app
CMD ["python", "/app/main.py"]
"""


def codes(diagnostics: list[t.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


async def code_actions(client, uri: str, text: str, only: list[str] | None = None,
                       diagnostics: list[t.Diagnostic] | None = None) -> list[t.CodeAction]:
    result = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=uri), range=whole(text),
        context=t.CodeActionContext(diagnostics=diagnostics or [], only=only)))
    return [a for a in result or [] if isinstance(a, t.CodeAction)]


async def test_open_change_close_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, EXAMPLE)
        assert codes(diagnostics) == ["DO101", "DO103", "DO301", "DO404"]
        by_code = {d.code: d for d in diagnostics}
        do103 = by_code["DO103"]
        assert do103.source == "dockopt"
        assert do103.severity == t.DiagnosticSeverity.Warning
        assert do103.code_description.href.endswith("/docs/rules/DO103.md")
        assert do103.range == t.Range(start=t.Position(line=2, character=4), end=t.Position(line=2, character=18))
        assert "(safe fix available)" in do103.message
        # Related locations: DO101's rm frees what the RUN on line 3 created.
        do101 = by_code["DO101"]
        assert list(do101.tags) == [t.DiagnosticTag.Unnecessary]
        assert [r.location.range.start.line for r in do101.related_information] == [2]
        assert do101.related_information[0].location.uri == path.as_uri()
        # A change re-checks (debounced): merge the two RUNs by hand.
        fixed = EXAMPLE.replace("RUN apt-get update\nRUN apt-get install -y build-essential",
                                "RUN apt-get update && apt-get install -y build-essential && rm -rf /var/lib/apt/lists/*")
        fixed = fixed.replace("RUN rm -rf /var/lib/apt/lists/*\n", "").replace(" as build", " AS build")
        assert codes(await docs.change(path.as_uri(), fixed)) == ["DO301"]
        # Half-typed text: still answered, with the parse error.
        half = fixed + "RUN <<EOF\necho unterminated\n"
        assert codes(await docs.change(path.as_uri(), half)) == ["DO000"]
        # Close: the document's diagnostics are cleared.
        seen = len(client.published)
        client.text_document_did_close(t.DidCloseTextDocumentParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri())))
        cleared = await client.wait_published(path.as_uri(), after=seen)
        assert cleared.uri == path.as_uri() and list(cleared.diagnostics) == []


async def test_rapid_changes_end_with_the_last_version(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        await docs.open(path, "FROM debian\n")
        uri = path.as_uri()
        typed = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n"
        # Type it a character at a time, as an editor sends it; the last version is checked.
        for end in range(len("FROM debian\n") + 1, len(typed)):
            docs.change_nowait(uri, typed[:end])
        diagnostics = await docs.change(uri, typed)
        assert "DO103" in codes(diagnostics)
        assert client.error is None


async def test_quick_fix_is_the_fixers_edit_and_rechecks_clean(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, EXAMPLE)
        do103 = next(d for d in diagnostics if d.code == "DO103")
        actions = await code_actions(client, path.as_uri(), EXAMPLE, only=[t.CodeActionKind.QuickFix],
                                     diagnostics=[do103])
        fix = next(a for a in actions if a.title.startswith("DO103:"))
        assert fix.kind == t.CodeActionKind.QuickFix and fix.is_preferred
        assert fix.diagnostics[0].code == "DO103"
        text, after = await docs.apply(fix.edit)
        assert "RUN apt-get update \\\n    && apt-get install -y build-essential\n" in text
        assert "DO103" not in codes(after)
        # Only that fix was applied: DO404's casing is still reported.
        assert "DO404" in codes(after)


UNSAFE_AND_SUGGESTION = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl
COPY id_rsa /root/.ssh/id_rsa
RUN git clone git@example.com:x/y.git /src
RUN rm /root/.ssh/id_rsa
RUN make install
"""


async def test_unsafe_fixes_are_labelled_and_suggestions_are_not_quick_fixes(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, UNSAFE_AND_SUGGESTION)
        assert {"DO102", "DO201"} <= set(codes(diagnostics))
        actions = await code_actions(client, path.as_uri(), UNSAFE_AND_SUGGESTION)
        unsafe = next(a for a in actions if a.title.startswith("DO102"))
        assert "unsafe" in unsafe.title and not unsafe.is_preferred
        suggestion = next(a for a in actions if a.title.startswith("DO201"))
        assert "suggestion" in suggestion.title and suggestion.kind == t.CodeActionKind.RefactorRewrite
        # A quick-fix-only request leaves the suggestion out.
        quick = await code_actions(client, path.as_uri(), UNSAFE_AND_SUGGESTION, only=[t.CodeActionKind.QuickFix])
        assert not any(a.title.startswith("DO201 suggestion") for a in quick)
        # The unsafe fix, applied, cures its finding.
        _text, after = await docs.apply(unsafe.edit)
        assert "DO102" not in codes(after)


async def test_fix_all_is_dockopt_fix(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path, capabilities="visual-studio-code") as client:
        docs = Documents(client)
        await docs.open(path, EXAMPLE)
        actions = await code_actions(client, path.as_uri(), EXAMPLE, only=["source.fixAll"])
        assert [a.kind for a in actions] == ["source.fixAll.dockopt"]
        assert actions[0].edit.document_changes, "VS Code takes versioned edits"
        text, after = await docs.apply(actions[0].edit)
        assert text == dockopt_fix(path, EXAMPLE)
        assert text != EXAMPLE
        # Nothing safe is left to fix.
        assert await code_actions(client, path.as_uri(), text, only=["source.fixAll.dockopt"]) == []
        assert "DO103" not in codes(after)


async def test_ignore_action_inserts_a_suppression_that_silences(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    text = "FROM python:3.12\n# install the lists\nRUN apt-get update\nRUN apt-get install -y curl\n"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, text)
        assert "DO103" in codes(diagnostics)
        actions = await code_actions(client, path.as_uri(), text)
        ignore = next(a for a in actions if a.title == "Ignore DO103 for this instruction")
        new_text, after = await docs.apply(ignore.edit)
        assert new_text == ("FROM python:3.12\n# install the lists\n# dockopt: ignore=DO103\nRUN apt-get update\n"
                            "RUN apt-get install -y curl\n")
        assert "DO103" not in codes(after)
        # A second ignore on the same instruction extends the comment.
        actions = await code_actions(client, path.as_uri(), new_text)
        again = next(a for a in actions if a.title == "Ignore DO102 for this instruction"
                     and a.diagnostics[0].range.start.line == 3)
        newer, after = await docs.apply(again.edit)
        assert "# dockopt: ignore=DO103,DO102\nRUN apt-get update\n" in newer


def layer_sizes(path: Path, text: str) -> dict[int, tuple[int, int]]:
    """``dockopt layers --format json``: 0-based line -> (estimated bytes, wasted bytes)."""
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "dockopt", "layers", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {layer["line"] - 1: (layer["estimated_bytes"], layer["wasted_bytes"])
            for stage in json.loads(proc.stdout) for layer in stage["layers"]}


async def test_inlay_hints_show_layer_sizes_and_waste(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    sizes = layer_sizes(path, EXAMPLE)  # the simulator's numbers, as `dockopt layers` prints them
    async with served(tmp_path) as client:
        docs = Documents(client)
        await docs.open(path, EXAMPLE)
        hints = await client.text_document_inlay_hint_async(t.InlayHintParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri()), range=whole(EXAMPLE)))
        by_line = {h.position.line: h for h in hints}
        lines = EXAMPLE.splitlines()
        added, wasted = sizes[2]
        assert added and wasted
        assert by_line[2].label == f"{human(added)}, {human(wasted)} wasted"
        assert by_line[2].position.character == len(lines[2])
        assert by_line[3].label == human(sizes[3][0])
        assert by_line[7].label == "~0 B (frees nothing)"
        assert 11 not in by_line  # CMD creates no layer
        # A range asks for its own lines only.
        some = await client.text_document_inlay_hint_async(t.InlayHintParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri()),
            range=t.Range(start=t.Position(line=3, character=0), end=t.Position(line=4, character=0))))
        assert [h.position.line for h in some] == [3]


async def test_hover_shows_effects_cache_and_base_image(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        await docs.open(path, EXAMPLE)

        async def hover(line: int) -> str:
            result = await client.text_document_hover_async(t.HoverParams(
                text_document=t.TextDocumentIdentifier(uri=path.as_uri()), position=t.Position(line=line, character=1)))
            assert result is not None
            return result.contents.value

        run = await hover(2)
        assert "create `/var/lib/apt/lists/` (apt-lists, ~" in run
        assert "removed or overwritten on line 8" in run
        pip = await hover(6)
        assert "**Rebuilt when** line 6 reruns" in pip
        install = await hover(3)
        assert "install package build-essential (~" in install
        base = await hover(1)
        assert "family: debian" in base and "`python:3.12-slim`" in base and "build toolchain" in base
        cleanup = await hover(7)
        assert "frees nothing: line 3 wrote it" in cleanup
        blank = await client.text_document_hover_async(t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri()), position=t.Position(line=8, character=0)))
        assert blank is None


async def test_config_per_workspace_folder_and_reload(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
    (two / ".dockopt.toml").write_text('ignore = ["DO103"]\n')
    text = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\n"
    async with served(tmp_path, folders=[one, two]) as client:
        docs = Documents(client)
        assert "DO103" in codes(await docs.open(one / "Dockerfile", text))
        assert "DO103" not in codes(await docs.open(two / "Dockerfile", text))
        # The configuration changes on disk; the client reports it; both files are re-checked.
        (one / "dockopt.toml").write_text('ignore = ["DO103"]\n[severity]\nDO102 = "error"\n')
        seen = len(client.published)
        client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
            t.FileEvent(uri=(one / "dockopt.toml").as_uri(), type=t.FileChangeType.Created)]))
        params = await client.wait_published((one / "Dockerfile").as_uri(), after=seen)
        assert "DO103" not in codes(params.diagnostics)
        do102 = next(d for d in params.diagnostics if d.code == "DO102")
        assert do102.severity == t.DiagnosticSeverity.Error


async def test_bad_config_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / ".dockopt.toml").write_text('select = ["DO1"]\nignor = ["DO103"]\n')
    text = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\n"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(tmp_path / "Dockerfile", text)
        assert "DO103" in codes(diagnostics)  # checked with the defaults meanwhile
        await docs.change((tmp_path / "Dockerfile").as_uri(), text + "\n")
        await docs.open(tmp_path / "other.Dockerfile", text)
        errors = [m for m in client.messages if m.type == t.MessageType.Error]
        assert len(errors) == 1, errors
        assert ".dockopt.toml:2" in errors[0].message and "ignor" in errors[0].message


BIG = "FROM debian\n" + "".join(f"RUN apt-get update && apt-get install -y pkg{i} && rm -rf /tmp/{i}\n"
                                 for i in range(1500))


async def test_cancellation(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        await docs.open(path, "FROM debian\n")
        uri = path.as_uri()
        # A big edit keeps the analysis thread busy; the hover queued behind it is cancelled.
        docs.change_nowait(uri, BIG)
        request = asyncio.ensure_future(client.protocol.send_request_async(t.TEXT_DOCUMENT_HOVER, t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=1, character=0)),
            msg_id="hover-to-cancel"))
        await asyncio.sleep(0)
        client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id="hover-to-cancel"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(request, 60)
        # The server goes on answering.
        hover = await client.text_document_hover_async(t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=1, character=0)))
        assert hover is not None and "RUN" in hover.contents.value


CRASHING_HOVER = [sys.executable, "-c", """
import sys
import dockopt.server.protocol as protocol
def broken(analysis, position):
    raise RuntimeError("boom in hover")
protocol.hover = broken
from dockopt.server import run_stdio
sys.exit(run_stdio())
"""]


async def test_a_crash_in_one_request_does_not_kill_the_server(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path, command=CRASHING_HOVER) as client:
        docs = Documents(client)
        await docs.open(path, EXAMPLE)
        hover = await client.text_document_hover_async(t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri()), position=t.Position(line=2, character=0)))
        assert hover is None
        assert any("boom in hover" in m.message and "Traceback" in m.message for m in client.log_messages)
        # Everything else still works.
        diagnostics = await docs.change(path.as_uri(), EXAMPLE + "RUN true\n")
        assert "DO103" in codes(diagnostics)
        assert await code_actions(client, path.as_uri(), EXAMPLE, only=["source.fixAll.dockopt"])


async def test_positions_count_utf16_code_units(tmp_path: Path) -> None:
    # An emoji (outside the BMP: two UTF-16 units) before the finding on the same line.
    # (`make` last: DO102's cache fix stays unsafe, so `dockopt fix` applies DO103's fix only.)
    text = 'FROM python:3.12\nRUN echo "\U0001F600\U0001F600" && apt-get update\nRUN apt-get install -y curl\nRUN make\n'
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, text)
        do103 = next(d for d in diagnostics if d.code == "DO103")
        line = text.splitlines()[1]
        column = line.index("apt-get update")  # characters
        assert do103.range.start == t.Position(line=1, character=column + 2)  # + one extra unit per emoji
        assert do103.range.end.character == column + 2 + len("apt-get update")
        # The quick fix's edit lands where it should: applied with UTF-16 positions, it re-checks clean.
        actions = await code_actions(client, path.as_uri(), text, only=[t.CodeActionKind.QuickFix])
        fix = next(a for a in actions if a.title.startswith("DO103:"))
        new_text, after = await docs.apply(fix.edit)
        assert new_text == dockopt_fix(path, text)
        assert '"\U0001F600\U0001F600" && apt-get update' in new_text
        assert "DO103" not in codes(after)


async def test_hostile_edits_keep_the_server_alive(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        uri = path.as_uri()
        await docs.open(path, "FRO")
        for text in ("FROM", "FROM debian\nRUN <<EOF\napt-get update\n", "FROM debian\nRUN \\\n",
                     "FROM debian\nRUN " + "a|" * 20_000 + "\n",  # tree-sitter's slow path: the guard bounds it
                     "\ufeffFROM debian\r\nRUN apt-get update\r\n", "FROM debian\nCOPY --from= . .\n", ""):
            await docs.change(uri, text)
            hints = await client.text_document_inlay_hint_async(t.InlayHintParams(
                text_document=t.TextDocumentIdentifier(uri=uri), range=whole(text)))
            assert hints is not None
            await client.text_document_hover_async(t.HoverParams(
                text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=1, character=3)))
            await code_actions(client, uri, text)
        assert not [m for m in client.log_messages if m.type == t.MessageType.Error]



async def test_same_findings_as_dockopt_check(tmp_path: Path) -> None:
    """Selection, severities, per-file ignores, inline suppressions and the build context are
    dockopt check's: the server's diagnostics equal `dockopt check --format json`'s."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dockopt]\nextend-select = ["DO105"]\n'
        '[tool.dockopt.per-file-ignores]\n"docker/dev.Dockerfile" = ["DO103"]\n'
        '[tool.dockopt.severity]\nDO101 = "error"\n')
    (tmp_path / "docker").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    (tmp_path / ".dockopt.toml").write_text('extend-select = ["DO305"]\n')  # off by default (issue 16)
    files = {
        tmp_path / "Dockerfile": EXAMPLE,
        tmp_path / "docker" / "dev.Dockerfile": EXAMPLE,
        tmp_path / "app" / "Dockerfile": "FROM python:3.12-slim\nCOPY main.py missing.py /app/\n"
                                         "# dockopt: ignore=DO105\nRUN echo a\nRUN echo b\n",
    }
    async with served(tmp_path) as client:
        docs = Documents(client)
        for path, text in files.items():
            path.write_text(text)
            diagnostics = await docs.open(path, text)
            proc = subprocess.run([sys.executable, "-m", "dockopt", "check", str(path), "--format", "json"],
                                  capture_output=True, text=True, cwd=tmp_path, timeout=120)
            assert proc.returncode in (0, 1), proc.stderr
            expected = sorted((f["code"], f["line"], f["column"], f["end_line"], f["end_column"], f["severity"],
                               f["message"]) for f in json.loads(proc.stdout))
            severities = {t.DiagnosticSeverity.Error: "error", t.DiagnosticSeverity.Warning: "warning",
                          t.DiagnosticSeverity.Information: "info"}
            got = sorted((d.code, d.range.start.line + 1, d.range.start.character + 1, d.range.end.line + 1,
                          d.range.end.character + 1, severities[d.severity], d.message.split(" (")[0])
                         for d in diagnostics)
            assert [g[:6] for g in got] == [e[:6] for e in expected], path
            assert all(e[6].startswith(g[6]) for g, e in zip(got, expected))
        assert any(code == "DO305" for code, *_ in expected)  # the context is the file's directory


async def test_save_rereads_the_configuration(tmp_path: Path) -> None:
    # A client that cannot watch files (Neovim 0.7) still sees a changed configuration on save.
    text = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\n"
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    async with served(tmp_path) as client:
        docs = Documents(client)
        assert "DO103" in codes(await docs.open(path, text))
        (tmp_path / ".dockopt.toml").write_text('ignore = ["DO103"]\n')
        waiting = asyncio.ensure_future(docs.wait_for(path.as_uri(), 1, after=len(client.published)))
        client.text_document_did_save(t.DidSaveTextDocumentParams(text_document=t.TextDocumentIdentifier(
            uri=path.as_uri())))
        assert "DO103" not in codes(await waiting)


async def test_crlf_file_fixes_keep_crlf(tmp_path: Path) -> None:
    text = EXAMPLE.replace("\n", "\r\n")
    path = tmp_path / "Dockerfile"
    async with served(tmp_path) as client:
        docs = Documents(client)
        diagnostics = await docs.open(path, text)
        do103 = next(d for d in diagnostics if d.code == "DO103")
        assert do103.range.end == t.Position(line=2, character=18)  # \r is not part of the line
        actions = await code_actions(client, path.as_uri(), text, only=["source.fixAll.dockopt"])
        fixed, after = await docs.apply(actions[0].edit)
        assert fixed == dockopt_fix(path, text)
        assert "\r\n" in fixed and "\n" not in fixed.replace("\r\n", "")
        assert "DO103" not in codes(after)


async def test_a_client_preferring_utf8_gets_utf8_positions(tmp_path: Path) -> None:
    text = 'FROM python:3.12\nRUN echo "\U0001F600é" && apt-get update\nRUN apt-get install -y curl\n'
    path = tmp_path / "Dockerfile"
    async with served(tmp_path, position_encodings=[t.PositionEncodingKind.Utf8, t.PositionEncodingKind.Utf16]) as client:
        diagnostics = await Documents(client).open(path, text)
        do103 = next(d for d in diagnostics if d.code == "DO103")
        line = text.splitlines()[1]
        assert do103.range.start.character == len(line[: line.index("apt-get update")].encode("utf-8"))
        hover = await client.text_document_hover_async(t.HoverParams(
            text_document=t.TextDocumentIdentifier(uri=path.as_uri()), position=do103.range.start))
        assert hover is not None and "apt-lists" in hover.contents.value
