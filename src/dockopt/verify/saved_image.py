"""A ``docker save`` archive, extracted and read: :class:`SavedImage` (config, exact history,
layers) from either layout Docker writes (legacy ``manifest.json``, OCI ``index.json``).

The archive is not trusted: :func:`extract_save_stream` refuses absolute and ``..`` paths and
links that leave the destination. Producing the archive is
:meth:`dockopt.verify.engine.DockerEngine.save`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from dockopt.verify.errors import EngineError
from dockopt.verify.layer_tar import LayerEntry, layer_entry, open_layer


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_by: str
    size_bytes: int
    empty_layer: bool
    comment: str = ""


@dataclass(frozen=True)
class SavedLayer:
    """One layer of a saved image. Not slotted: ``entries`` is computed lazily and cached."""

    index: int
    path: Path  # the layer tar inside the extracted ``docker save`` output
    size_bytes: int  # size of that tar as stored (uncompressed for Docker, maybe gzip in OCI)
    diff_id: str | None
    created_by: str | None = None  # the history entry that produced this layer

    @cached_property
    def entries(self) -> tuple[LayerEntry, ...]:
        return tuple(self.iter_entries())

    def iter_entries(self) -> Iterator[LayerEntry]:
        with open_layer(self.path) as tf:
            for member in tf:
                entry = layer_entry(member)
                if entry is not None:
                    yield entry

    @property
    def content_bytes(self) -> int:
        """What ``docker history`` reports as the layer's size: the daemon sums the lstat sizes
        of non-directories once per inode, i.e. regular file bytes plus each symlink's target
        length (hard links, devices and whiteouts add nothing)."""
        return sum(
            e.size if e.type == "file" else len((e.link or "").encode("utf-8", "surrogateescape"))
            for e in self.entries
            if e.type in ("file", "symlink")
        )


@dataclass(frozen=True)
class SavedImage:
    root: Path  # where ``docker save`` was extracted
    image_id: str  # "sha256:" + digest of the config
    repo_tags: tuple[str, ...]
    config: Mapping[str, object]
    config_path: Path
    layers: tuple[SavedLayer, ...]
    layout: Literal["docker-legacy", "oci"]

    @cached_property
    def history(self) -> tuple[HistoryEntry, ...]:
        """The exact history from the image config (``empty_layer`` as recorded, not guessed)."""
        out: list[HistoryEntry] = []
        layer_iter = iter(self.layers)
        for h in _config_history(self.config):
            empty = bool(h.get("empty_layer", False))
            layer = None if empty else next(layer_iter, None)
            size = layer.content_bytes if layer is not None else 0
            out.append(
                HistoryEntry(
                    created_by=str(h.get("created_by", "")),
                    size_bytes=size,
                    empty_layer=empty,
                    comment=str(h.get("comment", "")),
                )
            )
        return tuple(out)


def _safe_join(root: Path, name: str) -> Path:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise EngineError(f"unsafe path in docker save output: {name!r}")
    return root.joinpath(*[p for p in rel.parts if p not in (".", "")])


def extract_save_stream(stream: IO[bytes], dest: Path) -> None:
    """Extract a ``docker save`` tar stream without trusting it (no absolute/``..`` paths,
    links only inside ``dest``, no devices). Streamed: no copy of the whole tar on disk."""
    root = dest.resolve()
    links: list[tuple[Path, str, bool]] = []
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for member in tf:
            target = _safe_join(root, member.name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(member)
                assert src is not None
                with open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            elif member.issym() or member.islnk():
                links.append((target, member.linkname, member.issym()))
            # anything else (devices, fifos) has no business in a save archive: skipped
    # Docker >= 25 links the legacy "<id>/layer.tar" names to OCI blobs; resolve after the
    # fact because a link may precede its target in the stream.
    for target, linkname, symbolic in links:
        source = (target.parent / linkname) if symbolic else _safe_join(root, linkname)
        source = source.resolve()
        if root not in source.parents or not source.is_file():
            raise EngineError(f"link in docker save output points outside it: {linkname!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # same bytes, no copy
        except OSError:
            shutil.copyfile(source, target)


def _blob_path(root: Path, digest: str) -> Path:
    algo, _, hexdigest = digest.partition(":")
    if not re.fullmatch(r"[a-z0-9]+", algo) or not re.fullmatch(r"[a-f0-9]+", hexdigest):
        raise EngineError(f"bad digest in OCI layout: {digest!r}")
    return root / "blobs" / algo / hexdigest


def _read_json(path: Path) -> object:
    return json.loads(path.read_bytes())


def load_saved_image(root: Path, image: str | None = None) -> SavedImage:
    """Read an extracted ``docker save`` directory.

    Docker < 25 writes the legacy layout: ``manifest.json`` listing ``<id>/layer.tar`` files
    and a ``<config-digest>.json``. Docker >= 25 writes an OCI layout (``oci-layout``,
    ``index.json``, ``blobs/sha256/...``) and still adds a ``manifest.json`` whose paths point
    into ``blobs/``. Pure OCI layouts from other tools have only ``index.json``; their layers
    may be gzip-compressed, which is handled (zstd is not: Python's tarfile cannot read it).
    """
    root = Path(root)
    layout: Literal["docker-legacy", "oci"] = "oci" if (root / "index.json").is_file() else "docker-legacy"
    manifest_path = root / "manifest.json"
    layer_paths: list[Path]
    if manifest_path.is_file():
        manifests = _read_json(manifest_path)
        if not isinstance(manifests, list) or not manifests:
            raise EngineError(f"{manifest_path} lists no image")
        chosen = _choose_manifest(root, manifests, image)
        config_path = _safe_join(root, str(chosen["Config"]))
        layer_paths = [_safe_join(root, str(p)) for p in _as_list(chosen.get("Layers"))]
        repo_tags = tuple(sorted(str(t) for t in _as_list(chosen.get("RepoTags"))))
    elif layout == "oci":
        config_path, layer_paths, repo_tags = _read_oci(root)
    else:
        raise EngineError(f"{root} is neither a docker save (manifest.json) nor an OCI layout (index.json)")
    config_bytes = config_path.read_bytes()
    config = json.loads(config_bytes)
    if not isinstance(config, dict):
        raise EngineError(f"image config {config_path} is not an object")
    image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    creators = [
        str(h.get("created_by", "")) for h in _config_history(config) if not h.get("empty_layer", False)
    ]
    layers = tuple(
        SavedLayer(
            index=i,
            path=p,
            size_bytes=p.stat().st_size,
            diff_id=diff_ids[i] if i < len(diff_ids) else None,
            created_by=creators[i] if i < len(creators) else None,
        )
        for i, p in enumerate(layer_paths)
    )
    return SavedImage(
        root=root,
        image_id=image_id,
        repo_tags=repo_tags,
        config=config,
        config_path=config_path,
        layers=layers,
        layout=layout,
    )


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _choose_manifest(root: Path, manifests: list[object], image: str | None) -> dict[str, object]:
    entries = [m for m in manifests if isinstance(m, dict)]
    if not entries:
        raise EngineError("manifest.json lists no image")
    if len(entries) == 1 or image is None:
        return entries[0]
    for m in entries:
        if image in _as_list(m.get("RepoTags")):
            return m
    for m in entries:  # an id or digest prefix
        digest = hashlib.sha256(_safe_join(root, str(m["Config"])).read_bytes()).hexdigest()
        if image.removeprefix("sha256:") and digest.startswith(image.removeprefix("sha256:")):
            return m
    return entries[0]


_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


def _read_oci(root: Path) -> tuple[Path, list[Path], tuple[str, ...]]:
    index = _read_json(root / "index.json")
    tags: list[str] = []
    seen = 0
    while True:
        if not isinstance(index, dict) or not index.get("manifests"):
            raise EngineError(f"{root / 'index.json'} has no manifests")
        descs = [d for d in index["manifests"] if isinstance(d, dict)]
        desc = _pick_platform(descs)
        ann = desc.get("annotations")
        if isinstance(ann, dict):
            for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
                if key in ann:
                    tags.append(str(ann[key]))
        blob = _read_json(_blob_path(root, str(desc["digest"])))
        media = str(desc.get("mediaType") or (blob.get("mediaType") if isinstance(blob, dict) else ""))
        if media in _INDEX_TYPES or (isinstance(blob, dict) and "manifests" in blob):
            index = blob
            seen += 1
            if seen > 8:
                raise EngineError("OCI index nesting too deep")
            continue
        if not isinstance(blob, dict):
            raise EngineError("OCI manifest is not an object")
        config = blob.get("config")
        if not isinstance(config, dict):
            raise EngineError("OCI manifest has no config descriptor")
        config_path = _blob_path(root, str(config["digest"]))
        layers = [_blob_path(root, str(d["digest"])) for d in _as_list(blob.get("layers")) if isinstance(d, dict)]
        return config_path, layers, tuple(sorted(set(tags)))


def _pick_platform(descs: list[dict[str, object]]) -> dict[str, object]:
    for d in descs:
        plat = d.get("platform")
        if isinstance(plat, dict) and plat.get("os") == "linux" and plat.get("architecture") == "amd64":
            return d
    for d in descs:  # attestation manifests carry "unknown/unknown": skip them
        plat = d.get("platform")
        if not (isinstance(plat, dict) and plat.get("os") == "unknown"):
            return d
    return descs[0]


def _config_history(config: Mapping[str, object]) -> list[dict[str, object]]:
    hist = config.get("history") or []
    return [h for h in hist if isinstance(h, dict)] if isinstance(hist, list) else []
