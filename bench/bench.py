#!/usr/bin/env python3
"""dockopt vs hadolint: whole processes over the same corpus, in the same run.

Usage (from the project root, with the project's virtualenv)::

    .venv/bin/python bench/bench.py [--corpus DIR] [--jobs N] [--limit N] [--markdown FILE]

What is measured, and why this way:

- Throughput is whole processes, as a user runs them: ``dockopt check --select ALL`` on every
  file in one process (``--jobs N``, the default CPU count, then ``--jobs 1``), and
  ``hadolint`` in xargs-style batches of 200 files per process, one batch after the other
  (what ``xargs -n 200 hadolint`` does). Wall time includes interpreter start-up, reading
  the files and printing every finding (to a file, not a terminal).
- Peak memory is read two ways: the largest single process (``ru_maxrss`` from ``wait4``,
  which covers the process and the children it reaped, e.g. pool workers) and the largest
  sum of RSS and of PSS over the whole process tree, sampled from ``/proc`` every 10 ms (a
  pool's workers run at the same time; RSS counts the pages they share with their parent
  once per process, PSS divides them, so the PSS sum is what the machine has to hold).
- Start-up is the median of ``--repeat`` single-file runs of each tool on the median-sized
  corpus file. Python reads its bytecode cache as an installed wheel would (pip compiles
  on install): the benchmark runs with a private ``PYTHONPYCACHEPREFIX`` that one warm-up
  run fills, and reports the first, cache-less, run separately. Because hadolint's own time
  varies with the file, both tools are also timed on the files at the size deciles.
- ``parse`` alone is in-process (no start-up): the syntax layer's files/s and MB/s.

Only the standard library is used; nothing here is imported by the package or the tests.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = PROJECT.parent / "shared" / "corpus" / "real"
HADOLINT_BATCH = 200
SPREAD_REPEAT = 7  # runs per tool per decile file
SKIP_NAMES = {"MANIFEST.tsv", "README.md"}


@dataclass
class Measure:
    """One timed command (or series of commands run one after the other)."""

    label: str
    files: int
    wall: float
    max_rss_kb: int  # largest single process (wait4 ru_maxrss)
    tree_rss_kb: int  # largest sampled sum over the process tree
    tree_pss_kb: int  # largest sampled sum of PSS (shared pages divided among their sharers)
    exit_codes: tuple[int, ...]

    @property
    def files_per_s(self) -> float:
        return self.files / self.wall if self.wall else float("inf")


class TreeSampler:
    """Polls /proc for the summed RSS and PSS of a process and all its descendants.

    RSS counts a page shared by a forked pool's workers and their parent once per process;
    PSS (``/proc/PID/smaps_rollup``) divides it among them, so the PSS sum is what the
    machine actually holds.
    """

    def __init__(self, root_pid: int, interval: float = 0.01) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss, pss = self._tree_memory()
            self.peak_kb = max(self.peak_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._stop.wait(self.interval)

    def _tree_memory(self) -> tuple[int, int]:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                # fields[1] is the ppid, fields[21] the RSS in pages (proc(5), after the comm field)
                parents[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            except (OSError, IndexError, ValueError):
                continue
        total, wanted = 0, {self.root_pid}
        changed = True
        while changed:  # descendants: repeat until no new child is found
            changed = False
            for pid, ppid in parents.items():
                if ppid in wanted and pid not in wanted:
                    wanted.add(pid)
                    changed = True
        pss_total = 0
        for pid in wanted:
            total += rss.get(pid, 0)
            pss_total += _pss_kb(pid)
        return total, pss_total


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_measured(argv: Sequence[str], env: dict[str, str], out_path: Path,
                 sample_tree: bool = True) -> tuple[float, int, int, int, int]:
    """(wall seconds, exit code, max single-process RSS KiB, peak tree RSS KiB, peak tree PSS
    KiB) of one process.

    Start-up timings pass ``sample_tree=False``: the polling thread competes for a CPU and
    would add milliseconds to a 50 ms run.
    """
    with open(out_path, "ab") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(proc.pid)
        if sample_tree:
            with sampler:
                _, status, usage = os.wait4(proc.pid, 0)
        else:
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen quiet
    return (wall, proc.returncode, usage.ru_maxrss, max(sampler.peak_kb, usage.ru_maxrss),
            sampler.peak_pss_kb)


def run_series(label: str, commands: list[list[str]], files: int, env: dict[str, str], out_path: Path) -> Measure:
    wall = 0.0
    max_rss = tree = tree_pss = 0
    codes = []
    for argv in commands:
        w, code, rss, tree_rss, pss = run_measured(argv, env, out_path)
        wall += w
        max_rss, tree, tree_pss = max(max_rss, rss), max(tree, tree_rss), max(tree_pss, pss)
        codes.append(code)
    return Measure(label, files, wall, max_rss, tree, tree_pss, tuple(sorted(set(codes))))


def median_runs(argv: list[str], env: dict[str, str], repeat: int) -> tuple[float, int]:
    """(median wall seconds, max RSS KiB) over ``repeat`` runs of one command."""
    walls, rss = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        for _ in range(repeat):
            wall, _code, max_rss, _tree, _pss = run_measured(argv, env, out, sample_tree=False)
            walls.append(wall)
            rss = max(rss, max_rss)
    return statistics.median(walls), rss


def size_deciles(files: list[Path]) -> list[Path]:
    """The files at the 10th, 20th, ... 90th percentile of size: a spread of typical inputs."""
    by_size = sorted(files, key=lambda p: (p.stat().st_size, str(p)))
    return [by_size[len(by_size) * k // 10] for k in range(1, 10)] if len(by_size) >= 10 else by_size


def corpus_files(root: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name not in SKIP_NAMES)
    return files[:limit] if limit else files


def dockopt_argv() -> list[str]:
    script = Path(sys.executable).parent / "dockopt"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dockopt"]


def bench_env(pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(pycache), NO_COLOR="1")
    return env


def parse_throughput(files: list[Path]) -> tuple[float, float]:
    """(files/s, MB/s) of ``dockopt.syntax.parse`` alone, in-process, best of three passes."""
    from dockopt.fileio import read_source
    from dockopt.syntax import parse

    texts = [read_source(p, str(p)).text for p in files]
    size_mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for text in texts:
            parse(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best, size_mb / best


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def version(argv: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def table(rows: list[Measure], hadolint: Measure | None) -> str:
    lines = ["| run | files | wall (s) | files/s | vs hadolint | max RSS, one process | peak RSS, process tree "
             "| peak PSS, process tree | exit |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in rows:
        ratio = f"{m.files_per_s / hadolint.files_per_s:.1f}×" if hadolint else "–"
        codes = ",".join(str(c) for c in m.exit_codes)
        lines.append(f"| {m.label} | {m.files} | {m.wall:.2f} | {m.files_per_s:.0f} | {ratio} | {mb(m.max_rss_kb)} "
                     f"| {mb(m.tree_rss_kb)} | {mb(m.tree_pss_kb)} | {codes} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, help="only the first N files (a quick run)")
    parser.add_argument("--repeat", type=int, default=15, help="single-file runs per tool (median)")
    parser.add_argument("--no-hadolint", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(PROJECT / "src"))
    files = corpus_files(args.corpus, args.limit)
    if not files:
        print(f"no files under {args.corpus}", file=sys.stderr)
        return 2
    paths = [str(p) for p in files]
    hadolint_bin = None
    if not args.no_hadolint:
        from dockopt.hadolint import find_hadolint

        hadolint_bin = find_hadolint()

    with tempfile.TemporaryDirectory(prefix="dockopt-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = bench_env(tmp / "pycache")
        dockopt = dockopt_argv()
        sample = sorted(files, key=lambda p: (p.stat().st_size, str(p)))[len(files) // 2]
        single = [*dockopt, "check", "--select", "ALL", str(sample)]
        load_before = os.getloadavg()
        cold, _ = median_runs(single, env, 1)  # fills the bytecode cache: the cache-less first run
        check = [*dockopt, "check", "--select", "ALL"]
        rows = [
            run_series(f"dockopt check --select ALL --jobs {args.jobs}", [[*check, "--jobs", str(args.jobs), *paths]],
                       len(paths), env, tmp / "check-n"),
            run_series("dockopt check --select ALL --jobs 1", [[*check, "--jobs", "1", *paths]],
                       len(paths), env, tmp / "check-1"),
            run_series(f"dockopt fix --diff --select ALL --jobs {args.jobs}",
                       [[*dockopt, "fix", "--diff", "--select", "ALL", "--jobs", str(args.jobs), *paths]],
                       len(paths), env, tmp / "fix"),
        ]
        same_output = (tmp / "check-n").read_bytes() == (tmp / "check-1").read_bytes()
        hadolint = None
        if hadolint_bin:
            batches = [[hadolint_bin, "--no-fail", "--no-color", *paths[i : i + HADOLINT_BATCH]]
                       for i in range(0, len(paths), HADOLINT_BATCH)]
            hadolint = run_series(f"hadolint, batches of {HADOLINT_BATCH}", batches, len(paths), env, tmp / "hadolint")
            rows.append(hadolint)
        dockopt_single, dockopt_single_rss = median_runs(single, env, args.repeat)
        default_single, _ = median_runs([*dockopt, "check", str(sample)], env, args.repeat)
        hadolint_single = hadolint_single_rss = None
        if hadolint_bin:
            hadolint_single, hadolint_single_rss = median_runs([hadolint_bin, "--no-fail", str(sample)], env,
                                                               args.repeat)
        # One file says little: hadolint's time depends on the file (10-120 ms here). Time both
        # tools on files at the size deciles too, fewer runs each, alternating tool by tool.
        spread = size_deciles(files)
        spread_rows = []
        for path in spread:
            ours, _ = median_runs([*dockopt, "check", str(path)], env, SPREAD_REPEAT)
            theirs = median_runs([hadolint_bin, "--no-fail", str(path)], env, SPREAD_REPEAT)[0] if hadolint_bin else None
            spread_rows.append((path, ours, theirs))
        parse_fps, parse_mbps = parse_throughput(files)
        load_after = os.getloadavg()
        info = machine()
        # Other work on the machine slows every figure down: say how busy it was.
        info["load average (1 min) before / after"] = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
        info["dockopt"] = version([*dockopt, "--version"], env)
        if hadolint_bin:
            info["hadolint"] = version([hadolint_bin, "--version"], env)

    out = [f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", f"Corpus: {args.corpus} ({len(paths)} files, "
                f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB)", "",
            "Command: `" + " ".join(["python", "bench/bench.py", *(argv if argv is not None else sys.argv[1:])]) + "`",
            "", table(rows, hadolint), ""]
    out.append(f"`--jobs {args.jobs}` output identical to `--jobs 1`: {'yes' if same_output else 'NO'}")
    out += ["", "| single file (median of %d runs) | wall (ms) | max RSS |" % args.repeat, "|---|---:|---:|",
            f"| dockopt check --select ALL ({sample.stat().st_size} bytes) | {dockopt_single * 1000:.0f} "
            f"| {mb(dockopt_single_rss)} |"]
    out.append(f"| dockopt check (default rules) | {default_single * 1000:.0f} | |")
    if hadolint_single is not None and hadolint_single_rss is not None:
        out.append(f"| hadolint | {hadolint_single * 1000:.0f} | {mb(hadolint_single_rss)} |")
    out += [f"| dockopt, first run without a bytecode cache | {cold * 1000:.0f} | |", "",
            f"Files at the size deciles (default rules, median of {SPREAD_REPEAT} runs each):", "",
            "| file | bytes | dockopt (ms) | hadolint (ms) | ratio |", "|---|---:|---:|---:|---:|"]
    for path, ours, theirs in spread_rows:
        ratio = f"{ours / theirs:.2f}" if theirs else "–"
        hadolint_ms = f"{theirs * 1000:.0f}" if theirs else "–"
        out.append(f"| {path.parent.name}/{path.name} | {path.stat().st_size} | {ours * 1000:.0f} | {hadolint_ms} "
                   f"| {ratio} |")
    if all(theirs for _, _, theirs in spread_rows):
        ratios = [ours / theirs for _, ours, theirs in spread_rows if theirs]
        out.append(f"| **median ratio** | | | | **{statistics.median(ratios):.2f}** |")
    out += ["",
            f"parse alone (in-process, best of 3): {parse_fps:.0f} files/s, {parse_mbps:.1f} MB/s"]
    if hadolint is not None:
        best = rows[0]
        out += ["", f"Throughput ratio (dockopt --jobs {args.jobs} / hadolint): "
                    f"{best.files_per_s / hadolint.files_per_s:.1f}× (target ≥ 50×)"]
        if hadolint_single is not None:
            out.append(f"Single-file ratio (dockopt / hadolint wall): {dockopt_single / hadolint_single:.2f} "
                       "(target ≤ 1)")
    out.append(f"Peak memory, largest process: {mb(max(m.max_rss_kb for m in rows[:3]))}; "
               f"whole process tree (PSS): {mb(max(m.tree_pss_kb for m in rows[:3]))} (target < 100 MB)")
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
