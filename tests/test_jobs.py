"""``--jobs``: multi-file runs go through the process pool, and its output is exactly that of
``--jobs 1`` (same reports, same order, same diffs, same files written, same exit code)."""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.runner import PARALLEL_MIN_FILES, RunOptions, run_files
from dockopt.selection import CliOverrides
from tests.corpus import CORPUS, corpus_files, require_corpus

# Enough files for the pool, with the kinds of input that take different paths: multi-stage
# builds, heredocs, Windows images, syntax errors, odd encodings.
SAMPLE_DIRS = (
    "real/docker-library__php",
    "real/kubernetes__release",
    "real/pytorch__serve",
    "parser-cases/buildkit/testfiles-negative",
    "parser-cases/hadolint__language-docker",
)


class _RecordingPool(concurrent.futures.ProcessPoolExecutor):
    """The real pool, counting how often it is created (a pool nobody used proves nothing)."""

    created: list[int] = []

    def __init__(self, max_workers: int | None = None, *args: object, **kwargs: object) -> None:
        type(self).created.append(max_workers or 0)
        super().__init__(max_workers, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture()
def recording_pool(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    _RecordingPool.created = []
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _RecordingPool)
    return _RecordingPool.created


def _sample(count: int | None = None) -> list[Path]:
    files = [p for d in SAMPLE_DIRS for p in corpus_files(*d.split("/"))]
    return files[:count] if count else files


def _options(jobs: int) -> RunOptions:
    return RunOptions(CliOverrides(select=("ALL",)), no_config=True, jobs=jobs)


def test_multi_file_run_uses_the_pool(recording_pool: list[int]) -> None:
    files = _sample(PARALLEL_MIN_FILES + 4)
    parallel = run_files("check", files, _options(2))
    assert recording_pool == [2]
    serial = run_files("check", files, _options(1))
    assert recording_pool == [2], "--jobs 1 must not start a pool"
    assert [o.report.diagnostics if o.report else o.error for o in parallel] == [
        o.report.diagnostics if o.report else o.error for o in serial
    ]


def test_few_files_stay_in_process(recording_pool: list[int]) -> None:
    # A pool costs more than it saves below PARALLEL_MIN_FILES (an editor, a pre-commit hook).
    run_files("check", _sample(PARALLEL_MIN_FILES - 1), _options(2))
    assert recording_pool == []


def _dockopt(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "dockopt", *args], cwd=cwd, capture_output=True, env=env,
                          timeout=300)


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--select", "ALL"),
        ("check", "--select", "ALL", "--format", "json"),
        ("check", "--format", "sarif", "--report-unused-suppressions"),
        ("fix", "--diff", "--unsafe-fixes", "--select", "ALL"),
    ],
    ids=["text", "json", "sarif", "fix-diff"],
)
def test_cli_output_identical_to_jobs_1(args: tuple[str, ...], tmp_path: Path) -> None:
    files = [str(p) for p in _sample()]
    assert len(files) >= 4 * PARALLEL_MIN_FILES
    one = _dockopt(*args, "--no-config", "--jobs", "1", *files, cwd=tmp_path)
    two = _dockopt(*args, "--no-config", "--jobs", "2", *files, cwd=tmp_path)
    assert "Traceback" not in two.stderr.decode(errors="replace")
    assert one.stdout, "the sample must produce output, or the comparison proves nothing"
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr)


def test_fix_in_place_writes_the_same_files_as_jobs_1(tmp_path: Path) -> None:
    trees = {}
    for jobs in ("1", "2"):
        root = tmp_path / f"jobs{jobs}"
        copies = []
        for index, path in enumerate(_sample()):
            copy = root / f"{index:03d}" / path.name
            copy.parent.mkdir(parents=True)
            shutil.copyfile(path, copy)
            copies.append(str(copy.relative_to(root)))
        result = _dockopt("fix", "--unsafe-fixes", "--select", "ALL", "--no-config", "--jobs", jobs, *copies, cwd=root)
        assert "Traceback" not in result.stderr.decode(errors="replace")
        trees[jobs] = (result.returncode, result.stdout, {c: (root / c).read_bytes() for c in copies})
    assert trees["2"] == trees["1"]
    originals = {f"{i:03d}/{p.name}": p.read_bytes() for i, p in enumerate(_sample())}
    assert trees["1"][2] != originals, "some file must have been fixed"


def test_sample_directories_exist() -> None:
    # corpus_files skips a missing directory; a renamed one must fail here instead.
    require_corpus()
    for directory in SAMPLE_DIRS:
        assert (CORPUS / directory).is_dir(), directory


def _dies_on_the_marked_file(path: Path, display: str, settings: object, stdin_text: str | None = None) -> object:
    from dockopt import runner

    if path.read_text(errors="replace").startswith("# die\n"):
        os.kill(os.getpid(), 9)  # as a segfault in a C extension or the OOM killer would
    return runner._REAL_CHECK_ONE(path, display, settings, stdin_text)  # type: ignore[attr-defined]


def test_a_worker_that_dies_costs_one_file_not_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockopt import runner

    files = []
    for i in range(PARALLEL_MIN_FILES + 8):
        path = tmp_path / f"d{i:02}" / "Dockerfile"
        path.parent.mkdir()
        path.write_text(("# die\n" if i in (3, 17) else "") + "FROM debian\nRUN apt-get update\n")
        files.append(path)
    monkeypatch.setattr(runner, "_REAL_CHECK_ONE", runner.check_one, raising=False)
    monkeypatch.setattr(runner, "check_one", _dies_on_the_marked_file)  # forked workers inherit it
    outcomes = run_files("check", files, _options(2))
    assert len(outcomes) == len(files)
    errors = [i for i, o in enumerate(outcomes) if o.error]
    assert errors == [3, 17]
    assert "internal error" in (outcomes[3].error or "") and "d03" in (outcomes[3].error or "")
    assert all(o.report is not None and o.report.diagnostics for i, o in enumerate(outcomes) if i not in (3, 17))
