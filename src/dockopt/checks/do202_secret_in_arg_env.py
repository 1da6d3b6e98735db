"""DO202 secret-in-arg-env: ARG/ENV that carries a credential into the image config or history.

What ends up where (BuildKit's dockerfile2llb):
- ENV values are part of the image config: ``docker inspect`` and every container see them.
- ARG values (a default, or a ``--build-arg`` value) of the shipped stage are written into
  the image history: the ``ARG`` entry and every later RUN's entry (``|1 NAME=value ...``)
  carry them, and ``docker history --no-trunc`` prints them.
- Neither reaches the final image from a builder stage; a literal credential there is
  still committed with the Dockerfile and kept in the build cache.

So, per ARG/ENV variable:
- a known token format or a URL with a password in the value: always (any stage);
- in a shipped stage, a credential-like name (``dockopt.secrets.detect.secret_name``) with a literal
  value that is not a placeholder, boolean or path; an ENV copying a build argument that
  holds a credential (``ENV NPM_TOKEN=$NPM_TOKEN``); an ARG with such a name and no default
  (its value comes from ``--build-arg``) -- unless the stage reads that secret through
  ``--mount=type=secret`` (then the ARG is a leftover nobody passes) or an ENV of the stage
  copies it (the ENV finding covers it);
- in a shipped stage, a value that is random by every measure (``looks_random``) whatever
  the name.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Severity
from dockopt.model import Stage
from dockopt.secrets.detect import (
    is_boolean,
    is_default_for,
    is_placeholder,
    is_reference,
    known_tokens,
    looks_like_path,
    looks_random,
    referenced_names,
    secret_name,
    url_credentials,
)
from dockopt.syntax import Instruction


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    value: str | None  # as written, quotes removed; None: ARG without a default
    start: int
    end: int


def _variables(ins: Instruction) -> Iterator[_Variable]:
    args = ins.arguments
    if ins.name == "ARG":
        for arg in args:
            name, eq, value = arg.value.partition("=")
            yield _Variable(name, _unquote(value) if eq else None, arg.start, arg.end)
        return
    for i in range(0, len(args) - 2, 3):
        yield _Variable(args[i].value, _unquote(args[i + 1].value), args[i].start, args[i + 1].end)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _where(kind: str, replaced_on: int | None = None) -> str:
    if kind == "ENV" and replaced_on is not None:
        return (f"the ENV on line {replaced_on} replaces it in the image config, but the image history keeps "
                "this entry with the value (`docker history --no-trunc`)")
    if kind == "ENV":
        return ("it is stored in the image config and history, where `docker inspect` and every container "
                "see it")
    return "it is recorded in the image history (`docker history --no-trunc`)"


def _replaced_on(stage: Stage, declared: Instruction, name: str) -> int | None:
    """The line of a later ENV of the stage that sets ``name`` again (clearing it, usually)."""
    after = stage.instructions[stage.instructions.index(declared) + 1:]
    for ins in after:
        if ins.name == "ENV" and any(var.name == name for var in _variables(ins)):
            return ins.start_line
    return None


# A word, perhaps with a few digits (``fsociety``, ``password123``, ``Passw0rd``): a value people
# pick to be typed and documented, not a generated secret.
_WORDLIKE = re.compile(r"^[A-Za-z][a-z]{2,15}[0-9!]{0,4}$|^[a-z]{3,16}$")
_DEFAULT_HINT = re.compile(r"(?i)\b(default|demo|example|sample|override|change (it|this|me)|for testing)\b")


def _demo_default(ctx: LintContext, ins: Instruction, value: str) -> bool:
    """An ENV credential that is a default for users to override (a word, or a comment saying so):
    weak and public, but an ENV default is how images document their run-time settings."""
    from dockopt.fixes.reorder import comment_start

    comments = ctx.source[comment_start(ctx.document, ins):ins.line_start]
    return bool(_WORDLIKE.match(value)) or bool(_DEFAULT_HINT.search(comments))


_SECRET_MOUNT = "use a secret mount instead (`RUN --mount=type=secret,id=<id>,env=<NAME> ...`)"


class SecretInArgEnv(Rule):
    code = "DO202"
    name = "secret-in-arg-env"
    severity = Severity.WARNING

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        build = ctx.build
        shipped = {stage.index for stage in build.shipped_stages(ctx.target)}
        for ins in build.document.instructions:
            if ins.name == "FROM":
                break
            if ins.name == "ARG":
                for var in _variables(ins):
                    yield from self._literal_credentials(ins, var, shipped=False)
        for stage in build.stages:
            in_image = stage.index in shipped
            args_seen: set[str] = set()
            for ins in stage.instructions:
                if ins.name not in ("ARG", "ENV"):
                    continue
                for var in _variables(ins):
                    found = list(self._literal_credentials(ins, var, shipped=in_image))
                    if not found and in_image:
                        found = list(self._shipped(ctx, stage, ins, var, args_seen))
                    yield from found[:1]
                    if ins.name == "ARG":
                        args_seen.add(var.name)

    def _literal_credentials(self, ins: Instruction, var: _Variable, shipped: bool) -> Iterator[Finding]:
        """Known token formats and URL passwords: certain, in any stage."""
        if not var.value:
            return
        where = _where(ins.name) if shipped else "it is committed with the Dockerfile and kept in the build cache"
        tokens = known_tokens(var.value)
        if tokens:
            yield Finding(var.start, var.end, f"{ins.name} {var.name} holds {tokens[0].kind} (a live credential "
                          f"format): {where}; revoke it and {_SECRET_MOUNT}", severity=Severity.ERROR)
            return
        if any(c.literal for c in url_credentials(var.value)):
            yield Finding(var.start, var.end, f"{ins.name} {var.name} holds a URL with a password: {where}; "
                          f"{_SECRET_MOUNT}")

    def _shipped(self, ctx: LintContext, stage: Stage, ins: Instruction, var: _Variable,
                 args_seen: set[str]) -> Iterator[Finding]:
        value = var.value
        if secret_name(var.name):
            if not value or (ins.name == "ARG" and is_reference(value)):
                if ins.name == "ARG" and not self._secret_read_elsewhere(stage, ins, var.name) \
                        and not self._copied_by_env(stage, ins, var.name):
                    yield Finding(var.start, var.end, (
                        f"build argument {var.name} looks like a credential: a value passed with "
                        f"`--build-arg {var.name}=...` is recorded in the image history (`docker history "
                        f"--no-trunc` shows it with every later RUN); {_SECRET_MOUNT}"))
                return
            copied = [n for n in referenced_names(value) if n in args_seen]
            if is_reference(value):
                if copied and ins.name == "ENV":
                    where = _where("ENV", _replaced_on(stage, ins, var.name))
                    yield Finding(var.start, var.end, (
                        f"ENV {var.name} copies build argument {copied[0]} into the image: {where}; "
                        f"{_SECRET_MOUNT}"))
                return
            if self._benign_value(value) or is_default_for(var.name, value):
                return
            where = _where(ins.name, _replaced_on(stage, ins, var.name) if ins.name == "ENV" else None)
            if ins.name == "ENV" and _demo_default(ctx, ins, value):
                yield Finding(var.start, var.end, (
                    f"ENV {var.name} sets a default password (`{value}`) that every copy of the image shares: "
                    f"{where}; fine for a documented demo default that users override with `docker run -e`, "
                    "never for a real credential"), severity=Severity.INFO)
                return
            yield Finding(var.start, var.end, (
                f"{ins.name} {var.name} holds a hard-coded credential: {where}; pass it at run time "
                f"(`docker run -e`, an orchestrator secret) or, for the build, {_SECRET_MOUNT}"))
            return
        if value is None:
            return
        secret_refs = [n for n in referenced_names(value) if n in args_seen and secret_name(n)]
        if secret_refs and ins.name == "ENV":
            yield Finding(var.start, var.end, (
                f"ENV {var.name} copies build argument {secret_refs[0]} (a credential) into the image: "
                f"{_where('ENV', _replaced_on(stage, ins, var.name))}; {_SECRET_MOUNT}"))
            return
        if not referenced_names(value) and any(looks_random(t) for t in re.split(r"[\s,;]+", value)):
            yield Finding(var.start, var.end, (
                f"{ins.name} {var.name} looks like a generated secret (a long random string): {_where(ins.name)}; "
                f"if it is a credential, {_SECRET_MOUNT}"))

    @staticmethod
    def _benign_value(value: str) -> bool:
        """Values a credential-named variable may hold without holding a credential."""
        if is_placeholder(value) or is_boolean(value) or looks_like_path(value):
            return True
        if "://" in value and not url_credentials(value):
            return True  # an endpoint: AUTH_SERVER=https://...
        return "$" in value and not any(c.isalnum() for c in re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "", value))

    @staticmethod
    def _copied_by_env(stage: Stage, declared: Instruction, name: str) -> bool:
        """Whether a later ENV of the stage copies the ARG (that ENV's finding says it all)."""
        after = stage.instructions[stage.instructions.index(declared) + 1:]
        return any(name in referenced_names(var.value or "") for ins in after if ins.name == "ENV"
                   for var in _variables(ins))

    @staticmethod
    def _secret_read_elsewhere(stage: Stage, declared: Instruction, name: str) -> bool:
        """Whether the stage reads this secret through a secret mount (``env=NAME``, ``id=NAME``)
        or uses the ARG only inside ``--mount`` flags: then the ARG is a leftover or an id."""
        reference = re.compile(r"\$\{?" + re.escape(name) + r"\b")
        after = stage.instructions[stage.instructions.index(declared) + 1:]
        used_outside_mounts = False
        mounted = False
        for ins in after:
            shadowed = False  # a secret mount with env=NAME: inside this RUN, $NAME is the secret
            for mount in ins.flag_values("mount") if ins.name == "RUN" else ():
                parts = dict(p.partition("=")[::2] for p in mount.split(","))
                if parts.get("type") == "secret" and name in (parts.get("env"), parts.get("id")):
                    mounted = True
                    shadowed = shadowed or parts.get("env") == name
                elif reference.search(mount):
                    mounted = True
            body = ins.logical
            for flag in ins.flags:
                if flag.name == "mount":
                    body = body.replace(flag.text, "")
            if reference.search(body) and not shadowed:
                used_outside_mounts = True
        return mounted and not used_outside_mounts

