"""DO201 proven by hand, independently of ``dockopt verify``'s own secret check.

The finding says: the ``.npmrc`` that line 6 removes is still in the layer line 3 made. Here
the original is built and its layer tarballs searched; then DO201's suggestion (a suggestion:
``dockopt fix`` never applies it) is applied to the text, built with ``--secret``, and every
layer searched again, by path and by the token's bytes. The rewrite must still work (the RUN
reads the token through the mount) and must fail without the secret (it really uses it).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockopt.diagnostics import Applicability
from dockopt.fixes.fixer import apply_edits
from dockopt.syntax import parse
from dockopt.verify.build import BuildError
from dockopt.verify.engine import DockerEngine
from dockopt.verify.layer_tar import find_in_layers, grep_layers
from tests.lintkit import findings

if TYPE_CHECKING:
    from conftest import TagPool

CASE = Path(__file__).parent / "cases" / "secret-npmrc"
TOKEN = b"npm_DockoptE2eNotARealToken0123456789"

pytestmark = pytest.mark.engine


def test_secret_mount_rewrite_keeps_the_token_out_of_every_layer(
        engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    ctx = Path(shutil.copytree(CASE, tmp_path / "ctx"))
    text = (ctx / "Dockerfile").read_text()
    assert TOKEN in (ctx / ".npmrc").read_bytes()

    # the original: the token is in the COPY's layer (line 3), though line 6 removed the file
    original = tags.build(ctx, "secret-original", buildkit=True, no_cache=True)
    with engine.saved(original.tag) as saved:
        creators = [layer.created_by or "" for layer in saved.layers]
        holding = find_in_layers(saved, "/app/.npmrc")
        assert len(holding) == 1 and creators[holding[0]].startswith("COPY .npmrc package.json")
        assert {path for _, path in grep_layers(saved, TOKEN)} == {"/app/.npmrc"}
        assert "/app/.npmrc" not in {p for p in _final_paths(saved)}  # gone from the merged view

    # DO201's suggestion, applied by hand
    [finding] = findings(text, "DO201", context=ctx)
    assert finding.fix is not None and finding.fix.applicability is Applicability.SUGGESTION
    assert "--secret id=npmrc,src=.npmrc" in finding.fix.message
    rewritten = apply_edits(text, list(finding.fix.edits))
    assert not parse(rewritten).errors
    assert "--mount=type=secret,id=npmrc,target=/app/.npmrc" in rewritten
    assert "COPY .npmrc" not in rewritten and "rm .npmrc" not in rewritten
    (ctx / "Dockerfile").write_text(rewritten)

    fixed = tags.build(ctx, "secret-mounted", buildkit=True, no_cache=True, secrets={"npmrc": ctx / ".npmrc"})
    assert engine.run(fixed.tag, ["cat", "/app/installed.txt"]).stdout.strip() == "installed"
    with engine.saved(fixed.tag) as saved:
        assert find_in_layers(saved, "/app/.npmrc") == []
        assert grep_layers(saved, TOKEN) == []

    # without the secret the RUN cannot read the token: the mount is what it used
    with pytest.raises(BuildError):
        tags.build(ctx, "secret-missing", buildkit=True, no_cache=True)


def _final_paths(saved) -> set[str]:  # type: ignore[no-untyped-def]
    from dockopt.verify.filesystem import flatten

    return set(flatten(saved))
