"""What the stubbed world knows: the initial filesystem and the few command effects it models.

Every external command is a stub that records its invocation and does nothing, except this
small, explicit model (the mechanism is in ``stub.c``):

- ``mkdir`` creates directories (``-p`` too), so a later ``cd`` into them works and a leaked
  ``cd`` shows up in the recorded working directories; a directory it creates holds a stub
  for each relative command the scripts name (``./configure``, ``./otp_build``: what a
  download unpacked there has), and its first ``mkdir`` of a directory the harness made to
  fill a gap (``/tmp/gradle-X`` for a stubbed ``/tmp/gradle-X/gradlew``) succeeds, as the
  build's own would — a second one fails; ``rm -r`` of a directory the build's mkdir made
  removes it (``mkdir warmup && ... && rm -rf warmup``, twice);
- the apt package lists start populated (a base image that has them; official Debian images
  do not, but a file whose install steps rely on a base with lists should still run to the
  end in the harness): ``apt-get update`` fills them (so does ``add-apt-repository``
  without ``-n``, as Ubuntu's does since 18.04), ``rm`` under /var/lib/apt/lists really
  deletes, and ``apt-get install PKG`` fails with 100 ("Unable to locate package") when they
  are empty. That is how a cache cleanup placed before a later reader is caught;
- package add/remove (apt-get/apk/yum/dnf) creates/deletes the binaries of the toolchain
  packages below, so ``go clean -cache`` after ``apk del go`` fails with 127 as it would;
  ``apk add --virtual NAME ...`` remembers its members for ``apk del NAME``;
- ``git clone URL [DIR]`` creates DIR (the clone's directory), for the ``cd`` after it, with
  a stub for each relative command the scripts name (``./autogen.sh``) in it.

- ``tr -d SET`` and ``tr SET1 SET2`` (ranges and simple escapes) filter stdin to stdout, so
  a name a script computes with them is right (``dst="$(echo "$src" | tr -d 3)"``);
- the pure text filters that read only their stdin — awk, sed (not ``-i``/``-f``), cut, head,
  tail, sort, uniq, tac, rev, and basename/dirname of their operands — run for real (a
  static busybox the store holds; only option letters GNU and busybox read alike), so a
  value a script computes with them is right (``arch="$(dpkg --print-architecture | awk -F-
  '{ print $NF }')"``; ``dpkg``, ``uname -m``, ``nproc`` ... answer as an x86_64 Debian
  builder, stub.c ``cmd_machine``); grep stays a stub (a real ``grep -q`` on a stub's empty
  output would fail where the real build's finds its line);
- a download that succeeds (``curl -o FILE``/``-O``, ``wget URL``/``-O FILE``/``-P DIR``)
  leaves a non-empty file, as it does on every machine (``curl -fL -o "$f" "$url" && [ -s
  "$f" ]``): a stub script naming the URL, so running it is an invocation and a shell reading
  it runs nothing; an existing file is left as it is;
- BuildKit's automatic platform ARGs (``ARG TARGETARCH`` without a value) have the x86_64
  builder's values (``PLATFORM_ARGS``).

Everything else (tar, cp, mv, ln, chmod, grep ...) changes nothing and prints nothing: both sides run the same
stubs, so an effect both sides share need not be modelled; an effect a fix could move
across a reader must be.
"""
from __future__ import annotations

# Binaries a package provides (only toolchains and tools that fixes clean up after).
PACKAGE_BINARIES: dict[str, tuple[str, ...]] = {
    "go": ("go", "gofmt"),
    "golang": ("go", "gofmt"),
    "golang-go": ("go", "gofmt"),
    "gcc": ("gcc", "cc"),
    "g++": ("g++", "c++"),
    "clang": ("clang",),
    "make": ("make",),
    "build-base": ("gcc", "cc", "g++", "c++", "make"),
    "build-essential": ("gcc", "cc", "g++", "c++", "make"),
    "nodejs": ("node",),
    "npm": ("npm", "npx"),
    "yarn": ("yarn",),
    "py3-pip": ("pip", "pip3"),
    "python3-pip": ("pip", "pip3"),
    "git": ("git",),
    "curl": ("curl",),
    "wget": ("wget",),
    "cargo": ("cargo",),
    "rust": ("rustc", "cargo"),
    "maven": ("mvn",),
    "composer": ("composer",),
}

# Directories of the initial root (merged /usr: /bin, /sbin, /lib, /lib64 are links into it).
SKELETON = (
    "usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/local/bin", "usr/local/sbin", "usr/local/lib",
    "usr/local/share", "usr/local/src", "usr/share", "usr/src", "usr/include",
    "etc", "etc/apt/sources.list.d", "etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/trusted.gpg.d",
    "etc/apt/keyrings", "usr/share/keyrings", "etc/ssl/certs", "etc/profile.d", "etc/default", "etc/security",
    "etc/ld.so.conf.d", "etc/dpkg/dpkg.cfg.d", "usr/local/etc", "usr/share/doc", "usr/share/man",
    "tmp", "var/tmp", "var/log", "var/cache", "var/cache/apt/archives", "var/lib", "var/lib/apt/lists/partial",
    "var/run", "run", "root", "home", "opt", "srv", "mnt", "media", "proc", "dev", "sys",
)
MERGED_USR_LINKS = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
APT_LISTS_FILE = "var/lib/apt/lists/deb.debian.org_debian_dists_stable_main_binary-amd64_Packages"
EMPTY_FILES = (APT_LISTS_FILE, "etc/os-release", "etc/passwd", "etc/group")

# BuildKit's automatic platform ARGs (a stage's ``ARG TARGETARCH`` without a value gets them),
# for the x86_64 Linux builder the stubs answer as (stub.c, cmd_machine).
PLATFORM_ARGS = {
    "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": "",
    "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
}

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENV = {"PATH": DEFAULT_PATH, "HOME": "/root", "HOSTNAME": "buildkitsandbox"}


def package_table() -> str:
    """The package table as the stub reads it (``package bin bin ...`` lines)."""
    return "".join(f"{name} {' '.join(bins)}\n" for name, bins in PACKAGE_BINARIES.items())
