"""End-to-end checks of dockopt.verify's engine layer (engine, build, saved_image, layer_tar,
filesystem) against a real Docker engine.

Start one with ``bash scripts/engine.sh install && bash scripts/engine.sh up && bash
scripts/engine.sh images``. Some tests print measurements (apt index and package sizes) that
calibrate dockopt's layer-size estimates; run with ``-s`` to see them.
"""
from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockopt.verify.build import (
    BuildError,
    BuildResult,
    BuildStep,
    parse_buildkit_steps,
    parse_legacy_steps,
    strip_syntax,
)
from dockopt.verify.engine import DockerEngine
from dockopt.verify.errors import EngineUnavailable
from dockopt.verify.filesystem import DEFAULT_IGNORE, FileEntry, compare_filesystems, flatten
from dockopt.verify.layer_tar import find_in_layers, grep_layers
from dockopt.verify.saved_image import SavedImage, load_saved_image

if TYPE_CHECKING:  # tests/e2e is not a package: conftest is imported by pytest, not by us
    from conftest import TagPool

# Tests that build are marked one by one: the parsers at the end need no engine and run anywhere.


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_context(root: Path, dockerfile: str, files: dict[str, str | bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def under(fs: dict[str, FileEntry], prefix: str) -> int:
    """Bytes of regular files below ``prefix`` in a flattened filesystem."""
    return sum(e.size for p, e in fs.items() if p.startswith(prefix + "/") and e.type == "file")


# ------------------------------------------------------------------------------ busybox basics

BUSYBOX_TWO_LAYERS = """\
FROM busybox:latest
RUN mkdir -p /app && echo hello > /app/hello.txt
ENV GREETING=hi
RUN echo world > /app/world.txt && chmod 0600 /app/world.txt && ln -s hello.txt /app/link
"""


@pytest.mark.engine
def test_two_layer_busybox_history_save_flatten(engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", BUSYBOX_TWO_LAYERS)
    result = tags.build(ctx, "two-layers")
    tag = result.tag
    assert result.ok and result.image_id and result.image_id.startswith("sha256:")
    assert [s.name.split()[0] for s in result.steps] == ["FROM", "RUN", "ENV", "RUN"]

    hist = engine.history(tag)
    assert [h.empty_layer for h in hist] == [False, False, True, False]
    assert "echo hello" in hist[1].created_by and "GREETING" in hist[2].created_by
    assert hist[1].size_bytes == len(b"hello\n")  # docker counts file bytes, not tar bytes
    assert hist[3].size_bytes == len(b"world\n") + len("hello.txt")  # a symlink counts its target

    with engine.saved(tag) as saved:
        assert saved.image_id == result.image_id
        assert tag in saved.repo_tags
        assert len(saved.layers) == 3
        # The exact (config-based) history agrees with the CLI-derived one.
        assert [(h.created_by, h.empty_layer, h.size_bytes) for h in saved.history] == [
            (h.created_by, h.empty_layer, h.size_bytes) for h in hist
        ]
        assert saved.layers[1].created_by and "echo hello" in saved.layers[1].created_by
        assert all(layer.path.is_file() and layer.size_bytes > 0 for layer in saved.layers)
        assert {e.path for e in saved.layers[1].entries} >= {"/app", "/app/hello.txt"}
        assert "/bin/busybox" in {e.path for e in saved.layers[0].entries}

        fs = flatten(saved)
        root = saved.root
    assert not root.exists()  # saved() cleans up after itself

    assert list(fs) == sorted(fs)
    assert fs["/app"].type == "dir"
    assert fs["/app/hello.txt"] == FileEntry("file", 0o644, 0, 0, 6, sha(b"hello\n"))
    assert fs["/app/world.txt"].mode == 0o600 and fs["/app/world.txt"].sha256 == sha(b"world\n")
    assert fs["/app/link"].type == "symlink" and fs["/app/link"].link == "hello.txt"
    assert fs["/bin/sh"].type == "symlink" and fs["/bin/busybox"].type == "file"


@pytest.mark.engine
def test_deleted_file_stays_in_earlier_layer(engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    secret = f"token-{uuid.uuid4().hex}"
    ctx = write_context(
        tmp_path / "ctx",
        """\
FROM busybox:latest
COPY secret.txt /tmp/secret.txt
RUN cat /tmp/secret.txt > /dev/null && rm /tmp/secret.txt \\
 && mkdir -p /data && echo keep > /data/keep && echo old > /data/old
RUN rm -rf /data && mkdir /data && echo fresh > /data/new
""",
        {"secret.txt": secret + "\n"},
    )
    tag = tags.build(ctx, "deleted").tag
    with engine.saved(tag) as saved:
        assert find_in_layers(saved, "/tmp/secret.txt") == [1]
        assert find_in_layers(saved, "tmp/secret.txt") == [1]  # relative spelling works too
        assert grep_layers(saved, secret.encode()) == [(1, "/tmp/secret.txt")]
        # Layer 2 deletes it with a whiteout; layer 3 replaces /data wholesale (opaque dir).
        kinds2 = {(e.path, e.type) for e in saved.layers[2].entries}
        assert ("/tmp/secret.txt", "whiteout") in kinds2
        kinds3 = {(e.path, e.type) for e in saved.layers[3].entries}
        assert ("/data", "opaque") in kinds3 or {("/data/keep", "whiteout"), ("/data/old", "whiteout")} <= kinds3
        fs = flatten(saved)
    assert "/tmp/secret.txt" not in fs
    assert "/data/keep" not in fs and "/data/old" not in fs
    assert fs["/data/new"].sha256 == sha(b"fresh\n")
    assert fs["/tmp"].type == "dir"


# --------------------------------------------------------------------------- debian + apt builds

APT_DOCKERFILE = """\
FROM debian:bookworm-slim
RUN apt-get update
RUN apt-get install -y --no-install-recommends jq
"""


@pytest.fixture(scope="module")
def apt_twice(engine: DockerEngine, tags: TagPool, tmp_path_factory: pytest.TempPathFactory) -> list[BuildResult]:
    """The same apt Dockerfile built twice without cache (legacy builder)."""
    ctx = write_context(tmp_path_factory.mktemp("apt"), APT_DOCKERFILE)
    return [tags.build(ctx, f"apt-{i}", no_cache=True) for i in range(2)]


@pytest.mark.engine
def test_apt_update_and_install_sizes(
    engine: DockerEngine, apt_twice: list[BuildResult], capsys: pytest.CaptureFixture[str]
) -> None:
    first = apt_twice[0]
    assert all(s.cached is False for s in first.steps if s.cached is not None)
    hist = engine.history(first.tag)
    update_layer = next(h for h in hist if h.created_by.endswith("apt-get update"))
    install_layer = next(h for h in hist if "apt-get install" in h.created_by)
    with engine.saved(first.tag) as saved:
        fs = flatten(saved)
        lists_layer = saved.layers[1]
        lists_in_layer = sum(
            e.size for e in lists_layer.entries if e.path.startswith("/var/lib/apt/lists/") and e.type == "file"
        )
    lists_bytes = under(fs, "/var/lib/apt/lists")
    archives = [p for p in fs if p.startswith("/var/cache/apt/archives/") and p.endswith(".deb")]
    with capsys.disabled():
        print(
            f"\n[calibration] debian:bookworm-slim `apt-get update`: /var/lib/apt/lists = {lists_bytes} bytes "
            f"(layer: {update_layer.size_bytes} bytes); `apt-get install -y --no-install-recommends jq` "
            f"layer: {install_layer.size_bytes} bytes"
        )
    # Official Debian images keep indexes compressed (Acquire::GzipIndexes, stored as .lz4):
    # bookworm + bookworm-updates + bookworm-security come to ~20 MB, not the ~90 MB unpacked.
    assert 5_000_000 < lists_bytes < 60_000_000
    assert lists_in_layer == lists_bytes  # the update layer is where the lists live
    assert abs(update_layer.size_bytes - lists_bytes) < 1_000_000
    assert any(p.endswith("_Packages.lz4") for p in fs if p.startswith("/var/lib/apt/lists/"))
    assert fs["/usr/bin/jq"].type == "file"
    assert fs["/etc/apt/apt.conf.d/docker-clean"].type == "file"
    assert archives == []  # docker-clean's Post-Invoke emptied the .deb cache
    assert 100_000 < install_layer.size_bytes < 10_000_000


@pytest.mark.engine
def test_same_dockerfile_twice_has_equal_filesystems(engine: DockerEngine, apt_twice: list[BuildResult]) -> None:
    a, b = apt_twice
    assert a.image_id != b.image_id  # different builds (timestamps), same content
    with engine.saved(a.tag) as sa, engine.saved(b.tag) as sb:
        fa, fb = flatten(sa), flatten(sb)
    raw = compare_filesystems(fa, fb, ignore=[])
    # Without the ignore list the logs differ (timestamps) -- which is why the list exists.
    assert "/var/log/dpkg.log" in raw.changed, raw.summary()
    diff = compare_filesystems(fa, fb)
    assert diff.is_empty, diff.summary()
    # Everything that did differ is covered by the default list (globs: "*" crosses "/").
    assert all(any(fnmatch.fnmatchcase(p, g) for g in DEFAULT_IGNORE) for p in raw.paths())


# ------------------------------------------------------------------------------------- BuildKit


@pytest.mark.engine
def test_buildkit_secret_mount_and_copy_chmod(engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    secret = f"bk-secret-{uuid.uuid4().hex}"
    secret_file = tmp_path / "token.txt"
    secret_file.write_text(secret, encoding="utf-8")
    ctx = write_context(
        tmp_path / "ctx",
        """\
# syntax=docker/dockerfile:1
FROM busybox:latest
COPY --chmod=0755 tool.sh /usr/local/bin/tool
RUN --mount=type=secret,id=token test -s /run/secrets/token \\
 && md5sum /run/secrets/token | cut -c1-8 > /token-md5-prefix \\
 && /usr/local/bin/tool > /tool-output
""",
        {"tool.sh": "#!/bin/sh\necho tool ran\n"},
    )
    os.chmod(ctx / "tool.sh", 0o644)  # --chmod, not the context's mode, must decide
    # no_cache: a secret's content is not part of BuildKit's cache key, so a RUN from an
    # earlier session (other secret value) would be reused as is.
    result = tags.build(ctx, "buildkit", buildkit=True, secrets={"token": secret_file}, no_cache=True)
    tag = result.tag
    assert result.ok, result.log
    assert any("syntax" in n for n in result.notes)  # the frontend-image directive was dropped
    assert [s.name.split("] ", 1)[1].split()[0] for s in result.steps] == ["FROM", "COPY", "RUN"]
    with engine.saved(tag) as saved:
        # The CLI-derived history (empty_layer inferred) agrees with the config's (recorded).
        assert [(h.created_by, h.empty_layer) for h in engine.history(tag)] == [
            (h.created_by, h.empty_layer) for h in saved.history
        ]
        assert grep_layers(saved, secret.encode()) == []  # the secret is in no layer
        assert find_in_layers(saved, "/run/secrets/token") == []
        fs = flatten(saved)
    assert fs["/usr/local/bin/tool"].mode == 0o755
    assert fs["/tool-output"].sha256 == sha(b"tool ran\n")
    expected = hashlib.md5(secret.encode()).hexdigest()[:8] + "\n"  # noqa: S324 - not security
    assert fs["/token-md5-prefix"].sha256 == sha(expected.encode())  # it was readable at build time


@pytest.mark.engine
def test_secrets_need_buildkit(engine: DockerEngine, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        engine.build(tmp_path / "Dockerfile", tmp_path, "x:y", secrets={"a": tmp_path / "a"})


# ------------------------------------------------------------------------------------- caching


@pytest.mark.engine
@pytest.mark.parametrize("buildkit", [False, True], ids=["legacy", "buildkit"])
def test_second_build_hits_cache(engine: DockerEngine, tags: TagPool, tmp_path: Path, buildkit: bool) -> None:
    ctx = write_context(
        tmp_path / "ctx",
        f"""\
FROM busybox:latest
COPY data.txt /data.txt
RUN echo {uuid.uuid4().hex} > /nonce
ENV MODE=test
RUN wc -c /data.txt > /size
""",
        {"data.txt": "payload\n"},
    )
    name = f"cache-{'bk' if buildkit else 'legacy'}"
    first = tags.build(ctx, name, buildkit=buildkit, no_cache=True)
    second = tags.build(ctx, name, buildkit=buildkit)
    assert first.cache_hits == [] and len(first.cache_misses) >= 3
    assert second.cache_misses == [], [s.name for s in second.cache_misses]
    assert len(second.cache_hits) == len(first.cache_misses)
    assert second.image_id == first.image_id
    # Touching the COPY source invalidates COPY and everything after it.
    # (Unique content: BuildKit's cache is content-addressed and outlives this session.)
    (ctx / "data.txt").write_text(f"changed {uuid.uuid4().hex}\n", encoding="utf-8")
    third = tags.build(ctx, name, buildkit=buildkit)
    assert third.cache_hits == []
    assert third.image_id != first.image_id


# ------------------------------------------------------------------------------ layouts, errors


def _to_oci(saved: SavedImage, dest: Path) -> Path:
    """Rewrite a legacy ``docker save`` as a pure OCI layout with gzip layers (as other tools
    and Docker >= 25 without manifest.json produce), to exercise the OCI reader."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> dict[str, object]:
        digest = sha(data)
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    config = saved.config_path.read_bytes()  # byte for byte: the image id is its digest
    layers = []
    for layer in saved.layers:
        desc = put(gzip.compress(layer.path.read_bytes(), mtime=0))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **desc})
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **put(config)},
        "layers": layers,
    }
    mdesc = put(json.dumps(manifest).encode())
    inner = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "platform": {"os": "linux", "architecture": "amd64"},
                **mdesc,
            }
        ],
    }
    idesc = put(json.dumps(inner).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "annotations": {"io.containerd.image.name": "docker.io/library/oci:test"},
                **idesc,
            }
        ],
    }
    (dest / "index.json").write_text(json.dumps(index), encoding="utf-8")
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}', encoding="utf-8")
    return dest


@pytest.mark.engine
def test_oci_layout_reads_like_legacy(engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", BUSYBOX_TWO_LAYERS)
    tag = tags.build(ctx, "oci").tag
    saved = engine.save(tag, tmp_path / "legacy")
    assert saved.layout in ("docker-legacy", "oci")  # which one depends on the daemon version
    oci = load_saved_image(_to_oci(saved, tmp_path / "oci"))
    assert oci.layout == "oci"
    assert oci.image_id == saved.image_id
    assert oci.repo_tags == ("docker.io/library/oci:test",)
    assert [layer.diff_id for layer in oci.layers] == [layer.diff_id for layer in saved.layers]
    assert [e for layer in oci.layers for e in layer.entries] == [e for layer in saved.layers for e in layer.entries]
    assert flatten(oci) == flatten(saved)
    assert compare_filesystems(oci, saved, ignore=[]).is_empty
    shutil.rmtree(tmp_path / "legacy")


@pytest.mark.engine
def test_failed_build_reports_log(engine: DockerEngine, tags: TagPool, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", "FROM busybox:latest\nRUN echo about-to-fail && exit 3\n")
    with pytest.raises(BuildError) as info:
        tags.build(ctx, "fails")
    assert "about-to-fail" in info.value.result.log
    assert info.value.result.image_id is None
    result = tags.build(ctx, "fails2", check=False)
    assert not result.ok and result.returncode != 0


@pytest.mark.engine
def test_unreachable_engine_is_one_line(engine: DockerEngine, tmp_path: Path) -> None:
    dead = DockerEngine(cli=engine.cli, docker_host=f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(EngineUnavailable) as info:
        dead.ping()
    assert "\n" not in str(info.value) and "no Docker engine reachable" in str(info.value)
    # issue 17 item 15: what a pip user can do, not a script only the repository has
    assert "DOCKER_HOST" in str(info.value) and "scripts/" not in str(info.value)
    with pytest.raises(EngineUnavailable):
        DockerEngine.from_env({"DOCKOPT_DOCKER_CLI": str(tmp_path / "nope"), "PATH": ""}, check=False)


# ------------------------------------------------------------- output parsers (no engine needed)

LEGACY_LOG = """\
Sending build context to Docker daemon  2.048kB
Step 1/4 : FROM busybox:latest
 ---> 84ee0884b853
Step 2/4 : COPY data.txt /data.txt
 ---> Using cache
 ---> 1b2c3d4e5f60
Step 3/4 : ENV MODE=test
 ---> Running in 0a1b2c3d4e5f
Removing intermediate container 0a1b2c3d4e5f
 ---> 2c3d4e5f6071
Step 4/4 : RUN wc -c /data.txt > /size
 ---> Running in 1a2b3c4d5e6f
Removing intermediate container 1a2b3c4d5e6f
 ---> 3d4e5f607182
Successfully built 3d4e5f607182
"""

BUILDKIT_LOG = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s

#4 [stage-0 1/3] FROM docker.io/library/busybox:latest
#4 DONE 0.1s

#6 [stage-0 2/3] COPY --chmod=0755 f.txt /f.txt
#6 CACHED

#7 [stage-0 3/3] RUN echo hi > /x
#7 0.112 hi
#7 DONE 0.4s

#8 exporting to image
#8 DONE 0.1s
"""


def test_parse_legacy_steps() -> None:
    assert parse_legacy_steps(LEGACY_LOG) == [
        BuildStep("Step 1/4", "FROM busybox:latest", None),
        BuildStep("Step 2/4", "COPY data.txt /data.txt", True),
        BuildStep("Step 3/4", "ENV MODE=test", False),
        BuildStep("Step 4/4", "RUN wc -c /data.txt > /size", False),
    ]


def test_parse_buildkit_steps() -> None:
    assert parse_buildkit_steps(BUILDKIT_LOG) == [
        BuildStep("#4", "[stage-0 1/3] FROM docker.io/library/busybox:latest", None, 0.1),
        BuildStep("#6", "[stage-0 2/3] COPY --chmod=0755 f.txt /f.txt", True, None),
        BuildStep("#7", "[stage-0 3/3] RUN echo hi > /x", False, 0.4),
    ]


def test_strip_syntax_keeps_line_numbers() -> None:
    text = "# syntax=docker/dockerfile:1.7\n# escape=\\\nFROM busybox\n"
    stripped, directive = strip_syntax(text)
    assert directive == "docker/dockerfile:1.7"
    assert stripped == "\n# escape=\\\nFROM busybox\n"
    # Only parser directives at the very top count; a later "# syntax=" is a comment.
    later = "FROM busybox\n# syntax=docker/dockerfile:1\n"
    assert strip_syntax(later) == (later, None)


def test_compare_ignore_globs_cross_directories() -> None:
    f = FileEntry("file", 0o644, 0, 0, 1, "aa")
    g = FileEntry("file", 0o644, 0, 0, 1, "bb")
    a = {"/var/log/apt/term.log": f, "/etc/x": f, "/etc/gone": f}
    b = {"/var/log/apt/term.log": g, "/etc/x": g, "/etc/new": f}
    diff = compare_filesystems(a, b)
    assert list(diff.changed) == ["/etc/x"]  # /var/log/* reaches into /var/log/apt/
    assert list(diff.added) == ["/etc/new"] and list(diff.removed) == ["/etc/gone"]
    assert set(compare_filesystems(a, b, ignore=[]).changed) == {"/etc/x", "/var/log/apt/term.log"}
    assert "1 added, 1 removed, 1 changed" in diff.summary()
