"""Rule documentation rendered from the rule book (``dockopt rule`` and ``docs/rules``)."""
from __future__ import annotations

from pathlib import Path

from dockopt.rulebook import RuleDoc, load_rulebook

_FIX_LABEL = {
    # The rule book's `fix` is the best fix the rule can offer, not a promise for every
    # finding: the rule's own text below says when there is none (or only an unsafe one).
    "safe": "When a fix is offered it is safe (the final image filesystem stays the same); "
            "the cases without one are described below.",
    "unsafe": "When a fix is offered it is unsafe: only `dockopt fix --unsafe-fixes` applies it "
              "(it may change the image or the build); the details are below.",
    "suggestion": "A suggested change is shown; it is never applied automatically.",
    "none": "No automatic fix.",
}


def render_markdown(doc: RuleDoc) -> str:
    lines = [
        f"# {doc.code} {doc.name}",
        "",
        f"**Severity:** {doc.severity.label} · **Default:** {'on' if doc.default else 'off (select it)'} · "
        f"**Fix:** {doc.fix}",
        "",
        doc.summary,
        "",
        "## What it does",
        "",
        doc.what,
        "",
        "## Why is this bad?",
        "",
        doc.why,
        "",
        "## Instead",
        "",
        doc.instead,
        "",
        "## Fix safety",
        "",
        _FIX_LABEL[doc.fix],
        "",
        doc.fix_safety,
        "",
    ]
    if doc.examples:
        lines += ["## Examples", ""]
    for example in doc.examples:
        lines += [f"### {example.title}", ""]
        if example.context:
            lines += ["Build context: " + ", ".join(f"`{name}`" for name in sorted(example.context)), ""]
        if example.bad is not None:
            lines += ["Flagged:", "", "```dockerfile", example.bad.rstrip("\n"), "```", ""]
        if example.good is not None:
            lines += ["Not flagged:", "", "```dockerfile", example.good.rstrip("\n"), "```", ""]
        if example.fixed is not None:
            lines += ["After `dockopt fix`:", "", "```dockerfile", example.fixed.rstrip("\n"), "```", ""]
        if example.fixed_unsafe is not None:
            lines += ["After `dockopt fix --unsafe-fixes`:", "", "```dockerfile",
                      example.fixed_unsafe.rstrip("\n"), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_index(docs: dict[str, RuleDoc]) -> str:
    lines = ["# dockopt rules", "", "| Code | Name | Severity | Default | Fix | Summary |", "|---|---|---|---|---|---|"]
    for doc in docs.values():
        lines.append(
            f"| [{doc.code}]({doc.code}.md) | {doc.name} | {doc.severity.label} | "
            f"{'yes' if doc.default else 'no'} | {doc.fix} | {doc.summary} |"
        )
    return "\n".join(lines) + "\n"


def generated_docs() -> dict[str, str]:
    """File name -> content of every generated page under docs/rules/."""
    docs = load_rulebook()
    pages = {f"{code}.md": render_markdown(doc) for code, doc in docs.items()}
    pages["README.md"] = render_index(docs)
    return pages


def write_docs(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in generated_docs().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def checkout_docs_dir() -> Path:
    """``docs/rules`` of the source checkout this module was imported from."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "rules").is_dir():
        raise SystemExit(f"dockopt.docs: {root} is not a dockopt source checkout; nothing to regenerate")
    return root / "docs" / "rules"


def regenerate(directory: Path) -> tuple[list[Path], list[Path]]:
    """Write every page and delete pages no rule produces any more: (written, removed)."""
    wanted = generated_docs()
    removed = []
    if directory.is_dir():
        for stale in sorted(directory.glob("*.md")):
            if stale.name not in wanted:
                stale.unlink()
                removed.append(stale)
    return write_docs(directory), removed


if __name__ == "__main__":
    # `python -m dockopt.docs`: what tests/test_docs.py asks for when docs/rules is stale.
    target = checkout_docs_dir()
    written, removed = regenerate(target)
    print(f"wrote {len(written)} pages to {target}" + (f", removed {len(removed)} stale" if removed else ""))
