"""The savings suite (issue 15): what the default `dockopt fix` saves on real builds, as a
share of what a careful person's hand-optimised twin saves.

For every case in tests/e2e/savings/ the original, the default-fixed file and the twin are
built on the engine (``--network host``: apt and wget reach Debian's mirror); every image
must build and its CMD must exit 0. The table (bytes of each image, saving of the fix and
of the twin, share) is printed (``pytest -s``) and written to
``$DOCKOPT_SAVINGS_REPORT`` when set. Time: ~12 cases x 3 builds, a few minutes on a warm
engine (apt downloads dominate), marked slow.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.verify.engine import DockerEngine
from tests.e2e.conftest import TagPool

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SAVINGS = Path(__file__).parent / "savings"
CASES = sorted(p.name for p in SAVINGS.iterdir() if (p / "Dockerfile").is_file())
BUILDKIT = {"chmod-large-copy", "secret-removed"}
GENERATED = {"chmod-large-copy": {"big.bin": 20_000_000}}
RESULTS: dict[str, dict[str, object]] = {}


def _context(case: str, tmp: Path) -> Path:
    root = tmp / case
    shutil.copytree(SAVINGS / case, root)
    for name, size in GENERATED.get(case, {}).items():
        (root / name).write_bytes(os.urandom(size))
    return root


def _build(engine: DockerEngine, tags: TagPool, root: Path, dockerfile: str, name: str, case: str) -> int:
    (root / "Dockerfile.build").write_text((root / dockerfile).read_text())
    secrets = {"deploy_key": root / "deploy_key"} if dockerfile == "optimised.Dockerfile" and case == "secret-removed" else None
    result = engine.build(root / "Dockerfile.build", root, tags(name), buildkit=case in BUILDKIT, secrets=secrets)
    assert result.ok, result.log[-2000:]
    tags.ids.append(result.image_id)  # type: ignore[arg-type]
    run = engine.run(tags.tags[-1], [], check=False)
    assert run.returncode == 0, f"{case} {dockerfile}: CMD exited {run.returncode}: {run.stderr[-500:]}"
    return engine.image_size(tags.tags[-1])


@pytest.mark.parametrize("case", CASES)
def test_default_fix_saves_what_the_twin_saves(case: str, engine: DockerEngine, tags: TagPool,
                                               tmp_path: Path) -> None:
    root = _context(case, tmp_path)
    shutil.copy(root / "Dockerfile", root / "fixed.Dockerfile")
    fix = subprocess.run([sys.executable, "-m", "dockopt", "fix", "--no-config", str(root / "fixed.Dockerfile")],
                         capture_output=True, text=True)
    assert fix.returncode in (0, 1) and "Traceback" not in fix.stderr, fix.stderr
    original = _build(engine, tags, root, "Dockerfile", f"{case}-original", case)
    fixed = _build(engine, tags, root, "fixed.Dockerfile", f"{case}-fixed", case)
    twin = _build(engine, tags, root, "optimised.Dockerfile", f"{case}-twin", case)
    RESULTS[case] = {"original": original, "fixed": fixed, "twin": twin,
                     "fix_saved": original - fixed, "twin_saved": original - twin}
    assert fixed <= original + 4096, f"the default fix made {case} bigger"


def test_zz_savings_table() -> None:
    if not RESULTS:
        pytest.skip("no savings case ran")
    lines = [f"{'case':<20} {'original':>12} {'fixed':>12} {'twin':>12} {'fix saved':>12} {'twin saved':>12}  share"]
    for case, r in sorted(RESULTS.items()):
        twin_saved = int(r["twin_saved"])  # type: ignore[call-overload]
        share = f"{100 * int(r['fix_saved']) / twin_saved:.0f}%" if twin_saved > 1_000_000 else "n/a (<1 MB)"  # type: ignore[call-overload]
        lines.append(f"{case:<20} {r['original']:>12} {r['fixed']:>12} {r['twin']:>12} {r['fix_saved']:>12} "
                     f"{twin_saved:>12}  {share}")
    counted = [r for r in RESULTS.values() if int(r["twin_saved"]) > 1_000_000]  # type: ignore[call-overload]
    fix_total = sum(int(r["fix_saved"]) for r in counted)  # type: ignore[call-overload]
    twin_total = sum(int(r["twin_saved"]) for r in counted)  # type: ignore[call-overload]
    lines.append(f"total (cases where the twin saves > 1 MB): fix {fix_total} of twin {twin_total} bytes = "
                 f"{100 * fix_total / max(twin_total, 1):.0f}%")
    print("\n" + "\n".join(lines))
    if os.environ.get("DOCKOPT_SAVINGS_REPORT"):
        Path(os.environ["DOCKOPT_SAVINGS_REPORT"]).write_text(json.dumps(RESULTS, indent=2) + "\n")
