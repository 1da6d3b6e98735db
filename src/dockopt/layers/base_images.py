"""Base-image families, guessed from the image reference.

The family decides package-manager behaviour the simulator must know: Debian and Ubuntu
official images ship ``/etc/apt/apt.conf.d/docker-clean`` (downloaded .debs are deleted
after each install, package lists are not); Alpine's apk keeps its index cache unless
``--no-cache``; distroless and scratch have no shell at all.
"""
from __future__ import annotations

import re

_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("scratch", re.compile(r"^scratch$")),
    ("windows", re.compile(r"(^|/)(windows|nanoserver|servercore)|mcr\.microsoft\.com/(windows|dotnet/framework)")),
    ("distroless", re.compile(r"distroless|chainguard/static|cgr\.dev/chainguard/static")),
    ("alpine", re.compile(r"(^|/)alpine(:|$)|[:-]alpine|alpine\d")),
    ("ubuntu", re.compile(r"(^|/)ubuntu(:|$)|[:-](jammy|focal|noble|bionic|xenial)")),
    ("rhel", re.compile(r"(^|/)(centos|rockylinux|almalinux|fedora|amazonlinux|oraclelinux|rhel|ubi\d*|ubi-minimal)(:|$|/)|redhat|/ubi")),
    ("debian", re.compile(r"(^|/)debian(:|$)|[:-](bookworm|bullseye|buster|stretch|trixie|slim)")),
)
# Official language images are Debian-based unless the tag says otherwise.
_DEBIAN_LANGUAGE_IMAGES = re.compile(
    r"(^|/)(python|node|golang|ruby|php|openjdk|eclipse-temurin|maven|gradle|rust|perl|buildpack-deps|"
    r"elixir|erlang|haskell|julia|r-base|postgres|mysql|mariadb|redis|nginx|httpd|tomcat|jenkins|"
    r"gcc|swift|clojure|dart|haproxy|memcached|mongo|rabbitmq)(:|$)"
)


def family_of(image: str | None) -> str:
    if not image:
        return "unknown"
    ref = image.lower()
    for family, pattern in _FAMILIES:
        if pattern.search(ref):
            return family
    if _DEBIAN_LANGUAGE_IMAGES.search(ref):
        return "debian"
    return "unknown"


DOCKER_CLEAN = "/etc/apt/apt.conf.d/docker-clean"


def has_docker_clean(family: str) -> bool:
    """Whether apt deletes downloaded .debs after each install in this image.

    Official Debian and Ubuntu images ship ``/etc/apt/apt.conf.d/docker-clean``; an image
    of unknown family that runs apt almost always derives from one of them, so it is assumed
    to have the hook too (claiming .debs are left would be a false alarm far more often than
    not). The simulator turns this off when a RUN deletes the hook.
    """
    return family in ("debian", "ubuntu", "unknown")


# WORKDIR set by common official images (their Dockerfiles on docker-library): a relative
# path in a RUN resolves against it until the Dockerfile sets its own.
_WORKDIRS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|/)golang(:|$)"), "/go"),
    (re.compile(r"(^|/)(php|wordpress|drupal|joomla)(:|$)"), "/var/www/html"),
    (re.compile(r"(^|/)tomcat(:|$)"), "/usr/local/tomcat"),
    (re.compile(r"(^|/)httpd(:|$)"), "/usr/local/apache2"),
    (re.compile(r"(^|/)ghost(:|$)"), "/var/lib/ghost"),
    (re.compile(r"(^|/)(jetty)(:|$)"), "/var/lib/jetty"),
    (re.compile(r"(^|/)(sonarqube)(:|$)"), "/opt/sonarqube"),
)


def base_workdir(image: str | None) -> str:
    """The working directory a stage starts in: the official image's WORKDIR, else ``/``."""
    ref = (image or "").lower()
    for pattern, workdir in _WORKDIRS:
        if pattern.search(ref):
            return workdir
    return "/"
