"""The cache model, the ecosystem recognisers and the DO3xx rules (DO301's reordering fixer above all)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockopt.cache.model import ArgChanged, FileChanged, cache_model, source_covers
from dockopt.checks.base import LintContext
from dockopt.context.build_context import BuildContext
from dockopt.diagnostics import Applicability
from dockopt.cache.ecosystems import recognise
from dockopt.layers.invocations import Invocation
from dockopt.syntax import parse
from tests.corpus import PROJECT_ROOT
from tests.lintkit import findings, fixed


def make_context(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return root


def lint_ctx(text: str, root: Path | None = None) -> LintContext:
    context = BuildContext.for_dockerfile(root / "Dockerfile", root) if root else BuildContext.unknown()
    return LintContext(parse(text), None, context)


def inv(command: str) -> Invocation:
    name, *argv = command.split()
    return Invocation(name, list(argv), [], 0, len(command), command)


NPM = {"package.json": '{"name": "a"}', "package-lock.json": "{}", "src/index.js": "1", ".dockerignore": "node_modules\n"}


# --- the cache model ---------------------------------------------------------------------------


def test_source_covers_follows_buildkit_matching() -> None:
    assert source_covers(".", "src/a.py") and source_covers("./", "a")
    assert source_covers("src", "src/a/b.py") and not source_covers("src", "srcx/a.py")
    assert source_covers("*.json", "package.json") and not source_covers("*.json", "sub/package.json")
    assert source_covers("sr*", "src/deep/file")  # a matching directory is taken whole


def test_a_source_edit_reruns_from_the_first_copy_that_takes_it(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    text = "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n"
    ctx = lint_ctx(text, root)
    model = cache_model(ctx)
    lines = {i.start_line for i in ctx.document.instructions if id(i) in model.reruns(FileChanged("src/index.js", ctx.build_context))}
    assert lines == {5, 6}
    lines = {i.start_line for i in ctx.document.instructions if id(i) in model.reruns(FileChanged("package.json", ctx.build_context))}
    assert lines == {3, 4, 5, 6}
    # an ignored file changes nothing
    assert not model.reruns(FileChanged("node_modules/x/index.js", ctx.build_context))


def test_an_arg_in_scope_keys_every_later_run_but_only_expanding_copies() -> None:
    text = ("FROM alpine\nRUN echo before\nARG VERSION=1\nRUN echo unrelated\nCOPY a.txt /a\n"
            "COPY b-${VERSION}.txt /b\nLABEL v=$VERSION\n")
    ctx = lint_ctx(text)
    model = cache_model(ctx)
    rerun = {i.start_line for i in ctx.document.instructions if id(i) in model.reruns(ArgChanged("VERSION"))}
    assert rerun == {4, 5, 6, 7}  # the RUN after the ARG, the COPYs after that miss, the LABEL expanding it
    step = model.step(ctx.document.instructions[4])
    assert step is not None and [k.kind for k in step.keys] == ["files"]  # COPY a.txt does not expand it
    assert [k.label for k in model.step(ctx.document.instructions[5]).keys] == ["`b-${VERSION}.txt` changes",
                                                                               "build arg VERSION changes"]


def test_an_env_of_the_same_name_shadows_the_build_arg() -> None:
    ctx = lint_ctx("FROM alpine\nARG MODE\nENV MODE=prod\nRUN echo $MODE\n")
    assert cache_model(ctx).step(ctx.document.instructions[3]).keys == []


def test_global_args_are_not_in_a_stage_until_declared() -> None:
    ctx = lint_ctx("ARG GIT_COMMIT\nFROM alpine\nRUN apk add curl\n")
    assert cache_model(ctx).step(ctx.document.instructions[2]).keys == []


def test_remote_add_without_checksum_and_stage_copies() -> None:
    text = ("FROM alpine AS build\nADD https://example.com/x.tgz /tmp/\n"
            "ADD --checksum=sha256:abc https://example.com/y.tgz /tmp/\nFROM alpine\nCOPY --from=build /tmp /tmp\n")
    ctx = lint_ctx(text)
    model = cache_model(ctx)
    ins = ctx.document.instructions
    assert [k.kind for k in model.step(ins[1]).keys] == ["url"]
    assert model.step(ins[2]).keys == []
    assert model.rebuilt_when(ins[4]) == ["stage 'build' reruns"]


def test_rebuilt_when_points_at_the_previous_step_that_can_miss(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    ctx = lint_ctx("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN date > /built\n", root)
    model = cache_model(ctx)
    ins = ctx.document.instructions
    assert model.rebuilt_when(ins[2]) == ["any of the 4 files of the build context changes"]
    assert model.rebuilt_when(ins[3]) == ["line 3 reruns"]
    assert any("current date" in n for n in model.step(ins[4]).notes)


def test_layers_command_shows_rebuilt_when(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    (root / "Dockerfile").write_text("FROM node:20\nARG BUILD_DATE\nWORKDIR /app\nCOPY . .\nRUN npm ci\n")
    out = subprocess.run([sys.executable, "-m", "dockopt", "layers", str(root / "Dockerfile"), "--context", str(root)],
                         capture_output=True, text=True, check=True).stdout
    assert "rebuilt when any of the 5 files of the build context changes" in out
    assert "rebuilt when build arg BUILD_DATE changes; rebuilt when line 4 reruns" in out


# --- ecosystems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "ecosystem", "needs_sources"), [
    ("npm ci", "npm", False),
    ("npm install --omit=dev", "npm", False),
    ("yarn --frozen-lockfile", "yarn", False),
    ("pnpm fetch", "pnpm", False),
    ("pip install --no-cache-dir -r requirements.txt", "pip", False),
    ("pip install -r requirements.txt .", "pip", True),
    ("poetry install --no-root", "poetry", False),
    ("poetry install", "poetry", True),
    ("uv sync --frozen --no-install-project", "uv", False),
    ("go mod download", "go", False),
    ("mvn -B dependency:go-offline", "maven", False),
    ("bundle install", "bundler", False),
    ("composer install --no-scripts", "composer", False),
    ("dotnet restore App.csproj", "dotnet", False),
    ("mix deps.get", "mix", False),
    ("cargo fetch", "cargo", True),
])
def test_recognised_installs(command: str, ecosystem: str, needs_sources: bool) -> None:
    found = recognise(inv(command))
    assert found is not None and found.name == ecosystem
    assert bool(found.needs_sources) is needs_sources


@pytest.mark.parametrize("command", ["npm install express", "npm install -g pm2", "pip install flask",
                                     "go build ./...", "mvn package", "bundle exec rake", "pipenv install requests"])
def test_not_manifest_installs(command: str) -> None:
    assert recognise(inv(command)) is None


def test_unfrozen_lock_files_are_noted() -> None:
    assert recognise(inv("npm install")).rewrites  # type: ignore[union-attr]
    assert not recognise(inv("npm ci")).rewrites  # type: ignore[union-attr]
    assert recognise(inv("yarn install")).rewrites  # type: ignore[union-attr]


# --- DO301 ---------------------------------------------------------------------------------------

SIMPLE = "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"


def test_do301_safe_fix_with_a_known_context(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    [d] = findings(SIMPLE, "DO301", context=root)
    assert "`npm ci` on line 4" in d.message and "package.json, package-lock.json" in d.message
    assert d.fix is not None and d.fix.applicability is Applicability.SAFE
    assert fixed(SIMPLE, "DO301", context=root).text == (
        "FROM node:20-slim\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n")


def test_do301_fixed_file_is_silent_and_the_fix_is_idempotent(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    once = fixed(SIMPLE, "DO301", context=root).text
    assert findings(once, "DO301", context=root) == []
    assert fixed(once, "DO301", context=root).text == once


def test_do301_without_context_is_unsafe_and_uses_wildcards() -> None:
    [d] = findings(SIMPLE, "DO301")
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE
    assert "build context is unknown" in d.fix.message
    assert fixed(SIMPLE, "DO301").text == SIMPLE  # not applied without --unsafe-fixes
    assert "COPY package*.json ./\nRUN npm ci\nCOPY . .\n" in fixed(SIMPLE, "DO301", unsafe=True).text


def test_do301_never_copies_a_missing_manifest(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"src/index.js": "1"})  # no package.json: the build would fail
    [d] = findings(SIMPLE, "DO301", context=root)
    assert d.fix is None and "package.json not found" in d.message


def test_do301_context_node_modules_makes_the_fix_unsafe(tmp_path: Path) -> None:
    root = make_context(tmp_path, {**NPM, ".dockerignore": ".git\n", "node_modules/x/index.js": "1"})
    [d] = findings(SIMPLE, "DO301", context=root)
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE
    assert "node_modules would be copied over" in d.fix.message


def test_do301_install_scripts_and_unfrozen_locks_are_unsafe(tmp_path: Path) -> None:
    root = make_context(tmp_path, {**NPM, "package.json": '{"scripts": {"postinstall": "node src/patch.js"}}'})
    [d] = findings(SIMPLE, "DO301", context=root)
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE and "postinstall" in d.fix.message
    root2 = make_context(tmp_path / "b", NPM)
    [d] = findings(SIMPLE.replace("npm ci", "npm install"), "DO301", context=root2)
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE and "package-lock.json" in d.fix.message


@pytest.mark.parametrize(("files", "text"), [
    ({"requirements.txt": "flask\n-e .\n", "setup.py": ""}, "FROM python:3\nWORKDIR /a\nCOPY . .\nRUN pip install -r requirements.txt\n"),
    ({"requirements.txt": "-r ../shared.txt\n./libs/x\n"}, "FROM python:3\nWORKDIR /a\nCOPY . .\nRUN pip install -r requirements.txt\n"),
    ({"package.json": '{"workspaces": ["pkgs/*"]}', "package-lock.json": "{}"}, SIMPLE),
    ({"go.mod": "module a\nreplace b => ./b\n", "go.sum": ""}, "FROM golang\nWORKDIR /s\nCOPY . .\nRUN go mod download\n"),
    ({"pom.xml": "<project><modules><module>a</module></modules></project>"},
     "FROM maven\nWORKDIR /s\nCOPY . .\nRUN mvn dependency:go-offline\n"),
    ({"Gemfile": "source 'https://rubygems.org'\ngemspec\n"}, "FROM ruby\nWORKDIR /s\nCOPY . .\nRUN bundle install\n"),
])
def test_do301_silent_when_the_context_shows_the_install_needs_the_sources(
        tmp_path: Path, files: dict[str, str], text: str) -> None:
    assert findings(text, "DO301", context=make_context(tmp_path, files)) == []


def test_do301_already_optimal_and_second_install_after_sources() -> None:
    text = ("FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --no-install-project\n"
            "COPY . .\nRUN uv sync\n")
    assert findings(text, "DO301") == []


def test_do301_gem_gemfile_without_context_is_not_reported() -> None:
    text = "FROM ruby:3\nWORKDIR /p\nCOPY . .\nRUN bundle install\nRUN gem build my-plugin.gemspec\n"
    assert findings(text, "DO301") == []
    assert len(findings(text.replace("my-plugin.gemspec", ""), "DO301")) == 1


def test_do301_poetry_without_no_root_is_reported_without_fix() -> None:
    [d] = findings("FROM python:3\nWORKDIR /a\nCOPY . .\nRUN poetry install\n", "DO301")
    assert d.fix is None and "poetry install --no-root" in d.message


def test_do301_keeps_flags_and_fixes_relative_destinations(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"go.mod": "module a\n", "go.sum": "", "main.go": "package main\n"})
    text = ("FROM golang:1.22\nWORKDIR /src\nCOPY --chown=1000:1000 --link . .\nWORKDIR /src/cmd\n"
            "RUN cd /src && go mod download\n")
    result = fixed(text, "DO301", context=root, unsafe=True).text
    assert "COPY --chown=1000:1000 --link go.mod go.sum /src/\n" in result
    assert result.endswith("RUN cd /src && go mod download\nCOPY --chown=1000:1000 --link . /src\n")


def test_do301_workdir_creating_a_chown_destination_first_is_unsafe(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    text = "FROM node:20\nCOPY --chown=1000:1000 . /app/\nWORKDIR /app\nRUN npm ci\n"
    [d] = findings(text, "DO301", context=root)  # the e2e test saw /app end up root's: it is
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE and "WORKDIR on line 3" in d.fix.message
    [d] = findings(text.replace("--chown=1000:1000 ", ""), "DO301", context=root)
    assert d.fix is not None and d.fix.applicability is Applicability.SAFE


def test_do301_an_instruction_that_reads_the_sources_blocks_the_move(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN node src/generate.js\nRUN npm ci\n"
    [d] = findings(text, "DO301", context=root)
    assert d.fix is not None and d.fix.applicability is Applicability.UNSAFE and "`node` on line 4" in d.fix.message


def test_do301_split_repeats_a_cd_and_keeps_comments(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"web/package.json": "{}", "web/package-lock.json": "{}", "web/a.js": ""})
    text = ("FROM node:20\nWORKDIR /app\n# everything\nCOPY . .\n# front end\n"
            "RUN cd web && npm ci && npm run build\n")
    assert fixed(text, "DO301", context=root).text == (
        "FROM node:20\nWORKDIR /app\n# front end\nCOPY web/package.json web/package-lock.json web/\n"
        "RUN cd web && npm ci\n# everything\nCOPY . .\nRUN cd web && npm run build\n")


def test_do301_builder_stages_count_and_unknown_ecosystems_do_not() -> None:
    text = "FROM node:20 AS build\nWORKDIR /a\nCOPY . .\nRUN npm ci\nFROM nginx\nCOPY --from=build /a /usr/share/nginx\n"
    assert [d.start.line for d in findings(text, "DO301")] == [3]
    assert findings("FROM debian\nCOPY . /src\nRUN make -C /src\n", "DO301") == []


# --- DO302 ---------------------------------------------------------------------------------------


def test_do302_moves_arg_and_forwarding_env_below_the_installs() -> None:
    text = ("FROM debian\nARG VCS_REF\nENV VCS_REF=$VCS_REF\nRUN apt-get update && apt-get install -y curl\n"
            "RUN pip install flask\nLABEL rev=$VCS_REF\n")
    [d] = findings(text, "DO302")
    assert "line 4" in d.message and "line 5" in d.message
    assert fixed(text, "DO302").text == text  # unsafe only
    assert fixed(text, "DO302", unsafe=True).text == (
        "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN pip install flask\nARG VCS_REF\n"
        "ENV VCS_REF=$VCS_REF\nLABEL rev=$VCS_REF\n")


def test_do302_silent_for_builds_that_may_read_the_value_and_for_run_date() -> None:
    assert findings("FROM rust\nARG GIT_SHA\nCOPY . .\nRUN cargo build --release\n", "DO302") == []
    assert findings("FROM debian\nRUN date > /build-date\nRUN apt-get install -y curl\n", "DO302") == []
    assert findings("FROM alpine\nADD --checksum=sha256:0 https://x/latest/a.tgz /\nRUN apk add curl\n", "DO302") == []


# --- DO303, DO305 (need the context) ------------------------------------------------------------


def test_do303_reports_bytes_and_respects_dockerignore(tmp_path: Path) -> None:
    text = "FROM node:20\nWORKDIR /a\nCOPY package.json ./\nRUN npm ci\nCOPY . .\n"
    root = make_context(tmp_path, {"package.json": "{}", ".git/objects/pack/p": "x" * 5000,
                                   "node_modules/a/i.js": "y" * 100, "src/__pycache__/m.pyc": "z"})
    [d] = findings(text, "DO303", context=root)
    assert ".git/ (~5 kB), node_modules/ (~100 B), src/__pycache__/ (~1 B)" in d.message
    assert "there is no .dockerignore" in d.message
    (root / ".dockerignore").write_text(".git\nnode_modules\n**/__pycache__\n")
    assert findings(text, "DO303", context=root) == []
    assert findings(text, "DO303") == []  # no context: nothing certain to say


def test_do305_missing_ignored_and_wildcards(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"app.py": "", "secret.local": "", ".dockerignore": "*.local\n"})
    text = "FROM python:3\nCOPY app.py /a/\nCOPY missing.txt /a/\nCOPY secret.local /a/\nCOPY *.yaml /a/\nCOPY --from=x /y /z\n"
    messages = {d.start.line: d.message for d in findings(text, "DO305", context=root)}
    assert set(messages) == {3, 4, 5}
    assert "does not exist" in messages[3] and "excluded by .dockerignore" in messages[4]
    assert "matches nothing" in messages[5]
    assert findings(text, "DO305") == []


def test_do305_assumed_context_needs_evidence(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"other.txt": ""})
    (root / "Dockerfile").write_text("FROM alpine\nCOPY . /a\nCOPY missing.txt /a/\n")
    context = BuildContext.for_dockerfile(root / "Dockerfile", None)
    assert not context.known
    from dockopt.linter import lint
    from tests.lintkit import Only

    text = (root / "Dockerfile").read_text()
    result = lint(text, "Dockerfile", Only(frozenset({"DO305"})), path=root / "Dockerfile", build_context=context)
    assert result.diagnostics == []  # only "." exists: no evidence the directory is the context
    text2 = "FROM alpine\nCOPY other.txt /a/\nCOPY missing.txt /a/\n"
    result = lint(text2, "Dockerfile", Only(frozenset({"DO305"})), path=root / "Dockerfile", build_context=context)
    assert [d.start.line for d in result.diagnostics] == [3] and "assuming" in result.diagnostics[0].message


def test_do305_a_file_the_repository_git_ignores_above_the_context_is_made_outside(tmp_path: Path) -> None:
    """omnibus-gitlab: CI writes docker/RELEASE, which the repository's root .gitignore lists,
    then builds with docker/ as the context. StefanScherer's java/oracle/.gitignore ignores the
    JDK tarballs a user downloads by hand. Git never has such a file; the builder does."""
    repo = make_context(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "docker/RELEASE\n",
                                   "docker/Dockerfile": "", "docker/assets/a": "",
                                   "java/.gitignore": "**/*.tar.gz\n", "java/jdk/Dockerfile": ""})
    text = "FROM ubuntu\nCOPY RELEASE /\nCOPY assets /assets\nCOPY missing.txt /\n"
    assert [d.start.line for d in findings(text, "DO305", context=repo / "docker")] == [4]
    assert findings("FROM ubuntu\nADD server-jre-8u112.tar.gz /\n", "DO305", context=repo / "java" / "jdk") == []
    # Outside a git checkout nothing above the context is read.
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git").rmdir()
    assert [d.start.line for d in findings(text, "DO305", context=repo / "docker")] == [2, 4]


def test_do305_a_file_the_ci_names_by_its_repository_path_is_made_outside(tmp_path: Path) -> None:
    repo = make_context(tmp_path, {".git/HEAD": "x\n", "images/app/Dockerfile": "", "images/app/main.py": "",
                                   ".github/workflows/build.yml":
                                       "steps:\n  - run: ./gen > images/app/version.json\n"
                                       "  - run: docker build images/app\n  - run: echo script\n"})
    text = "FROM python:3\nCOPY main.py version.json /app/\nCOPY script /app/\n"
    # A bare name the CI happens to mention ('script') is not evidence; the repository path is.
    assert [d.start.line for d in findings(text, "DO305", context=repo / "images" / "app")] == [3]


def test_do305_expands_buildkit_default_modifiers(tmp_path: Path) -> None:
    """buildah's conformance test: `ARG SOURCE=` then `COPY ${SOURCE:-other}file.txt`: an empty
    value takes the default (otherfile.txt), which exists."""
    root = make_context(tmp_path, {"otherfile.txt": "", "yes.txt": ""})
    text = ("FROM busybox\nARG SOURCE=\nARG SET=1\nCOPY ${SOURCE:-other}file.txt /a\n"
            "COPY ${SET:+yes}.txt /b\nCOPY ${SOURCE:+no}file.txt /c\n")
    assert [d.start.line for d in findings(text, "DO305", context=root)] == [6]


# --- DO304 ---------------------------------------------------------------------------------------


def test_do304_suggests_per_manager_targets() -> None:
    [d] = findings("FROM debian\nRUN apt-get update && apt-get install -y curl\n", "DO304")
    assert "target=/var/lib/apt,sharing=locked" in d.message and "docker-clean" in d.message
    assert d.fix is not None and d.fix.applicability is Applicability.SUGGESTION
    [d] = findings("FROM golang\nRUN go build -o /app .\n", "DO304")
    assert "/root/.cache/go-build" in d.message and "/go/pkg/mod" in d.message
    [d] = findings("FROM python\nRUN pip install flask\n", "DO304")
    assert "--no-cache-dir" not in d.message


# --- the measurement script ---------------------------------------------------------------------


def test_cache_measure_script_reports_a_reduction(tmp_path: Path) -> None:
    root = make_context(tmp_path, NPM)
    (root / "Dockerfile").write_text("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n")
    out = subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "cache_measure.py"), str(root / "Dockerfile"),
                          "--context", str(root), "--edit", "src/index.js"],
                         capture_output=True, text=True, check=True).stdout
    assert "build steps rerun: 3/3 before, 2/4 after" in out
    assert "expensive steps rerun: 2/2 before, 1/2 after" in out


# --- issue 16: precision on real files ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "FROM alpine\nRUN apk add git\n# bust the cache so that the clone is fresh\nARG CACHEBUST=1\n"
    "RUN git clone https://github.com/a/b /b\n",
    "FROM alpine\nRUN apk add git\nARG CACHE_DATE=2020-01-01\nRUN git clone https://github.com/a/b /b && make -C /b\n",
    "FROM alpine\nRUN apk add git\n# refresh the sources on every build\nARG BUILD_DATE\nRUN git clone https://github.com/a/b /b\n",
])
def test_do302_cache_bust_arg_right_above_its_step_is_deliberate(text: str) -> None:
    assert findings(text, "DO302") == []


def test_do302_cache_bust_arg_far_above_other_steps_still_fires() -> None:
    text = ("FROM debian\nARG CACHEBUST=1\nRUN echo hi > /x\nRUN apt-get update && apt-get install -y curl\n"
            "RUN git clone https://github.com/a/b /b\n")
    assert [d.code for d in findings(text, "DO302")] == ["DO302"]


def test_do304_no_empty_apt_lists_mount_when_an_earlier_run_updated() -> None:
    """An initially empty cache mount on /var/lib/apt hides the lists of the earlier `apt-get update`:
    checked with a real BuildKit build (apt-get exits 100: 'Unable to locate package')."""
    [d] = findings("FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n", "DO304")
    assert "target=/var/lib/apt" not in d.fix.edits[0].content and "target=/var/cache/apt" in d.message
    assert "keep /var/lib/apt out" in d.message
    [same_run] = findings("FROM debian\nRUN apt-get update && apt-get install -y curl\n", "DO304")
    assert "target=/var/lib/apt" in same_run.fix.edits[0].content


@pytest.mark.parametrize("text", [
    "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n",
    "FROM python:3.12\nENV PIP_NO_CACHE_DIR=off\nRUN pip install flask\n",
    "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1 pip install flask\n",
])
def test_do304_no_pip_cache_mount_when_the_cache_is_off(text: str) -> None:
    assert findings(text, "DO304") == []


def test_do304_messages_cut_commands_at_word_boundaries() -> None:
    [d] = findings("FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends "
                   "ca-certificates curl gnupg\n", "DO304")
    quoted = d.message.split("`")[1]
    words = "apt-get install -y --no-install-recommends ca-certificates curl gnupg".split()
    assert quoted.endswith(" ...") and set(quoted[:-4].split()) <= set(words), quoted


@pytest.mark.parametrize(("command", "sub"), [("php composer.phar install", "install"),
                                              ("php /usr/local/bin/composer install --no-dev", "install")])
def test_composer_run_by_php_is_composer(command: str, sub: str) -> None:
    install = recognise(inv(command))
    assert install is not None and install.name == "composer"
    [d] = findings(f"FROM php:8\nWORKDIR /app\nCOPY . .\nRUN {command}\n", "DO301")
    assert command in d.message


def test_composer_create_project_fills_the_composer_cache() -> None:
    [d] = findings("FROM php:8\nRUN php composer.phar create-project laravel/laravel app\n", "DO304")
    assert "composer cache" in d.message


# --- DO306 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "kind"), [
    ("RUN date > /build-date.txt", "the build time"),
    ('RUN echo "Built on $(date -u)" >> /etc/motd', "the build time"),
    ("RUN uuidgen > /etc/machine-id", "a random UUID"),
    ("RUN echo $RANDOM | tee /seed", "a random number"),
    ('RUN echo "root:$(openssl rand -base64 12)" | chpasswd', "a random secret"),
    ("RUN echo \"SECRET_KEY = '$(head -c 16 /dev/urandom | base64)'\" >> /app/settings.py", "a random secret"),
    ("RUN sed -i \"s/@BUILD@/`date +%F`/\" /etc/app.conf", "the build time"),
])
def test_do306_build_time_values_baked_into_a_layer(line: str, kind: str) -> None:
    [d] = findings(f"FROM alpine\n{line}\n", "DO306")
    assert kind in d.message and "frozen at the first build" in d.message and "--no-cache" in d.message


@pytest.mark.parametrize("line", [
    "RUN date && apt-get update",  # the build log only
    "RUN git rev-parse HEAD > /version",  # describes the sources next to it
    'RUN now="$(date +%s)"; echo "$now"',
    "RUN date -d @0 > /epoch",  # a fixed date
    "RUN --mount=target=. echo -n \"$(date -u)\" > /tmp/.commit_date",  # reruns with the mounted files
    "RUN echo $BUILD_DATE > /build-date",
])
def test_do306_negatives(line: str) -> None:
    assert findings(f"FROM alpine\nARG BUILD_DATE\n{line}\n", "DO306") == []


# --- DO102 false positives found by the issue-16 precision sample (layers/packages.py) ----------------

@pytest.mark.parametrize("text", [
    # docker-library's pattern: the run-time deps are added from the installed database, no index fetched
    "FROM alpine\nRUN apk add --no-cache --virtual .build-deps gcc && make \\\n"
    "    && apk add --no-network --virtual .rundeps libssl3 && apk del --no-network .build-deps\n",
    # nodejs/docker-node's smoke test: prints the version, installs nothing
    "FROM debian\nRUN curl -fsSLO https://example.com/yarn.tgz && tar xzf yarn.tgz && rm yarn.tgz && yarn --version\n",
])
def test_do102_no_cache_where_nothing_is_fetched(text: str) -> None:
    assert findings(text, "DO102") == []
    assert findings("FROM node:22\nRUN yarn\n", "DO102") != []  # a bare `yarn` is an install


def test_do103_install_helpers_update_and_clean_themselves() -> None:
    """gitpod's `install-packages` (and minideb's `install_packages`) run update, install and remove
    the lists: an `apt update` next to one serves no later RUN (issue-16 sample, gitpod tool-docker)."""
    text = ("FROM gitpod/workspace-base\nRUN echo deb x > /etc/apt/sources.list.d/d.list && apt update"
            " && install-packages docker-ce\nRUN apt install /tmp/dive.deb\n")
    assert findings(text, "DO103") == []
    assert findings("FROM debian\nRUN apt update\nRUN apt install -y curl\n", "DO103") != []


def test_do301_copy_read_by_an_install_in_between() -> None:
    """kserve's autogluon image (issue-16 sample): storage/ is copied whole because kserve's `uv sync`
    reads it as a path dependency; moving it below storage's own sync would break that install."""
    text = ("FROM python:3.12-slim\nCOPY storage storage\nCOPY kserve/pyproject.toml kserve/uv.lock kserve/\n"
            "RUN cd kserve && uv sync\nCOPY kserve kserve\nRUN cd kserve && uv sync\nRUN cd storage && uv sync\n")
    assert [d for d in findings(text, "DO301") if "storage" in d.message] == []


@pytest.mark.parametrize("text", [
    # gitpod's lang-rust: the registry is removed through the shell's $HOME
    'FROM debian\nUSER gitpod\nRUN cargo install cargo-watch && rm -rf "$HOME/.cargo/registry"\n',
    'FROM debian\nRUN cargo install cargo-watch && rm -rf "${HOME}/.cargo/registry"\n',
    # sclorg's s2i images: pip's own wheel from a local directory downloads and builds nothing
    "FROM python:3.12\nRUN pip install /opt/wheels/pip-* && rm -r /opt/wheels\n",
    "FROM python:3.12\nRUN pip install --no-index /wheels/app-1.0-py3-none-any.whl\n",
    # TGI's Dockerfile_intel: uv takes pip's --no-cache-dir as an alias of --no-cache
    'FROM python:3.12\nRUN pip install --no-cache-dir uv && uv pip install -e ".[peft]" --no-cache-dir --system\n',
])
def test_do102_more_caches_that_do_not_ship(text: str) -> None:
    assert findings(text, "DO102") == []
    assert findings("FROM python:3.12\nRUN pip install --no-deps -r /r.txt\n", "DO102") != []


def test_do102_bundle_with_a_configured_path_is_not_guessed() -> None:
    """discourse_dev (issue-16 sample): BUNDLE_DEPLOYMENT with a configured path; the RUN removes the
    cache/ it really fills, not /usr/local/bundle/cache."""
    text = ("FROM ruby:3.3\nRUN cd /src && env BUNDLE_DEPLOYMENT=true bundle install "
            "&& rm -rf /home/app/.bundle/gems/ruby/*/cache/*\n")
    assert findings(text, "DO102") == []
    assert findings("FROM ruby:3.3\nRUN bundle install\n", "DO102") != []


def test_do102_go_build_fills_the_module_cache_only_for_versioned_targets() -> None:
    """The issue-16 sample: moby's vendored creack/pty (a module that requires nothing) and a cloud
    builder compiling one .go file download no modules; `go install pkg@version` always does."""
    for line in ("RUN go build", "RUN go build -o /builder/ws /builder/ws.go"):
        assert [d for d in findings(f"FROM golang:1.22\n{line}\n", "DO102") if "module cache" in d.message] == []
    found = findings("FROM golang:1.22\nRUN go install golang.org/x/tools/cmd/goimports@latest\n", "DO102")
    assert any("module cache" in d.message for d in found)


def test_do102_install_helpers_leave_no_lists() -> None:
    """gitpod's tool-docker (issue-16 final draw): `apt update && install-packages ...` -- the helper
    removes the lists itself."""
    text = "FROM gitpod/workspace-base\nRUN echo deb x > /etc/apt/sources.list.d/d.list && apt update && install-packages docker-ce\n"
    assert findings(text, "DO102") == []
