"""DO405 dev-dependencies-shipped: development/test dependencies installed in the shipped image.

In the shipped stage chain (not development, test or tool images):
- ``npm ci``/``npm install`` (no package names, not global) without ``--omit=dev``,
  ``--production`` or ``--only=prod``, where ``NODE_ENV`` is not ``production``; ``pnpm
  install`` without ``--prod``; ``yarn install`` without ``--production``;
- ``pip install -r requirements-dev.txt`` (dev/test/lint/docs requirement files) or
  ``.[dev]``-style extras;
- ``poetry install`` without ``--only main``/``--without dev``/``--no-dev``; ``uv sync``
  without ``--no-dev``; ``pipenv install --dev``;
- ``bundle install`` without ``--without development test``, ``BUNDLE_WITHOUT`` or a
  ``bundle config ... without``; ``composer install`` without ``--no-dev``/``COMPOSER_NO_DEV``.
The manifest decides, read from the build context: without dev dependencies (no
``devDependencies``, no ``require-dev``, no dev group) it is silent. A manifest that cannot be
read is not taken to have them (many real ones have none): then only a later build step in
the stage that needs them (``npm run build``) is evidence enough, and the other ecosystems
stay silent. When such a build step exists, the message says the real fix is a split and no
fix is offered; otherwise an unsafe fix adds the flag (the image loses packages).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from dockopt.cache.ecosystems import composer_via_php
from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.diagnostics import Applicability, Edit, Fix, Severity
from dockopt.layers.invocations import Invocation
from dockopt.model import Run
from dockopt.toolchain.commands import build_step, js_script
from dockopt.toolchain.stage import StageFacts, program, shipped_facts

_DEV_REQUIREMENTS = re.compile(r"(^|[-_./])(dev|devel|develop|test|tests|testing|lint|docs|ci)([-_.]|$)")
_DEV_EXTRAS = re.compile(r"\[[^\]]*\b(dev|test|tests|testing|lint|docs|all)\b[^\]]*\]")
_TEST_RUNNERS = frozenset({"pytest", "tox", "jest", "mocha", "vitest", "phpunit", "rspec", "nodemon", "ts-node-dev"})
_NPM_SUBS = ("ci", "install", "i")


class DevDependenciesShipped(Rule):
    code = "DO405"
    name = "dev-dependencies-shipped"
    severity = Severity.WARNING
    uses_context = True

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        facts = shipped_facts(ctx)
        if facts is None or facts.dev_reason is not None or _runs_tests(facts):
            return
        runs = [run for stage in facts.stages for run in stage.runs]
        for position, run in enumerate(runs):
            env = run.env()
            if env.get("NODE_ENV") in ("development", "test") or env.get("RAILS_ENV") in ("development", "test"):
                return  # configured as a development image
            invs = ctx.invocations(run)
            for index, inv in enumerate(invs):
                finding = self._inspect(ctx, facts, runs, position, run, invs, index, inv, env)
                if finding is not None:
                    yield finding

    def _inspect(self, ctx: LintContext, facts: StageFacts, runs: list[Run], position: int, run: Run,
                 invs: list[Invocation], index: int, inv: Invocation, env: dict[str, str]) -> Finding | None:
        merged = {**env, **inv.env}
        sub = next((a for a in inv.argv if a is None or not a.startswith("-")), None)
        if any(a is None for a in inv.argv):
            return None  # an argument dockopt cannot read may be the flag (`bundle install $ARGS`)
        if inv.name in ("npm", "pnpm", "yarn") and (sub in _NPM_SUBS or (
                inv.name == "yarn" and sub is None and not inv.has("--version", "-v", "-V", "--help", "-h"))):
            return self._node(ctx, facts, runs, position, run, invs, index, inv, merged)
        if inv.name in ("pip", "pip3") or inv.name.startswith("python") and inv.argv[:2] == ["-m", "pip"]:
            return self._pip(inv)
        if inv.name == "poetry" and sub == "install":
            if inv.has("--no-dev", "--only-root") or _option(inv, "--only") == "main" or "dev" in (_option(inv, "--without") or ""):
                return None
            if _manifest_has(ctx, "pyproject.toml", r"\[tool\.poetry\.(group\.\w+|dev-dependencies)") is not True:
                return None
            return _found(ctx, inv, "`poetry install` installs the dev group too", " --only main", "install",
                          "Poetry >= 1.2")
        if inv.name == "uv" and sub == "sync":
            if inv.has("--no-dev", "--only-dev") or merged.get("UV_NO_DEV") not in (None, "", "0", "false"):
                return None
            if _manifest_has(ctx, "pyproject.toml", r"(\[dependency-groups\]|dev-dependencies)") is not True:
                return None
            return _found(ctx, inv, "`uv sync` installs the dev dependency group by default", " --no-dev", "sync", None)
        if inv.name == "pipenv" and sub == "install" and inv.has("--dev", "-d"):
            return Finding(inv.start, inv.end, "`pipenv install --dev` installs the [dev-packages] into the shipped image")
        if inv.name == "bundle" and sub in (None, "install"):
            if any(a and "--without" in a for a in inv.argv) or "BUNDLE_WITHOUT" in merged or _bundle_configured(ctx, runs[: position + 1]):
                return None
            if _manifest_has(ctx, "Gemfile", r"group\s*\(?\s*:(development|test)") is not True:
                return None
            return Finding(inv.start, inv.end, "`bundle install` installs the development and test groups; set "
                           "`ENV BUNDLE_WITHOUT=development:test` before it")
        if composer_via_php(inv):  # `php composer.phar install`
            sub = next((a for a in inv.argv[1:] if a is None or not a.startswith("-")), None)
        if (inv.name in ("composer", "composer.phar") or composer_via_php(inv)) and sub == "install":
            if inv.has("--no-dev") or merged.get("COMPOSER_NO_DEV") not in (None, "", "0"):
                return None
            if _manifest_has(ctx, "composer.json", r'"require-dev"\s*:\s*\{\s*"') is not True:
                return None
            return _found(ctx, inv, "`composer install` installs require-dev packages", " --no-dev", "install", None)
        return None

    def _node(self, ctx: LintContext, facts: StageFacts, runs: list[Run], position: int, run: Run,
              invs: list[Invocation], index: int, inv: Invocation, env: dict[str, str]) -> Finding | None:
        words = [a for a in inv.argv if a is not None]
        if len(words) != len(inv.argv) or inv.has("-g", "--global", "--omit=dev", "--production", "--prod", "-P",
                                                  "--only=prod", "--only=production", "--omit"):
            return None
        if inv.name == "npm" and [w for w in words if not w.startswith("-")][1:]:
            return None  # npm install <packages>: not the manifest's dependencies
        production = env.get("NODE_ENV") == "production" or env.get("npm_config_production") == "true"
        if production and not inv.has("--include=dev"):
            return None
        if inv.name == "yarn" and [w for w in words if not w.startswith("-")][1:]:
            return None
        manifest = _manifest_has(ctx, "package.json", None, json_key="devDependencies")
        if manifest is False:
            return None
        if any(_removes_node_modules(other) for other in invs[index + 1:]):
            return None  # `npm install && npm run build && rm -rf node_modules`: nothing installed stays
        later = [i for r in runs[position:] for i in ctx.invocations(r)]
        later = later[later.index(inv) + 1 :] if inv in later else later
        old_npm = inv.name == "npm" and _npm_before_7(facts)
        omit = "--production" if old_npm else "--omit=dev"
        for other in later:
            if other.name in ("npm", "pnpm", "yarn") and ("prune" in other.argv) and other in invs:
                return None  # pruned in the same RUN
            needs = build_step(other) is not None or js_script(other) in ("test", "lint")
            if needs:
                line = _line_of(ctx, runs, other)
                return Finding(inv.start, inv.end, f"`{_short(inv)}` installs devDependencies into the shipped "
                               f"image; `{_short(other)}` on line {line} needs them, so build in a separate stage and "
                               "install only production dependencies (`npm ci {omit}`) in the shipped one")
        # npm <= 6 (node <= 14) ignores --omit=dev and installs everything; --production works in every npm.
        if manifest is None:
            return None  # many package.json have no devDependencies: without the file, only a build step shows them
        flag = {"npm": " " + omit, "pnpm": " --prod", "yarn": " --production"}[inv.name]
        sub = next((a for a in words if not a.startswith("-")), None)
        if inv.name == "yarn":
            return Finding(inv.start, inv.end, f"`{_short(inv)}` installs devDependencies into the shipped image; "
                           "use `yarn install --production` (yarn 1) or `yarn workspaces focus --production` (yarn 2+)")
        return _found(ctx, inv, f"`{_short(inv)}` installs devDependencies into the shipped image", flag, sub, None)

    def _pip(self, inv: Invocation) -> Finding | None:
        words = [a for a in inv.argv if a is not None]
        for i, word in enumerate(words):
            target = None
            if word in ("-r", "--requirement") and i + 1 < len(words):
                target = words[i + 1]
            elif word.startswith("--requirement="):
                target = word.split("=", 1)[1]
            if target and _DEV_REQUIREMENTS.search(target.rsplit("/", 1)[-1].lower() if "require" in target.lower()
                                                   else target.lower()):
                return Finding(inv.start, inv.end, f"`{_short(inv)}` installs development/test requirements "
                               f"({target}) into the shipped image")
            if not word.startswith("-") and _DEV_EXTRAS.search(word):
                return Finding(inv.start, inv.end, f"`{_short(inv)}` installs the {word} extras into the shipped image")
        return None


def _found(ctx: LintContext, inv: Invocation, what: str, flag: str, after: str | None,
           requires: str | None) -> Finding:
    """A finding with an unsafe fix inserting ``flag`` after the subcommand word."""
    fix = None
    text_at = inv.text.find(f" {after}") if after else -1
    # Only where the command stands verbatim in the file: in exec form (`RUN ["sh", "-c", "..."]`)
    # its offsets span the whole JSON array, and an offset into the script is not one into the file.
    verbatim = ctx.source[inv.start : inv.end] == inv.text
    if after and verbatim and text_at != -1 and "\n" not in inv.text[: text_at]:
        at = inv.start + text_at + 1 + len(after)
        note = f"; needs {requires}" if requires else ""
        fix = Fix(Applicability.UNSAFE, f"Add `{flag.strip()}` (unsafe: the dev packages leave the image; anything "
                  f"that uses them at run time breaks{note})", (Edit(at, at, flag),))
    return Finding(inv.start, inv.end, f"{what}; add `{flag.strip()}` or install them in a build stage", fix)


def _removes_node_modules(inv: Invocation) -> bool:
    return inv.name == "rm" and any(a is not None and not a.startswith("-") and
                                    a.rstrip("/").rsplit("/", 1)[-1] == "node_modules" for a in inv.argv)


# Node release lines by codename (the official image's tags): the ones up to 14 bundle npm <= 6.
_NODE_CODENAMES = {"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
                   "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22}


def _npm_before_7(facts: StageFacts) -> bool:
    """Whether the shipped chain's base is an official node image of Node <= 14, whose npm (<= 6)
    does not know ``--omit=dev`` (it ignores it and installs devDependencies)."""
    image = facts.image
    if image is None or not image.official or image.name != "node":
        return False
    tag = image.tag.lower()
    major = re.match(r"(\d+)", tag)
    if major:
        return int(major.group(1)) <= 14
    codename = re.match(r"([a-z]+)", tag)
    return bool(codename) and _NODE_CODENAMES.get(codename.group(1), 99) <= 14


def _option(inv: Invocation, name: str) -> str | None:
    value = inv.option(name)
    return value.strip("'\"") if value else None


def _manifest_has(ctx: LintContext, name: str, pattern: str | None, json_key: str | None = None) -> bool | None:
    """Whether the context's manifest has dev dependencies; None when the manifest cannot be read.

    Unknown is not yes: on real files (issue 16) many manifests have no dev dependencies at all
    (the example-voting-app's result/package.json, awesome-compose's web/package.json), so
    without the file a finding needs other evidence (a build step that uses them)."""
    context = ctx.build_context
    text = context.read_text(name, 1_000_000) if getattr(context, "available", False) else None
    if text is None:
        return None
    if json_key is not None:
        import json  # lazily: start-up time

        try:
            return bool(json.loads(text).get(json_key))
        except (ValueError, AttributeError):
            return None
    return re.search(pattern or "", text) is not None


def _bundle_configured(ctx: LintContext, runs: list[Run]) -> bool:
    return any(i.name == "bundle" and "config" in i.argv and any(a and "without" in a for a in i.argv)
               for r in runs for i in ctx.invocations(r))


def _runs_tests(facts: StageFacts) -> bool:
    name, args = program(facts.entry)
    return name in _TEST_RUNNERS or (name in ("npm", "yarn", "pnpm") and bool(set(args) & {"test", "dev"}))


def _line_of(ctx: LintContext, runs: list[Run], inv: Invocation) -> int:
    for run in runs:
        if inv in ctx.invocations(run):
            return run.instruction.start_line
    return 0


def _short(inv: Invocation) -> str:
    first = inv.text.strip().splitlines()[0] if inv.text.strip() else inv.name
    return first if len(first) <= 60 else first[:57] + "..."
