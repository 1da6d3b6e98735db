"""DO401-DO405: the stage rules, with the negatives that matter."""
from __future__ import annotations

from pathlib import Path

import pytest

from dockopt.toolchain.images import lighter_variant, parse_image
from dockopt.toolchain.musl import compiles
from tests.lintkit import findings, fixed


def codes(text: str, *rules: str, **kwargs: object) -> list[str]:
    return [d.code for d in findings(text, *rules, **kwargs)]


# --- DO401 ---------------------------------------------------------------------------------

GO_SINGLE = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /bin/app .\nCMD [\"/bin/app\"]\n"


def test_do401_toolchain_base_with_build_names_lines_and_bytes() -> None:
    [d] = findings(GO_SINGLE, "DO401")
    assert d.start.line == 1
    assert "go build -o /bin/app ." in d.message and "line 4" in d.message
    assert "golang:1.22 -> gcr.io/distroless/static-debian12" in d.message and "MB" in d.message


def test_do401_kept_compilers_for_pip_report_at_the_install() -> None:
    text = ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc libpq-dev\n"
            "RUN pip install psycopg2\nCMD [\"python\", \"app.py\"]\n")
    [d] = findings(text, "DO401")
    assert d.start.line == 2 and "gcc" in d.message and "~147 MB" in d.message


def test_do401_builder_stage_not_shipped() -> None:
    text = ("FROM golang:1.22 AS build\nRUN apt-get update && apt-get install -y gcc\nCOPY . .\n"
            "RUN go build -o /app .\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\n"
            "CMD [\"/app\"]\n")
    assert codes(text, "DO401") == []


def test_do401_shipped_chain_includes_the_parent_stage() -> None:
    text = "FROM golang:1.22 AS base\nCOPY . .\nRUN go build -o /app .\nFROM base\nCMD [\"/app\"]\n"
    assert codes(text, "DO401") == ["DO401"]


def test_do401_target_selects_the_shipped_stage() -> None:
    text = GO_SINGLE.replace("FROM golang:1.22", "FROM golang:1.22 AS app") + "FROM alpine\nCMD [\"true\"]\n"
    assert codes(text, "DO401") == []
    assert codes(text, "DO401", target="app") == ["DO401"]


def test_do401_tools_removed_in_the_same_run() -> None:
    apk = ("FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev make \\\n"
           "    && make -C /src && make -C /src install && apk del .build-deps\nCMD [\"tool\"]\n")
    apt = ("FROM debian:bookworm-slim\nRUN savedAptMark=\"$(apt-mark showmanual)\" && apt-get update \\\n"
           "    && apt-get install -y gcc make && make -C /src install \\\n"
           "    && apt-mark auto '.*' > /dev/null && apt-mark manual $savedAptMark \\\n"
           "    && apt-get purge -y --auto-remove\nCMD [\"tool\"]\n")
    assert codes(apk, "DO401") == [] and codes(apt, "DO401") == []


def test_do401_virtual_group_removed_later_is_not_kept() -> None:
    text = ("FROM alpine:3.20\nRUN apk add -t TMP build-base\nRUN make -C /src install\nRUN apk del TMP\n"
            "CMD [\"tool\"]\n")
    assert codes(text, "DO401") == []


def test_do401_development_and_tool_images_are_silent() -> None:
    dev_stage = GO_SINGLE.replace("FROM golang:1.22", "FROM golang:1.22 AS dev")
    sleep = GO_SINGLE.replace('CMD ["/bin/app"]', 'CMD ["sleep", "infinity"]')
    tool = GO_SINGLE.replace('CMD ["/bin/app"]', 'ENTRYPOINT ["go"]')
    no_cmd = GO_SINGLE.replace('CMD ["/bin/app"]\n', "")
    devcontainer = GO_SINGLE.replace("golang:1.22", "mcr.microsoft.com/devcontainers/go:1.22")
    for text in (dev_stage, sleep, tool, no_cmd, devcontainer):
        assert codes(text, "DO401") == [], text
    assert codes(GO_SINGLE, "DO401", dockerfile=Path("/x/.devcontainer/Dockerfile")) == []


def test_do401_full_language_image_needs_a_build_step() -> None:
    plain = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n"
    build = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"node\", \"dist/a.js\"]\n"
    assert codes(plain, "DO401") == []
    assert codes(build, "DO401") == ["DO401"]


def test_do401_make_alone_is_not_a_toolchain() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y make\nRUN make install\nCMD [\"x\"]\n"
    assert codes(text, "DO401") == []


# --- DO402 ---------------------------------------------------------------------------------

def test_do402_suggests_slim_never_alpine_for_python() -> None:
    [d] = findings("FROM python:3.12-bookworm\nCOPY . .\nCMD [\"python\", \"app.py\"]\n", "DO402")
    assert "python:3.12-slim-bookworm" in d.message and "not alpine" in d.message
    assert d.fix is not None and d.fix.applicability.value == "suggestion"
    assert fixed("FROM python:3.12\nCMD [\"python\", \"a.py\"]\n", "DO402", unsafe=True).text.startswith("FROM python:3.12\n")


def test_do402_variants() -> None:
    cases = {"node:20": "node:20-slim", "node:20-bookworm": "node:20-bookworm-slim", "debian:bookworm":
             "debian:bookworm-slim", "debian": "debian:stable-slim", "eclipse-temurin:17-jdk": "eclipse-temurin:17-jre",
             "openjdk:11": "eclipse-temurin:11-jre", "ruby:3.3": "ruby:3.3-slim"}
    for image, expected in cases.items():
        lighter = lighter_variant(parse_image(image))  # type: ignore[arg-type]
        assert lighter is not None and lighter.image == expected, image
    for image in ("ubuntu:24.04", "python:3.12-slim", "node:20-alpine", "eclipse-temurin:21-jre", "myorg/python:3"):
        assert lighter_variant(parse_image(image)) is None, image  # type: ignore[arg-type]


def test_do402_silent_when_do401_reports_the_toolchain() -> None:
    assert codes(GO_SINGLE, "DO402") == []
    assert codes("FROM golang:1.22\nCOPY app /app\nCMD [\"/app\"]\n", "DO402") == ["DO402"]


# --- DO403 ---------------------------------------------------------------------------------

def test_do403_versions_against_musllinux_data() -> None:
    assert compiles("numpy", "1.24.4", 11) is not None
    assert compiles("numpy", "1.26.0", 12) is None
    assert compiles("numpy", "1.24.4", 11) is not None
    # numpy 1.25.0 has no cp312 wheel of any kind: it compiles on a glibc base too, Alpine is not why
    assert compiles("numpy", "1.25.0", 12) is None
    assert compiles("numpy", None, 12) is None  # unpinned: current releases have wheels
    assert compiles("numpy", None, 8) is not None  # no release for 3.8 has one
    assert compiles("psycopg2", None, 12) is not None
    assert compiles("flask", "1.0", 12) is None


def test_do403_requirements_from_context(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas==2.2.2\nnumpy==1.24.4  # arrays\n")
    text = "FROM python:3.11-alpine\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    [d] = findings(text, "DO403", context=tmp_path)
    assert "numpy 1.24.4" in d.message and "pandas" not in d.message
    assert codes(text, "DO403") == []  # without the context nothing is known


def test_do403_only_on_alpine_with_python() -> None:
    assert codes("FROM python:3.11-slim\nRUN pip install numpy==1.24.4\n", "DO403") == []
    assert codes("FROM alpine:3.20\nRUN apk add gcc && make\n", "DO403") == []
    assert codes("FROM alpine:3.18\nRUN apk add python3 py3-pip\nRUN pip install numpy==1.24.4\n", "DO403") == ["DO403"]


def test_do403_compilers_for_pip_in_a_builder_stage_count_too() -> None:
    text = ("FROM python:3.6-alpine AS deps\nRUN apk add --no-cache --virtual .b gcc musl-dev \\\n"
            "    && pip install gevent && apk del .b\nFROM python:3.6-alpine\nCMD [\"python\"]\n")
    [d] = findings(text, "DO403")
    assert d.start.line == 2 and "gcc, musl-dev" in d.message


# --- DO405 ---------------------------------------------------------------------------------

NPM = "FROM node:20-slim\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"server.js\"]\n"


@pytest.fixture
def dev_manifests(tmp_path: Path) -> Path:
    """A context whose manifests all have dev dependencies."""
    (tmp_path / "package.json").write_text('{"dependencies": {"express": "4"}, "devDependencies": {"jest": "29"}}')
    (tmp_path / "pyproject.toml").write_text("[tool.poetry.group.dev.dependencies]\npytest = '*'\n"
                                             "[dependency-groups]\ndev = ['pytest']\n")
    (tmp_path / "Gemfile").write_text("gem 'rails'\ngroup :development, :test do\n  gem 'rspec'\nend\n")
    (tmp_path / "composer.json").write_text('{"require-dev": {"phpunit/phpunit": "^10"}}')
    return tmp_path


def test_do405_npm_fix_adds_omit_dev(dev_manifests: Path) -> None:
    assert "RUN npm ci --omit=dev\n" in fixed(NPM, "DO405", unsafe=True, context=dev_manifests).text
    assert fixed(NPM, "DO405", context=dev_manifests).text == NPM  # unsafe only


def test_do405_negatives(dev_manifests: Path) -> None:
    def quiet(text: str) -> bool:
        return codes(text, "DO405", context=dev_manifests) == []

    assert quiet(NPM.replace("npm ci", "npm ci --omit=dev"))
    assert quiet(NPM.replace("WORKDIR", "ENV NODE_ENV=production\nWORKDIR"))
    assert quiet(NPM.replace("npm ci", "npm install -g pm2"))
    assert quiet(NPM.replace('CMD ["node", "server.js"]', 'CMD ["npm", "test"]'))
    assert quiet(NPM.replace("FROM node:20-slim", "FROM node:20-slim AS dev"))
    assert quiet("FROM node:20\nRUN yarn --version\nCMD [\"node\", \"a.js\"]\n")


def test_do405_unknown_manifest_needs_evidence() -> None:
    """Issue 16: without the manifest, `npm ci` alone is no finding (the example-voting-app's and
    awesome-compose's package.json have no devDependencies); a build step that needs them is."""
    assert codes(NPM, "DO405") == []
    assert codes(NPM.replace("RUN npm ci", "RUN npm ci && npm run build"), "DO405") == ["DO405"]
    assert codes("FROM ruby:3.3-slim\nRUN bundle install\nCMD [\"rails\", \"s\"]\n", "DO405") == []


def test_do405_manifest_without_dev_dependencies(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"express": "4"}}')
    assert codes(NPM, "DO405", context=tmp_path) == []
    (tmp_path / "package.json").write_text('{"devDependencies": {"jest": "29"}}')
    assert codes(NPM, "DO405", context=tmp_path) == ["DO405"]


def test_do405_build_needs_dev_dependencies_says_split() -> None:
    text = NPM.replace("RUN npm ci", "RUN npm ci\nRUN npm run build")
    [d] = findings(text, "DO405")
    assert "line 5" in d.message and "separate stage" in d.message and d.fix is None


def test_do405_other_ecosystems(dev_manifests: Path) -> None:
    def found(text: str) -> list[str]:
        return codes(text, "DO405", context=dev_manifests)

    base = "FROM python:3.12-slim\nRUN {}\nCMD [\"app\"]\n"
    assert found(base.format("pip install -r requirements/dev.txt")) == ["DO405"]
    assert found(base.format("pip install -r requirements.txt")) == []
    assert found(base.format("pip install -e '.[test]'")) == ["DO405"]
    assert found(base.format("poetry install --no-root")) == ["DO405"]
    assert found(base.format("poetry install --only main")) == []
    assert found(base.format("uv sync --frozen --no-dev")) == []
    ruby = "FROM ruby:3.3-slim\n{}RUN bundle install\nCMD [\"rails\", \"s\"]\n"
    assert found(ruby.format("")) == ["DO405"]
    assert found(ruby.format("ENV BUNDLE_WITHOUT=development:test\n")) == []
    php = "FROM php:8.3-fpm\nRUN composer install {}\nCMD [\"php-fpm\"]\n"
    assert found(php.format("")) == ["DO405"]
    assert found(php.format("--no-dev")) == []


# --- issue 16: precision on real files -----------------------------------------------------------

@pytest.mark.parametrize("text", [
    # compile on every platform: no Linux wheels at all
    "FROM python:3.8-alpine\nRUN apk add --no-cache build-base\nRUN pip install RPi.GPIO uwsgi\nCMD x\n",
    # pure Python: never needs compilers
    "FROM python:3.8-alpine\nRUN apk add --no-cache gcc musl-dev\nRUN pip install -U pip\nCMD x\n",
    # a pin older than any manylinux wheel: a glibc base compiles it too
    "FROM python:3.8-alpine\nRUN pip install pillow==2.8.0\nCMD x\n",
    # told to build from source anyway
    "FROM alpine:3.18\nRUN apk add python3 py3-pip build-base\nRUN pip3 install --no-binary :all: lxml\n",
])
def test_do403_not_helped_by_a_glibc_base(text: str) -> None:
    assert codes(text, "DO403") == []


def test_do403_still_fires_where_glibc_has_wheels() -> None:
    assert codes("FROM python:3.8-alpine\nRUN pip install pillow==8.4.0\nCMD x\n", "DO403") == ["DO403"]
    assert codes("FROM python:2.7-alpine\nRUN apk add --no-cache gcc musl-dev\nRUN pip install gevent flask\n",
                 "DO403") == ["DO403"]
    # a current Python: gevent publishes musllinux wheels, compilers are needed on neither base
    assert codes("FROM python:3.12-alpine\nRUN apk add --no-cache gcc musl-dev\nRUN pip install gevent flask\n",
                 "DO403") == []
    # a requirements file nobody can read is no evidence
    assert codes("FROM python:3.6-alpine\nRUN apk add gcc musl-dev\nRUN pip install -r requirements.txt\n",
                 "DO403") == []


def test_do405_node_modules_removed_in_the_same_run() -> None:
    text = "FROM node:20\nCOPY . .\nRUN npm install && npm run build && rm -rf node_modules\nCMD [\"node\", \"dist\"]\n"
    assert codes(text, "DO405") == []


@pytest.mark.parametrize("base", ["node:8", "node:6-alpine", "node:argon", "node:carbon-slim", "node:14.21"])
def test_do405_old_npm_gets_production_not_omit_dev(base: str, dev_manifests: Path) -> None:
    text = f"FROM {base}\nWORKDIR /app\nCOPY package.json .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n"
    [d] = findings(text, "DO405", context=dev_manifests)
    assert "--production" in d.message and "--omit=dev" not in d.message
    assert "RUN npm install --production\n" in fixed(text, "DO405", unsafe=True, context=dev_manifests).text
    new = findings(text.replace(base, "node:20-slim"), "DO405", context=dev_manifests)[0]
    assert "--omit=dev" in new.message


def test_do404_unnamed_final_stage_not_named_by_index() -> None:
    text = "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCMD [\"/app\"]\n"
    [d] = findings(text, "DO404")
    assert "'1'" not in d.message and "the last one, line 3" in d.message


@pytest.mark.parametrize("text", [
    # an image of its own (ENTRYPOINT): built with --target
    "FROM ubuntu AS base\nRUN x\nFROM base AS sagemaker\nENTRYPOINT [\"./sm.sh\"]\nFROM base\nCMD [\"./run\"]\n",
    # an export stage for --output, and the stage it copies from
    "FROM alpine AS generate\nRUN gen > /out\nFROM scratch AS update\nCOPY --from=generate /out /\n"
    "FROM alpine AS validate\nRUN check\n",
    # a base chosen per build
    "ARG PLATFORM=xpu\nFROM ubuntu AS xpu\nRUN a\nFROM ubuntu AS cpu\nRUN b\nFROM ${PLATFORM} AS final\nCMD x\n",
])
def test_do404_target_stages_are_not_forgotten_copies(text: str) -> None:
    assert [d for d in findings(text, "DO404") if "forgotten" in d.message] == []


@pytest.mark.parametrize(("text", "reported"), [
    ("FROM alpine\nCOPY --from=templates /a /a\n", False),  # a named build context (--build-context)
    ("FROM golang AS builder\nRUN x\nFROM alpine\nCOPY --from=buidler /a /a\n", True),  # a typo
    ("FROM golang AS license-set\nRUN x\nFROM alpine\nCOPY --from=set /a /a\n", True),
    ("FROM alpine\nCOPY --from=build /a /a\n", True),
])
def test_do404_unknown_stage_names(text: str, reported: bool) -> None:
    assert bool([d for d in findings(text, "DO404") if "is not a stage" in d.message]) is reported


@pytest.mark.parametrize("image", ["microsoft/dotnet:2.0.0-sdk", "microsoft/aspnetcore-build:2.0",
                                   "microsoft/dotnet:2.1-sdk-alpine"])
def test_old_dotnet_sdk_image_names_are_the_sdk(image: str) -> None:
    from dockopt.toolchain.images import toolchain_of

    assert toolchain_of(parse_image(image)) == "dotnet"
    assert toolchain_of(parse_image("microsoft/dotnet:2.0.0-runtime")) is None


def test_do401_tools_installed_after_every_build_serve_the_container() -> None:
    """TGI's final stage (issue-16 sample) installs build-essential and g++ after all builds are done:
    they are for the running server (kernels compiled at run time), not "needed only to build"."""
    text = ("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y make libssl-dev && rm -rf /var/lib/apt/lists/*\n"
            "RUN make gen\nRUN apt-get update && apt-get install -y build-essential g++ && rm -rf /var/lib/apt/lists/*\n"
            "CMD [\"serve\"]\n")
    assert codes(text, "DO401") == []
    before = text.replace("RUN make gen\n", "").replace('CMD ["serve"]', 'RUN make gen\nCMD ["serve"]')
    assert codes(before, "DO401") == ["DO401"]


def test_do401_kernel_module_images_compile_at_run_time() -> None:
    """jessfraz's wireguard:install (issue-16 sample) installs kmod and builds the module against the
    host's headers when it runs: its compiler is the product."""
    text = ("FROM debian:sid-slim\nRUN apt update && apt -y install build-essential kmod libelf-dev git "
            "&& rm -rf /var/lib/apt/lists/*\nRUN git clone https://git.example/tools /t && make -C /t install\n"
            "ENTRYPOINT [\"/usr/local/bin/entrypoint.sh\"]\n")
    assert codes(text, "DO401") == []
    assert codes(text.replace(" kmod", ""), "DO401") == ["DO401"]


def test_do402_headers_without_a_compiler_compile_with_the_full_image() -> None:
    """vimagick's editly (issue-16 sample): -dev headers for `npm install -g editly`, whose native
    modules compile with the full node image's gcc; node:*-slim has none."""
    text = ("FROM node:lts-bookworm\nRUN apt update && apt install -y libxext-dev libxi-dev "
            "&& npm install --global --unsafe-perm editly && apt remove -y libxext-dev libxi-dev "
            "&& rm -rf /var/lib/apt/lists/*\nENTRYPOINT [\"editly\"]\n")
    assert codes(text, "DO402") == []


@pytest.mark.parametrize("image", ["microsoft/dotnet:2.0.0-sdk", "mcr.microsoft.com/dotnet/sdk:8.0"])
def test_do401_dotnet_app_dll_is_the_runtime_not_the_sdk(image: str) -> None:
    """`dotnet app.dll` runs the application with the runtime host; the SDK is only for building.
    Old Docker Hub names (microsoft/dotnet:*-sdk) are the SDK too (issue 16)."""
    text = (f"FROM {image}\nWORKDIR /src\nCOPY . .\nRUN dotnet restore\nRUN dotnet publish -c Release -o /out\n"
            "ENTRYPOINT [\"dotnet\", \"/out/app.dll\"]\n")
    assert codes(text, "DO401") == ["DO401"]
    assert codes(text.replace('"/out/app.dll"', '"run"'), "DO401") == []  # `dotnet run` needs the SDK


def test_do402_jvm_build_in_the_shipped_stage_needs_the_jdk() -> None:
    """vimagick's kafka-manager (issue-16 final draw) builds with sbt in openjdk:8: a JRE cannot."""
    text = ("FROM openjdk:8\nRUN curl -sSL https://example.com/src.tgz | tar xz && cd src && sbt universal:packageZipTarball\n"
            "CMD [\"bin/kafka-manager\"]\n")
    assert codes(text, "DO402") == []
