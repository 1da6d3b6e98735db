"""DO306 build-time-value-baked: a RUN writes the time, a random number or a UUID into the image.

``RUN date > /build-date``, ``echo "Built on $(date)" >> /etc/motd``, ``uuidgen > /etc/machine-id``,
``echo "root:$(openssl rand -base64 12)" | chpasswd``: the value is computed when the RUN runs,
but the builder caches a RUN by its command text (and the layers below it), not by what the
command prints. So the value is frozen at the first build and silently stale on every cached
rebuild, and a ``--no-cache`` build (or any change above) reruns this step and every step after
it. A random value baked in is also shared by every container of the image: one machine-id,
one "random" password or key for all of them.

Reported per simple command, only when the value reaches a file of the layer:
- a generator (``date``, ``uuidgen``, ``dbus-uuidgen``, ``openssl rand``, reading
  ``/proc/sys/kernel/random/uuid``) whose output is redirected to a file or piped into ``tee``
  or ``chpasswd``;
- a command whose words hold such a value (``$(date ...)``, backquotes, ``$RANDOM``,
  ``$SRANDOM``) and which writes to a file (a redirect, ``sed -i``, ``tee``, ``chpasswd``).
A value printed to the build log (``RUN date``) or used and discarded within the RUN is not,
nor a RUN with a bind mount (``--mount=target=.``): the mounted files are part of its cache key,
so it reruns whenever they change (BuildKit's own version stamps work this way).

Not reported: ``git rev-parse HEAD`` and other reads of the sources. Their value describes the
files an earlier COPY or clone put into the image, and when those change, the COPY's checksum
(or the clone's command) changes and this RUN reruns: the value is never staler than the
sources next to it.

Severity warning, on by default: the finding is certain (the value is in a file) and the fix is
clear. No automatic fix: where the value should come from (the entrypoint, or a build arg)
is the author's choice.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Severity
from dockopt.layers.invocations import Invocation

# Commands whose output is a build-time value (by the first argument where it matters).
_GENERATORS = {"date": "the build time", "uuidgen": "a random UUID", "dbus-uuidgen": "a random machine id"}
# A value substituted into a command's words: $(date ...), `date ...`, $RANDOM, $(uuidgen) ...
_VOLATILE = re.compile(
    r"\$\(\s*(?P<date>date)\b|`\s*(?P<date2>date)\b|\$\{?(?P<random>S?RANDOM)\b|"
    r"\$\(\s*(?P<uuid>uuidgen|dbus-uuidgen|cat\s+/proc/sys/kernel/random/uuid)\b|"
    r"\$\(\s*(?P<rand>openssl\s+rand|head\s[^)]*/dev/u?random|pwgen)\b")
_KINDS = {"date": "the build time", "date2": "the build time", "random": "a random number",
          "uuid": "a random UUID", "rand": "a random secret"}
_STORING_PIPES = frozenset({"tee", "chpasswd", "chgpasswd"})


def _writes_file(inv: Invocation) -> str | None:
    """Where the command writes: a redirect target (not /dev/*), ``sed -i``'s file, ``tee``'s."""
    for op, target in inv.redirects:
        if ">" in op and not op.endswith("&") and target and not target.startswith("/dev/") \
                and not target.isdigit():
            return target
    if inv.name == "sed" and any(a and a.startswith("-i") for a in inv.argv):
        files = [a for a in inv.argv if a and not a.startswith("-")]
        return files[-1] if len(files) >= 2 else "the edited file"
    if inv.name == "tee":
        files = [a for a in inv.argv if a and not a.startswith("-") and not a.startswith("/dev/")]
        return files[0] if files else None
    if inv.name in ("chpasswd", "chgpasswd"):
        return "/etc/shadow"
    return None


def _piped_into(invocations: list[Invocation], index: int) -> Invocation | None:
    inv = invocations[index]
    for later in invocations[index + 1:]:
        if later.pipe_from == inv.name and later.name in _STORING_PIPES:
            return later
        if later.pipe_from is None:
            break
    return None


def _generated(inv: Invocation) -> str | None:
    """What value the command itself prints, when it is a generator."""
    if inv.name in _GENERATORS:
        if inv.name == "date" and any(a and a.startswith(("-s", "--set", "-d", "--date", "-r", "--reference"))
                                      for a in inv.argv):
            return None  # sets the clock, or formats a fixed date or a file's time
        return _GENERATORS[inv.name]
    if inv.name == "openssl" and inv.argv[:1] == ["rand"]:
        return "a random secret"
    if inv.name == "cat" and "/proc/sys/kernel/random/uuid" in inv.argv:
        return "a random UUID"
    return None


class BuildTimeValueBaked(Rule):
    code = "DO306"
    name = "build-time-value-baked"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        for stage in ctx.build.stages:
            for run in stage.runs:
                if any(m.get("type", "bind") == "bind" for m in run.mounts):
                    continue  # the mounted files are part of the cache key: the step reruns when they change
                invocations = list(ctx.invocations(run))
                for index, inv in enumerate(invocations):
                    found = self._baked(invocations, index, inv)
                    if found is not None:
                        kind, where = found
                        yield Finding(inv.start, inv.end, _message(kind, where))
                        break  # one finding per RUN

    @staticmethod
    def _baked(invocations: list[Invocation], index: int, inv: Invocation) -> tuple[str, str] | None:
        generated = _generated(inv)
        if generated is not None:
            where = _writes_file(inv)
            pipe = _piped_into(invocations, index) if where is None else None
            if pipe is not None:
                where = _writes_file(pipe)
            return (generated, where) if where else None
        m = _VOLATILE.search(inv.text)
        if m is None:
            return None
        where = _writes_file(inv)
        if where is None:
            pipe = _piped_into(invocations, index)
            where = _writes_file(pipe) if pipe is not None else None
        if where is None:
            return None
        kind = next(_KINDS[name] for name, value in m.groupdict().items() if value)
        return kind, where


def _message(kind: str, where: str) -> str:
    shared = ("; every container of the image also shares this one value"
              if kind != "the build time" else "")
    instead = ("generate it when the container starts (in the entrypoint)" if kind != "the build time" else
               "pass it as a build argument declared in the last stage (`ARG BUILD_DATE`, "
               "`--build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)`), or compute it at run time")
    return (f"this command writes {kind} into `{where}` at build time: the builder caches a RUN by its command "
            f"text, so the value is frozen at the first build and silently stale on every cached rebuild, and "
            f"a `--no-cache` build reruns this step and every step after it{shared}; {instead}")
