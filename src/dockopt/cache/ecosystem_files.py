"""What an install's manifests say, read from the build context.

``plan_manifests`` answers, for one recognised install (:mod:`dockopt.cache.ecosystems`) whose
project directory is ``project`` in the context: which files must be copied for it to run
before the sources are copied (the manifests that exist, lock files and configuration
included), which required ones are missing, what in the manifests means the install needs
more than them (``blockers``: workspaces, ``-e .`` in a requirements file, ``replace``
directives to local directories, multi-module builds, a gemspec Gemfile) and what may
(``risks``: install scripts, which may or may not read the sources). Without a readable
context, ``known`` is False, the files are the ecosystem's ``guess`` names, and callers must
not claim anything is safe.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from dockopt.context.build_context import BuildContext, normalize
from dockopt.cache.ecosystems import Install

_JS_HOOKS = ("preinstall", "install", "postinstall", "prepare")
_COMPOSER_HOOKS = ("pre-install-cmd", "post-install-cmd", "pre-autoload-dump", "post-autoload-dump")


@dataclass(slots=True)
class ManifestPlan:
    files: list[str] = field(default_factory=list)  # context paths to copy (files)
    dirs: list[str] = field(default_factory=list)  # context directories to copy whole
    missing: list[str] = field(default_factory=list)  # required manifests the context lacks
    blockers: list[str] = field(default_factory=list)  # why the install needs more than the manifests
    risks: list[str] = field(default_factory=list)  # what may make it need more (install scripts)
    known: bool = True  # read from a context; False: names only, nothing verified

    def add(self, path: str) -> None:
        if path not in self.files:
            self.files.append(path)


def join(project: str, name: str) -> str:
    return normalize(posixpath.join(project, name)) if project else normalize(name)


def plan_manifests(install: Install, context: BuildContext, project: str, named: list[str]) -> ManifestPlan:
    """The manifests of ``install`` run in context directory ``project``; ``named`` are the
    context paths of files the command names (pip's ``-r`` files, a dotnet project)."""
    eco = install.ecosystem
    if not context.available:
        plan = ManifestPlan(known=False)
        for name in eco.guess:
            plan.add(join(project, name))
        for path in named:
            plan.add(path)
        return plan
    plan = ManifestPlan()
    for name in eco.required:
        found = next((join(project, alt) for alt in name.split("|") if context.exists(join(project, alt))), None)
        if found is None:
            plan.missing.append(join(project, name.split("|")[0]).replace("|", " or "))
        else:
            plan.add(found)
    for path in named:
        (plan.add(path) if context.exists(path) else plan.missing.append(path))
    for name in eco.optional:
        if context.exists(join(project, name)):
            plan.add(join(project, name))
    for name in eco.optional_dirs:
        entry = context.entry(join(project, name))
        if entry is not None and entry.is_dir and not entry.ignored:
            plan.dirs.append(join(project, name))
    reader = _READERS.get(eco.name)
    if reader is not None:
        reader(install, context, project, plan)
    return plan


def _read(context: BuildContext, path: str) -> str | None:
    return context.read_text(path) if context.exists(path) else None


def _json(context: BuildContext, path: str) -> dict[str, object] | None:
    text = _read(context, path)
    if text is None:
        return None
    import json  # lazily: only contexts with a JSON manifest need it (start-up time)

    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _js(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    package = _json(context, join(project, "package.json"))
    if package is None:
        return
    if "workspaces" in package or context.exists(join(project, "pnpm-workspace.yaml")):
        plan.blockers.append("the project has workspaces (their package.json files and sources are needed too)")
    scripts = package.get("scripts")
    inv = install.invocation
    runs_scripts = not inv.has("--ignore-scripts") and not (inv.name == "pnpm" and inv.argv[:1] == ["fetch"])
    if isinstance(scripts, dict) and runs_scripts:
        for hook in _JS_HOOKS:
            command = scripts.get(hook)
            if isinstance(command, str):
                plan.risks.append(f"package.json's `{hook}` script runs during the install (`{command[:40]}`)")
    for key in ("dependencies", "devDependencies", "optionalDependencies"):
        deps = package.get(key)
        if isinstance(deps, dict):
            local = [n for n, v in deps.items() if isinstance(v, str) and v.startswith(("file:", "link:", "portal:"))]
            if local:
                plan.blockers.append(f"dependency `{local[0]}` points at a local path")
                break
    yarnrc = _read(context, join(project, ".yarnrc.yml"))
    if yarnrc is not None:
        m = re.search(r"^yarnPath:\s*['\"]?([^'\"\s]+)", yarnrc, re.M)
        if m:
            release = join(project, m.group(1))
            if context.exists(release):
                plan.add(release)
            elif not any(release.startswith(d + "/") for d in plan.dirs):
                plan.missing.append(release)


def _pip(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    queue = [p for p in plan.files]
    seen: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = _read(context, path)
        if text is None:
            continue
        base = posixpath.dirname(path)
        for raw in text.splitlines():
            line = raw.split(" #", 1)[0].strip()
            m = re.match(r"^(-r|--requirement|-c|--constraint)[\s=]*(\S+)", line)
            if m:
                included = join(base, m.group(2))
                if context.exists(included):
                    plan.add(included)
                    queue.append(included)
                else:
                    plan.missing.append(included)
                continue
            if re.match(r"^(-e|--editable)\b", line) or re.match(r"^(\.{1,2}(/|$)|/|file:)", line):
                plan.blockers.append(f"{path} installs a local path (`{line[:40]}`)")
            elif re.match(r"^(-f|--find-links)[\s=]*(\.|/)", line):
                plan.blockers.append(f"{path} reads wheels from a local directory (`{line[:40]}`)")


def _toml_python(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    name = install.ecosystem.name
    text = _read(context, join(project, "Pipfile" if name == "pipenv" else "pyproject.toml")) or ""
    if re.search(r"\bpath\s*=", text) or re.search(r"\beditable\s*=\s*true", text):
        plan.blockers.append("a dependency points at a local path")
    if name == "uv" and "[tool.uv.workspace]" in text:
        plan.blockers.append("the project is a uv workspace (its members are needed too)")


def _go(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    text = _read(context, join(project, "go.mod")) or ""
    for m in re.finditer(r"=>\s*(\.{1,2}/\S*|/\S+)", text):
        plan.blockers.append(f"go.mod replaces a module with the local directory {m.group(1)}")
        break
    if context.exists(join(project, "go.work")):
        plan.blockers.append("go.work names module directories that are needed too")


def _maven(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    text = _read(context, join(project, "pom.xml")) or ""
    if "<modules>" in text:
        plan.blockers.append("pom.xml is a multi-module build (the modules' pom.xml files are needed too)")
    m = re.search(r"<relativePath>\s*([^<\s]+)", text)
    if m and m.group(1) not in ("", "/"):
        plan.blockers.append(f"pom.xml's parent is read from {m.group(1)}")


def _gradle(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    for settings in ("settings.gradle", "settings.gradle.kts"):
        text = _read(context, join(project, settings)) or ""
        if re.search(r"^\s*include(Build)?\b", text, re.M):
            plan.blockers.append(f"{settings} includes subprojects (their build files are needed too)")
            break
    if context.entry(join(project, "buildSrc")) is not None:
        plan.blockers.append("buildSrc/ is compiled before dependencies resolve")


def _bundler(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    text = _read(context, join(project, "Gemfile")) or ""
    if re.search(r"^\s*gemspec\b", text, re.M):
        plan.blockers.append("the Gemfile reads the project's gemspec")
    if re.search(r"\bpath:\s*|:path\s*=>|^\s*eval_gemfile\b", text, re.M):
        plan.blockers.append("the Gemfile names a local path")


def _composer(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    data = _json(context, join(project, "composer.json")) or {}
    inv = install.invocation
    scripts = data.get("scripts")
    if isinstance(scripts, dict) and not inv.has("--no-scripts"):
        hooks = [h for h in _COMPOSER_HOOKS if h in scripts]
        if hooks:
            plan.risks.append(f"composer.json's `{hooks[0]}` script runs during the install")
    autoload = data.get("autoload")
    if isinstance(autoload, dict) and "classmap" in autoload and not inv.has("--no-autoloader"):
        plan.blockers.append("the classmap autoloader is built from the sources")
    repos = data.get("repositories")
    if isinstance(repos, list) and any(isinstance(r, dict) and r.get("type") == "path" for r in repos):
        plan.blockers.append("composer.json has a path repository")


_PROJECT_REF = re.compile(r"<ProjectReference\s+Include=\"([^\"]+)\"", re.I)
_SLN_PROJECT = re.compile(r"^Project\([^)]*\)\s*=\s*\"[^\"]*\",\s*\"([^\"]+\.(?:cs|fs|vb)proj)\"", re.M)


def _dotnet(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    projects = [p for p in plan.files if p.endswith(("proj", ".sln"))]
    if not projects:
        found = [e.path for e in context.files() if posixpath.dirname(e.path) == project
                 and e.path.endswith((".sln", ".csproj", ".fsproj", ".vbproj"))]
        if not found:
            plan.missing.append(f"a .sln or project file in {project or 'the context root'}")
            return
        if len(found) > 1:
            plan.blockers.append("several project files: `dotnet restore` needs to be told which")
            return
        projects = found
        plan.add(found[0])
    queue = list(projects)
    seen: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = _read(context, path) or ""
        refs = _SLN_PROJECT.findall(text) if path.endswith(".sln") else _PROJECT_REF.findall(text)
        for ref in refs:
            target = join(posixpath.dirname(path), ref.replace("\\", "/"))
            if context.exists(target):
                plan.add(target)
                queue.append(target)
            else:
                plan.missing.append(target)
    # Directory.Build.props and friends apply from every ancestor directory of each project.
    for path in sorted(seen):
        parts = posixpath.dirname(path).split("/") if posixpath.dirname(path) else []
        for depth in range(len(parts), -1, -1):
            for name in install.ecosystem.optional:
                candidate = join("/".join(parts[:depth]), name)
                if context.exists(candidate):
                    plan.add(candidate)


def _mix(install: Install, context: BuildContext, project: str, plan: ManifestPlan) -> None:
    text = _read(context, join(project, "mix.exs")) or ""
    if "apps_path" in text or "in_umbrella" in text:
        plan.blockers.append("an umbrella project (the apps' mix.exs files are needed too)")
    elif re.search(r"\bpath:\s*\"", text):
        plan.blockers.append("mix.exs has a path dependency")


_READERS = {
    "npm": _js, "yarn": _js, "pnpm": _js, "bun": _js, "pip": _pip, "poetry": _toml_python, "uv": _toml_python,
    "pipenv": _toml_python, "go": _go, "maven": _maven, "gradle": _gradle, "bundler": _bundler,
    "composer": _composer, "dotnet": _dotnet, "mix": _mix,
}
