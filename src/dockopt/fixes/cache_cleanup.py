"""The fix for a package-manager cache left in a layer (DO102): a no-cache flag or a cleanup.

Safety (README, "Fix safety"): the fix removes a cache from the image and declares its path
(``Fix.removes_caches``). It is **safe** when

- the shell text is joined by the merge primitive (``fixes.merge``: the cleanup runs exactly
  when the RUN succeeded, the RUN's status is kept), and
- nothing later needs the cache (``layers.consumers``: later RUNs of the stage and of stages
  built FROM it, COPY --from, mounts), and
- the cleanup itself cannot fail: its tool is still installed where it runs (a cleanup goes
  before an ``apk del``/``apt-get purge``/``rm`` that may remove the tool, or no fix), Go's
  ``go clean -cache``/``-modcache`` exist in that Go (1.10/1.11), the RUN runs as root (or
  the cache was made through ``sudo``, and the cleanup uses it too).

When a later command *might* need the cache (a script, ``make``: something dockopt cannot
see into) or the Go version is unknown, the fix is **unsafe** and its message says what
might break. When something later certainly needs it, or the Go is too old, there is no fix.
"""
from __future__ import annotations

import re

from dockopt.checks.base import LintContext
from dockopt.diagnostics import Applicability, Edit, Fix
from dockopt.fixes.merge import MergePlan, append_to_run, insert_before
from dockopt.layers import Effect
from dockopt.layers.consumers import Reader, cache_readers, reads_cache, run_user, runs_as_root
from dockopt.layers.invocations import Invocation
from dockopt.layers.toolchains import GO_CLEAN_CACHE, GO_CLEAN_MODCACHE, go_version, may_remove_tool
from dockopt.model import Run

# Flags that stop the cache from being written at all: inserted after the install subcommand.
FLAG_AFTER = {"pip-cache": (re.compile(r"\binstall\b"), " --no-cache-dir"),
              "apk-cache": (re.compile(r"\badd\b"), " --no-cache")}
_GO_MINIMUM = {"go-build-cache": GO_CLEAN_CACHE, "go-mod-cache": GO_CLEAN_MODCACHE}
_WHAT = {"apt-lists": "the apt package lists", "apk-cache": "the apk index and cache"}


def cache_fix(ctx: LintContext, run: Run, effect: Effect, cleanup: str | None) -> Fix | None:
    """The DO102 fix for ``effect`` (a cache created by ``run``), or None."""
    if run.instruction.is_json:
        return None  # exec form: no shell text to edit (a flag inside a JSON string would break it)
    readers = cache_readers(ctx.build, run, effect.category)
    if any(r.certain for r in readers):
        return None  # a later step needs this cache: removing it would break the build
    risks = [_reader_risk(readers, effect.category)] if readers else []
    creator = next((inv for inv in ctx.invocations(run) if inv.start == effect.start), None)
    caches = (effect.path,)
    flag = FLAG_AFTER.get(effect.category)
    what = _WHAT.get(effect.category, f"the {effect.path} cache")
    if flag is not None and not (effect.category == "apk-cache" and _apk_update(ctx, run)):
        text = ctx.source[effect.start : effect.end]
        m = flag[0].search(text)
        if m is None:
            return None
        at = effect.start + m.end()
        return _fix(f"Add `{flag[1].strip()}`", what, risks, (Edit(at, at, flag[1]),), caches)
    if effect.category == "apk-cache":
        cleanup = "rm -rf /var/cache/apk/*"  # `apk update` in the same RUN fills the cache too
    if cleanup is None:
        return None
    tool = cleanup.split()[0]
    if effect.category in _GO_MINIMUM:
        version = go_version(run.stage)
        if version is not None and version < _GO_MINIMUM[effect.category]:
            return None  # the flag does not exist in this Go: `go clean` would fail the build
        if version is None:
            needed = ".".join(map(str, _GO_MINIMUM[effect.category]))
            risks.append(f"the Go version is unknown, and `{cleanup}` fails the build before Go {needed}")
        if creator is not None and creator.text.split()[0].endswith("/go"):
            cleanup = creator.text.split()[0] + cleanup[2:]  # the same go binary, by its path
    if creator is not None and creator.text.lstrip().startswith("sudo "):
        cleanup = f"sudo {cleanup}"
    elif not runs_as_root(ctx.build, run) and tool in ("rm", "apt-get", "yum", "dnf", "zypper", "microdnf"):
        risks.append(f"the RUN runs as user {run_user(ctx.build, run)}, who may not be allowed to remove it")
    placed = _place(ctx, run, creator, tool, cleanup, caches, effect.category)
    if placed is None:
        return None
    plan, action = placed
    return _fix(action, what, risks, plan.edits, caches)


def _place(ctx: LintContext, run: Run, creator: Invocation | None, tool: str, cleanup: str,
           caches: tuple[str, ...], category: str) -> tuple[MergePlan, str] | None:
    """At the end of the RUN, or before the first command after the creator that may remove
    the cleanup's tool (``apk add go && go build && apk del go``: ``go clean`` goes before
    ``apk del``)."""
    if tool != "rm" and tool not in ("apt-get", "apt") and creator is not None:
        commands = list(ctx.invocations(run))
        index = next((i for i, inv in enumerate(commands) if inv is creator), len(commands))
        after = commands[index + 1 :]
        for at, inv in enumerate(after):
            if may_remove_tool(inv, tool):
                if any(reads_cache(later, category, run) for later in after[at:]):
                    return None  # a command after the removal reads the cache
                plan = insert_before(ctx.build, run, inv.start, cleanup, removes_caches=caches)
                return (plan, f"Run `{cleanup}` before `{_short(inv.text)}`, while {tool} is installed") if plan else None
    plan = append_to_run(ctx.build, run, cleanup, removes_caches=caches)
    return (plan, f"Append `{cleanup}` to this RUN") if plan else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _fix(action: str, what: str, risks: list[str], edits: tuple[Edit, ...], caches: tuple[str, ...]) -> Fix:
    if risks:
        return Fix(Applicability.UNSAFE, f"{action}: removes {what} (unsafe: {'; '.join(risks)})", edits, caches)
    return Fix(Applicability.SAFE, f"{action}: removes {what}, which nothing later reads", edits, caches)


def _reader_risk(readers: list[Reader], category: str) -> str:
    first = readers[0].what
    more = f" (and {len(readers) - 1} more)" if len(readers) > 1 else ""
    if category == "apt-lists":
        return f"{first}{more}; later steps that install without `apt-get update` would fail"
    if category == "apk-cache":
        return f"{first}{more}; later `apk add` without `--no-cache` or `apk update` would fail"
    return f"{first}{more}"


def _apk_update(ctx: LintContext, run: Run) -> bool:
    return any(inv.name == "apk" and "update" in inv.argv for inv in ctx.invocations(run))
