#!/usr/bin/env python3
"""Run the context rules (DO201, DO203, DO303, DO305, DO405) on corpus Dockerfiles with the
build context their project really uses, so their precision can be judged (issue 16).

The shared corpus holds Dockerfiles without their projects, so these rules report nothing on it.
This script takes each corpus file's repository from ``MANIFEST.tsv``, checks the repository
out from a local bare git mirror (the commit the corpus file came from when the mirror has it,
else the mirror's HEAD), picks the build context and runs ``dockopt check --context`` on the
Dockerfile of that checkout. It never copies a fetched repository into this project: trees are
extracted under ``--work`` (default /tmp/ctx).

Which context: a compose file in the repository whose ``build:`` names this Dockerfile (its
``context``); else a ``docker build ... -f <this Dockerfile> <dir>`` line in a Makefile, a shell
script or a CI workflow; else the Dockerfile's own directory (what ``docker build .`` next to it
uses, and what the official-image style repositories do), unless sources it copies are
missing there and an ancestor directory has them all (then the nearest such ancestor).

    python scripts/context_precision.py run --mirrors /work/.mirror --repos repos.txt \
        > findings.jsonl
    python scripts/context_precision.py sample findings.jsonl --per-rule 15 --seed ctx16

``repos.txt`` lists ``owner/name`` one a line (mirrors are ``<mirrors>/owner+name/repo``).
Not part of the test suite: it needs the mirrors.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

RULES = "DO201,DO203,DO303,DO305,DO405"
CORPUS_MANIFEST = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "MANIFEST.tsv"
BUILD_LINE = re.compile(r"docker(?:\s+image)?\s+(?:build|buildx\s+build)\b([^\n;&|]*)")


def manifest_rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def git(git_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)


def checkout(git_dir: Path, commit: str, target: Path) -> str:
    """Extract ``commit`` (or HEAD when the mirror lacks it) into ``target``; return which.

    Mirrors lack blobs of 4 MiB and more: those files are written empty (the real context has
    them, so a COPY of one must not look missing) and listed in ``target``/.ctx-missing-blobs,
    outside what the rules read only in name.
    """
    has_commit = git(git_dir, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0
    revision = commit if has_commit else "HEAD"
    done = target.with_name(target.name + ".done")
    if not (target / ".git").exists():
        # A clone has its .git in the context (a developer's and a CI checkout's alike):
        # hard links to the mirror's objects give it its real size at no cost.
        (target / ".git").mkdir(parents=True)
        subprocess.run(["cp", "-al", str(git_dir / "objects"), str(target / ".git" / "objects")], check=False)
        (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    if done.exists():
        return revision
    target.mkdir(parents=True, exist_ok=True)
    listing = git(git_dir, "ls-tree", "-r", "-z", "--full-tree", revision).stdout.split(b"\0")
    blobs = []
    for entry in listing:
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob":
            blobs.append((mode, sha, name.decode(errors="replace")))
    batch = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input=b"".join(sha + b"\n" for _, sha, _ in blobs), capture_output=True,
    ).stdout
    missing = []
    offset = 0
    for mode, sha, name in blobs:
        header_end = batch.index(b"\n", offset)
        header = batch[offset:header_end].split()
        offset = header_end + 1
        content = b""
        if header[-1] == b"missing":
            missing.append(name)
        else:
            size = int(header[2])
            content = batch[offset:offset + size]
            offset += size + 1
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == b"120000":
            if not path.is_symlink():
                path.symlink_to(content.decode(errors="replace"))
            continue
        path.write_bytes(content)
        if mode == b"100755":
            path.chmod(0o755)
    done.write_text("\n".join(missing))
    return revision


def compose_context(tree: Path, dockerfile: Path) -> Path | None:
    """The ``build.context`` of a compose service whose Dockerfile is ``dockerfile``."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        return None
    for compose in sorted(tree.rglob("*compose*.y*ml")):
        try:
            document = yaml.safe_load(compose.read_text(errors="replace"))
        except Exception:  # a template or a broken file says nothing about the context
            continue
        services = document.get("services") if isinstance(document, dict) else None
        if not isinstance(services, dict):
            continue
        for service in services.values():
            build = service.get("build") if isinstance(service, dict) else None
            if isinstance(build, str):
                build = {"context": build}
            if not isinstance(build, dict) or not isinstance(build.get("context", "."), str):
                continue
            context = (compose.parent / build.get("context", ".")).resolve()
            named = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
            if named == dockerfile.resolve():
                return context
    return None


def build_line_context(tree: Path, dockerfile: Path) -> Path | None:
    """The context of a ``docker build -f <dockerfile> <dir>`` line run from the repo root."""
    relative = dockerfile.relative_to(tree).as_posix()
    candidates = [*tree.glob("Makefile"), *tree.glob("*.sh"), *tree.glob("hack/*.sh"),
                  *tree.glob(".github/workflows/*.y*ml")]
    for path in candidates:
        for match in BUILD_LINE.finditer(path.read_text(errors="replace")):
            words = match.group(1).split()
            if relative not in [w.strip("'\"").removeprefix("./") for w in words]:
                continue
            positional = [w for i, w in enumerate(words)
                          if not w.startswith("-") and (i == 0 or not words[i - 1].startswith("-"))]
            if positional and "$" not in positional[-1]:
                context = (tree / positional[-1].strip("'\"")).resolve()
                if context.is_dir():
                    return context
    return None


def choose_context(tree: Path, dockerfile: Path) -> tuple[Path, str]:
    for how, finder in (("compose", compose_context), ("build-line", build_line_context)):
        found = finder(tree, dockerfile)
        if found is not None and tree.resolve() in [found, *found.parents]:
            return found, how
    return dockerfile.parent, "dockerfile-dir"


def lint(dockerfile: Path, context: Path) -> list[dict[str, object]]:
    """``dockopt check --select RULES --context CONTEXT DOCKERFILE`` in this process (one
    interpreter start for the whole run instead of one per file)."""
    import contextlib
    import io

    from dockopt.cli.main import main as dockopt_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        dockopt_main(["check", "--select", RULES, "--format", "json", "--exit-zero", "--no-config",
                      "--context", str(context), str(dockerfile)])
    try:
        found = json.loads(out.getvalue() or "[]")
    except json.JSONDecodeError:
        return []
    return found if isinstance(found, list) else list(found.get("findings", []))


def nearest_fitting_context(tree: Path, dockerfile: Path, findings: list[dict[str, object]]
                            ) -> tuple[Path, str, list[dict[str, object]]]:
    """No compose file or build line names the Dockerfile and its directory lacks sources it
    copies: the nearest ancestor directory (up to the repository root) where DO305 finds every
    source is the context the project uses (``docker build -f docker/Dockerfile .`` from a
    README or a script the finder does not read). When none fits, the Dockerfile's directory
    and its findings stay."""
    directory = dockerfile.parent
    while directory != tree and tree in directory.parents:
        directory = directory.parent
        found = lint(dockerfile, directory)
        if not any(f.get("code") == "DO305" for f in found):
            return directory, "nearest-fitting-ancestor", found
    return dockerfile.parent, "dockerfile-dir", findings


def run(args: argparse.Namespace) -> None:
    wanted = {line.strip() for line in Path(args.repos).read_text().splitlines() if line.strip()}
    rows = [row for row in manifest_rows(Path(args.manifest)) if row["repo"] in wanted]
    # At most --per-repo files of each repository (a seeded draw), so the big collections
    # (buildah's 371 test Dockerfiles) do not drown the small projects.
    by_repo: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_repo[row["repo"]].append(row)
    rows = []
    for repo in sorted(by_repo):
        rng = random.Random(f"{args.seed}:{repo}")
        rows += rng.sample(by_repo[repo], min(args.per_repo, len(by_repo[repo])))
    for row in rows:
        git_dir = Path(args.mirrors) / row["repo"].replace("/", "+") / "repo"
        if not git_dir.is_dir():
            continue
        tree = Path(args.work) / row["repo"].replace("/", "__") / row["commit"][:12]
        revision = checkout(git_dir, row["commit"], tree)
        dockerfile = tree / row["original_path"]
        if not dockerfile.is_file():
            continue
        context, how = choose_context(tree, dockerfile)
        findings = lint(dockerfile, context)
        if how == "dockerfile-dir" and any(f.get("code") == "DO305" for f in findings):
            context, how, findings = nearest_fitting_context(tree, dockerfile, findings)
        for finding in findings if isinstance(findings, list) else findings.get("findings", []):
            if finding.get("code") not in RULES.split(","):
                continue  # DO000: templates (docker-library's *.template) are not Dockerfiles
            print(json.dumps({
                "repo": row["repo"], "relpath": row["relpath"], "revision": revision,
                "dockerfile": str(dockerfile), "context": str(context), "context_from": how,
                "code": finding.get("code"), "line": finding.get("line"),
                "message": finding.get("message"),
            }), flush=True)


def sample(args: argparse.Namespace) -> None:
    """Round-robin over repositories per rule, as scripts/precision_sample.py does."""
    by_rule: dict[str, list[dict[str, object]]] = defaultdict(list)
    for line in Path(args.findings).read_text().splitlines():
        finding = json.loads(line)
        by_rule[str(finding["code"])].append(finding)
    for code in sorted(by_rule):
        pool = by_rule[code]
        rng = random.Random(f"{args.seed}:{code}")
        rng.shuffle(pool)
        per_repo: dict[str, list[dict[str, object]]] = defaultdict(list)
        for finding in pool:
            per_repo[str(finding["repo"])].append(finding)
        order = list(per_repo)
        taken: list[dict[str, object]] = []
        while len(taken) < min(args.per_rule, len(pool)):
            for repo in order:
                if per_repo[repo] and len(taken) < args.per_rule:
                    taken.append(per_repo[repo].pop(0))
        print(f"## {code}: {len(pool)} findings in {len({f['repo'] for f in pool})} repos")
        for finding in taken:
            print(json.dumps(finding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--mirrors", default="/work/.mirror")
    run_parser.add_argument("--repos", required=True)
    run_parser.add_argument("--manifest", default=str(CORPUS_MANIFEST))
    run_parser.add_argument("--work", default="/tmp/ctx")
    run_parser.add_argument("--per-repo", type=int, default=100000)
    run_parser.add_argument("--seed", default="ctx16")
    run_parser.set_defaults(handler=run)
    sample_parser = commands.add_parser("sample")
    sample_parser.add_argument("findings")
    sample_parser.add_argument("--per-rule", type=int, default=15)
    sample_parser.add_argument("--seed", default="ctx16")
    sample_parser.set_defaults(handler=sample)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
