"""Calibration (issue 15): dockopt's per-instruction size estimates against real layers.

Every original Dockerfile of the savings suite (tests/e2e/savings/) and of the calibration
cases (tests/e2e/calibration/: a virtualenv with pip installs from a local package index,
exec-form apt installs) is built once on the engine (the same images the savings suite
compares, see tests/e2e/originals.py). Each layer the Dockerfile made is paired with its line
(``docker history`` mapped by ``verify.layermap``) and with the estimate ``dockopt layers``
shows for that line. Asserted, as the issue's "done when" says:

- at least 80% of the layers of 1 MB (10^6 B) or more that have an estimate are estimated
  within 2x, and at most a quarter of them have none ("unknown": a download's size, what
  `make` builds; the share with unknowns counted as misses is printed too);
- no layer is estimated as a *known* 0 bytes while it really holds more than 64 kB: a command
  outside the model must say "unknown", never 0.

``pytest -s`` prints every layer (real, estimate, ratio) and the summary (share within 2x,
median |log2(estimate/real)| of the known estimates, unknown estimates);
``$DOCKOPT_CALIBRATION_REPORT`` receives the rows as JSON when set.
"""
from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from dockopt.layers.render import plan_for
from dockopt.model import build_model
from dockopt.syntax import parse
from dockopt.verify.engine import DockerEngine
from dockopt.verify.layermap import map_history
from tests.e2e.originals import OriginalBuilds

pytestmark = [pytest.mark.engine, pytest.mark.slow]

E2E = Path(__file__).parent
CASE_DIRS = sorted(
    p for folder in ("savings", "calibration") for p in (E2E / folder).iterdir() if (p / "Dockerfile").is_file()
)
MIN_LAYER = 10**6  # the "layers of 1 MB or more"
KNOWN_ZERO_LIMIT = 64_000  # a real layer above this must not be estimated as a known 0 bytes
ROWS: dict[str, list[Row]] = {}


@dataclass(frozen=True)
class Row:
    case: str
    line: int
    instruction: str
    real: int
    estimate: int | None  # None: unknown (nothing of the layer could be estimated)
    partly_unknown: bool  # an estimate that leaves part of the layer out ("~12 MB+?")

    @property
    def ratio(self) -> float | None:
        return self.estimate / self.real if self.estimate and self.real else None

    @property
    def within_2x(self) -> bool:
        return self.ratio is not None and 0.5 <= self.ratio <= 2


def measure(engine: DockerEngine, builds: OriginalBuilds, case_dir: Path) -> list[Row]:
    built = builds.original(case_dir)
    text = built.dockerfile.read_text()
    plan, error = plan_for(text, built.dockerfile, built.context, None)
    assert plan is not None, error
    layers = {layer.instruction.start_line: layer for stage in plan.stages for layer in stage.layers}
    rows = []
    for entry in map_history(build_model(parse(text)), None, engine.history(built.tag)):
        if entry.from_base or not entry.is_layer or entry.line is None:
            continue
        layer = layers[entry.line]
        unknown = layer.added == 0 and layer.added_unknown
        rows.append(Row(case_dir.name, entry.line, entry.instruction, entry.size_bytes,
                        None if unknown else layer.added, layer.added_unknown and not unknown))
    return rows


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[f"{p.parent.name}/{p.name}" for p in CASE_DIRS])
def test_no_layer_is_a_known_zero(case_dir: Path, engine: DockerEngine, original_builds: OriginalBuilds) -> None:
    rows = measure(engine, original_builds, case_dir)
    ROWS[f"{case_dir.parent.name}/{case_dir.name}"] = rows
    known_zero = [r for r in rows if r.estimate == 0 and r.real > KNOWN_ZERO_LIMIT]
    assert not known_zero, f"estimated as a known 0 bytes: {known_zero}"


def _fmt(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 1e6:.2f} MB"


def test_zz_estimates_within_2x() -> None:
    if len(ROWS) < len(CASE_DIRS):
        pytest.skip(f"calibration needs every case; {len(ROWS)} of {len(CASE_DIRS)} ran")
    rows = [r for case in sorted(ROWS) for r in ROWS[case]]
    lines = [f"{'case':<34} {'line':>4} {'instr':<5} {'real':>11} {'estimate':>13} {'ratio':>6}"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        estimate = _fmt(r.estimate) + ("+?" if r.partly_unknown else "")
        mark = "" if r.real < MIN_LAYER else ("  ok" if r.within_2x else "  OFF")
        lines.append(f"{r.case:<34} {r.line:>4} {r.instruction:<5} {_fmt(r.real):>11} {estimate:>13} {ratio:>6}{mark}")
    big = [r for r in rows if r.real >= MIN_LAYER]
    known = [r for r in big if r.estimate is not None]
    within = [r for r in known if r.within_2x]
    errors = [abs(math.log2(r.ratio)) for r in known if r.ratio is not None]
    unknown = len(big) - len(known)
    share_known, share_all = len(within) / len(known), len(within) / len(big)
    lines.append(f"layers >= 1 MB: {len(big)}; with an estimate: {len(known)}, within 2x: {len(within)} "
                 f"({100 * share_known:.0f}% of the estimated, {100 * share_all:.0f}% of all, unknown counted as "
                 f"misses); median |log2 error| of the estimates: {statistics.median(errors):.2f}; "
                 f"unknown: {unknown} ({100 * unknown / len(big):.0f}%); all layers: {len(rows)}")
    print("\n" + "\n".join(lines))
    if os.environ.get("DOCKOPT_CALIBRATION_REPORT"):
        Path(os.environ["DOCKOPT_CALIBRATION_REPORT"]).write_text(
            json.dumps([asdict(r) | {"ratio": r.ratio} for r in rows], indent=2) + "\n")
    assert share_known >= 0.8, (f"only {100 * share_known:.0f}% of {len(known)} estimated layers of 1 MB or more "
                                "are within 2x")
    # "unknown" is the honest answer for what cannot be known statically (a URL's size, what
    # `make` builds), never a way out: at most a quarter of the big layers may be unknown.
    assert unknown <= len(big) / 4, f"{unknown} of {len(big)} layers of 1 MB or more have no estimate"
