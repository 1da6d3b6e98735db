"""DO304 cache-mount-opportunity: a package install that could keep its cache in a cache mount.

``RUN --mount=type=cache,target=<dir>`` (BuildKit) gives the command a directory that
survives between builds and never reaches a layer: a rerun install downloads only what
changed, and the image does not carry the cache. Info and off by default: it needs
BuildKit (the default builder since Docker 23, but not every CI), and the right target
depends on the manager (``CACHE_TARGETS``):

- apt: ``/var/cache/apt`` and ``/var/lib/apt`` with ``sharing=locked`` (apt takes a lock),
  and the image's ``/etc/apt/apt.conf.d/docker-clean`` must go, or apt deletes the
  downloaded packages after each install and the mount stays empty;
- apk: ``/var/cache/apk`` (and ``apk add`` without ``--no-cache``, which bypasses it);
- pip ``/root/.cache/pip``, uv ``/root/.cache/uv``, poetry ``/root/.cache/pypoetry``,
  npm ``/root/.npm``, yarn ``/usr/local/share/.cache/yarn``, pnpm ``/root/.local/share/pnpm/store``,
  go ``/root/.cache/go-build`` and ``/go/pkg/mod``, cargo ``/usr/local/cargo/registry``,
  maven ``/root/.m2``, gradle ``/root/.gradle``, composer ``/root/.composer/cache``,
  dnf ``/var/cache/dnf``, yum ``/var/cache/yum``.

Only for RUNs as root (a cache mount belongs to root unless ``uid=`` says otherwise) in
shell form, without a cache mount on that target already. The fix is a suggestion (shown,
never applied): it adds the mount flags, and the message says what else to change.
"""
from __future__ import annotations

from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.cache.ecosystems import composer_via_php, recognise
from dockopt.layers.invocations import Invocation
from dockopt.model import Run
from dockopt.syntax import Instruction
from dockopt.toolchain.commands import build_step

# manager -> (targets, extra mount options, what else to change)
CACHE_TARGETS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "apt": (("/var/cache/apt", "/var/lib/apt"), ",sharing=locked",
            "remove /etc/apt/apt.conf.d/docker-clean first and drop `rm -rf /var/lib/apt/lists/*`"),
    "apk": (("/var/cache/apk",), "", "drop --no-cache from `apk add`"),
    "pip": (("/root/.cache/pip",), "", "drop --no-cache-dir"),
    "uv": (("/root/.cache/uv",), "", ""),
    "poetry": (("/root/.cache/pypoetry",), "", ""),
    "npm": (("/root/.npm",), "", ""),
    "yarn": (("/usr/local/share/.cache/yarn",), "", ""),
    "pnpm": (("/root/.local/share/pnpm/store",), "", ""),
    "go": (("/root/.cache/go-build", "/go/pkg/mod"), "", ""),
    "cargo": (("/usr/local/cargo/registry",), "", "the target directory can be a cache mount too, if the "
              "binary is copied out of it in the same RUN"),
    "maven": (("/root/.m2",), "", ""),
    "gradle": (("/root/.gradle",), "", ""),
    "composer": (("/root/.composer/cache",), "", ""),
    "dnf": (("/var/cache/dnf",), "", "add keepcache=True to dnf.conf"),
    "yum": (("/var/cache/yum",), "", "add keepcache=1 to yum.conf"),
}


# Advice that is about removing a flag: only given when the command has it.
_FLAG_ADVICE = {"apk": "--no-cache", "pip": "--no-cache-dir"}


def manager_of(inv: Invocation) -> str | None:
    """The package manager whose cache ``inv`` fills, or None."""
    name, argv = inv.name, inv.argv
    if name in ("apt-get", "apt") and any(a in ("install", "upgrade", "dist-upgrade") for a in argv):
        return "apt"
    if name == "apk" and "add" in argv:
        return "apk"
    if name in ("dnf", "yum") and "install" in argv:
        return name
    if name in ("composer", "composer.phar") or composer_via_php(inv):
        words = [a for a in argv if a is not None and not a.startswith("-")]
        if any(w in ("install", "update", "require", "create-project") for w in words[:3]):
            return "composer"
    install = recognise(inv)
    if install is not None:
        return {"pip": "pip", "uv": "uv", "poetry": "poetry", "npm": "npm", "yarn": "yarn", "pnpm": "pnpm",
                "go": "go", "maven": "maven", "gradle": "gradle", "composer": "composer",
                "cargo": "cargo"}.get(install.name)
    if name in ("pip", "pip3") and argv[:1] == ["install"]:
        return "pip"
    step = build_step(inv)
    if step is not None and step.tool in ("go", "cargo", "maven", "gradle"):
        return step.tool
    return None


class CacheMountOpportunity(Rule):
    code = "DO304"
    name = "cache-mount-opportunity"
    severity = Severity.INFO
    default = False

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.build.stages:
            user = "root"
            for ins in stage.instructions:
                if ins.name == "USER" and ins.values:
                    user = ins.values[0].split(":", 1)[0]
                run = ctx.build.run_of(ins) if ins.name == "RUN" else None
                if run is None or ins.is_json or user not in ("root", "0"):
                    continue
                found = self._managers(ctx, run)
                if found:
                    yield self._finding(ctx, ins, run, found)

    @staticmethod
    def _managers(ctx: LintContext, run: Run) -> dict[str, Invocation]:
        mounted = {m.get("target") or m.get("dst") or m.get("destination") for m in run.mounts
                   if m.get("type") == "cache"}
        found: dict[str, Invocation] = {}
        invocations = ctx.invocations(run)
        for inv in invocations:
            manager = manager_of(inv)
            if manager is None or manager in found or _cache_disabled(manager, run, inv):
                continue
            targets = _targets(manager, invocations)
            if not all(t in mounted for t in targets):
                found[manager] = inv
        return found

    @staticmethod
    def _finding(ctx: LintContext, ins: Instruction, run: Run, found: dict[str, Invocation]) -> Finding:
        mounted = {m.get("target") for m in run.mounts if m.get("type") == "cache"}
        flags = []
        extra = []
        invocations = ctx.invocations(run)
        for manager, inv in found.items():
            _, options, advice = CACHE_TARGETS[manager]
            targets = _targets(manager, invocations)
            if manager == "apt" and len(targets) == 1:
                advice = ("keep /var/lib/apt out of it: this install reads the package lists of an earlier "
                          "RUN's `apt-get update`, which an initially empty cache mount there would hide; "
                          "remove /etc/apt/apt.conf.d/docker-clean first")
            flags += [f"--mount=type=cache,target={t}{options}" for t in targets if t not in mounted]
            if manager in _FLAG_ADVICE and not inv.has(_FLAG_ADVICE[manager]):
                advice = ""  # the flag the advice is about is not there
            if advice:
                extra.append(advice)
        first = next(iter(found.values()))
        names = ", ".join(found)
        message = (f"`{_shorten(first.text)}` could keep the {names} cache in "
                   f"`RUN {' '.join(flags)}` (BuildKit): rebuilds reuse it and it stays out of the layer")
        if extra:
            message += "; also " + "; ".join(extra)
        at = ins.start + len(ins.keyword)
        fix = Fix(Applicability.SUGGESTION, "Add cache mounts (requires BuildKit)" +
                  (f"; then {'; '.join(extra)}" if extra else ""), (Edit(at, at, " " + " ".join(flags)),))
        return Finding(first.start, first.end, message, fix)


def _targets(manager: str, invocations: list[Invocation]) -> tuple[str, ...]:
    """The directories to mount for ``manager``. apt's lists (``/var/lib/apt``) only when this RUN
    runs ``apt-get update`` itself: a cache mount starts empty and hides what the directory holds,
    so an install reading the lists of an earlier RUN's update would find none and fail."""
    targets = CACHE_TARGETS[manager][0]
    if manager == "apt" and not any(inv.name in ("apt-get", "apt") and "update" in inv.argv
                                    for inv in invocations):
        return tuple(t for t in targets if t != "/var/lib/apt")
    return targets


# Settings that switch a manager's cache off: a cache mount would stay empty.
_CACHE_OFF_ENV = {"pip": ("PIP_NO_CACHE_DIR",), "uv": ("UV_NO_CACHE",), "poetry": ("POETRY_NO_CACHE",)}


def _cache_disabled(manager: str, run: Run, inv: Invocation) -> bool:
    # pip disables its cache for *any* value of PIP_NO_CACHE_DIR, "0" and "false" included
    # (pip's _handle_no_cache_dir, kept for backwards compatibility); an empty one still counts.
    names = _CACHE_OFF_ENV.get(manager, ())
    env = run.env()
    if any(name in inv.env or name in env for name in names):
        return True
    return any(f"{name}=" in run.instruction.logical for name in names)


def _shorten(text: str, limit: int = 50) -> str:
    """A command for a message: whitespace folded, cut at a word boundary, never mid-word."""
    words = text.split()
    out = ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if len(candidate) > limit:
            return (out or word[:limit]) + " ..."
        out = candidate
    return out
