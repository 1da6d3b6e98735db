"""Did the build succeed, and if not, where did it stop: a build's outcome, tied to the
Dockerfile line of the step that failed, and the comparison of two outcomes.

A fix must keep the build's outcome: the fixed Dockerfile fails exactly when the original
fails. So the original and the fixed file are always both built, and

- both build: compare the images (``session``);
- one builds and the other does not: dockopt is wrong (exit 1), whichever way round -- a
  fixed build that succeeds where the original failed hides a failure (a merge that lets
  ``|| true`` swallow the first RUN's error), which is as wrong as breaking a build;
- both fail *the same way* -- the failing step's exit status and its last line of output are
  equal (a correct merge fails in the merged RUN, at another line, with the same command's
  error) -- there is nothing to compare (exit 2, "the original does not build");
- both fail differently: dockopt is wrong (exit 1).
"""
from __future__ import annotations

from dataclasses import dataclass

from dockopt.model import build_model
from dockopt.syntax import parse
from dockopt.verify.build import BuildResult
from dockopt.verify.layermap import map_steps

_SHORT = 70


@dataclass(frozen=True, slots=True)
class StepFailure:
    """Where a build stopped."""

    line: int | None  # the Dockerfile line of the failing instruction (None: not known)
    instruction: str  # the step as the builder showed it, e.g. "RUN apt-get update"
    exit_code: int | None  # the command's exit status (None: not a command, or not reported)
    last_output: str  # the failing step's last line of output

    @property
    def signature(self) -> tuple[int | None, str]:
        return self.exit_code, self.last_output

    def describe(self) -> str:
        where = f"line {self.line}" if self.line else "a step"
        instruction = self.instruction if len(self.instruction) <= _SHORT else self.instruction[: _SHORT - 1] + "…"
        code = f"exit code {self.exit_code}" if self.exit_code is not None else "no exit code"
        return f"{where} (`{instruction}`, {code})"


def step_failure(result: BuildResult, dockerfile_text: str) -> StepFailure | None:
    """The failing step of ``result`` (None when it built, or its log names no step)."""
    if result.ok:
        return None
    step = result.failed_step
    if step is None:
        return StepFailure(None, "", None, "")
    mapped = map_steps(build_model(parse(dockerfile_text)), [step], result.buildkit)
    instruction = step.name.split("] ", 1)[-1] if result.buildkit else step.name
    return StepFailure(mapped[0].line if mapped else None, " ".join(instruction.split()), step.exit_code,
                       step.last_output)


@dataclass(frozen=True, slots=True)
class OutcomeComparison:
    verdict: str  # "both-built" | "original-build-failed" | "fixed-build-failed" |
    #               "fixed-build-masks-failure" | "build-failure-changed"
    problem: str  # the one-line explanation that goes with a failing verdict


def compare_outcomes(original: StepFailure | None, fixed: StepFailure | None, codes: str) -> OutcomeComparison:
    """The verdict on two build outcomes (None: built); ``codes`` names the fixes applied."""
    if original is None and fixed is None:
        return OutcomeComparison("both-built", "")
    if original is None:
        assert fixed is not None
        return OutcomeComparison("fixed-build-failed", (
            "this is a bug in dockopt: the original Dockerfile builds but the fixed one does not: it fails at "
            f"{fixed.describe()} (fixes applied: {codes})"))
    if fixed is None:
        return OutcomeComparison("fixed-build-masks-failure", (
            f"this is a bug in dockopt: the original Dockerfile fails at {original.describe()} but the fixed one "
            f"builds: the fix hides a failing step (fixes applied: {codes})"))
    if original.signature == fixed.signature:
        return OutcomeComparison("original-build-failed", (
            f"the original Dockerfile does not build: it fails at {original.describe()}, and the fixed one fails "
            f"the same way at {fixed.describe()}; nothing to compare"))
    return OutcomeComparison("build-failure-changed", (
        f"this is a bug in dockopt: the original Dockerfile fails at {original.describe()} but the fixed one "
        f"fails differently, at {fixed.describe()} (fixes applied: {codes})"))
