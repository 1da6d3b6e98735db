"""``dockopt verify``'s work: build the original and the fixed Dockerfile, compare what they do.

1. The fixed text is computed in memory (``verify.fixing``); both texts are written to a
   temporary directory and built from the same context (``docker build -f``), so the user's
   files are never touched. With ``rebuild_after`` the context itself is a temporary copy,
   because the measurement appends to one of its files.
2. Both builds use one builder: BuildKit (what Docker >= 23 uses) unless ``DOCKER_BUILDKIT=0``
   asks for the legacy builder and neither file needs BuildKit. They run with ``--no-cache``
   by default: a step cached days ago (``apt-get update``) would differ from the same work
   done now and pass for a difference the fix made.
3. Both are built even when the original fails: the build's outcome must not change
   (``verify.outcome``: which RUN failed on which side, with its exit code).
4. Both images are saved; their history is mapped to Dockerfile lines, their final
   filesystems are compared (``compare_filesystems`` with ``DEFAULT_IGNORE``, ``.pyc`` mtimes
   left out), and what differs is attributed (``verify.attribution``): when a safe fix leaves
   a difference, the original is built once more, without cache, and what differs between the
   two original builds is nondeterministic, not the fix's; removals under the cache paths the
   fixes declare are expected. Secret findings are checked layer by layer.
5. The smoke run (``verify.smoke``): both images run their ENTRYPOINT/CMD (or each ``--run``
   command) and their exit status and output are compared.
6. ``rebuild_after``: blank text (newlines and spaces, harmless in source files, manifests
   and configuration; not in binary files) is appended to the context file, both
   Dockerfiles are rebuilt with the cache, and the steps that missed it are reported.

Verdicts, first match wins: a changed build outcome; a changed smoke run (whatever the fixes'
safety: no fix is meant to change what the image does); a filesystem a safe fix changed
beyond nondeterminism and its declared caches.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dockopt.checks.do104_rewrite_after_copy import uses_buildkit
from dockopt.model import build_model
from dockopt.syntax import Document, parse
from dockopt.verify.build import BuildResult
from dockopt.verify.engine import DockerEngine
from dockopt.verify.attribution import attribute, declared_caches
from dockopt.verify.filesystem import DEFAULT_IGNORE, compare_filesystems, flatten
from dockopt.verify.fixing import FixOutcome, VerifyError, plan_fixes, secret_rewrite
from dockopt.verify.layermap import map_history, map_steps
from dockopt.verify.outcome import compare_outcomes, step_failure
from dockopt.verify.report import LOG_TAIL_LINES, CacheReport, CacheSide, ImageSide, SecretCheck, VerifyReport
from dockopt.verify.saved_image import SavedImage
from dockopt.verify.secret_proof import locate, secret_targets
from dockopt.verify.smoke import DEFAULT_TIMEOUT, default_command_label, run_label, smoke_check

EXIT_OK, EXIT_BUG, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    dockerfile: Path
    context: Path | None = None
    target: str | None = None
    unsafe_fixes: bool = False
    rebuild_after: str | None = None
    buildkit: bool | None = None  # None: decided by choose_builder
    no_cache: bool = True
    keep_images: bool = False  # tests run the fixed image afterwards; the CLI cleans up
    tag_prefix: str | None = None
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    # The smoke run: None runs the image's ENTRYPOINT/CMD; each tuple is one `--run` command.
    run_commands: tuple[tuple[str, ...], ...] | None = None
    run_timeout: float = DEFAULT_TIMEOUT
    smoke: bool = True
    # --build-arg values for every build (API only: the savings suite points pip at its local index).
    build_args: tuple[tuple[str, str], ...] = ()


def choose_builder(requested: bool | None, documents: list[Document],
                   environ: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """(use BuildKit, a note when the user's choice was overridden)."""
    needs = any(uses_buildkit(d) for d in documents)
    if requested is None:
        env = (os.environ if environ is None else environ).get("DOCKER_BUILDKIT", "").strip().lower()
        requested = None if env == "" else env not in ("0", "false", "no")
    if requested is False and needs:
        return True, "built with BuildKit although DOCKER_BUILDKIT=0: the Dockerfile uses BuildKit-only features"
    return (True if requested is None else requested), ""


def verify(engine: DockerEngine, options: VerifyOptions) -> VerifyReport:
    """Build, measure and compare; raises VerifyError for input problems, EngineError for engine ones."""
    outcome = plan_fixes(options.dockerfile, unsafe_fixes=options.unsafe_fixes, context=options.context,
                         target=options.target)
    documents = [outcome.original.document, parse(outcome.fixed_text)]
    buildkit, builder_note = choose_builder(options.buildkit, documents)
    prefix = options.tag_prefix or f"dockopt-verify-{uuid.uuid4().hex[:10]}"
    made: list[str] = []
    created: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="dockopt-verify-") as tmp_name:
            run = _Run(engine, options, outcome, buildkit, prefix, Path(tmp_name), made, created)
            report = run.execute()
            if builder_note:
                report.original.notes.append(builder_note)
            return report
    finally:
        if not options.keep_images:
            # By tag, without --force: an image that also carries a tag of the user's (a build
            # fully served from cache can be one) keeps it; ours become dangling and go.
            engine.rmi(*dict.fromkeys(made), force=False)
            _remove_untagged(engine, created)


class _Run:
    """One verification's state: the temporary workspace and the images built so far."""

    def __init__(self, engine: DockerEngine, options: VerifyOptions, outcome: FixOutcome, buildkit: bool,
                 prefix: str, tmp: Path, made: list[str], created: list[str]) -> None:
        self.engine, self.options, self.outcome = engine, options, outcome
        self.buildkit, self.prefix, self.tmp, self.made = buildkit, prefix, tmp, made
        self.created = created  # legacy builder: images of the steps it ran (not cached ones)
        self.context = outcome.context_dir
        self.target = outcome.target

    # -- building ----------------------------------------------------------------------------

    def write_dockerfile(self, role: str, text: str) -> Path:
        """``text`` as ``<tmp>/<role>/<the user's file name>``, with its own ignore file if any:
        BuildKit reads ``<Dockerfile>.dockerignore`` before the context's ``.dockerignore``."""
        folder = self.tmp / role
        folder.mkdir()
        path = folder / self.outcome.path.name
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        companion = self.outcome.path.with_name(self.outcome.path.name + ".dockerignore")
        if companion.is_file():
            shutil.copyfile(companion, folder / companion.name)
        return path

    def build(self, role: str, dockerfile: Path, *, no_cache: bool,
              secrets: Mapping[str, Path] | None = None, buildkit: bool | None = None) -> tuple[BuildResult, ImageSide]:
        tag = f"{self.prefix}:{role}"
        self.made.append(tag)
        result = self.engine.build(dockerfile, self.context, tag, target=self.target,
                                   buildkit=self.buildkit if buildkit is None else buildkit,
                                   build_args=dict(self.options.build_args),
                                   secrets=secrets, no_cache=no_cache, check=False)
        if not result.buildkit:
            self.created.extend(legacy_created_images(result.log))
        side = ImageSide(role=role, tag=tag, built=result.ok, duration_s=result.duration_s, notes=list(result.notes))
        if not result.ok:
            side.log_tail = [line for line in result.log.splitlines() if line.strip()][-LOG_TAIL_LINES:]
            text = dockerfile.read_text(encoding="utf-8", errors="surrogateescape")
            side.failure = step_failure(result, text)
        return result, side

    def measure(self, side: ImageSide, text: str) -> SavedImage:
        """Save the image, map its history to ``text``'s lines, record sizes."""
        saved = self.engine.save(side.tag, self.tmp / f"save-{side.role}")
        side.entries = map_history(build_model(parse(text)), self.target, saved.history)
        side.size_bytes = self.engine.image_size(side.tag)
        side.layer_count = len(saved.layers)
        return saved

    # -- the whole run -----------------------------------------------------------------------

    def execute(self) -> VerifyReport:
        outcome, options = self.outcome, self.options
        edited = None
        if options.rebuild_after is not None:
            edited = _context_relative(self.context, options.rebuild_after)
            self.context = _copy_context(self.context, self.tmp / "context")
        same = outcome.fixed_text == outcome.original_text
        original_df = self.write_dockerfile("original", outcome.original_text)
        fixed_df = original_df if same else self.write_dockerfile("fixed", outcome.fixed_text)
        _, original = self.build("original", original_df, no_cache=options.no_cache)
        report = VerifyReport(
            dockerfile=str(options.dockerfile), context=str(outcome.context_dir), target=self.target,
            builder="buildkit" if self.buildkit else "legacy", engine=self.engine.where,
            fixes_applied=list(outcome.applied), unsafe_enabled=outcome.unsafe_enabled,
            findings=list(outcome.original.diagnostics), original=original,
            fixed_text=outcome.fixed_text, ignored_paths=tuple(options.ignore),
            declared_caches=declared_caches(outcome.applied),
        )
        report.estimate_original, partial_original = outcome.estimate(outcome.original_text)
        report.estimate_fixed, partial_fixed = outcome.estimate(outcome.fixed_text)
        report.estimate_partial = partial_original or partial_fixed
        if same:
            if not original.built:
                where = original.failure.describe() if original.failure else "a step"
                report.verdict, report.exit_code = "original-build-failed", EXIT_ERROR
                report.problem = (f"the original Dockerfile does not build (it fails at {where}); no fix applies, "
                                  "nothing to compare")
                return report
            fixed = ImageSide("fixed", original.tag, True, 0.0,
                              notes=["no fix applies: the fixed image is the original"])
        else:
            _, fixed = self.build("fixed", fixed_df, no_cache=options.no_cache)
        report.fixed = fixed
        builds = compare_outcomes(original.failure if not original.built else None,
                                  fixed.failure if not fixed.built else None, _codes(report))
        if builds.verdict != "both-built":
            report.verdict, report.problem = builds.verdict, builds.problem
            report.exit_code = EXIT_ERROR if builds.verdict == "original-build-failed" else EXIT_BUG
            return report
        saved_original = self.measure(original, outcome.original_text)
        saved_fixed = saved_original if same else self.measure(fixed, outcome.fixed_text)
        if same:
            fixed.entries, fixed.size_bytes = original.entries, original.size_bytes
            fixed.layer_count = original.layer_count
        self.compare_files(report, saved_original, saved_fixed, original_df)
        self.check_secrets(report, saved_original, saved_fixed)
        if not same:
            self.smoke_run(report, saved_original)
        if edited is not None:
            report.cache = self.rebuild_after(edited, original_df, fixed_df, same)
        self.judge(report)
        return report

    def compare_files(self, report: VerifyReport, saved_original: SavedImage, saved_fixed: SavedImage,
                      original_df: Path) -> None:
        """The filesystem difference, attributed; a second original build when it can matter."""
        flat_original = flatten(saved_original)
        flat_fixed = flat_original if saved_fixed is saved_original else flatten(saved_fixed)
        diff = compare_filesystems(flat_original, flat_fixed, self.options.ignore)
        split = attribute(diff, None, report.declared_caches)
        safe_only = bool(self.outcome.applied) and self.outcome.only_safe_applied
        if not split.by_fix.is_empty and safe_only:
            # Measured, not guessed: does the original differ from itself the same way?
            _, again = self.build("original-again", original_df, no_cache=True)
            again.notes.append("the original built a second time, without cache, to measure nondeterminism")
            report.original_again = again
            if again.built:
                saved_again = self.engine.save(again.tag, self.tmp / "save-original-again")
                repeat = compare_filesystems(flat_original, flatten(saved_again), self.options.ignore)
                report.repeat_diff_count = len(repeat.paths())
                split = attribute(diff, repeat, report.declared_caches)
        report.fs_diff = split.by_fix
        report.fs_nondeterministic = split.nondeterministic
        report.fs_declared_caches = split.declared_caches

    def smoke_run(self, report: VerifyReport, saved_original: SavedImage) -> None:
        options = self.options
        assert report.fixed is not None
        if not options.smoke:
            report.smoke_skipped = "--no-run"
            return
        commands: list[tuple[tuple[str, ...] | None, str]]
        if options.run_commands is None:
            commands = [(None, default_command_label(saved_original.config))]
        else:
            commands = [(command, run_label(command)) for command in options.run_commands]
        for command, label in commands:
            report.smoke.append(smoke_check(self.engine, report.original.tag, report.fixed.tag, command, label,
                                            options.run_timeout))

    def judge(self, report: VerifyReport) -> None:
        """The verdict once both images built (see the module docstring for the order)."""
        outcome = self.outcome
        changed_runs = [check for check in report.smoke if not check.equal]
        if changed_runs:
            first = changed_runs[0]
            what = ", ".join(first.differs)
            report.verdict, report.exit_code = "behaviour-changed", EXIT_BUG
            lead = ("this is a bug in dockopt: a safe fix changed what the image does" if outcome.only_safe_applied
                    else "the fixes change what the image does (unsafe fixes were applied: their messages say what "
                         "might break)")
            report.problem = (f"{lead}: {first.label} gives a different {what} "
                              f"({first.original.status} before, {first.fixed.status} after; fixes applied: "
                              f"{_codes(report)})")
            return
        assert report.fs_diff is not None
        if not report.fs_diff.is_empty and outcome.applied and outcome.only_safe_applied:
            report.verdict, report.exit_code = "safe-fix-changed-image", EXIT_BUG
            report.problem = ("this is a bug in dockopt: a safe fix changed the image "
                              f"({_codes(report)}); differing paths: {', '.join(report.fs_diff.paths()[:10])}")

    def check_secrets(self, report: VerifyReport, saved_original: SavedImage, saved_fixed: SavedImage) -> None:
        outcome = self.outcome
        targets = secret_targets(outcome.lint_context(outcome.original_text), outcome.original.diagnostics)
        if not targets:
            return
        assert report.fixed is not None
        for target in targets:
            report.secrets.append(SecretCheck(target, locate(saved_original, report.original.entries, target),
                                              locate(saved_fixed, report.fixed.entries, target)))
        if not any(s.fixed is not None and s.fixed.present for s in report.secrets):
            return  # the applied fixes already keep the secrets out: nothing more to prove
        rewrite, why = secret_rewrite(outcome)
        if rewrite is None:
            report.suggested_skipped = why
            return
        dockerfile = self.write_dockerfile("suggested", rewrite.text)
        # A secret mount needs BuildKit whatever builder the comparison uses.
        _, side = self.build("suggested", dockerfile, no_cache=self.options.no_cache, secrets=rewrite.secrets,
                             buildkit=True)
        side.notes.append("DO201's suggestion applied; built with " + ", ".join(
            f"--secret id={sid},src={src}" for sid, src in sorted(rewrite.secrets.items())))
        report.suggested = side
        if not side.built:
            report.suggested_skipped = "the suggested rewrite does not build (see its log)"
            return
        saved = self.measure(side, rewrite.text)
        for check in report.secrets:
            check.suggested = locate(saved, side.entries, check.target)

    def rebuild_after(self, relative: str, original_df: Path, fixed_df: Path, same: bool) -> CacheReport:
        """Append to ``relative`` and rebuild each Dockerfile with the cache; report the misses.

        Each side gets its own edit, unique to this run (a newline, a run of spaces, a newline):
        with one shared edit the second rebuild would hit the cache the first one just filled
        (an unchanged builder stage is the same steps in both files), and an edit repeated from
        an earlier ``dockopt verify`` would hit that run's cache.
        """
        target = self.context / relative
        pristine = target.read_bytes()
        report = CacheReport(edited=relative, original=None, fixed=None)
        sides: dict[str, CacheSide] = {}
        widths = random.sample(range(1, 4097), 2)
        sides_to_build = (("original", original_df, self.outcome.original_text),
                          ("fixed", fixed_df, self.outcome.fixed_text))
        for (role, dockerfile, text), width in zip(sides_to_build, widths, strict=True):
            if role == "fixed" and same:
                sides[role] = sides["original"]
                continue
            target.write_bytes(pristine + b"\n" + b" " * width + b"\n")
            result, side = self.build(f"{role}-rebuild", dockerfile, no_cache=False)
            if not side.built:
                report.problem = f"the {role} Dockerfile did not rebuild after the edit: {side.log_tail[-1:]}"
                break
            sides[role] = CacheSide(map_steps(build_model(parse(text)), result.steps, result.buildkit))
        target.write_bytes(pristine)
        report.original, report.fixed = sides.get("original"), sides.get("fixed")
        return report


_LEGACY_STEP = re.compile(r"^Step \d+/\d+ : (\S+)")
_LEGACY_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12})\s*$")


def legacy_created_images(log: str) -> list[str]:
    """Images the legacy builder made for the steps it ran, from its log.

    It leaves the last image of every stage but the target untagged (dangling) after a
    multi-stage build; those are ours to remove. Steps served from the cache ("Using cache")
    and FROM lines name images that existed before (the base, the user's own builds): never
    listed here.
    """
    out: list[str] = []
    keyword, cached, image = "", False, None

    def close() -> None:
        if image is not None and keyword.upper() != "FROM" and not cached:
            out.append(image)

    for line in log.splitlines():
        step = _LEGACY_STEP.match(line)
        if step:
            close()
            keyword, cached, image = step.group(1), False, None
        elif line.strip() == "---> Using cache":
            cached = True
        else:
            m = _LEGACY_IMAGE.match(line)
            if m:
                image = m.group(1)
    close()
    return out


def _remove_untagged(engine: DockerEngine, images: list[str]) -> None:
    """Remove those of ``images`` that are still there and carry no tag (newest first);
    one still in use as another image's parent stays, and that is fine."""
    for image in reversed(dict.fromkeys(images)):
        proc = engine._run(["image", "inspect", "--format", "{{len .RepoTags}}", image], check=False)
        if proc.returncode == 0 and proc.stdout.strip() == "0":
            engine._run(["rmi", image], check=False)


def _codes(report: VerifyReport) -> str:
    return ", ".join(f"{d.code} line {d.start.line}" for d in report.fixes_applied) or "none"


def _context_relative(context: Path, edited: str) -> str:
    """``edited`` as a path inside the context: as given from the current directory when
    that is inside the context, else relative to the context root."""
    root = context.resolve()
    for candidate in (Path(edited), root / edited):
        full = candidate.resolve()
        if full.is_file() and root in full.parents:
            return full.relative_to(root).as_posix()
    raise VerifyError(f"--rebuild-after {edited}: no such file in the build context {context}")


def _copy_context(source: Path, dest: Path) -> Path:
    """A private copy of the context (symlinks kept as links) that the edit may change."""
    shutil.copytree(source, dest, symlinks=True)
    return dest
