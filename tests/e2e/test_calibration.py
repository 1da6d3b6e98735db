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

The same layers are estimated a second time with ``--fetch-sizes`` (download sizes asked of
the servers, a fresh cache), when the URLs the cases download are reachable; that part is
skipped with one line otherwise. There the issue's "done when" is asserted strictly: at least
80% of *all* layers of 1 MB or more within 2x, an unknown estimate counting as a miss (``make``
stays unknown: it is outside the model).

``pytest -s`` prints every layer (real, estimate without and with fetching, ratio) and both
summaries (share within 2x, median |log2(estimate/real)| of the known estimates, unknown
estimates); ``$DOCKOPT_CALIBRATION_REPORT`` receives the rows as JSON when set.
"""
from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from dockopt.layers.downloads import DownloadSizer
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
FETCHED: dict[str, list[Row]] = {}  # the same layers, estimated with --fetch-sizes
UNREACHABLE: list[str] = []  # "URL: why" of downloads the servers did not size


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


@pytest.fixture(scope="module")
def sizer(tmp_path_factory: pytest.TempPathFactory) -> DownloadSizer:
    """--fetch-sizes with an empty cache of its own: every URL is really asked."""
    return DownloadSizer(tmp_path_factory.mktemp("download-sizes"))


def measure(engine: DockerEngine, builds: OriginalBuilds, case_dir: Path,
            downloads: DownloadSizer | None = None) -> list[Row]:
    built = builds.original(case_dir)
    text = built.dockerfile.read_text()
    plan, error = plan_for(text, built.dockerfile, built.context, None, downloads)
    assert plan is not None, error
    layers = {layer.instruction.start_line: layer for stage in plan.stages for layer in stage.layers}
    if downloads is not None:
        UNREACHABLE.extend(f"{e.url}: {e.size_note}" for layer in layers.values() for e in layer.effects
                           if e.url is not None and e.size is None)
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
def test_no_layer_is_a_known_zero(case_dir: Path, engine: DockerEngine, original_builds: OriginalBuilds,
                                  sizer: DownloadSizer) -> None:
    case = f"{case_dir.parent.name}/{case_dir.name}"
    ROWS[case] = measure(engine, original_builds, case_dir)
    FETCHED[case] = measure(engine, original_builds, case_dir, sizer)
    for rows in (ROWS[case], FETCHED[case]):
        known_zero = [r for r in rows if r.estimate == 0 and r.real > KNOWN_ZERO_LIMIT]
        assert not known_zero, f"estimated as a known 0 bytes: {known_zero}"


def _fmt(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 1e6:.2f} MB"


@dataclass(frozen=True)
class Summary:
    big: int  # layers of 1 MB or more
    known: int  # ... with an estimate
    within: int  # ... estimated within 2x
    median_log2_error: float  # of the known estimates
    all_layers: int

    @property
    def unknown(self) -> int:
        return self.big - self.known

    @property
    def share_known(self) -> float:
        return self.within / self.known

    @property
    def share_all(self) -> float:
        """Unknown estimates counted as misses (the strict reading of the issue's "done when")."""
        return self.within / self.big

    def line(self, label: str) -> str:
        return (f"{label}: layers >= 1 MB: {self.big}; with an estimate: {self.known}, within 2x: {self.within} "
                f"({100 * self.share_known:.0f}% of the estimated, {100 * self.share_all:.0f}% of all, unknown "
                f"counted as misses); median |log2 error| of the estimates: {self.median_log2_error:.2f}; "
                f"unknown: {self.unknown} ({100 * self.unknown / self.big:.0f}%); all layers: {self.all_layers}")


def summarize(rows: list[Row]) -> Summary:
    big = [r for r in rows if r.real >= MIN_LAYER]
    known = [r for r in big if r.estimate is not None]
    errors = [abs(math.log2(r.ratio)) for r in known if r.ratio is not None]
    return Summary(len(big), len(known), sum(1 for r in known if r.within_2x), statistics.median(errors), len(rows))


def test_zz_estimates_within_2x() -> None:
    if len(ROWS) < len(CASE_DIRS):
        pytest.skip(f"calibration needs every case; {len(ROWS)} of {len(CASE_DIRS)} ran")
    rows = [r for case in sorted(ROWS) for r in ROWS[case]]
    fetched = [r for case in sorted(ROWS) for r in FETCHED[case]]
    lines = [f"{'case':<34} {'line':>4} {'instr':<5} {'real':>11} {'estimate':>13} {'ratio':>6} "
             f"{'fetch-sizes':>13} {'ratio':>6}"]
    for r, f in zip(rows, fetched):
        cells = []
        for x in (r, f):
            ratio = f"{x.ratio:.2f}" if x.ratio is not None else "-"
            cells.append(f"{_fmt(x.estimate) + ('+?' if x.partly_unknown else ''):>13} {ratio:>6}")
        mark = "" if r.real < MIN_LAYER else "  " + "/".join("ok" if x.within_2x else "OFF" for x in (r, f))
        lines.append(f"{r.case:<34} {r.line:>4} {r.instruction:<5} {_fmt(r.real):>11} {cells[0]} {cells[1]}{mark}")
    plain, with_fetch = summarize(rows), summarize(fetched)
    lines.append(plain.line("without --fetch-sizes"))
    lines.append(with_fetch.line("with --fetch-sizes") if not UNREACHABLE
                 else f"with --fetch-sizes: not measured, {len(UNREACHABLE)} download(s) not sized: {UNREACHABLE[0]}")
    print("\n" + "\n".join(lines))
    if os.environ.get("DOCKOPT_CALIBRATION_REPORT"):
        Path(os.environ["DOCKOPT_CALIBRATION_REPORT"]).write_text(json.dumps(
            [asdict(r) | {"ratio": r.ratio, "fetched_estimate": f.estimate, "fetched_ratio": f.ratio}
             for r, f in zip(rows, fetched)], indent=2) + "\n")
    assert plain.share_known >= 0.8, (f"only {100 * plain.share_known:.0f}% of {plain.known} estimated layers of "
                                      "1 MB or more are within 2x")
    # "unknown" is the honest answer for what cannot be known statically (a URL's size, what
    # `make` builds), never a way out: at most a quarter of the big layers may be unknown.
    assert plain.unknown <= plain.big / 4, f"{plain.unknown} of {plain.big} layers of 1 MB or more have no estimate"
    if UNREACHABLE:
        pytest.skip(f"--fetch-sizes part skipped: the servers did not size {UNREACHABLE[0]}")
    # The "done when", read strictly: an unknown estimate is a miss.
    assert with_fetch.share_all >= 0.8, (f"with --fetch-sizes only {with_fetch.within} of {with_fetch.big} layers "
                                         "of 1 MB or more are estimated within 2x (unknown counted as misses)")
