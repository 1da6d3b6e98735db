"""The search for forced tests (``guards.py``) that get an original's build through the changed steps."""
from __future__ import annotations

from tests.trace import guards
from tests.trace.build import Plan
from tests.trace.run import Outcome, execute, fill_gap
from tests.trace.sandbox import Layout


def search_forced(guarded: Plan, world: tuple[Layout, frozenset[str]], shell: str, end: int) -> dict[int, bool] | None:
    """The forced tests that take the original's all-succeed build past instruction ``end``:
    flip the last test the stopping RUN evaluated, keep a flip only when it moves the stop on."""
    initial, relative = world

    def progress(outcome: Outcome) -> tuple[bool, int, int]:
        return outcome.result == ("ok",), outcome.stop_index, len(outcome.events)

    forced: dict[int, bool] = {}
    tried: set[int] = set()
    best: Outcome | None = None
    flipped: int | None = None
    for _ in range(guards.MAX_FLIPS * 3 + 1):
        outcome, _ = execute(guarded, initial, relative, shell, forced=forced)
        filled = fill_gap(outcome, initial) if outcome.gap else None
        if filled is not None:
            initial = filled
            continue
        if outcome.problem and flipped is None:
            return None  # timed out or flooded unforced: nothing to learn
        if flipped is not None and best is not None and (outcome.problem or progress(outcome) <= progress(best)):
            del forced[flipped]  # that flip did not move the stop on: undo it, try an earlier test
        else:
            best = outcome
        flipped = None
        if best.result == ("ok",) or best.stop_index > end:
            return forced
        choice = guards.next_flip(best.guards, tried)
        if choice is None or len(tried) >= guards.MAX_FLIPS:
            return None
        flipped, forced[flipped] = choice
        tried.add(flipped)
    return None
