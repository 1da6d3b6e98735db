"""DO301's reorderings against a real engine: same final filesystem, and the install stays cached.

The installer is a stand-in for ``npm ci`` (no network here): it reads package.json and
package-lock.json and writes node_modules/ from them, as npm does. Both builders are checked
(the legacy builder and BuildKit); directory modes and owners are part of the comparison, so
the fix's claim "the final filesystem stays the same" is tested, flags included.
"""
from __future__ import annotations

import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockopt.diagnostics import Applicability
from dockopt.verify.engine import DockerEngine
from dockopt.verify.filesystem import compare_filesystems, flatten
from tests.lintkit import findings, fixed

if TYPE_CHECKING:
    from conftest import TagPool

FAKE_NPM = """#!/bin/sh
set -e
test -f package.json && test -f package-lock.json
mkdir -p node_modules/dep
cat package.json package-lock.json > node_modules/dep/index.js
"""
FILES = {"package.json": '{"name": "app"}\n', "package-lock.json": '{"lockfileVersion": 3}\n',
         "src/index.js": "console.log(1)\n", "tools/npm": FAKE_NPM,
         ".dockerignore": "node_modules\nDockerfile\n"}  # the Dockerfile differs: keep it out

CASES = {
    "workdir": "FROM busybox:latest\nCOPY tools/npm /usr/local/bin/npm\nWORKDIR /app\n# sources\nCOPY . .\n"
               "RUN npm ci && cat src/index.js > /built.js\n",
    "chown": "FROM busybox:latest\nCOPY tools/npm /usr/local/bin/npm\nWORKDIR /srv/app\n"
             "COPY --chown=1000:1000 --chmod=755 . .\nRUN npm ci\n",
    # No WORKDIR: the new COPY creates /app instead of the broad one, with the same mode and owner.
    "created": "FROM busybox:latest\nCOPY tools/npm /usr/local/bin/npm\nCOPY --chown=1000:1000 . /app/\n"
               "RUN cd /app && npm ci\n",
    # Issue 16: a COPY of a file the install does not read, above the manifests' COPY, moves below
    # the install (the RUN going on after it is split off below the moved COPY).
    "unread-file": "FROM busybox:latest\nCOPY tools/npm /usr/local/bin/npm\nWORKDIR /app\nCOPY src/index.js src/\n"
                   "COPY package.json package-lock.json ./\nRUN npm ci && cat src/index.js > /built.js\n",
    # ... with --chown, creating /app/src itself (/app is the manifests' COPY's either way).
    "unread-chown": "FROM busybox:latest\nCOPY tools/npm /usr/local/bin/npm\nCOPY package.json package-lock.json /app/\n"
                    "COPY --chown=1000:1000 src/index.js /app/src/\nRUN cd /app && npm ci\n",
}


def _context(root: Path, dockerfile: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile)
    for name, content in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (root / "tools/npm").chmod(0o755)
    (root / "tools/npm").chmod((root / "tools/npm").stat().st_mode | stat.S_IXUSR)
    return root


@pytest.mark.engine
@pytest.mark.parametrize("buildkit", [False, True], ids=["legacy", "buildkit"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_do301_safe_fix_keeps_the_filesystem_and_the_install_cached(
        engine: DockerEngine, tags: TagPool, tmp_path: Path, case: str, buildkit: bool) -> None:
    if case == "chown" and not buildkit:
        pytest.skip("COPY --chmod needs BuildKit")
    original = CASES[case]
    root = _context(tmp_path / "a", original)
    [d] = findings(original, "DO301", context=root)
    assert d.fix is not None and d.fix.applicability is Applicability.SAFE, d.fix
    rewritten = fixed(original, "DO301", context=root).text
    assert rewritten != original
    fixed_root = _context(tmp_path / "b", rewritten)
    name = f"{case}-{'bk' if buildkit else 'legacy'}"
    before = tags.build(root, f"{name}-before", buildkit=buildkit)
    after = tags.build(fixed_root, f"{name}-after", buildkit=buildkit)
    with engine.saved(before.tag) as sa, engine.saved(after.tag) as sb:
        diff = compare_filesystems(flatten(sa), flatten(sb))
    assert diff.is_empty, diff.summary()
    # A one-line source edit: the install reruns before the fix, stays cached after it.
    edit = f"console.log('{uuid.uuid4().hex}')\n"  # new to the builder's cache, whatever ran before
    for ctx_root, label in ((root, "before"), (fixed_root, "after")):
        (ctx_root / "src/index.js").write_text(edit)
        again = tags.build(ctx_root, f"{name}-{label}-edit", buildkit=buildkit)
        install = [s for s in again.steps if "npm ci" in s.name]
        assert install, again.log
        assert install[0].cached is (label == "after"), (label, [(s.name, s.cached) for s in again.steps])
