"""The savings suite (issue 15): what the default `dockopt fix` saves on real builds, as a
share of what a careful person's hand-optimised twin saves, and `dockopt verify`'s proof of it.

For every case in tests/e2e/savings/ the original (built once per session, shared with the
calibration: tests/e2e/originals.py), the default-fixed file and the twin are built on the
engine (``--network host``: apt and wget reach Debian's mirror, pip the local package index the
session serves); every image must build and its CMD must exit 0. Then `dockopt verify`
(``verify.session.verify``, with the build cache: both images are already built) must find the
original and the fixed image equal except under the cache paths the applied fixes declare
(``Fix.removes_caches``), with the same smoke run. The table (bytes of each image, saving of
the fix and of the twin, share; then verify's verdict per case) is printed (``pytest -s``) and
written to ``$DOCKOPT_SAVINGS_REPORT`` when set. Marked slow.
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
from dockopt.verify.session import VerifyOptions, verify
from tests.e2e.conftest import TagPool
from tests.e2e.originals import Built, OriginalBuilds

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SAVINGS = Path(__file__).parent / "savings"
CASES = sorted(p.name for p in SAVINGS.iterdir() if (p / "Dockerfile").is_file())
RESULTS: dict[str, dict[str, object]] = {}
VERIFIED: dict[str, str] = {}


def _runs(engine: DockerEngine, tag: str, label: str) -> None:
    run = engine.run(tag, [], check=False)
    assert run.returncode == 0, f"{label}: CMD exited {run.returncode}: {run.stderr[-500:]}"


def _build(engine: DockerEngine, tags: TagPool, built: Built, dockerfile: str, name: str) -> int:
    root = built.context
    (root / "Dockerfile.build").write_text((root / dockerfile).read_text())
    secrets = {"deploy_key": root / "deploy_key"} if dockerfile == "optimised.Dockerfile" and built.case == "secret-removed" else None
    result = engine.build(root / "Dockerfile.build", root, tags(name), buildkit=built.buildkit,
                          build_args=built.build_args, secrets=secrets)
    assert result.ok, result.log[-2000:]
    tags.ids.append(result.image_id)  # type: ignore[arg-type]
    _runs(engine, tags.tags[-1], f"{built.case} {dockerfile}")
    return engine.image_size(tags.tags[-1])


def _fixed(built: Built) -> Path:
    """``dockopt fix`` with the defaults, applied to a copy of the original in the case's context."""
    fixed = built.context / "fixed.Dockerfile"
    if not fixed.exists():
        shutil.copy(built.dockerfile, fixed)
        fix = subprocess.run([sys.executable, "-m", "dockopt", "fix", "--no-config", str(fixed)],
                             capture_output=True, text=True)
        assert fix.returncode in (0, 1) and "Traceback" not in fix.stderr, fix.stderr
    return fixed


@pytest.mark.parametrize("case", CASES)
def test_default_fix_saves_what_the_twin_saves(case: str, engine: DockerEngine, tags: TagPool,
                                               original_builds: OriginalBuilds) -> None:
    built = original_builds.original(SAVINGS / case)
    _runs(engine, built.tag, f"{case} Dockerfile")
    _fixed(built)
    fixed = _build(engine, tags, built, "fixed.Dockerfile", f"{case}-fixed")
    twin = _build(engine, tags, built, "optimised.Dockerfile", f"{case}-twin")
    original = built.size
    RESULTS[case] = {"original": original, "fixed": fixed, "twin": twin,
                     "fix_saved": original - fixed, "twin_saved": original - twin}
    assert fixed <= original + 4096, f"the default fix made {case} bigger"


@pytest.mark.parametrize("case", CASES)
def test_verify_proves_the_default_fix(case: str, engine: DockerEngine, original_builds: OriginalBuilds) -> None:
    """`dockopt verify` (original vs default fix) finds equal filesystems, except the caches the
    fixes declare, and the same behaviour. Built with the cache: the original is the image the
    suite already built, the fixed one too when the savings test ran first."""
    built = original_builds.original(SAVINGS / case)
    report = verify(engine, VerifyOptions(dockerfile=built.dockerfile, context=built.context, buildkit=built.buildkit,
                                          no_cache=False, build_args=tuple(sorted(built.build_args.items())),
                                          tag_prefix=f"{original_builds.tags.prefix}-verify-{case}"))  # type: ignore[attr-defined]
    codes = ", ".join(sorted({d.code for d in report.fixes_applied})) or "no fix"
    removed = sorted(report.fs_declared_caches.removed) if report.fs_declared_caches else []
    VERIFIED[case] = (f"{report.verdict}; fixes {codes}; declared caches {list(report.declared_caches)}; "
                      f"cache paths removed: {len(removed)}; other differences: "
                      f"{len(report.fs_diff.paths()) if report.fs_diff else 0}")
    assert report.verdict in ("ok",), f"{case}: {report.verdict}: {report.problem}"
    assert report.fs_diff is not None and report.fs_diff.is_empty, report.fs_diff.summary() if report.fs_diff else ""
    if report.fixes_applied:
        assert report.smoke and all(check.equal for check in report.smoke)


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
    lines += [f"verify {case:<20} {line}" for case, line in sorted(VERIFIED.items())]
    print("\n" + "\n".join(lines))
    if os.environ.get("DOCKOPT_SAVINGS_REPORT"):
        Path(os.environ["DOCKOPT_SAVINGS_REPORT"]).write_text(json.dumps(RESULTS, indent=2) + "\n")
