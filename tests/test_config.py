"""Configuration files (discovery, keys, errors) and rule selection (ruff semantics)."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from dockopt.config import (
    Config,
    ConfigError,
    clear_caches,
    find_config,
    find_line,
    load_config,
    resolve_config,
)
from dockopt.diagnostics import Severity
from dockopt.selection import CliOverrides, RuleSelection, compile_glob

LEVELS = '"error", "warning" or "info"'
KNOWN = {"DO000": True, "DO001": False, "DO101": True, "DO102": True, "DO103": True, "DO105": False, "DO404": True}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()
    yield
    clear_caches()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def selection(config: Config | None = None, **cli: object) -> RuleSelection:
    return RuleSelection.build(KNOWN, config or Config(), CliOverrides(**cli))  # type: ignore[arg-type]


def enabled(sel: RuleSelection) -> set[str]:
    return set(sel.enabled_codes)


def from_toml(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path / "dockopt.toml", text))


# --- discovery --------------------------------------------------------------------------

def test_nearest_config_walking_upward(tmp_path: Path) -> None:
    root = write(tmp_path / "dockopt.toml", "")
    nearer = write(tmp_path / "a" / ".dockopt.toml", "")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "x").mkdir()
    assert find_config(tmp_path / "a" / "b" / "c") == nearer
    assert find_config(tmp_path / "a") == nearer
    assert find_config(tmp_path / "x") == root
    assert find_config(tmp_path) == root


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        ((".dockopt.toml", "dockopt.toml", "pyproject.toml"), ".dockopt.toml"),
        (("dockopt.toml", "pyproject.toml"), "dockopt.toml"),
        ((".dockopt.toml", "pyproject.toml"), ".dockopt.toml"),
        (("pyproject.toml",), "pyproject.toml"),
    ],
)
def test_precedence_within_one_directory(tmp_path: Path, present: tuple[str, ...], winner: str) -> None:
    for name in present:
        write(tmp_path / name, "[tool.dockopt]\n" if name == "pyproject.toml" else "")
    assert find_config(tmp_path) == tmp_path / winner


def test_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    outer = write(tmp_path / "dockopt.toml", 'select = ["DO1"]\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')
    # Mentions dockopt (a dependency) but has no [tool.dockopt]: still not a config.
    write(tmp_path / "app" / "svc" / "pyproject.toml", '[project]\ndependencies = ["dockopt"]\n[tool.ruff]\n')
    assert find_config(tmp_path / "app" / "svc") == outer
    config = resolve_config(tmp_path / "app" / "svc" / "Dockerfile", None, False)
    assert config.source == outer and config.select == ("DO1",)


def test_pyproject_with_table_counts(tmp_path: Path) -> None:
    write(tmp_path / "dockopt.toml", "")
    py = write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "x"\n\n[tool.dockopt]\nignore = ["DO105"]\n')
    config = resolve_config(tmp_path / "app" / "Dockerfile", None, False)
    assert config.source == py and config.root == tmp_path / "app" and config.ignore == ("DO105",)


def test_no_config_anywhere_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dockopt.config.CONFIG_NAMES", ("never-exists-dockopt.toml",))
    monkeypatch.chdir(tmp_path)
    assert find_config(tmp_path) is None
    config = resolve_config(tmp_path / "Dockerfile", None, False)
    assert config.source is None and config.root == tmp_path and config.select is None


def test_explicit_config_bypasses_discovery(tmp_path: Path) -> None:
    write(tmp_path / "app" / "dockopt.toml", 'select = ["DO1"]\n')
    explicit = write(tmp_path / "elsewhere" / "custom.toml", 'select = ["DO4"]\n')
    config = resolve_config(tmp_path / "app" / "Dockerfile", explicit, False)
    assert config.source == explicit and config.select == ("DO4",) and config.root == tmp_path / "elsewhere"


def test_explicit_pyproject_reads_its_table_or_is_empty(tmp_path: Path) -> None:
    with_table = write(tmp_path / "a" / "pyproject.toml", '[tool.dockopt]\ntarget = "final"\n')
    assert load_config(with_table).target == "final"
    without = write(tmp_path / "b" / "pyproject.toml", '[project]\nname = "x"\n')
    config = resolve_config(tmp_path / "Dockerfile", without, False)
    assert config.source == without and config.select is None


def test_disabled_ignores_files_and_wins_over_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    explicit = write(tmp_path / "dockopt.toml", 'select = ["DO1"]\n')
    for given in (None, explicit):
        config = resolve_config(tmp_path / "Dockerfile", given, True)
        assert config.source is None and config.select is None and config.root == tmp_path


def test_resolution_is_cached_per_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "dockopt.toml", "")
    first = resolve_config(tmp_path / "a" / "Dockerfile", None, False)
    assert resolve_config(tmp_path / "a" / "Dockerfile.dev", None, False) is first
    calls: list[Path] = []
    import dockopt.config as module

    real = module._config_in
    monkeypatch.setattr(module, "_config_in", lambda d: calls.append(d) or real(d))
    resolve_config(tmp_path / "a" / "b" / "Dockerfile", None, False)  # b is new, a is cached
    resolve_config(tmp_path / "a" / "b" / "other", None, False)
    assert calls == [tmp_path / "a" / "b"]
    # A new file is not noticed until the caches are cleared.
    write(tmp_path / "a" / "dockopt.toml", "")
    assert find_config(tmp_path / "a") == tmp_path / "dockopt.toml"
    clear_caches()
    assert find_config(tmp_path / "a") == tmp_path / "a" / "dockopt.toml"


def test_relative_paths_resolve_against_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write(tmp_path / "proj" / "dockopt.toml", "")
    monkeypatch.chdir(tmp_path)
    assert resolve_config(Path("proj/sub/Dockerfile"), None, False).source == cfg
    assert find_config(Path("proj")) == cfg


def test_broken_config_errors_for_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "dockopt.toml", "selct = []\n")
    for name in ("Dockerfile", "Dockerfile.dev"):
        with pytest.raises(ConfigError, match=r"^dockopt.toml:1: unknown key 'selct'"):
            resolve_config(tmp_path / name, None, False)


def test_invalid_pyproject_mentioning_dockopt_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.dockopt\nselect = []\n")
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    assert str(info.value) == "pyproject.toml:1:14: invalid TOML: Expected ']' at the end of a table declaration"


def test_unrelated_invalid_pyproject_is_skipped(tmp_path: Path) -> None:
    outer = write(tmp_path / "dockopt.toml", "")
    write(tmp_path / "a" / "pyproject.toml", "[project\n")  # not ours: never parsed
    assert find_config(tmp_path / "a") == outer


# --- keys ---------------------------------------------------------------------------------

def test_every_key_parses(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    config = from_toml(
        tmp_path,
        """
select = ["DO1", "DL3009"]
extend-select = ["DO105"]
ignore = ["DO103"]
severity-threshold = "warning"
context = "ctx"
hadolint = true
unsafe-fixes = false
target = "runtime"

[per-file-ignores]
"docker/**" = ["DO101"]

[severity]
DO101 = "error"
DL = "info"
""",
    )
    assert config.source == tmp_path / "dockopt.toml" and config.root == tmp_path
    assert config.select == ("DO1", "DL3009") and config.extend_select == ("DO105",) and config.ignore == ("DO103",)
    assert config.per_file_ignores == {"docker/**": ("DO101",)}
    assert config.severity == {"DO101": Severity.ERROR, "DL": Severity.INFO}
    assert config.severity_threshold is Severity.WARNING
    assert config.context == tmp_path / "ctx" and config.context.is_absolute()
    assert (config.hadolint, config.unsafe_fixes, config.target) == (True, False, "runtime")


def test_empty_file_sets_nothing(tmp_path: Path) -> None:
    config = from_toml(tmp_path, "")
    values = (config.select, config.extend_select, config.ignore, config.per_file_ignores, config.severity,
              config.severity_threshold, config.context, config.hadolint, config.unsafe_fixes, config.target)
    assert values == (None,) * 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('select = "DO1"', "dockopt.toml:1: 'select' must be an array of strings, not a string"),
        ("\nextend-select = [1]",
         "dockopt.toml:2: 'extend-select' must be an array of strings, but item 1 is an integer"),
        ("ignore = true", "dockopt.toml:1: 'ignore' must be an array of strings, not a boolean"),
        ('ignore = ["DO1", ["DO2"]]', "dockopt.toml:1: 'ignore' must be an array of strings, but item 2 is an array"),
        ('per-file-ignores = ["x"]', "dockopt.toml:1: 'per-file-ignores' must be a table, not an array"),
        ('per-file-ignores = { a = "DO101" }',
         "dockopt.toml:1: 'per-file-ignores.a' must be an array of strings, not a string"),
        ('[per-file-ignores]\n"docker/**" = "DO101"',
         "dockopt.toml:2: 'per-file-ignores.\"docker/**\"' must be an array of strings, not a string"),
        ('[per-file-ignores]\n"" = ["DO101"]', "dockopt.toml:2: 'per-file-ignores' has an empty glob"),
        ('severity = "error"', "dockopt.toml:1: 'severity' must be a table, not a string"),
        ('[severity]\nDO101 = "fatal"', f"dockopt.toml:2: 'severity.DO101' must be {LEVELS}, not \"fatal\""),
        ("severity = { DO101 = 1 }", f"dockopt.toml:1: 'severity.DO101' must be {LEVELS}, not an integer"),
        ('severity-threshold = "ERROR"',
         f"dockopt.toml:1: 'severity-threshold' must be {LEVELS}, not \"ERROR\""),
        ("severity-threshold = 2.5",
         f"dockopt.toml:1: 'severity-threshold' must be {LEVELS}, not a float"),
        ("context = 1", "dockopt.toml:1: 'context' must be a string, not an integer"),
        ('context = "missing"', "dockopt.toml:1: 'context' is not a directory: missing"),
        ('hadolint = "yes"', "dockopt.toml:1: 'hadolint' must be true or false, not a string"),
        ("unsafe-fixes = 1", "dockopt.toml:1: 'unsafe-fixes' must be true or false, not an integer"),
        ('target = ""', "dockopt.toml:1: 'target' must not be empty"),
        ("target = 1979-05-27", "dockopt.toml:1: 'target' must be a string, not a date"),
        ('target = ["a"]', "dockopt.toml:1: 'target' must be a string, not an array"),
        ('select = []\nselct = ["DO1"]', "dockopt.toml:2: unknown key 'selct' (did you mean 'select'?)"),
        ("extend_select = []", "dockopt.toml:1: unknown key 'extend_select' (did you mean 'extend-select'?)"),
        ("per-file-ignore = {}", "dockopt.toml:1: unknown key 'per-file-ignore' (did you mean 'per-file-ignores'?)"),
        ("colour = true", "dockopt.toml:1: unknown key 'colour'"),
        ('select = []\n\n[lint]\nselect = ["DO1"]', "dockopt.toml:3: unknown key 'lint'"),
    ],
)
def test_key_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        from_toml(tmp_path, text + "\n")
    assert str(info.value) == message


def test_pyproject_errors_name_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    py = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.dockopt]\nselect = []\nselct = ["DO1"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(py)
    assert str(info.value) == "pyproject.toml:6: [tool.dockopt] unknown key 'selct' (did you mean 'select'?)"
    write(py, '[tool.dockopt.severity]\nDO101 = "loud"\n')
    with pytest.raises(ConfigError) as info:
        load_config(py)
    assert str(info.value) == (
        "pyproject.toml:2: [tool.dockopt] 'severity.DO101' must be \"error\", \"warning\" or \"info\", not \"loud\""
    )
    write(py, "[tool]\ndockopt = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(py)
    assert str(info.value) == "pyproject.toml:2: 'tool.dockopt' must be a table, not an integer"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('select = ["DO1"\nignore = []\n', "dockopt.toml:2:1: invalid TOML: Unclosed array"),
        ("select = = 1\n", "dockopt.toml:1:10: invalid TOML: Invalid value"),
        ('a = "x"\na = "y"\n', "dockopt.toml:2:8: invalid TOML: Cannot overwrite a value"),
        ('select = ["DO1"', "dockopt.toml:1: invalid TOML: Unclosed array (at end of document)"),
    ],
)
def test_invalid_toml_is_one_line_with_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        from_toml(tmp_path, text)
    assert str(info.value) == message and "\n" not in str(info.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "dockopt.toml"
    bad.write_bytes(b'select = []\ntarget = "\xff"\n')
    with pytest.raises(ConfigError, match=r"^dockopt.toml:2: invalid TOML: not valid UTF-8$"):
        load_config(bad)
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ConfigError, match=r"^dir.toml: cannot read configuration: "):
        load_config(tmp_path / "dir.toml")


def test_files_outside_cwd_are_named_absolutely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    cfg = write(tmp_path / "other" / "dockopt.toml", "bogus = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert str(info.value) == f"{cfg}:1: unknown key 'bogus'"


def test_config_error_survives_pickling(tmp_path: Path) -> None:
    error = ConfigError(tmp_path / "dockopt.toml", "boom", 3, 4)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and (again.line, again.column) == (3, 4)


def test_find_line_handles_dotted_and_quoted_keys() -> None:
    text = '[tool.dockopt]\nselect = [\n  "DO1",\n]\n[ tool . "dockopt" . severity ]\n"DO101" = "info"\n'
    assert find_line(text, ("tool", "dockopt"), ("select",)) == 2
    assert find_line(text, ("tool", "dockopt"), ("severity", "DO101")) == 6
    assert find_line(text, ("tool", "dockopt"), ("ignore",)) is None
    assert find_line('tool.dockopt.target = 1\n', ("tool", "dockopt"), ("target",)) == 1


# --- per-file-ignores globs ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("docker/**", "docker/a/b/Dockerfile", True),
        ("docker/**", "docker/Dockerfile", True),
        ("docker/**", "src/docker/Dockerfile", False),
        ("docker/*", "docker/a/Dockerfile", False),
        ("docker/", "docker/a/Dockerfile", True),
        ("**/Dockerfile", "Dockerfile", True),
        ("**/Dockerfile", "a/b/Dockerfile", True),
        ("**/Dockerfile", "a/b/Dockerfile.dev", False),
        ("a/**/b/Dockerfile", "a/b/Dockerfile", True),
        ("a/**/b/Dockerfile", "a/x/y/b/Dockerfile", True),
        ("./svc/Docker?ile", "svc/Dockerfile", True),
        ("/svc/*.dev", "svc/Dockerfile.dev", True),
        ("svc/Dockerfile.[ab]", "svc/Dockerfile.b", True),
        ("svc/Dockerfile.[!ab]", "svc/Dockerfile.b", False),
        ("svc/Dockerfile.[!ab]", "svc/Dockerfile.c", True),
        ("svc/[x", "svc/[x", True),
        ("svc/a+b(1)", "svc/a+b(1)", True),
    ],
)
def test_compile_glob(glob: str, path: str, hit: bool) -> None:
    regex, basename_only = compile_glob(glob)
    assert not basename_only
    assert (regex.fullmatch(path) is not None) is hit


def test_glob_without_slash_matches_basenames() -> None:
    regex, basename_only = compile_glob("Dockerfile.*")
    assert basename_only and regex.fullmatch("Dockerfile.dev") and not regex.fullmatch("Dockerfile")


def test_per_file_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = from_toml(
        tmp_path,
        """
[per-file-ignores]
"docker/**" = ["DO101"]
"Dockerfile.dev" = ["DO1"]
"!prod/*" = ["DO404"]
"legacy/Dockerfile" = ["ALL"]
""",
    )
    sel = selection(config)
    root = tmp_path
    assert not sel.enabled("DO101", str(root / "docker" / "x" / "Dockerfile"))
    assert sel.enabled("DO102", str(root / "docker" / "x" / "Dockerfile"))
    assert not sel.enabled("DO102", str(root / "deep" / "er" / "Dockerfile.dev"))  # basename, any depth
    assert sel.enabled("DO404", str(root / "prod" / "Dockerfile"))
    assert not sel.enabled("DO404", str(root / "dev" / "Dockerfile"))  # negated: everything but prod/*
    assert not sel.enabled("DO000", str(root / "legacy" / "Dockerfile"))
    assert sel.enabled("DO101", None)  # no path: per-file-ignores do not apply
    # The engine passes display paths, relative to the working directory.
    monkeypatch.chdir(tmp_path / "..")
    relative = RuleSelection.build(KNOWN, config, CliOverrides())
    assert not relative.enabled("DO101", f"{tmp_path.name}/docker/Dockerfile")
    # Anchored globs never match files outside the configuration's directory; basenames do.
    outside = tmp_path.parent / "elsewhere"
    assert relative.enabled("DO101", str(outside / "docker" / "Dockerfile"))
    assert not relative.enabled("DO102", str(outside / "Dockerfile.dev"))


def test_per_file_ignores_do_not_enable_anything(tmp_path: Path) -> None:
    config = from_toml(tmp_path, '[per-file-ignores]\n"**" = ["DO105"]\n')
    assert not selection(config).enabled("DO105", str(tmp_path / "Dockerfile"))
    assert selection(config).enabled("DO101", str(tmp_path / "Dockerfile"))


# --- selection ----------------------------------------------------------------------------

DEFAULTS = {"DO000", "DO101", "DO102", "DO103", "DO404"}


def cfg(**values: object) -> Config:
    return Config(**values)  # type: ignore[arg-type]


def test_defaults() -> None:
    sel = selection()
    assert enabled(sel) == DEFAULTS
    assert sel.enabled("DO101", "Dockerfile") and not sel.enabled("DO105", "Dockerfile")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"select": ("DO1",)}, {"DO101", "DO102", "DO103", "DO105"}),
        ({"select": ("DO10",)}, {"DO101", "DO102", "DO103", "DO105"}),
        ({"select": ("DO101", "DO404")}, {"DO101", "DO404"}),
        ({"select": ()}, set()),
        ({"select": ("ALL",)}, set(KNOWN)),
        ({"extend-select": ("DO105",)}, DEFAULTS | {"DO105"}),
        ({"ignore": ("DO101",)}, DEFAULTS - {"DO101"}),
        ({"ignore": ("DO1",)}, {"DO000", "DO404"}),
        ({"ignore": ("ALL",)}, set()),
        # The more specific selector wins, whichever side it is on.
        ({"select": ("DO1",), "ignore": ("DO",)}, {"DO101", "DO102", "DO103", "DO105"}),
        ({"select": ("DO",), "ignore": ("DO1",)}, {"DO000", "DO001", "DO404"}),
        ({"select": ("DO101",), "ignore": ("DO1",)}, {"DO101"}),
        ({"select": ("ALL",), "ignore": ("DO1",)}, {"DO000", "DO001", "DO404"}),
        ({"select": ("DO1",), "ignore": ("ALL",)}, {"DO101", "DO102", "DO103", "DO105"}),
        ({"ignore": ("DO1",), "extend-select": ("DO105",)}, {"DO000", "DO404", "DO105"}),
        ({"ignore": ("DO105",), "extend-select": ("DO1",)}, {"DO000", "DO101", "DO102", "DO103", "DO404"}),
        # Ties go to ignore.
        ({"select": ("DO101",), "ignore": ("DO101",)}, set()),
        ({"extend-select": ("DO1",), "ignore": ("DO1",)}, {"DO000", "DO404"}),
    ],
)
def test_config_selection(values: dict[str, tuple[str, ...]], expected: set[str]) -> None:
    config = cfg(**{key.replace("-", "_"): value for key, value in values.items()})
    assert enabled(selection(config)) == expected


def test_cli_select_replaces_config_selection() -> None:
    config = cfg(select=("DO1",), extend_select=("DO404",), ignore=("DO102",))
    assert enabled(selection(config, select=["DO404", "DO102"])) == {"DO404", "DO102"}
    assert enabled(selection(config)) == {"DO101", "DO103", "DO105", "DO404"}


def test_cli_extend_select_and_ignore_refine_the_config() -> None:
    config = cfg(select=("DO101", "DO102"), ignore=("DO103",))
    # A command-line ignore beats a more specific config select: it comes later.
    assert enabled(selection(config, ignore=["DO1"])) == set()
    assert enabled(selection(config, extend_select=["DO1"])) == {"DO101", "DO102", "DO103", "DO105"}
    assert enabled(selection(config, extend_select=["DO404"], ignore=["DO101"])) == {"DO102", "DO404"}
    # Within the command line, specificity applies as in a file.
    assert enabled(selection(config, extend_select=["DO105"], ignore=["DO1"])) == {"DO105"}


def test_hadolint_and_shellcheck_codes() -> None:
    sel = selection()
    assert sel.enabled("DL3009", "Dockerfile") and sel.enabled("SC2086", "Dockerfile")  # on by default
    sel = selection(cfg(ignore=("DL",)))
    assert not sel.enabled("DL3009", None) and sel.enabled("SC2086", None)
    sel = selection(cfg(select=("DO", "DL3009")))
    assert sel.enabled("DL3009", None) and not sel.enabled("DL3008", None) and not sel.enabled("SC2086", None)
    sel = selection(cfg(select=("DO1",), extend_select=("SC", "DL30")))
    assert sel.enabled("SC1000", None) and sel.enabled("DL3059", None) and not sel.enabled("DL4006", None)
    assert selection(cfg(select=("ALL",))).enabled("DL4006", None)
    assert not selection(cfg(ignore=("ALL",))).enabled("SC2086", None)
    # Codes that are neither ours nor hadolint/ShellCheck-shaped are never enabled.
    assert not selection().enabled("XY123", None)
    assert not selection().enabled("DL30091", None)


@pytest.mark.parametrize(
    "selector", ["ALL", "DO", "DO1", "DO10", "DO101", "DO000", "DL", "DL3", "DL3009", "SC", "SC2086"]
)
def test_valid_selectors(selector: str) -> None:
    selection(cfg(select=(selector,)))


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("DO999", "unknown rule selector 'DO999' in 'select'"),
        ("DO2", "unknown rule selector 'DO2' in 'select'"),
        ("D", "unknown rule selector 'D' in 'select'"),
        ("DL30091", "unknown rule selector 'DL30091' in 'select'"),
        ("XX", "unknown rule selector 'XX' in 'select'"),
        ("", "unknown rule selector '' in 'select'"),
        ("all", "unknown rule selector 'all' (did you mean 'ALL'?) in 'select'"),
        ("do101", "unknown rule selector 'do101' (did you mean 'DO101'?) in 'select'"),
        ("DO1O1", "unknown rule selector 'DO1O1' (did you mean 'DO101'?) in 'select'"),
    ],
)
def test_unknown_selectors_in_select(selector: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        selection(cfg(select=(selector,)))
    assert str(info.value) == message


def test_unknown_selectors_name_the_file_line_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cases = [
        ('select = ["DO1"]\nextend-select = ["DO9"]\n',
         "dockopt.toml:2: unknown rule selector 'DO9' in 'extend-select'"),
        ('ignore = [\n  "DO101",\n  "DO7",\n]\n', "dockopt.toml:1: unknown rule selector 'DO7' in 'ignore'"),
        ('[per-file-ignores]\n"a/**" = []\n"b/**" = ["XX1"]\n',
         "dockopt.toml:3: unknown rule selector 'XX1' in 'per-file-ignores.\"b/**\"'"),
        ('per-file-ignores = { Dockerfile = ["DO1", "DO3"] }',
         "dockopt.toml:1: unknown rule selector 'DO3' in 'per-file-ignores.Dockerfile'"),
        ('[severity]\nDO101 = "info"\nDO6 = "error"\n', "dockopt.toml:3: unknown rule selector 'DO6' in 'severity'"),
    ]
    for text, message in cases:
        with pytest.raises(ConfigError) as info:
            selection(from_toml(tmp_path, text))
        assert str(info.value) == message
    py = write(tmp_path / "pyproject.toml", '[tool.dockopt]\nselect = ["DO1"]\nignore = ["DO5"]\n')
    with pytest.raises(ConfigError) as info:
        selection(load_config(py))
    assert str(info.value) == "pyproject.toml:3: [tool.dockopt] unknown rule selector 'DO5' in 'ignore'"


@pytest.mark.parametrize("flag", ["select", "extend_select", "ignore"])
def test_unknown_selectors_on_the_command_line(flag: str) -> None:
    with pytest.raises(ConfigError) as info:
        selection(**{flag: ["DO101", "DO999"]})
    assert str(info.value) == f"unknown rule selector 'DO999' in --{flag.replace('_', '-')}"


def test_severity_overrides() -> None:
    overrides = {"DO1": Severity.INFO, "DO101": Severity.ERROR, "DL": Severity.INFO, "ALL": Severity.WARNING}
    sel = selection(cfg(severity=overrides))
    assert sel.severity("DO101", Severity.WARNING) is Severity.ERROR  # most specific wins
    assert sel.severity("DO102", Severity.WARNING) is Severity.INFO
    assert sel.severity("DL3009", Severity.ERROR) is Severity.INFO
    assert sel.severity("DO404", Severity.ERROR) is Severity.WARNING  # ALL
    assert sel.severity("DO404", Severity.ERROR) is Severity.WARNING  # memoised answer
    plain = selection()
    assert plain.severity("DO101", Severity.WARNING) is Severity.WARNING
    assert selection(cfg(severity={"DO101": Severity.ERROR})).severity("DO102", Severity.INFO) is Severity.INFO


def test_severity_overrides_from_a_file(tmp_path: Path) -> None:
    sel = selection(from_toml(tmp_path, '[severity]\nDO105 = "error"\nSC = "warning"\n'))
    assert sel.severity("DO105", Severity.INFO) is Severity.ERROR
    assert sel.severity("SC2086", Severity.INFO) is Severity.WARNING


def test_threshold() -> None:
    assert selection().threshold is Severity.INFO
    assert selection(cfg(severity_threshold=Severity.WARNING)).threshold is Severity.WARNING
    both = selection(cfg(severity_threshold=Severity.WARNING), severity_threshold=Severity.ERROR)
    assert both.threshold is Severity.ERROR
    assert selection(severity_threshold=Severity.ERROR).threshold is Severity.ERROR


def test_cli_overrides_normalise_to_tuples() -> None:
    cli = CliOverrides(select=["DO1"], extend_select=["DO105"], ignore=["DO102"])
    assert (cli.select, cli.extend_select, cli.ignore) == (("DO1",), ("DO105",), ("DO102",))
    assert hash(cli) == hash(CliOverrides(select=("DO1",), extend_select=("DO105",), ignore=("DO102",)))
    assert CliOverrides().select is None


def test_real_rulebook_defaults() -> None:
    from dockopt.rulebook import load_rulebook

    known = {code: doc.default for code, doc in load_rulebook().items()}
    sel = RuleSelection.build(known, Config(), CliOverrides())
    assert sel.enabled_codes == {code for code, default in known.items() if default}
