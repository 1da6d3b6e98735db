"""The build-context model: .dockerignore semantics, ignore-file discovery, COPY source selection.

Expected answers come from the Go sources dockopt ports (each case says which):
[pm]   moby/patternmatcher patternmatcher_test.go (TestMatches, multiPatternTests, compileTests)
[if]   moby/patternmatcher ignorefile/ignorefile_test.go (TestReadAll)
[go]   golang/go path/filepath match_test.go (matchTests)
[docs] docs.docker.com/build/concepts/context/#dockerignore-files
[fs]   tonistiigi/fsutil filter.go (the walk BuildKit sends the context with)
[bk]   moby/buildkit dockerfile2llb + fsutil copy/copy.go (COPY source resolution)
[eng]  checked against a Docker 20.10 engine with BuildKit while writing this module
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from dockopt.context.build_context import BuildContext, find_ignore_file, normalize
from dockopt.context.dockerignore import IgnoreRules, compile_pattern, go_regexp_of, read_patterns
from dockopt.context.gosyntax import BadPattern, compile_glob, go_clean, go_match, re2_to_python


def make(root: Path, files: dict[str, str | int]) -> Path:
    """Create files (str content, or int = that many bytes); "@target" content makes a symlink."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("@"):
            os.symlink(content[1:], path)
        elif rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.write_bytes(b"x" * content if isinstance(content, int) else content.encode())
    return root


# --- one pattern: patternmatcher's TestMatches table -------------------------------------------------

SINGLE = [  # (pattern, path, matched) -- all [pm] TestMatches unless noted
    ("**", "file", True), ("**", "file/", True), ("**/", "file", True), ("**/", "file/", True),
    ("**", "/", True), ("**/", "/", True), ("**", "dir/file", True), ("**/", "dir/file", True),
    ("**", "dir/file/", True), ("**/", "dir/file/", True), ("**/**", "dir/file", True),
    ("**/**", "dir/file/", True), ("dir/**", "dir/file", True), ("dir/**", "dir/file/", True),
    ("dir/**", "dir/dir2/file", True), ("dir/**", "dir/dir2/file/", True), ("**/dir", "dir", True),
    ("**/dir", "dir/file", True), ("**/dir2/*", "dir/dir2/file", True), ("**/dir2/*", "dir/dir2/file/", True),
    ("**/dir2/**", "dir/dir2/dir3/file", True), ("**/dir2/**", "dir/dir2/dir3/file/", True),
    ("**file", "file", True), ("**file", "dir/file", True), ("**/file", "dir/file", True),
    ("**file", "dir/dir/file", True), ("**/file", "dir/dir/file", True), ("**/file*", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True), ("**/file*txt", "dir/dir/file.txt", True),
    ("**/file*.txt", "dir/dir/file.txt", True), ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True), ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True), ("**/**/*.txt", "file.txt", True), ("a**/*.txt", "a/file.txt", True),
    ("a**/*.txt", "a/dir/file.txt", True), ("a**/*.txt", "a/dir/dir/file.txt", True),
    ("a/*.txt", "a/dir/file.txt", False), ("a/*.txt", "a/file.txt", True), ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False), ("a[b-d]e", "ace", True), ("a[b-d]e", "aae", False), ("a[^b-d]e", "aze", True),
    (".*", ".foo", True), (".*", "foo", False), ("abc.def", "abcdef", False), ("abc.def", "abc.def", True),
    ("abc.def", "abcZdef", False), ("abc?def", "abcZdef", True), ("abc?def", "abcdef", False),
    ("**/foo/bar", "foo/bar", True), ("**/foo/bar", "dir/foo/bar", True), ("**/foo/bar", "dir/dir2/foo/bar", True),
    ("abc/**", "abc", False), ("abc/**", "abc/def", True), ("abc/**", "abc/def/ghi", True),
    ("**/.foo", ".foo", True), ("**/.foo", "bar.foo", False), ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False), ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("a\\\\", "a\\", True), ("a\\*b", "a*b", True),  # [pm] unix-only cases
    ("*.pyc", "sub/a.pyc", False), ("*.pyc", "a.pyc", True),  # [docs] anchored at the root, unlike gitignore
    ("**/*.pyc", "sub/deep/a.pyc", True),  # [docs] ** matches any number of directories
    ("foo", "foo/bar/baz", True),  # [pm] MatchesOrParentMatches: a matching parent excludes everything below
    ("a*", "ab/c", True),  # [pm] matchTests via parent matching
    ("[!a]x", "!x", True), ("[!a]x", "bx", False),  # [pm]+[eng] [...] reaches RE2 as is: ! is a member, not a negation
    ("[[:digit:]]", "7", True), ("[[:digit:]]", "x", False),  # [eng] RE2 POSIX class inside a glob class
    ("\\d5", "55", True), ("\\d5", "d5", False),  # [pm] escapes pass to RE2: \d is a digit class there
    ("**.txt", "dir/a.txt", True),  # [pm] a leading ** makes a suffix match (HasSuffix)
    ("dir**", "dirt/x", True),  # [pm] a trailing ** after literals is a prefix match (HasPrefix "dir")
]


@pytest.mark.parametrize(("pattern", "path", "expected"), SINGLE, ids=[f"{p}|{t}" for p, t, _ in SINGLE])
def test_single_pattern(pattern: str, path: str, expected: bool) -> None:
    rules = IgnoreRules([pattern])
    assert not rules.errors
    assert rules.matches(path) is expected
    clean = normalize(path)
    if clean:  # with one non-exception pattern, BuildKit's walk agrees with MatchesOrParentMatches [fs]
        assert rules.excludes(clean) is expected


# --- whole ignore files ------------------------------------------------------------------------------

FILES = [  # (.dockerignore text, path, excluded)
    ("*/temp*\n*/*/temp*\ntemp?\n", "somedir/temporary.txt", True),  # [docs] example table
    ("*/temp*\n*/*/temp*\ntemp?\n", "somedir/temp", True),  # [docs]
    ("*/temp*\n*/*/temp*\ntemp?\n", "somedir/subdir/temporary.txt", True),  # [docs]
    ("*/temp*\n*/*/temp*\ntemp?\n", "tempa", True),  # [docs]
    ("*/temp*\n*/*/temp*\ntemp?\n", "temp", False),  # [docs] ? needs exactly one character
    ("*/temp*\n*/*/temp*\ntemp?\n", "a/b/c/temp1", False),  # [docs] three levels: no rule covers it
    ("**/*.go\n", "main.go", True),  # [docs] ** matches zero directories too
    ("**/*.go\n", "pkg/x/y.go", True),  # [docs]
    ("*.md\n!README.md\n", "README.md", False),  # [docs] exception
    ("*.md\n!README.md\n", "CHANGES.md", True),  # [docs]
    ("*.md\n!README*.md\nREADME-secret.md\n", "README-secret.md", True),  # [docs] the last match wins
    ("*.md\n!README*.md\nREADME-secret.md\n", "README-x.md", False),  # [docs]
    ("*.md\nREADME-secret.md\n!README*.md\n", "README-secret.md", False),  # [docs] order matters
    ("/foo/bar\n", "foo/bar", True),  # [docs][if] a leading / is the context root
    ("foo/bar\n", "x/foo/bar", False),  # [docs] neither excludes anything else
    ("# comment\n", "# comment", False),  # [docs] # in column 1 is a comment
    ("  # not a comment\n", "# not a comment", True),  # [if] only column 1 starts a comment; then trimmed
    ("  spaced.txt  \n", "spaced.txt", True),  # [docs][if] surrounding whitespace trimmed
    ("./a/../b\n", "b", True),  # [docs] filepath.Clean removes . and ..
    ("../outside\n", "outside", False),  # [docs] Clean keeps a leading ..: it never matches inside
    ("build/\n", "build/out.bin", True),  # [pm] a trailing slash is cleaned away; the dir excludes its tree
    ("build//sub/\n", "build/sub/x", True),  # [docs] Clean collapses //
    (".\n", "anything", False),  # [docs] "for historical reasons, the pattern . is ignored"
    ("\n\n   \n", "a", False),  # [docs] blank lines ignored
    ("\ufeffbom.txt\n", "bom.txt", True),  # [if] a UTF-8 BOM on the first line is dropped
    ("crlf.txt\r\nother\r\n", "crlf.txt", True),  # [if] bufio.ScanLines drops the CR
    ("! /inverted/abs/path\n", "inverted/abs/path", False),  # [if] "! /x" is the exception "!x"
    ("*\n!src\n", "src/app/main.py", False),  # [docs] include-list style: * then exceptions
    ("*\n!src\n", "docs/x", True),  # [docs]
    ("*\n!src\n", "Dockerfile", True),  # [docs] the Dockerfile can be excluded too
    ("**\n!util/docker/web\n", "util/docker/web/foo", False),  # [pm] multiPatternTests
    ("**\n!util/docker/web\nutil/docker/web/foo\n", "util/docker/web/foo", True),  # [pm]
    ("**\n!dist/*.whl\n", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),  # [pm]
    ("docs\n!docs/README.md\n", "docs/README.md", False),  # [pm] TestPatternMatchesFolderExclusions
    ("docs/\n!docs/README.md\n", "docs/README.md", False),  # [pm] ...WithSlashExclusions
    ("docs/*\n!docs/README.md\n", "docs/README.md", False),  # [pm] ...WildcardExclusions
    ("!fileutils.go\n*.go\n", "fileutils.go", True),  # [pm] an exception before the inclusion does nothing
    ("*.go\n!fileutils.go\n", "fileutils.go", False),  # [pm]
    ("node_modules\n", "node_modules/a/b.js", True),  # [fs] an excluded directory is not walked
    ("*\n!**/keep.txt\n", "sub/keep.txt", False),  # [fs] wildcard exceptions: excluded dirs are walked
    ("*\n!**/keep.txt\n", "sub/drop.txt", True),  # [fs]
    ("a\n!a/b/c\n", "a/b/c/d", False),  # [fs] a plain exception below keeps the walk going into a and a/b
    ("a\n!a/b/c\n", "a/b/x", True),  # [fs]
    ("file[0-9].txt\n", "file5.txt", True), ("file[0-9].txt\n", "filex.txt", False),  # [go] ranges
    ("file[^0-9].txt\n", "filex.txt", True),  # [go] [^...] negates
    ("a?c\n", "a/c", False),  # [go] ? never matches /
    ("*\n", "a/b", True),  # [pm] * matches a, the parent of a/b
    ("a\\[b\n", "a[b", True),  # [go][pm] an escaped [ is literal
    ("sp ace\n", "sp ace", True),  # [pm] inner spaces are part of the pattern
    ("$HOME\n", "$HOME", True),  # [pm] regexp metacharacters are escaped
    ("café/*\n", "café/menu", True),  # [pm] patterns are read rune by rune
]


@pytest.mark.parametrize(("text", "path", "expected"), FILES, ids=[f"{t!r}|{p}" for t, p, _ in FILES])
def test_ignore_file(text: str, path: str, expected: bool) -> None:
    rules = IgnoreRules.parse(text)
    assert not rules.errors
    assert rules.excludes(normalize(path)) is expected


def test_walk_differs_from_matches_or_parent_matches() -> None:
    # [fs] the walk passes the parent's per-pattern results down: "!dir" was never evaluated for
    # "dir" (nothing matched yet), so it is not inherited by dir/x, which stays excluded and is
    # skipped whole. MatchesOrParentMatches re-checks every parent and says the opposite.
    # (Docker 20.10's older fsutil used the deprecated Matches and also keeps dir/x/y [eng].)
    rules = IgnoreRules.parse("dir/x\n!dir\n")
    assert rules.matches("dir/x/y") is False
    assert rules.excludes("dir/x/y") is True


def _reference_step(rules: IgnoreRules, path: str, parent: tuple[bool, ...] | None) -> tuple[bool, tuple[bool, ...]]:
    """MatchesUsingParentResults transcribed without shortcuts [pm]."""
    matched, info = False, []
    for i, pattern in enumerate(rules.patterns):
        hit = parent[i] if parent else False
        if not hit and pattern.exclusion == matched:
            parts = path.split("/")
            hit = pattern.match(path) or (not parent and any(
                pattern.match("/".join(parts[:k])) for k in range(1, len(parts))))
        elif not hit:
            info.append(False)
            continue
        info.append(hit)
        if hit:
            matched = not pattern.exclusion
    return matched, tuple(info)


def test_step_shortcuts_agree_with_reference() -> None:
    # The walk's pre-filter (one union regex) and file fast path must not change any verdict.
    rng = random.Random(7)
    pieces = ["a", "b", "*", "**", "?", "[ab]", "a.b", "dir"]
    paths = ["/".join(rng.choice(["a", "b", "ab", "a.b", "dir", "x"]) for _ in range(rng.randint(1, 4)))
             for _ in range(200)]
    for _ in range(150):
        lines = ["/".join(rng.choice(pieces) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 4))]
        lines = [("!" if rng.random() < 0.3 else "") + line for line in lines]
        rules = IgnoreRules(lines)
        for path in paths:
            head = path.rpartition("/")[0]
            parent = _reference_step(rules, head, None)[1] if head else None
            for want_info in (True, False):
                got = rules.step(path, parent, want_info)
                want = _reference_step(rules, path, parent)
                assert got[0] == want[0], (lines, path)
                assert not want_info or got[1] == want[1], (lines, path)


def test_pruning_rules() -> None:
    rules = IgnoreRules.parse("vendor\n!vendor/keep/**\n")
    assert rules.only_prefix_exceptions and not rules.prunes("vendor")  # [fs] trailing /** is dropped
    assert rules.prunes("vendor/other")
    assert not IgnoreRules.parse("x\n!*/y\n").only_prefix_exceptions  # [fs] wildcard in an exception


def test_read_patterns_like_ignorefile_readall() -> None:
    text = "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    assert [p for _, p in read_patterns(text)] == [  # [if] TestReadAll
        "test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"]
    assert read_patterns("a\n\n# c\nb\n") == [(1, "a"), (4, "b")]


@pytest.mark.parametrize(("pattern", "message"), [
    ("!", "illegal exclusion pattern"),  # [pm] TestSingleExclamationError
    ("[", "syntax error"),  # [pm] TestMatchesWithMalformedPatterns
    ("a[", "syntax error"), ("[]a]", "syntax error"), ("[-]", "syntax error"), ("\\", "syntax error"),  # [go]
    ("[Local-Only]/", "range"),  # [pm] passes filepath.Match, then RE2 rejects the range l-O
    ("\\x41", "unsupported"),  # RE2 hex escape: not modelled, reported instead of guessed
])
def test_bad_patterns_are_reported_and_skipped(pattern: str, message: str) -> None:
    rules = IgnoreRules.parse(f"keep-me\n{pattern}\n")
    assert len(rules.errors) == 1 and message in rules.errors[0] and rules.errors[0].startswith("line 2:")
    assert [p.text for p in rules.patterns] == ["keep-me"]


@pytest.mark.parametrize(("pattern", "kind", "regexp"), [  # [pm] compileTests (slash)
    ("*", "regexp", "^[^/]*$"), ("file*", "regexp", "^file[^/]*$"), ("*file", "regexp", "^[^/]*file$"),
    ("a*/b", "regexp", "^a[^/]*/b$"), ("**", "suffix", None), ("**/**", "regexp", "^(.*/)?.*$"),
    ("dir/**", "prefix", None), ("**/dir", "suffix", None), ("**/dir2/*", "regexp", "^(.*/)?dir2/[^/]*$"),
    ("**/dir2/**", "regexp", "^(.*/)?dir2/.*$"), ("**file", "suffix", None),
    ("**/file*txt", "regexp", "^(.*/)?file[^/]*txt$"), ("**/**/*.txt", "regexp", "^(.*/)?(.*/)?[^/]*\\.txt$"),
    ("a[b-d]e", "regexp", "^a[b-d]e$"), (".*", "regexp", "^\\.[^/]*$"), ("abc.def", "exact", None),
    ("abc?def", "regexp", "^abc[^/]def$"), ("**/foo/bar", "suffix", None), ("a(b)c/def", "exact", None),
    ("a.|)$(}+{bc", "exact", None),
])
def test_compile_like_patternmatcher(pattern: str, kind: str, regexp: str | None) -> None:
    got_kind, got_regexp = go_regexp_of(go_clean(pattern))
    assert got_kind == kind
    if regexp is not None:
        assert got_regexp == regexp
    assert compile_pattern(pattern).kind == kind


def test_re2_translation() -> None:
    assert re2_to_python("^a$") == "^a\\Z"  # RE2 $ is end of text; Python's would also match before "\n"
    assert re2_to_python("[^/]*") == "[^/]*"
    assert re2_to_python("[[:^alpha:]]") == "[^A-Za-z]"
    with pytest.raises(BadPattern):
        re2_to_python("[z-a]")


# --- Go's filepath.Match ---------------------------------------------------------------------------

GO_MATCH = [  # [go] matchTests: (pattern, name, matched, bad pattern)
    ("abc", "abc", True, False), ("*", "abc", True, False), ("*c", "abc", True, False), ("a*", "a", True, False),
    ("a*", "abc", True, False), ("a*", "ab/c", False, False), ("a*/b", "abc/b", True, False),
    ("a*/b", "a/c/b", False, False), ("a*b*c*d*e*/f", "axbxcxdxe/f", True, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True, False), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False, False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False, False), ("a*b?c*x", "abxbbxdbxebxczzx", True, False),
    ("a*b?c*x", "abxbbxdbxebxczzy", False, False), ("ab[c]", "abc", True, False), ("ab[b-d]", "abc", True, False),
    ("ab[e-g]", "abc", False, False), ("ab[^c]", "abc", False, False), ("ab[^b-d]", "abc", False, False),
    ("ab[^e-g]", "abc", True, False), ("a\\*b", "a*b", True, False), ("a\\*b", "ab", False, False),
    ("a?b", "a☺b", True, False), ("a[^a]b", "a☺b", True, False), ("a???b", "a☺b", False, False),
    ("a[^a][^a][^a]b", "a☺b", False, False), ("[a-ζ]*", "α", True, False), ("*[a-ζ]", "A", False, False),  # noqa: RUF001
    ("a?b", "a/b", False, False), ("a*b", "a/b", False, False), ("[\\]a]", "]", True, False),
    ("[\\-]", "-", True, False), ("[x\\-]", "x", True, False), ("[x\\-]", "-", True, False),
    ("[x\\-]", "z", False, False), ("[\\-x]", "x", True, False), ("[\\-x]", "-", True, False),
    ("[\\-x]", "a", False, False), ("[]a]", "]", False, True), ("[-]", "-", False, True),
    ("[x-]", "x", False, True), ("[x-]", "-", False, True), ("[x-]", "z", False, True), ("[-x]", "x", False, True),
    ("[-x]", "-", False, True), ("[-x]", "a", False, True), ("\\", "a", False, True), ("[a-b-c]", "a", False, True),
    ("[", "a", False, True), ("[^", "a", False, True), ("[^bc", "a", False, True), ("a[", "a", False, True),
    ("a[", "ab", False, True), ("a[", "x", False, True), ("a/b[", "x", False, True), ("*x", "xxx", True, False),
    ("[!a]", "!", True, False), ("[!a]", "b", False, False),  # ! is no negation in Go
]


@pytest.mark.parametrize(("pattern", "name", "expected", "bad"), GO_MATCH,
                         ids=[f"{p}|{n}" for p, n, _, _ in GO_MATCH])
def test_go_match(pattern: str, name: str, expected: bool, bad: bool) -> None:
    if bad:
        with pytest.raises(BadPattern):
            go_match(pattern, name)
        with pytest.raises(BadPattern):
            compile_glob(pattern)
    else:
        assert go_match(pattern, name) is expected
        assert compile_glob(pattern)(name) is expected


def test_compiled_glob_agrees_with_the_port() -> None:
    # The regex fast path must give go_match's answer, including Go's no-backtracking quirks.
    rng = random.Random(20240601)
    atoms = ["a", "b", "/", "*", "?", "[ab]", "[^a]", "[^/]", "\\*", "x"]
    names = ["".join(rng.choice("ab/x*") for _ in range(rng.randint(0, 7))) for _ in range(300)]
    for _ in range(300):
        pattern = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 6)))
        matcher = compile_glob(pattern)
        for name in names:
            assert matcher(name) == go_match(pattern, name), (pattern, name)
    assert go_match("*a[^q]*c", "aa/c") is False  # Go commits to the earliest chunk match
    assert compile_glob("*a[^q]*c")("aa/c") is False


# --- discovery ---------------------------------------------------------------------------------------

def test_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM x", ".dockerignore": "a\n", "Dockerfile.dockerignore": "b\n",
                    "a": "1", "b": "2"})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", None)  # [docs] precedence
    assert ctx.ignore_file == tmp_path / "Dockerfile.dockerignore"
    assert ctx.is_ignored("b") and not ctx.is_ignored("a")
    assert not ctx.known  # only the Dockerfile's directory: an unverified default


def test_named_dockerfile_elsewhere(tmp_path: Path) -> None:
    make(tmp_path, {"docker/build.Dockerfile": "FROM x", "docker/build.Dockerfile.dockerignore": "src\n",
                    ".dockerignore": "docs\n", "src/a": "1", "docs/b": "2"})
    ctx = BuildContext.for_dockerfile(tmp_path / "docker/build.Dockerfile", tmp_path)
    assert ctx.known and ctx.root == tmp_path  # [docs] the ignore file sits beside the Dockerfile
    assert ctx.is_ignored("src/a") and not ctx.is_ignored("docs/b")
    other = BuildContext.for_dockerfile(tmp_path / "docker/lint.Dockerfile", tmp_path)
    assert other.ignore_file == tmp_path / ".dockerignore"  # no specific file: the context's one
    assert find_ignore_file(tmp_path / "nothing/Dockerfile", tmp_path / "nothing") is None


def test_no_ignore_file_and_stdin(tmp_path: Path) -> None:
    make(tmp_path, {".git/HEAD": "ref", "a": "1"})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", None)
    assert ctx.ignore_file is None and not ctx.rules and not ctx.is_ignored(".git/HEAD")
    assert ctx.exists(".git/HEAD")
    piped = BuildContext.for_dockerfile(Path("-"), tmp_path)  # docker build -f - DIR
    assert piped.known and piped.dockerfile is None and piped.exists("a")
    unknown = BuildContext.for_dockerfile(Path("-"), None)
    assert unknown.root is None and not unknown.available and unknown.files() == ()
    sel = unknown.select(".")
    assert not sel.complete and not sel.matched and sel.paths == ()
    assert not BuildContext.unknown().is_ignored("x") and BuildContext.unknown().read_text("x") is None


# --- listing -----------------------------------------------------------------------------------------

def test_listing_sizes_and_ignored(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "node_modules\n*.log\n", "app.py": 100, "lib/util.py": 20,
                    "debug.log": 5000, "lib/deep.log": 7, "node_modules/p/index.js": 9999, "empty/": ""})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", None)
    assert [e.path for e in ctx.files()] == [".dockerignore", "app.py", "lib/deep.log", "lib/util.py"]
    assert ctx.total_size() == len("node_modules\n*.log\n") + 100 + 7 + 20
    assert [e.path for e in ctx.ignored_files()] == ["debug.log", "node_modules"]  # the excluded tree once
    assert ctx.exists("empty") and ctx.exists("lib") and not ctx.exists("debug.log") and not ctx.exists("nope")
    assert ctx.is_ignored("node_modules/p/index.js") and ctx.entry("node_modules/p/index.js") is not None
    assert ctx.is_ignored("not/there.log") is False and ctx.is_ignored("there.log") is True  # absent paths too
    assert not ctx.truncated


def test_symlinks_are_entries_not_followed(tmp_path: Path) -> None:
    make(tmp_path, {"real/a.txt": 3, "real/b.txt": 4, "linkdir": "@real", "linkfile": "@real/a.txt",
                    "abs": "@/real", "dangling": "@nowhere", "loop": "@loop"})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path)
    paths = {e.path: e for e in ctx.files()}
    assert set(paths) == {"real/a.txt", "real/b.txt", "linkdir", "linkfile", "abs", "dangling", "loop"}
    assert paths["linkdir"].is_symlink and paths["linkdir"].link == "real" and paths["linkdir"].size == 0
    assert ctx.total_size() == 7  # a symlink adds no bytes of its target
    assert ctx.select("linkdir").paths == ("real/a.txt", "real/b.txt")  # [bk] FollowSymlinks for the source
    assert ctx.select("linkfile").paths == ("real/a.txt",)
    assert ctx.select("abs/b.txt").paths == ("real/b.txt",)  # an absolute target is context-rooted
    assert ctx.select("dangling").missing and ctx.select("loop").missing
    assert ctx.read_text("linkfile") == "xxx" and ctx.read_text("linkdir") is None


def test_excluded_directory_sent_as_parent_of_reincluded_path(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "docs\n!docs/keep.md\n", "docs/keep.md": 2, "docs/drop.md": 3,
                    "docs/sub/x": 1, "other/": ""})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", None)
    assert ctx.exists("docs") and not ctx.is_ignored("docs")  # [fs] sent as keep.md's parent
    assert ctx.is_ignored("docs/drop.md") and ctx.is_ignored("docs/sub/x")
    assert [e.path for e in ctx.ignored_files()] == ["docs/drop.md", "docs/sub"]  # topmost excluded paths
    sel = ctx.select("docs")
    assert sel.paths == ("docs/keep.md",) and sel.ignored_matches == ("docs/drop.md", "docs/sub")


def test_truncation_cap(tmp_path: Path) -> None:
    make(tmp_path, {f"d{i}/f{j}": 1 for i in range(5) for j in range(10)})
    ctx = BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path, max_entries=20)
    assert ctx.truncated and len(ctx.files()) < 50
    assert not ctx.select(".").complete
    assert not BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path).truncated


# --- COPY/ADD source selection -----------------------------------------------------------------------

@pytest.fixture()
def project(tmp_path: Path) -> BuildContext:
    make(tmp_path, {
        ".dockerignore": "secrets\n.env\n**/*.pyc\n", "Dockerfile": "FROM x\n", "package.json": 10,
        "src/app.py": 100, "src/app.pyc": 50, "src/lib/util.py": 30, "srv/x.py": 1, "data.json": 5,
        "secrets/key.pem": 64, ".env": 12, "a\\*b": 2, "a*b": 3,
    })
    return BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path)


@pytest.mark.parametrize(("source", "paths", "ignored"), [
    ("package.json", ["package.json"], []),  # [bk] a plain file
    ("./package.json", ["package.json"], []),  # [bk] joined to / and cleaned
    ("/package.json", ["package.json"], []),
    ("src", ["src/app.py", "src/lib/util.py"], ["src/app.pyc"]),  # [bk] a directory: its whole tree
    ("src/", ["src/app.py", "src/lib/util.py"], ["src/app.pyc"]),
    ("../../src/lib", ["src/lib/util.py"], []),  # [bk] .. cannot leave the context
    ("*.json", ["data.json", "package.json"], []),  # [bk] filepath.Match at the root: * stops at /
    ("s*", ["src/app.py", "src/lib/util.py", "srv/x.py"], ["secrets", "src/app.pyc"]),  # [bk][eng] dirs taken whole
    ("src/*.py", ["src/app.py"], []),  # [bk] * does not cross /
    ("*/*.py", ["src/app.py", "srv/x.py"], []),  # [bk] several components, matched against the relative path
    ("src/*.pyc", [], ["src/app.pyc"]),
    ("secrets/key.pem", [], ["secrets/key.pem"]),  # found inside a tree BuildKit never walks
    ("secrets", [], ["secrets"]),
    ("secrets/*.pem", [], ["secrets/key.pem"]),
    (".env", [], [".env"]),
    # [bk] containsWildcards skips an escaped character, so "a\\*b" is no wildcard source: the path is
    # used as written, backslash included (hence the docs' advice to write arr[[]0].txt instead)
    ("a\\*b", ["a\\*b"], []),
    ("a[*]b", ["a*b"], []),
    ("a?b", ["a*b"], []),  # ? matches the literal * but not a\\*b (4 characters)
])
def test_select(project: BuildContext, source: str, paths: list[str], ignored: list[str]) -> None:
    sel = project.select(source)
    assert list(sel.paths) == paths
    assert list(sel.ignored_matches) == ignored
    assert sel.matched is bool(paths)
    assert sel.complete


def test_select_whole_context(project: BuildContext) -> None:
    for source in (".", "./", "/", ""):
        sel = project.select(source)
        assert sel.matched and not sel.wildcard
        assert sel.paths == tuple(e.path for e in project.files())
        ignore_file = len("secrets\n.env\n**/*.pyc\n")
        assert sel.size_bytes == project.total_size() == 2 + 3 + ignore_file + len("FROM x\n") + 10 + 100 + 30 + 1 + 5
        assert sel.ignored_matches == (".env", "secrets", "src/app.pyc")


def test_select_missing_and_empty_wildcard(project: BuildContext) -> None:
    plain = project.select("requirements.txt")
    assert plain.missing and not plain.matched and not plain.wildcard  # [bk] a plain source then fails the build
    wild = project.select("requirements*.txt")
    assert wild.missing and wild.wildcard  # [bk][eng] AllowEmptyWildcard: the build goes on
    assert project.select("nowhere/*.py").missing
    assert project.select("[").missing  # a malformed pattern matches nothing (fsutil ignores Match's error)
    assert project.select("package.json") is project.select("package.json")  # cached


def test_select_empty_directory_matches(tmp_path: Path) -> None:
    make(tmp_path, {"empty/": ""})
    sel = BuildContext.for_dockerfile(tmp_path / "Dockerfile", tmp_path).select("empty")
    assert sel.matched and sel.paths == () and sel.size_bytes == 0 and not sel.missing


def test_read_text(project: BuildContext) -> None:
    assert project.read_text("src/app.py", limit=5) == "xxxxx"
    assert project.read_text(".env") == "x" * 12  # ignored files stay readable: the caller decides
    assert project.read_text("src") is None and project.read_text("missing") is None


def test_helpers() -> None:
    assert normalize("./a/../b/") == "b" and normalize("/") == "" and normalize("../..") == ""
    assert go_clean("//a//b/") == "/a/b" and go_clean("") == "."
