"""``dockopt verify`` on real builds: each case under ``cases/<name>/`` is a Dockerfile, its build
context, and an ``expect.toml`` saying what must hold.

Every case is verified once per session (``verified``) and the tests below each check one
claim of its report against the images: the fixes applied, that the fixed image builds and
runs, the final filesystem, the layer-to-line mapping, dockopt's size estimate against the
measured saving, secrets in layers, and cache misses after an edit.

``expect.toml`` keys (all optional except ``description``):

- ``requires_rule``: skip the case while that rule is not in the rule book (being written).
- ``verdict`` (default ``"ok"``): the verdict verify must reach. Cases whose images do not
  both build skip the image tests; ``[outcome]`` ``original_line``/``exit_code`` say where
  and how the original fails (and the fixed file must fail the same way).
- ``context`` (relative to the case; ``--context``: without it the context is the Dockerfile's
  directory, as dockopt assumes but does not know), ``unsafe_fixes``, ``rebuild_after``,
  ``buildkit`` (true/false; default: verify decides), ``no_cache`` (default true, as verify's
  default; false reuses layers earlier builds left in the engine's cache).
- ``proves_recipe``: the DO401 split recipe this case proves (``dockopt.fixes.split.PROVEN_RECIPES``):
  the applied DO401 fix must be that recipe's split, and the fixed image must build and run.
- ``[fixes]`` ``applied`` (exact codes, in order of application) or ``applied_any``.
- ``[image]`` ``filesystem_equal`` (equal once nondeterminism and the removals under the
  caches the fixes declare are set aside; or ``differs_only_under``: prefixes that hold every
  difference, e.g. the caches an unsafe cleanup removes), ``declared_caches`` (exactly the
  cache paths the applied fixes declare, and something was removed there), ``layers_before``/``layers_after`` (``docker inspect``
  layer counts, base image included), ``saved_bytes`` (exact), ``run`` + ``stdout_contains``
  (run the fixed image).
- ``[estimate]`` ``tolerance`` (relative; dockopt's simulated saving and the first ``~size``
  of the ``message_code`` finding against the measured saving) or ``unknown = true`` (dockopt
  must say "unknown size" rather than guess).
- ``[[secrets]]`` ``path``, ``layer_line``, ``present_in_original|fixed|suggested``.
- ``[cache]`` ``original_missed``/``fixed_missed`` (lines that must miss after the edit),
  ``original_hit``/``fixed_hit`` (lines that must stay cached).
- ``[smoke]`` ``equal``: the images' ENTRYPOINT/CMD ran in both and did the same (checked
  whenever a fix was applied).
- ``[nondeterminism]`` ``measured`` (was the original built a second time), ``paths`` (among
  the differences put down to nondeterminism).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import tomllib

from dockopt.rulebook import load_rulebook
from dockopt.syntax import parse
from dockopt.verify.engine import DockerEngine
from dockopt.verify.report import CacheSide, VerifyReport
from dockopt.verify.session import VerifyOptions, verify

if TYPE_CHECKING:
    from conftest import TagPool

CASES_DIR = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expect.toml").is_file())
ROLES = ("original", "fixed", "suggested", "original-rebuild", "fixed-rebuild", "original-again")
EXIT_CODES = {"ok": 0, "original-build-failed": 2}  # every other verdict: 1 (dockopt is wrong)
LAYER_INSTRUCTIONS = {"RUN", "COPY", "ADD", "WORKDIR"}
_SIZE = re.compile(r"~(\d+(?:\.\d+)?) (B|kB|MB|GB)\b")
# dockopt.layers.sizes.human's units: decimal, as `docker images` prints them (kB = 10^3 B)
_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9}

pytestmark = pytest.mark.engine


@dataclass
class Case:
    name: str
    directory: Path
    expect: dict[str, Any]

    def table(self, key: str) -> dict[str, Any]:
        return self.expect.get(key) or {}


@dataclass
class Verified:
    case: Case
    report: VerifyReport
    digest_before: str
    digest_after: str
    tag_prefix: str


def load_case(name: str) -> Case:
    directory = CASES_DIR / name
    return Case(name, directory, tomllib.loads((directory / "expect.toml").read_text(encoding="utf-8")))


def tree_digest(root: Path) -> str:
    """Content, mode and mtime of every file: `verify` must leave the user's tree alone."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        st = path.stat()
        h.update(f"{path.relative_to(root)}\0{st.st_mode}\0{st.st_mtime_ns}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def verified(engine: DockerEngine, tags: TagPool) -> Callable[[str], Verified]:
    """Verify each case once per session; every test of the case reads the same report."""
    done: dict[str, Verified] = {}

    def get(name: str) -> Verified:
        if name in done:
            return done[name]
        case = load_case(name)
        rule = case.expect.get("requires_rule")
        if rule and rule not in load_rulebook():
            pytest.skip(f"{rule} is not in the rule book yet (rules/{rule}.toml): this case runs once it is")
        prefix = f"{tags.prefix}-{name}"
        tags.tags.extend(f"{prefix}:{role}" for role in ROLES)  # removed at the end of the session
        before = tree_digest(case.directory)
        report = verify(engine, VerifyOptions(
            dockerfile=case.directory / "Dockerfile",
            context=case.directory / case.expect["context"] if "context" in case.expect else None,
            unsafe_fixes=bool(case.expect.get("unsafe_fixes", False)),
            rebuild_after=case.expect.get("rebuild_after"),
            buildkit=case.expect.get("buildkit"),
            no_cache=bool(case.expect.get("no_cache", True)),
            keep_images=True,
            tag_prefix=prefix,
        ))
        done[name] = Verified(case, report, before, tree_digest(case.directory), prefix)
        return done[name]

    return get


@pytest.fixture(params=CASE_NAMES)
def case(request: pytest.FixtureRequest, verified: Callable[[str], Verified]) -> Verified:
    return verified(request.param)


def first_size(message: str) -> int | None:
    m = _SIZE.search(message)
    return round(float(m.group(1)) * _UNITS[m.group(2)]) if m else None


# ------------------------------------------------------------------------------------- the tests


def test_report_verdict_and_user_files_untouched(case: Verified) -> None:
    report = case.report
    expected = case.case.expect.get("verdict", "ok")
    assert report.verdict == expected, report.problem
    assert report.exit_code == EXIT_CODES.get(expected, 1)
    assert case.digest_after == case.digest_before, "verify changed the case's files"


def built(case: Verified) -> Verified:
    """The case, when both its images are meant to build; the image tests skip the others."""
    if case.case.expect.get("verdict", "ok") != "ok":
        pytest.skip(f"{case.case.name}: the images are not meant to build")
    return case


def test_build_outcome(case: Verified) -> None:
    """Where a failing original stops, and that the fixed file stops the same way."""
    expected, report = case.case.table("outcome"), case.report
    if not expected:
        assert report.original.built and report.original.failure is None
        return
    failure = report.original.failure
    assert not report.original.built and failure is not None
    assert (failure.line, failure.exit_code) == (expected["original_line"], expected["exit_code"])
    if report.fixed is None:  # no fix applies: the fixed file is the original
        assert not report.fixes_applied and report.fixed_text == report_original_text(case)
        return
    assert not report.fixed.built, "the fixed file must fail where the original does"
    assert report.fixed.failure is not None and report.fixed.failure.exit_code == expected["exit_code"]


def report_original_text(case: Verified) -> str:
    return (case.case.directory / "Dockerfile").read_text(encoding="utf-8")


def test_smoke_run(case: Verified) -> None:
    case = built(case)
    expected, report = case.case.table("smoke"), case.report
    if not report.fixes_applied:
        assert not report.smoke  # nothing changed: nothing to run twice
        return
    assert report.smoke and report.smoke[0].label.startswith("ENTRYPOINT/CMD")
    if expected.get("equal", True):
        for check in report.smoke:
            assert check.equal, (check.label, check.differs, check.original, check.fixed)


def test_nondeterminism_is_measured(case: Verified) -> None:
    case = built(case)
    expected, report = case.case.table("nondeterminism"), case.report
    if "measured" in expected:
        assert (report.repeat_diff_count is not None) is expected["measured"]
    if expected.get("paths"):
        assert report.fs_nondeterministic is not None
        assert set(expected["paths"]) <= set(report.fs_nondeterministic.paths())


def test_fixes_applied(case: Verified) -> None:
    case = built(case)
    expected = case.case.table("fixes")
    codes = [d.code for d in case.report.fixes_applied]
    if "applied" in expected:
        assert codes == expected["applied"]
    if "applied_any" in expected:
        assert codes and set(codes) <= set(expected["applied_any"])
    if not case.case.expect.get("unsafe_fixes"):
        assert all(d.fix and d.fix.applicability.value == "safe" for d in case.report.fixes_applied)


def test_proven_split_recipe(case: Verified) -> None:
    recipe = case.case.expect.get("proves_recipe")
    if not recipe:
        return
    from dockopt.fixes.split import PROVEN_RECIPES

    assert PROVEN_RECIPES.get(recipe) == case.case.name
    [applied] = [d for d in case.report.fixes_applied if d.code == "DO401"]
    assert applied.fix is not None and f"recipe `{recipe}`" in applied.fix.message, applied.fix


def test_fixed_image_builds_and_runs(case: Verified, engine: DockerEngine) -> None:
    case = built(case)
    image = case.case.table("image")
    fixed = case.report.fixed
    assert fixed is not None and fixed.built
    if "run" in image:
        out = engine.run(fixed.tag, image["run"]).stdout
        assert image["stdout_contains"] in out


def test_final_filesystem(case: Verified) -> None:
    case = built(case)
    image = case.case.table("image")
    diff = case.report.fs_diff
    assert diff is not None
    if "differs_only_under" in image:
        prefixes = tuple(p.rstrip("/") for p in image["differs_only_under"])
        outside = [p for p in diff.paths() if not any(p == q or p.startswith(q + "/") for q in prefixes)]
        assert not outside, diff.summary()
    elif image.get("filesystem_equal", True):
        assert diff.is_empty, diff.summary()
    else:
        assert not diff.is_empty
    if "declared_caches" in image:
        assert case.report.declared_caches == tuple(image["declared_caches"])
        assert case.report.fs_declared_caches is not None and case.report.fs_declared_caches.removed
    assert tuple(case.report.ignored_paths) == (
        "/var/log/*", "/var/cache/ldconfig/aux-cache", "/etc/ssh/ssh_host_*", "/root/.cache/pip/http*")


def test_layers_map_to_dockerfile_lines(case: Verified) -> None:
    case = built(case)
    image, report = case.case.table("image"), case.report
    assert report.fixed is not None
    for side, text in ((report.original, Path(case.case.directory / "Dockerfile").read_text()),
                       (report.fixed, report.fixed_text)):
        layers = side.layers
        assert len(layers) == side.layer_count
        by_line = {ins.start_line: ins.name for ins in parse(text).instructions}
        for entry in layers:
            if entry.from_base:
                assert by_line[entry.line] == "FROM"  # type: ignore[index]
            else:
                # every layer the Dockerfile made is tied to a filesystem-changing instruction
                assert entry.line is not None and by_line[entry.line] in LAYER_INSTRUCTIONS, entry
                assert entry.instruction == by_line[entry.line]
        # the image size is the sum of its layers, as the table shows it; the daemon measures
        # its layer directories (each inode once), the layer tars list a few bytes more or less
        assert side.size_bytes is not None
        assert abs(sum(e.size_bytes for e in layers) - side.size_bytes) <= 0.001 * side.size_bytes
    if "layers_before" in image:
        assert report.original.layer_count == image["layers_before"]
    if "layers_after" in image:
        assert report.fixed.layer_count == image["layers_after"]
    if "saved_bytes" in image:
        assert report.saved_bytes == image["saved_bytes"]


def test_estimate_against_measured_saving(case: Verified) -> None:
    case = built(case)
    estimate, report = case.case.table("estimate"), case.report
    if not estimate:
        return  # this case is not about size
    measured = report.saved_bytes
    assert measured is not None and measured > 0
    code = estimate.get("message_code")
    message = next((d.message for d in report.findings if d.code == code), "") if code else ""
    if estimate.get("unknown"):
        assert report.estimate_partial, "dockopt claims to know sizes it cannot know"
        if code:
            assert "unknown size" in message, message
        return
    tolerance = estimate["tolerance"]
    assert report.estimated_saved_bytes is not None
    assert abs(report.estimated_saved_bytes - measured) <= tolerance * measured, (
        f"estimated {report.estimated_saved_bytes:,} vs measured {measured:,}")
    if code:
        from_message = first_size(message)
        assert from_message is not None, message
        assert abs(from_message - measured) <= tolerance * measured, (message, measured)


def test_secrets_in_layers(case: Verified) -> None:
    case = built(case)
    expected = case.case.expect.get("secrets") or []
    found = {s.target.path: s for s in case.report.secrets}
    if not expected:
        assert not found
        return
    for want in expected:
        check = found[want["path"]]
        assert check.original.layer_lines == (want["layer_line"],)
        assert check.original.present is want["present_in_original"]
        assert check.original.content_checked and check.original.content_hits  # its bytes, too
        assert check.fixed is not None and check.fixed.present is want["present_in_fixed"]
        if "present_in_suggested" in want:
            assert check.suggested is not None, case.report.suggested_skipped
            assert check.suggested.present is want["present_in_suggested"]
            assert check.suggested.content_checked and not check.suggested.content_hits


def _lines(side: CacheSide | None, missed: bool) -> set[int | None]:
    assert side is not None
    return {s.line for s in (side.misses if missed else side.hits)}


def test_cache_misses_after_edit(case: Verified) -> None:
    case = built(case)
    expected, report = case.case.table("cache"), case.report
    if not expected:
        assert report.cache is None  # no --rebuild-after: no rebuild measured
        return
    assert report.cache is not None and not report.cache.problem, report.cache and report.cache.problem
    for role in ("original", "fixed"):
        side = getattr(report.cache, role)
        if f"{role}_missed" in expected:
            assert set(expected[f"{role}_missed"]) <= _lines(side, missed=True)
        if f"{role}_hit" in expected:
            assert set(expected[f"{role}_hit"]) <= _lines(side, missed=False)
            assert not set(expected[f"{role}_hit"]) & _lines(side, missed=True)
