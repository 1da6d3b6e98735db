"""DO301's general case (issue 16): any COPY/ADD above a dependency install that does not read
what it copies is reported, and moved below the install; what the install reads is not."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.cache.ecosystems import recognise
from dockopt.diagnostics import Applicability
from dockopt.layers.invocations import Invocation
from tests.lintkit import findings, fixed
from tests.trace import prove, unavailable

# (base image, manifest COPY, install) per ecosystem DO301 knows.
ECOSYSTEMS = {
    "pip": ("python:3.12-slim", "COPY requirements.txt .", "RUN pip install --no-cache-dir -r requirements.txt"),
    "uv": ("python:3.12-slim", "COPY pyproject.toml uv.lock ./", "RUN uv sync --frozen --no-install-project"),
    "poetry": ("python:3.12-slim", "COPY pyproject.toml poetry.lock ./", "RUN poetry install --no-root"),
    "pipenv": ("python:3.12-slim", "COPY Pipfile Pipfile.lock ./", "RUN pipenv install --deploy --system"),
    "npm": ("node:20-slim", "COPY package.json package-lock.json ./", "RUN npm ci"),
    "yarn": ("node:20-slim", "COPY package.json yarn.lock ./", "RUN yarn install --frozen-lockfile"),
    "pnpm": ("node:20-slim", "COPY package.json pnpm-lock.yaml ./", "RUN pnpm install --frozen-lockfile"),
    "bun": ("oven/bun:1", "COPY package.json bun.lockb ./", "RUN bun install --frozen-lockfile"),
    "bundler": ("ruby:3.3", "COPY Gemfile Gemfile.lock ./", "RUN bundle install --deployment"),
    "composer": ("composer:2", "COPY composer.json composer.lock ./", "RUN composer install --no-scripts --no-autoloader"),
    "go": ("golang:1.22", "COPY go.mod go.sum ./", "RUN go mod download"),
    "maven": ("maven:3-eclipse-temurin-21", "COPY pom.xml .", "RUN mvn -B dependency:go-offline"),
    "gradle": ("gradle:8-jdk21", "COPY build.gradle settings.gradle ./", "RUN gradle dependencies"),
    "dotnet": ("mcr.microsoft.com/dotnet/sdk:8.0", "COPY app.csproj .", "RUN dotnet restore app.csproj"),
    "mix": ("elixir:1.16", "COPY mix.exs mix.lock ./", "RUN mix deps.get"),
}
SOURCE = {"pip": "app.py", "uv": "app.py", "poetry": "app.py", "pipenv": "app.py", "npm": "server.js",
          "yarn": "server.js", "pnpm": "server.js", "bun": "index.ts", "bundler": "app.rb", "composer": "index.php",
          "go": "main.go", "maven": "Main.java", "gradle": "Main.kt", "dotnet": "Program.cs", "mix": "router.ex"}


def _dockerfile(eco: str, *between: str, before: tuple[str, ...] = ()) -> str:
    image, manifests, install = ECOSYSTEMS[eco]
    return "\n".join([f"FROM {image}", "WORKDIR /app", *before, manifests, *between, install, 'CMD ["true"]']) + "\n"


@pytest.mark.parametrize("eco", sorted(ECOSYSTEMS))
def test_a_source_file_between_the_manifests_and_the_install_is_reported_and_moved(eco: str) -> None:
    source = SOURCE[eco]
    text = _dockerfile(eco, f"COPY {source} ./")
    [d] = findings(text, "DO301")
    assert d.start.line == 4 and f"copies {source} before" in d.message and "does not read it" in d.message
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE
    assert "the build context is unknown" in d.fix.message
    lines = fixed(text, "DO301", unsafe=True).text.splitlines()
    assert lines[2:5] == [ECOSYSTEMS[eco][1], ECOSYSTEMS[eco][2], f"COPY {source} ./"]


@pytest.mark.parametrize("eco", sorted(ECOSYSTEMS))
def test_a_source_file_above_the_manifests_is_reported(eco: str) -> None:
    text = _dockerfile(eco, before=(f"COPY {SOURCE[eco]} /app/",))
    assert [d.start.line for d in findings(text, "DO301")] == [3]


@pytest.mark.parametrize(
    ("eco", "copy"),
    [
        # Files the install reads besides the manifests the ecosystem table names.
        ("npm", "COPY .npmrc ./"), ("npm", "COPY prisma/schema.prisma prisma/"), ("yarn", "COPY .yarnrc.yml ./"),
        ("npm", "COPY patches.tgz ./"), ("pnpm", "COPY pnpm-workspace.yaml ./"),
        ("pip", "COPY requirements-dev.txt ./"), ("pip", "COPY constraints.in ./"), ("pip", "COPY dist/app-1.0.whl dist/"),
        ("uv", "COPY README.md ./"), ("uv", "COPY .python-version ./"),
        ("bundler", "COPY app.gemspec ./"), ("bundler", "COPY lib/app/version.rb lib/app/"),
        ("bundler", "COPY .ruby-version ./"), ("go", "COPY go.work go.work.sum ./"),
        ("maven", "COPY .mvn/extensions.xml .mvn/"), ("gradle", "COPY gradle/libs.versions.toml gradle/"),
        ("gradle", "COPY gradle.properties ./"), ("dotnet", "COPY Directory.Build.props ./"),
        ("dotnet", "COPY NuGet.Config ./"), ("mix", "COPY config/config.exs config/"),
        # Credentials and certificates a private registry needs.
        ("pip", "COPY corp-ca.crt ./"), ("npm", "COPY .netrc ./"),
        # Configuration in system and home directories.
        ("pip", "COPY pip.conf /etc/pip.conf"), ("npm", "COPY npmrc /root/.npmrc"),
        ("bundler", "COPY bundle-config /usr/local/bundle/config"),
        # Directories, without the context: a replace, a workspace, a path gem, a local package.
        ("go", "COPY api/ api/"), ("npm", "COPY packages packages"), ("pip", "COPY libs/ libs/"),
    ],
)
def test_what_the_install_may_read_is_not_reported(eco: str, copy: str) -> None:
    assert findings(_dockerfile(eco, copy), "DO301") == []


@pytest.mark.parametrize(
    "text",
    [
        # A path the install's command line names.
        "FROM maven:3\nWORKDIR /app\nCOPY pom.xml .\nCOPY ci-settings.conf .\nRUN mvn -s ci-settings.conf dependency:go-offline\n",
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY wheels/pkg.whl wheels/\n"
        "RUN pip install --find-links ./wheels -r requirements.txt\n",
        # A path a tool's environment variable names.
        "FROM python:3.12\nWORKDIR /app\nENV PIP_CONSTRAINT=/app/pins.cfg\nCOPY requirements.txt pins.cfg ./\n"
        "COPY pins.cfg .\nRUN pip install -r requirements.txt\n",
        "FROM node:20\nWORKDIR /app\nENV NODE_OPTIONS=--require=/app/hook.js\nCOPY package.json .\nCOPY hook.js .\n"
        "RUN npm ci\n",
        # The install's own RUN runs the copied script first (it is one cache step).
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY setup-deps.sh .\n"
        "RUN sh setup-deps.sh && pip install -r requirements.txt\n",
        "FROM python:3.12\nWORKDIR /src\nCOPY requirements.txt .\nCOPY Makefile .\nRUN make gen && pip install -r requirements.txt\n",
        # pip after a COPY of the project's setup.py: the requirements may say `-e .`.
        "FROM python:3.12\nWORKDIR /app\nCOPY setup.py requirements.txt ./\nCOPY cli.py .\nRUN pip install -r requirements.txt\n",
        # composer scripts (Laravel's `artisan package:discover`) read the application.
        "FROM composer:2\nWORKDIR /app\nCOPY composer.json .\nCOPY index.php .\nRUN composer install\n",
        # The first install after it reads it: a later one is not judged (the COPY cannot pass the first).
        "FROM python:3.12\nWORKDIR /app\nCOPY package.json .npmrc ./\nRUN npm ci\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n",
        # `yarn --version` is not an install.
        "FROM node:20\nWORKDIR /app\nCOPY server.js .\nRUN yarn --version\n",
        # A COPY from another stage or a URL is not a context file DO301 judges.
        "FROM python:3.12\nWORKDIR /app\nCOPY --from=build /out/app.bin .\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n",
    ],
)
def test_copies_the_install_reads_or_that_are_not_its_business_are_not_reported(text: str) -> None:
    assert [d for d in findings(text, "DO301") if "does not read" in d.message] == []


def test_yarn_version_is_not_an_install() -> None:
    inv = Invocation("yarn", ["--version"], [], 0, 14, "yarn --version")
    assert recognise(inv) is None
    assert recognise(Invocation("yarn", [], [], 0, 4, "yarn")) is not None


def test_a_run_between_that_uses_the_file_leaves_it_reported_without_a_fix() -> None:
    text = ("FROM python:3.12\nWORKDIR /app\nCOPY entrypoint.sh .\nRUN chmod +x entrypoint.sh\n"
            "COPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    [d] = findings(text, "DO301")
    assert d.fix is None and "line 4 uses entrypoint.sh" in d.message


def test_a_copy_between_into_the_same_tree_makes_the_move_unsafe_and_says_which() -> None:
    text = ("FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\nCOPY app.py .\nCOPY conf/ ./\n"
            "RUN pip install -r requirements.txt\n")
    [d] = [d for d in findings(text, "DO301") if d.start.line == 4]
    assert d.fix is not None and "the COPY on line 5 writes the same paths" in d.fix.message


def test_a_package_manager_between_that_may_read_the_file_makes_the_move_unsafe() -> None:
    # .npmrc is npm's project configuration: pip does not read it, `npm install -g` may.
    text = ("FROM node:20\nWORKDIR /app\nCOPY .npmrc .\nRUN npm install -g pm2\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\n")
    [d] = findings(text, "DO301")
    assert d.fix is not None and "`npm` on line 4 may read .npmrc" in d.fix.message


def test_composer_without_no_autoloader_may_scan_php_files() -> None:
    text = ("FROM composer:2\nWORKDIR /app\nCOPY composer.json composer.lock ./\nCOPY {f} database/seeds/\n"
            "RUN composer install --no-scripts{flag}\n")
    assert findings(text.format(f="Seeder.php", flag=""), "DO301") == []
    assert len(findings(text.format(f="Seeder.php", flag=" --no-autoloader"), "DO301")) == 1
    assert len(findings(text.format(f="seed.sql", flag=""), "DO301")) == 1


def test_a_chown_copy_that_may_create_a_directory_another_copy_writes_into_is_unsafe() -> None:
    # Without a WORKDIR, `COPY --chown` of /app/src/ first creates /app (owned by 1000); moved below
    # the manifests' COPY, that one would create /app as root.
    text = ("FROM node:20\nCOPY --chown=1000:1000 src/index.js /app/src/\nCOPY package.json package-lock.json /app/\n"
            "RUN cd /app && npm ci\n")
    [d] = findings(text, "DO301")
    assert d.fix is not None and "may create the directory with other owner or mode" in d.fix.message
    # Below the manifests' COPY, /app exists already: only /app/src is created, by the same COPY.
    text = ("FROM node:20\nCOPY package.json package-lock.json /app/\nCOPY --chown=1000:1000 src/index.js /app/src/\n"
            "RUN cd /app && npm ci\n")
    [d] = findings(text, "DO301")
    assert d.fix is not None and "owner" not in d.fix.message


def test_a_workdir_between_gives_the_moved_copy_an_absolute_destination() -> None:
    text = ("FROM python:3.12\nWORKDIR /app\nCOPY app.py .\nWORKDIR /deps\nCOPY requirements.txt .\n"
            "RUN pip install -r requirements.txt\n")
    assert fixed(text, "DO301", unsafe=True).text.endswith("RUN pip install -r requirements.txt\nCOPY app.py /app\n")


def _context(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    return tmp_path


SAFE_CASES = [
    ({"requirements.txt": "flask==3.0.0\n", "app.py": "print(1)\n", "templates/index.html": "<p>\n"},
     "FROM python:3.12-slim\nWORKDIR /srv\nCOPY requirements.txt .\n# the app\nCOPY app.py .\nCOPY templates templates\n"
     "RUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"),
    ({"package.json": '{"name": "a"}', "package-lock.json": "{}\n", "server.js": "\n", ".dockerignore": "node_modules\n"},
     "FROM node:20-slim\nWORKDIR /app\nCOPY server.js ./\nCOPY package.json package-lock.json ./\n"
     "RUN npm ci && npm run build\nCMD [\"node\", \"server.js\"]\n"),
    ({"go.mod": "module x\n\ngo 1.22\n", "go.sum": "", "main.go": "package main\n"},
     "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nCOPY main.go ./\nRUN go mod download\n"
     "RUN go build -o /out/app .\n"),
]


@pytest.mark.parametrize(("files", "text"), SAFE_CASES)
def test_with_the_context_the_move_is_safe_idempotent_and_cures_the_finding(
        tmp_path: Path, files: dict[str, str], text: str) -> None:
    root = _context(tmp_path, files)
    found = [d for d in findings(text, "DO301", context=root) if "does not read" in d.message]
    assert found and all(d.fix is not None and d.fix.applicability is Applicability.SAFE for d in found)
    once = fixed(text, "DO301", context=root).text
    assert once != text and findings(once, "DO301", context=root) == []
    assert fixed(once, "DO301", context=root).text == once


@pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")
@pytest.mark.parametrize(("files", "text"), SAFE_CASES)
def test_safe_moves_are_proven_by_the_trace_harness(tmp_path: Path, files: dict[str, str], text: str) -> None:
    root = _context(tmp_path, files)
    verdict = prove(text, fixed(text, "DO301", context=root).text)
    assert verdict.proven, verdict


def test_with_the_context_an_included_file_or_a_workspace_is_read(tmp_path: Path) -> None:
    root = _context(tmp_path, {"requirements.txt": "-r pins.list\n", "pins.list": "flask\n"})
    text = "FROM python:3.12\nWORKDIR /a\nCOPY requirements.txt .\nCOPY pins.list .\nRUN pip install -r requirements.txt\n"
    assert findings(text, "DO301", context=root) == []
    root = _context(tmp_path / "js", {"package.json": '{"workspaces": ["lib"]}', "lib/package.json": "{}"})
    text = "FROM node:20\nWORKDIR /a\nCOPY lib lib\nCOPY package.json .\nRUN npm ci\n"
    assert findings(text, "DO301", context=root) == []


def test_with_the_context_install_scripts_make_it_silent(tmp_path: Path) -> None:
    root = _context(tmp_path, {"package.json": '{"scripts": {"postinstall": "node gen.js"}}', "gen.js": "\n"})
    text = "FROM node:20\nWORKDIR /a\nCOPY package.json .\nCOPY gen.js .\nRUN npm ci\n"
    assert findings(text, "DO301", context=root) == []


# --- a generated population: every safe move is proven, keeps the simulated filesystem and cures
# its finding; every unsafe one says why ----------------------------------------------------------

POPULATION_ECOSYSTEMS = {
    "pip": ({"requirements.txt": "flask==3.0.0\n"}, "COPY requirements.txt ./", "pip install -r requirements.txt", "py"),
    "npm": ({"package.json": '{"name": "a"}', "package-lock.json": "{}\n", ".dockerignore": "node_modules\n"},
            "COPY package.json package-lock.json ./", "npm ci", "js"),
    "go": ({"go.mod": "module x\n", "go.sum": ""}, "COPY go.mod go.sum ./", "go mod download", "go"),
    "bundler": ({"Gemfile": "source 'https://rubygems.org'\n", "Gemfile.lock": "\n"}, "COPY Gemfile Gemfile.lock ./",
                "bundle install --deployment", "rb"),
}
SHAPES = ("COPY main.{ext} ./", "COPY main.{ext} /app/", "COPY main.{ext} util.{ext} ./",
          "COPY --chown=1000:1000 main.{ext} ./", "COPY static/ static/")
BETWEEN = ("", "RUN apt-get update && apt-get install -y --no-install-recommends curl", "RUN python3 -c 'print(1)'",
           "ENV MODE=prod", "COPY conf/ ./", "RUN chmod +x main.{ext}", "COPY extra.{ext} ./")
TAILS = ("", " && echo built", " && ls")


def _population() -> list[tuple[str, str, str, str]]:
    """Every shape, instruction between and RUN tail for each ecosystem; the COPY above or below
    the manifests' in turn, with and without a WORKDIR (a sample of the full product, which
    proves the same classes in a fraction of the time)."""
    cases = []
    for eco in POPULATION_ECOSYSTEMS:
        for k, shape in enumerate(SHAPES):
            for j, between in enumerate(BETWEEN):
                for i, tail in enumerate(TAILS):
                    above = (i + j + k) % 2 == 1
                    if (i + j + k) % 3 == 0 or between in ("", "COPY conf/ ./"):
                        cases.append((eco, shape, between, tail + ("|above" if above else "")))
                    if (i + j + k) % 3 == 1 and eco in ("pip", "npm"):  # no WORKDIR: the COPYs create /app
                        cases.append((eco, shape, between, tail + ("|above" if above else "|") + "|nowork"))
    return cases


@pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")
def test_generated_moves_are_proven_or_unsafe_with_a_reason(tmp_path: Path) -> None:
    from tests.invariants import final_filesystem

    decided = {"safe": 0, "unsafe": 0, "none": 0}
    problems: list[str] = []
    for number, (eco, shape, between, tail) in enumerate(_population()):
        files, manifests, install, ext = POPULATION_ECOSYSTEMS[eco]
        tail, _, rest = tail.partition("|")
        above, _, nowork = rest.partition("|")
        root = _context(tmp_path / str(number), {**files, f"main.{ext}": "\n", f"util.{ext}": "\n",
                                                 f"extra.{ext}": "\n", "static/a.css": "\n", "conf/c.ini": "\n"})
        copy = shape.format(ext=ext)
        middle = [between.format(ext=ext)] if between else []
        run = f"RUN {install}{tail}"
        if nowork:
            copy = copy.replace(" ./", " /app/").replace("static/ static/", "static/ /app/static/")
            manifests = manifests.replace(" ./", " /app/")
            middle = [m.replace(" ./", " /app/").replace("+x main", "+x /app/main") for m in middle]
            run = f"RUN cd /app && {install}{tail}"
        body = [copy, *middle, manifests] if above else [manifests, copy, *middle]
        text = "\n".join(["FROM debian:bookworm-slim", *([] if nowork else ["WORKDIR /app"]), *body, run,
                          'CMD ["true"]']) + "\n"
        moves = [d for d in findings(text, "DO301", context=root) if "does not read" in d.message]
        # The team's definition, written independently of the analysis: a RUN between that names
        # the moved file -> no fix; one that may read it (an interpreter) or a COPY of a tree into
        # the same directory -> unsafe; otherwise (package managers, ENV, disjoint COPYs) safe.
        # Without a WORKDIR, a --chown COPY above the manifests' creates /app, which the manifests'
        # COPY would create instead once it moved (another owner): unsafe.
        line = body.index(copy) + (2 if nowork else 3)
        expected = ("none" if between.startswith("RUN chmod") and "main" in copy else
                    "unsafe" if between.startswith(("RUN python3", "COPY conf/")) else
                    "unsafe" if nowork and above and "--chown" in copy else "safe")
        got = [d.fix.applicability.value if d.fix else "none" for d in moves if d.start.line == line]
        if got != [expected]:
            problems.append(f"expected {expected}, got {got}:\n{text}")
        for d in moves:
            if d.fix is None:
                decided["none"] += 1
                continue
            decided[d.fix.applicability.value] += 1
            from dockopt.fixes.fixer import apply_edits

            after = apply_edits(text, list(d.fix.edits))
            if d.fix.applicability is Applicability.UNSAFE:
                if "(unsafe: " not in d.fix.message:
                    problems.append(f"unsafe without a reason:\n{text}")
                continue
            verdict = prove(text, after)
            if not verdict.proven:
                problems.append(f"{verdict}:\n{text}---\n{after}")
            if final_filesystem(text) != final_filesystem(after):
                problems.append(f"filesystem differs:\n{text}---\n{after}")
            if any(e.start.line == d.start.line and "does not read" in e.message and e.fix is not None
                   and e.fix.applicability is Applicability.SAFE and e.fix.edits == d.fix.edits
                   for e in findings(after, "DO301", context=root)):
                problems.append(f"not cured:\n{text}")
    assert not problems, f"{len(problems)} problems; first:\n" + problems[0]
    # The population exercises every outcome.
    print(f"\n[DO301 moves] {decided}")
    assert all(decided.values()), decided
