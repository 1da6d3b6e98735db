"""Base images: what an image reference is, which toolchain it carries, its lighter variants.

Used by the stage rules (DO401 toolchain in the shipped stage, DO402 heavy final base) and
the split recipes (which runtime image a builder's output runs on). Only official images
and a few well-known registries are recognised: an unknown image is never guessed at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MB = 1024 * 1024

# Typical uncompressed sizes (`docker image ls`, linux/amd64) of the images the stage rules
# compare, rounded. They move with every release; messages print them with "~".
# Sources: the distroless README ("static-debian12 is around 2 MiB ... alpine (~5 MiB) ...
# debian (124 MiB)"); `docker image ls` figures quoted in Docker's Go language guide and
# public multi-stage write-ups (golang:1.21 ~815 MB, golang:1.14 810 MB); the rest are
# `docker image ls` readings of the 2024 tags (node:20 ~1.1 GB vs node:20-slim ~240 MB,
# python:3.12 ~1.0 GB vs -slim ~150 MB, eclipse-temurin:21-jdk ~450 MB vs -jre ~270 MB).
IMAGE_SIZES: dict[str, int] = {
    "scratch": 0,
    "distroless-static": 2 * MB,
    "distroless-base": 20 * MB,
    "distroless-cc": 23 * MB,
    "busybox": 4 * MB,
    "alpine": 8 * MB,
    "debian": 124 * MB,
    "debian-slim": 74 * MB,
    "ubuntu": 78 * MB,
    "golang": 815 * MB,
    "golang-alpine": 250 * MB,
    "rust": 1500 * MB,
    "rust-slim": 800 * MB,
    "rust-alpine": 850 * MB,
    "gcc": 1400 * MB,
    "buildpack-deps": 900 * MB,
    "node": 1100 * MB,
    "node-slim": 240 * MB,
    "node-alpine": 135 * MB,
    "python": 1000 * MB,
    "python-slim": 150 * MB,
    "python-alpine": 55 * MB,
    "ruby": 1000 * MB,
    "ruby-slim": 220 * MB,
    "perl": 900 * MB,
    "perl-slim": 150 * MB,
    "jdk": 450 * MB,
    "jre": 270 * MB,
    "maven": 500 * MB,
    "gradle": 700 * MB,
    "dotnet-sdk": 850 * MB,
    "dotnet-aspnet": 220 * MB,
    "nginx-alpine": 45 * MB,
}


@dataclass(frozen=True, slots=True)
class ImageRef:
    """``[registry/][namespace/]repository[:tag][@digest]``, split."""

    written: str
    registry: str  # "" for Docker Hub
    path: str  # "library/python", "gcr.io/distroless/static" without registry: "distroless/static"
    tag: str  # "" when absent (latest)
    digest: str

    @property
    def name(self) -> str:
        """The last path component (``python`` of ``library/python``)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def official(self) -> bool:
        """A Docker Hub official image (``python``, ``library/python``, ``docker.io/python``)."""
        return self.registry in ("", "docker.io", "index.docker.io") and (
            "/" not in self.path or self.path.startswith("library/")
        )

    def with_tag(self, tag: str) -> str:
        """The reference as written, with only its tag replaced (digest dropped: it pins the old tag)."""
        repo = self.written.split("@", 1)[0]
        if self.tag:
            repo = repo[: len(repo) - len(self.tag) - 1]
        return f"{repo}:{tag}"


def parse_image(ref: str | None) -> ImageRef | None:
    """Split an image reference; None for references with unresolved variables."""
    if not ref or "$" in ref:
        return None
    written = ref
    ref, _, digest = ref.partition("@")
    registry = ""
    first, slash, rest = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, ref = first.lower(), rest
    path, _, tag = ref.partition(":")
    return ImageRef(written, registry, path.lower(), tag, digest)


# The WORKDIR an official image sets (``docker image inspect``): a relative path in a stage
# without a WORKDIR of its own is relative to it. Images not listed here (and unofficial ones)
# are unknown: ``image_workdir`` returns None rather than guess "/".
_IMAGE_WORKDIRS = {"golang": "/go"}
_ROOT_WORKDIR_IMAGES = frozenset({
    "debian", "ubuntu", "alpine", "busybox", "python", "node", "ruby", "perl", "rust", "gcc", "buildpack-deps",
    "fedora", "centos", "rockylinux", "almalinux", "amazonlinux", "archlinux", "opensuse", "maven", "gradle",
    "openjdk", "eclipse-temurin", "amazoncorretto", "php",
})


def image_workdir(image: ImageRef | None) -> str | None:
    """The working directory a stage FROM ``image`` starts in, when dockopt knows it."""
    if image is None or not image.official:
        return None
    if image.name in _IMAGE_WORKDIRS:
        return _IMAGE_WORKDIRS[image.name]
    if image.name == "php" and ("apache" in image.tag or "fpm" in image.tag):
        return "/var/www/html"
    return "/" if image.name in _ROOT_WORKDIR_IMAGES else None


def is_distroless(image: ImageRef) -> bool:
    return "distroless" in image.path or image.path.startswith("chainguard/")


# --- toolchains carried by the image itself -----------------------------------------------

def toolchain_of(image: ImageRef | None) -> str | None:
    """The build toolchain an image ships, if its whole point is one.

    "go", "rust", "c" (gcc, buildpack-deps), "java" (a JDK, maven, gradle), "dotnet" (the
    SDK), and "node"/"python"/"ruby" for the *full* official images, which are built on
    buildpack-deps and so carry gcc, make and hundreds of -dev packages.
    """
    if image is None:
        return None
    tag = image.tag.lower()
    if image.path in ("dotnet/sdk", "dotnet/core/sdk") and image.registry == "mcr.microsoft.com":
        return "dotnet"
    if _old_dotnet_sdk(image):
        return "dotnet"
    if not image.official:
        return None
    name = image.name
    if name == "golang":
        return "go"
    if name == "rust":
        return "rust"
    if name in ("gcc", "buildpack-deps"):
        return "c"
    if name in ("maven", "gradle"):
        return "java"
    if name in ("openjdk", "eclipse-temurin", "amazoncorretto", "ibmjava", "sapmachine"):
        return None if "jre" in tag else "java"
    if name in ("node", "python", "ruby") and not _light_tag(tag):
        return name
    return None


def _old_dotnet_sdk(image: ImageRef) -> bool:
    """The SDK under its pre-2019 Docker Hub names: ``microsoft/dotnet:2.0.0-sdk``,
    ``microsoft/aspnetcore-build:2.0`` (moved to mcr.microsoft.com/dotnet/... since)."""
    if image.registry not in ("", "docker.io", "index.docker.io"):
        return False
    if image.path in ("microsoft/aspnetcore-build", "microsoft/dotnet-framework-build"):
        return True
    return image.path in ("microsoft/dotnet", "microsoft/dotnet-nightly") and "sdk" in image.tag.lower()


def _light_tag(tag: str) -> bool:
    return bool(re.search(r"(^|-)(slim|alpine|windowsservercore|nanoserver)", tag))


def size_key(image: ImageRef | None) -> str | None:
    """The ``IMAGE_SIZES`` key of an image, when we have a figure for its kind."""
    if image is None:
        return None
    if image.path == "scratch":
        return "scratch"
    if is_distroless(image):
        for kind in ("static", "cc", "base"):
            if f"/{kind}" in image.path:
                return f"distroless-{kind}"
        return None
    if _old_dotnet_sdk(image):
        return "dotnet-sdk"
    if image.registry == "mcr.microsoft.com":
        if image.path.endswith("/sdk"):
            return "dotnet-sdk"
        if image.path.endswith(("/aspnet", "/runtime")):
            return "dotnet-aspnet"
        return None
    if not image.official:
        return None
    name, tag = image.name, image.tag.lower()
    variant = "-alpine" if "alpine" in tag else "-slim" if "slim" in tag else ""
    if name in ("openjdk", "eclipse-temurin", "amazoncorretto"):
        return "jre" if "jre" in tag else "jdk"
    if name == "nginx":
        return "nginx-alpine" if variant == "-alpine" else None
    if name in ("debian",):
        return "debian-slim" if variant == "-slim" else "debian"
    key = name + variant
    return key if key in IMAGE_SIZES else name if name in IMAGE_SIZES and not variant else None


def image_size(image: ImageRef | None) -> int | None:
    key = size_key(image)
    return IMAGE_SIZES.get(key) if key else None


# --- lighter variants (DO402) --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Lighter:
    image: str  # the suggested reference
    why: str  # one clause for the message
    saves: int | None  # estimated bytes


_DEBIAN_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch")


def lighter_variant(image: ImageRef) -> Lighter | None:
    """A slimmer image of the same runtime, or None when there is none worth suggesting.

    Python never gets alpine: musl has no manylinux wheels, so pip builds from source.
    Ubuntu has no slim variant. Tags naming a Windows base, or already light, are left alone.
    """
    if not image.official:
        return None
    name, tag = image.name, image.tag
    low = tag.lower()
    if _light_tag(low) or "windows" in low or "nanoserver" in low:
        return None
    full = image_size(image)
    if name in ("python", "node", "ruby", "perl"):
        new_tag = _slim_tag(tag, codename_first=name == "node")
        slim = IMAGE_SIZES.get(f"{name}-slim")
        saves = full - slim if full and slim else None
        return Lighter(image.with_tag(new_tag), f"the -slim variant has the same {name} without "
                       "compilers and -dev packages", saves)
    if name == "debian":
        new_tag = _slim_tag(tag) if tag and tag != "latest" else "stable-slim"
        return Lighter(image.with_tag(new_tag), "debian's -slim variant drops documentation, man pages "
                       "and locales", IMAGE_SIZES["debian"] - IMAGE_SIZES["debian-slim"])
    if name in ("openjdk", "eclipse-temurin"):
        version = _java_version(tag)
        if version is None or "jre" in low:
            return None
        suffix = "-alpine" if "alpine" in low else ""
        return Lighter(f"eclipse-temurin:{version}-jre{suffix}", "a JRE runs the application; the JDK's "
                       "compiler and tools are only needed to build it",
                       IMAGE_SIZES["jdk"] - IMAGE_SIZES["jre"])
    return None


def _slim_tag(tag: str, codename_first: bool = False) -> str:
    """``3.12`` -> ``3.12-slim``, ``3.12-bookworm`` -> ``3.12-slim-bookworm`` (python, ruby,
    perl) or ``20-bookworm`` -> ``20-bookworm-slim`` (node's tag scheme), `` `` -> ``slim``."""
    if not tag or tag == "latest":
        return "slim"
    for codename in _DEBIAN_CODENAMES:
        if tag == codename:
            return f"{codename}-slim"
        if tag.endswith("-" + codename):
            if codename_first:
                return f"{tag}-slim"
            return f"{tag[: -len(codename) - 1]}-slim-{codename}"
    return f"{tag}-slim"


def _java_version(tag: str) -> str | None:
    m = re.match(r"^(\d+)(?:[.u]|-|$)", tag)
    if m is None:
        m = re.search(r"(?:jdk|temurin|openjdk)-?(\d+)", tag)
    return m.group(1) if m else None


def java_version(image: ImageRef | None) -> str | None:
    """The Java feature version an image's tag names (``maven:3.9-eclipse-temurin-21`` -> 21)."""
    if image is None:
        return None
    tag = image.tag.lower()
    if image.name in ("maven", "gradle"):
        m = re.search(r"(?:temurin|openjdk|jdk|corretto|graal)-?(\d+)", tag)
        return m.group(1) if m else None
    return _java_version(tag)


def go_version(image: ImageRef | None) -> tuple[int, int] | None:
    """(major, minor) of the Go an official golang image's tag names (``1.8-alpine`` -> (1, 8))."""
    if image is None or not image.official or image.name != "golang":
        return None
    m = re.match(r"^(\d+)\.(\d+)", image.tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def debian_codename(image: ImageRef | None) -> str | None:
    """The Debian release an official Debian-based image's tag names, if any."""
    if image is None:
        return None
    for codename in _DEBIAN_CODENAMES:
        if codename in image.tag.lower():
            return codename
    return None


def alpine_version(image: ImageRef | None) -> str | None:
    """``3.20`` of ``alpine:3.20`` or ``golang:1.22-alpine3.20``; None when the tag does not say."""
    if image is None:
        return None
    if image.name == "alpine":
        m = re.match(r"^(\d+\.\d+)", image.tag)
        return m.group(1) if m else None
    m = re.search(r"alpine(\d+\.\d+)", image.tag)
    return m.group(1) if m else None
