"""Hypothesis strategies for Dockerfiles that the fixers have something to do with.

The parser's grammar (``tests/strategies.py``) produces random words, which rarely trigger a
rule. Here every RUN, COPY and ADD is drawn from pools of commands that the rules act on
(apt/apk/pip installs, caches removed in a later RUN, chmod of a copied file, downloads
extracted in the next RUN, secrets copied and deleted, ``COPY . .`` before an install,
compilers in the shipped stage ...), and then laid out in the ways real files write them:
``&&``/``;``/newline chains, continuation lines with the file's escape character, comment
and blank lines inside continuations, heredocs, exec form, ``RUN --mount``, CRLF, a BOM,
``# escape=```, a trailing comment, several stages. So the fix properties (idempotence, the
simulated filesystem kept, comments and untouched bytes kept) meet the fixers' real work.
"""
from __future__ import annotations

from hypothesis import strategies as st

# Commands by what they do to the image; each is one shell command (no operators).
INSTALLS = [
    "apt-get update", "apt-get install -y curl", "apt-get install -y --no-install-recommends git ca-certificates",
    "apt-get -qq install -y build-essential", "apt-get update -q", "apk add curl", "apk add --no-cache bash",
    "apk add --virtual .build-deps gcc musl-dev", "pip install flask", "pip install --no-cache-dir requests",
    "pip install -r requirements.txt", "npm install", "npm ci", "yarn install", "go mod download",
    "yum install -y make", "dnf install -y gcc", "gem install bundler", "composer install",
]
CLEANUPS = [
    "rm -rf /var/lib/apt/lists/*", "apt-get clean", "rm -rf /var/cache/apk/*", "apk del .build-deps",
    "rm -rf /root/.cache/pip", "npm cache clean --force", "yum clean all", "rm -rf /tmp/*", "rm /tmp/app.tgz",
    "rm -f /root/.ssh/id_rsa", "rm -rf /src",
]
DOWNLOADS = [
    "curl -fsSL -o /tmp/app.tgz https://example.com/app.tgz", "wget -q https://example.com/app.tgz -O /tmp/app.tgz",
    "tar -xzf /tmp/app.tgz -C /opt", "git clone https://github.com/a/b /src", "make -C /src", "make install",
    "go build -o /usr/local/bin/app ./cmd/app", "cargo build --release",
]
MISC = [
    "echo hello", "chmod +x /usr/local/bin/entrypoint.sh", "chown -R app:app /app", "mkdir -p /app/data",
    "useradd -m app", "ln -s /opt/app/bin/app /usr/local/bin/app", "sed -i 's/a/b/' /etc/app.conf",
    "export PATH=/opt/bin:$PATH", "cd /app", "touch /app/.ready", "true",
]
COMMANDS = st.sampled_from(INSTALLS + CLEANUPS + DOWNLOADS + MISC)

COPIES = [
    "COPY . .", "COPY . /app", "COPY requirements.txt .", "COPY package.json package-lock.json ./",
    "COPY entrypoint.sh /usr/local/bin/entrypoint.sh", "COPY id_rsa /root/.ssh/id_rsa", "COPY src/ /src/",
    "ADD https://example.com/app.tgz /tmp/app.tgz", "ADD app.tar.gz /opt/", "COPY --chown=app:app . /app",
    "COPY --from=build /out/app /usr/local/bin/app", "COPY --chmod=755 run.sh /run.sh",
]
OTHERS = [
    "WORKDIR /app", "ENV DEBIAN_FRONTEND=noninteractive", "ARG VERSION=1.0", "USER app", "EXPOSE 8080",
    'CMD ["app"]', 'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]', "LABEL maintainer=me", "ENV GITHUB_TOKEN=ghp_x",
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
]
BASES = ["debian:bookworm", "ubuntu:22.04", "python:3.12-slim", "alpine:3.19", "node:20", "golang:1.22",
         "mcr.microsoft.com/windows/servercore:ltsc2022"]
COMMENTS = ["# install", "#", "# clean up \\", "  # indented comment", "# RUN not an instruction"]


@st.composite
def run_instruction(draw: st.DrawFn, escape: str, eol: str) -> str:
    """One RUN of 1-4 commands, in shell form (chained several ways), heredoc or exec form."""
    commands = draw(st.lists(COMMANDS, min_size=1, max_size=4))
    keyword = draw(st.sampled_from(["RUN", "RUN", "RUN", "run"]))
    mount = draw(st.sampled_from(["", "", "", "", "--mount=type=cache,target=/var/cache/apt ",
                                  "--network=host ", "--mount=type=secret,id=npm "]))
    form = draw(st.integers(0, 9))
    if form == 0:  # heredoc
        body = "".join(c + eol for c in commands)
        return f"{keyword} {mount}<<EOF{eol}{body}EOF"
    if form == 1:  # exec form
        return f'{keyword} {mount}["sh", "-c", "{" && ".join(commands)}"]'
    text = commands[0]
    for command in commands[1:]:
        operator = draw(st.sampled_from([" && ", "; ", " && ", " || "]))
        if draw(st.booleans()):  # continuation line, sometimes with a comment or blank line inside
            inside = draw(st.sampled_from(["", "", f"    # note{eol}", f"{eol}", f"  #{eol}"]))
            indent = draw(st.sampled_from(["    ", "  ", "\t", ""]))
            lead = operator.strip() + " " if draw(st.booleans()) else ""
            tail = "" if lead else " " + operator.strip()
            text += f"{tail} {escape}{eol}{inside}{indent}{lead}{command}"
        else:
            text += operator + command
    trailing = draw(st.sampled_from(["", "", "", "  ", " # trailing comment"])) if form != 2 else ""
    return f"{keyword} {mount}{text}{trailing}"


@st.composite
def fixable_dockerfiles(draw: st.DrawFn) -> str:
    """A file of 1-3 stages whose instructions come from the pools above."""
    eol = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    escape = draw(st.sampled_from(["\\", "\\", "\\", "`"]))
    lines: list[str] = []
    if escape == "`":
        lines.append("# escape=`")
    elif draw(st.integers(0, 3)) == 0:
        lines.append("# syntax=docker/dockerfile:1")
    stages = draw(st.integers(1, 3))
    for index in range(stages):
        name = f" AS {'build' if index == 0 else f's{index}'}" if stages > 1 and index < stages - 1 else ""
        lines.append(f"FROM {draw(st.sampled_from(BASES))}{name}")
        for _ in range(draw(st.integers(1, 8))):
            kind = draw(st.integers(0, 9))
            if kind <= 4:
                lines.append(draw(run_instruction(escape, eol)))
            elif kind <= 6:
                lines.append(draw(st.sampled_from(COPIES)))
            elif kind <= 8:
                lines.append(draw(st.sampled_from(OTHERS)))
            else:
                lines.append(draw(st.sampled_from(COMMENTS + [""])))
    text = eol.join(lines)
    if draw(st.integers(0, 4)):
        text += eol
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text
