"""``dockopt server``: warm re-check latency after an edit (a benchmark, not a test).

Starts the real server process (``python -m dockopt server``), opens a corpus file and then
edits it many times, measuring from sending ``textDocument/didChange`` to receiving the
``textDocument/publishDiagnostics`` for that version, with the debounce set to 0 ms through
``initializationOptions`` (an editor adds its debounce, 150 ms by default, on top). Also
measured after each edit: the ``textDocument/inlayHint`` request (layer sizes; it runs the
simulator on top of the check) and the fix-all code action (the fixer's passes).

The files are the corpus's median and 99th-percentile Dockerfile by size, from
``../shared/corpus/real`` (override with ``--corpus``). Each edit toggles a character in the
middle of the file, so every check sees a new text. Target: p50 <= 15 ms on the median file.

    .venv/bin/python bench/server_latency.py [--corpus DIR] [--edits N] [--markdown FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus" / "real"


def corpus_files(root: Path) -> list[Path]:
    """Every file of the corpus (its names are flattened paths, not all Dockerfile-shaped),
    as bench/bench.py lists them."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))


def pick(files: list[Path]) -> dict[str, Path]:
    by_size = sorted(files, key=lambda p: (p.stat().st_size, str(p)))
    return {"median": by_size[len(by_size) // 2], "p99": by_size[min(len(by_size) - 1, int(len(by_size) * 0.99))]}


def edited(text: str, n: int) -> str:
    """The text with one character toggled in the middle (on a line of its own, a comment, so
    the file stays valid and its findings stay the same)."""
    middle = text.find("\n", len(text) // 2)
    middle = len(text) if middle == -1 else middle + 1
    return text[:middle] + ("# edit\n" if n % 2 else "# edit.\n") + text[middle:]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def measure(path: Path, edits: int, warmup: int) -> dict[str, list[float]]:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient
    from pytest_lsp import client_capabilities

    client = LanguageClient("server-latency", "1")
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8", errors="replace")
    published: dict[int, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()

    def on_publish(params: t.PublishDiagnosticsParams) -> None:
        future = published.get(params.version)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(on_publish)
    client.feature(t.WINDOW_LOG_MESSAGE)(lambda params: None)
    client.feature(t.CLIENT_REGISTER_CAPABILITY)(lambda params: None)  # the server watches config files
    await client.start_io(sys.executable, "-m", "dockopt", "server")
    await client.initialize_async(t.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=path.parent.as_uri(),
        initialization_options={"debounceMs": 0}))
    client.initialized(t.InitializedParams())
    published[1] = loop.create_future()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id="dockerfile", version=1, text=text)))
    await asyncio.wait_for(published[1], 120)
    whole = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=text.count("\n") + 2, character=0))
    results: dict[str, list[float]] = {"diagnostics": [], "inlay hints": [], "fix-all action": []}
    for n in range(2, 2 + warmup + edits):
        new_text = edited(text, n)
        published[n] = loop.create_future()
        sent = time.perf_counter()
        client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=n),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=new_text)]))
        arrived = await asyncio.wait_for(published[n], 120)
        del published[n]
        started = time.perf_counter()
        await client.text_document_inlay_hint_async(t.InlayHintParams(
            text_document=t.TextDocumentIdentifier(uri=uri), range=whole))
        hinted = time.perf_counter()
        await client.text_document_code_action_async(t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=uri), range=whole,
            context=t.CodeActionContext(diagnostics=[], only=["source.fixAll.dockopt"])))
        acted = time.perf_counter()
        if n >= 2 + warmup:
            results["diagnostics"].append((arrived - sent) * 1000)
            results["inlay hints"].append((hinted - started) * 1000)
            results["fix-all action"].append((acted - hinted) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return results


def in_process(path: Path, edits: int, warmup: int) -> dict[str, list[float]]:
    """The same re-checks without the protocol: the server's own lint call, timed by the CPU
    time of this thread (``time.thread_time``), which a loaded machine does not inflate the
    way it inflates wall time."""
    import gc

    from dockopt.runner import RunOptions, RunSettings
    from dockopt.selection import CliOverrides
    from dockopt.server.analysis import lint_text, warm_up

    settings = RunSettings(RunOptions(overrides=CliOverrides()))
    text = path.read_text(encoding="utf-8", errors="replace")
    warm_up()  # as the server does at start (it also freezes the collector's view)
    cpu: list[float] = []
    for n in range(warmup + edits):
        new_text = edited(text, n)
        started = time.thread_time()
        lint_text(new_text, path, settings)
        if n >= warmup:
            cpu.append((time.thread_time() - started) * 1000)
    gc.unfreeze()
    return {"diagnostics, in-process CPU": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"server_latency: skipped: no corpus at {args.corpus} (give --corpus DIR)")
        return 0
    import os

    files = corpus_files(args.corpus)
    chosen = pick(files)
    load_before = os.getloadavg()[0]
    rows = []
    for label, path in chosen.items():
        results = asyncio.run(measure(path, args.edits, args.warmup))
        results.update(in_process(path, args.edits, args.warmup))
        size = path.stat().st_size
        shown = path.relative_to(args.corpus)
        for request, values in results.items():
            rows.append(f"| {label}: `{shown}` | {size:,} B | {request} | {statistics.median(values):.1f} | "
                        f"{percentile(values, 0.9):.1f} | {percentile(values, 0.99):.1f} | {max(values):.1f} |")
    lines = [f"{len(files)} corpus files; {args.edits} edits each after {args.warmup} warm-up edits; "
             "debounce 0 ms; times in ms (client-observed wall time over stdio, except the in-process CPU row); 1-minute load average "
             f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} CPUs", "",
             "| file | size | request | p50 | p90 | p99 | max |", "|---|---:|---|---:|---:|---:|---:|", *rows]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
