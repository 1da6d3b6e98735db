"""Fixtures for tests that need a real Docker engine (marked ``engine``).

The engine is found the way ``dockopt verify`` finds it: ``$DOCKER_HOST`` (and
``$DOCKOPT_DOCKER_CLI``), else the env file that ``scripts/engine.sh up`` writes to
``${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}/env``. Without an engine the tests are skipped,
unless ``DOCKOPT_REQUIRE_ENGINE=1`` (CI sets it after starting its own dockerd): then they fail,
so that a broken engine cannot pass as "all skipped".
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockopt.verify.build import BuildResult
from dockopt.verify.engine import DockerEngine
from dockopt.verify.errors import EngineUnavailable
from tests.e2e.originals import OriginalBuilds

# The images `scripts/engine.sh images` provides; the tests build on them.
BASE_IMAGES = ("busybox:latest", "debian:bookworm-slim")


def _require() -> bool:
    return os.environ.get("DOCKOPT_REQUIRE_ENGINE", "") not in ("", "0")


ENGINE_HOWTO = ("set DOCKER_HOST, or start a private one: bash scripts/engine.sh install && "
                "bash scripts/engine.sh up && bash scripts/engine.sh images (README, Tests)")


def _unavailable(message: str, detail: str = "") -> None:
    if _require():
        pytest.fail(f"DOCKOPT_REQUIRE_ENGINE=1 but {message}{': ' + detail if detail else ''}", pytrace=False)
    pytest.skip(message)  # one line: what is missing and how to get it


@pytest.fixture(scope="session")
def engine() -> DockerEngine:
    try:
        eng = DockerEngine.from_env()
    except EngineUnavailable as exc:
        _unavailable(f"no Docker engine reachable: {ENGINE_HOWTO}", str(exc))
        raise  # unreachable: skip/fail raise
    missing = [img for img in BASE_IMAGES if eng.image_id(img) is None]
    if missing:
        _unavailable(
            f"the engine at {eng.where} lacks base images {', '.join(missing)} "
            "(run: bash scripts/engine.sh images)"
        )
    return eng


class TagPool:
    """Unique image tags for one test session; the tags and every image built through
    :meth:`build` (also those a rebuild untagged) are removed at the end."""

    def __init__(self, engine: DockerEngine) -> None:
        self.engine = engine
        self.prefix = f"dockopt-e2e-{uuid.uuid4().hex[:8]}"
        self.tags: list[str] = []
        self.ids: list[str] = []

    def __call__(self, name: str) -> str:
        tag = f"{self.prefix}:{name}"
        self.tags.append(tag)
        return tag

    def build(self, context: Path, name: str, **kw: Any) -> BuildResult:
        """Build ``context/Dockerfile`` as ``prefix:name`` and remember the image for cleanup
        (a failed build raises BuildError and leaves no image)."""
        result = self.engine.build(context / "Dockerfile", context, self(name), **kw)
        if result.image_id:
            self.ids.append(result.image_id)
        return result

    def cleanup(self) -> None:
        self.engine.rmi(*self.tags)
        self.engine.rmi(*dict.fromkeys(self.ids))


@pytest.fixture(scope="session")
def tags(engine: DockerEngine) -> Iterator[TagPool]:
    pool = TagPool(engine)
    yield pool
    pool.cleanup()


@pytest.fixture(scope="session")
def original_builds(engine: DockerEngine, tags: TagPool,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalBuilds]:
    """The savings and calibration cases' original images, each built once per session
    (tests/e2e/originals.py)."""
    builds = OriginalBuilds(engine, tags, tmp_path_factory.mktemp("originals"), tmp_path_factory.mktemp("pypi"))
    yield builds
    builds.close()
