"""Shell analysis of RUN bodies: structure, words, redirects, tree-sitter quirks, expansion."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest

from dockopt.shell import (
    ARITH,
    CMDSUB,
    LIT,
    PARAM,
    Command,
    Script,
    expand_fields,
    expand_word,
    iter_commands,
    parse_script,
    static_args,
)
from tests.corpus import corpus_files


def names(script: Script) -> list[str | None]:
    return [c.name.value if c.name is not None else None for c in script.commands]


def only(text: str) -> Command:
    script = parse_script(text)
    assert len(script.commands) == 1, names(script)
    return script.commands[0]


def args(command: Command) -> list[str | None]:
    return [a.value for a in command.args]


def spans_are_slices(script: Script) -> None:
    """Every span must point at the text it claims to describe."""
    for command in script.commands:
        for word in command.words:
            assert script.text[word.span[0]:word.span[1]] == word.text
        for redirect in command.redirects:
            if redirect.target is not None:
                target = redirect.target
                assert script.text[target.span[0]:target.span[1]] == target.text


# -- structure: lists, connectors, statements ---------------------------------------------

def test_and_or_list_and_connectors() -> None:
    script = parse_script("set -eux; apt-get update && apt-get install -y curl || true\necho done")
    assert names(script) == ["set", "apt-get", "apt-get", "true", "echo"]
    assert [c.connector for c in script.commands] == [None, ";", "&&", "||", ";"]
    assert [c.conditional for c in script.commands] == [False, False, False, True, False]
    assert [c.statement for c in script.commands] == [0, 1, 1, 1, 2]


def test_statements_tell_lists_apart() -> None:
    script = parse_script("a && b; c")
    assert [(s.kind, s.separator, len(s.commands)) for s in script.statements] == [
        ("list", ";", 2), ("command", None, 1)]
    assert script.statements[0].span == (0, 6)
    newline = parse_script("a\nb &\nc")
    assert [s.separator for s in newline.statements] == ["\n", "&", None]
    assert [c.connector for c in newline.commands] == [None, ";", "&"]
    assert [c.background for c in newline.commands] == [False, True, False]


def test_pipeline_flags() -> None:
    script = parse_script("set -o pipefail && curl -fsSL https://x | tar -xz -C /opt")
    curl, tar = script.commands[1:]
    assert (curl.connector, curl.in_pipeline) == ("&&", True)
    assert (tar.connector, tar.in_pipeline, args(tar)) == ("|", True, ["-xz", "-C", "/opt"])
    assert not script.commands[0].in_pipeline
    assert not curl.affects_shell


def test_negation_applies_to_the_pipeline() -> None:
    script = parse_script("! a | b || c")
    assert [c.negated for c in script.commands] == [True, True, False]
    assert script.commands[2].conditional


def test_subshell_does_not_leak() -> None:
    script = parse_script("cd /tmp && (cd sub && make) && umask 022")
    cd_outer, cd_inner, make, umask = script.commands
    assert cd_outer.affects_shell and not cd_outer.in_subshell
    assert cd_inner.in_subshell and not cd_inner.affects_shell and cd_inner.depth == 1
    assert cd_inner.connector == "&&" and make.connector == "&&"
    assert umask.affects_shell and args(umask) == ["022"]


def test_command_substitution_runs_first_and_keeps_connector_out() -> None:
    script = parse_script('apt-get update && apt-get install -y $(cat /pkgs) "v=$(uname -m)"')
    assert names(script) == ["apt-get", "cat", "uname", "apt-get"]
    install = script.commands[3]
    assert install.connector == "&&" and not install.in_substitution
    cat = script.commands[1]
    assert cat.in_substitution and cat.in_subshell and cat.connector is None
    assert install.args[2].value is None and install.args[2].parts[0].kind == CMDSUB
    backticks = parse_script("echo `date`")
    assert names(backticks) == ["date", "echo"]


def test_assignment_from_substitution() -> None:
    script = parse_script("X=$(cat <<EOF\nhi $Y\nEOF\n) && y")
    assert names(script) == ["cat", None, "y"]
    assignment = script.commands[1]
    assert assignment.assignments[0].name == "X" and assignment.name is None
    assert script.commands[2].connector == "&&"


def test_if_elif_else() -> None:
    script = parse_script("if a; then b; elif c; then d; else e; fi && f")
    assert names(script) == list("abcdef")
    assert [c.conditional for c in script.commands] == [False, True, True, True, True, False]
    assert script.commands[5].connector == "&&"
    assert script.statements[0].kind == "list"


def test_loops() -> None:
    script = parse_script(
        "for p in $(ls /x) a; do rm -rf $p; done; while read -r l; do echo $l; done < f")
    assert names(script) == ["ls", "rm", "read", "echo"]
    ls, rm, read, echo = script.commands
    assert not ls.conditional and rm.conditional and not read.conditional and echo.conditional
    assert [r.target.value for r in read.group_redirects if r.target] == ["f"]
    assert parse_script("until a; do b; done").commands[1].conditional
    assert names(parse_script("for ((i=0;i<3;i++)); do x; done")) == ["x"]


def test_case_statement() -> None:
    script = parse_script(
        'case "$(uname -m)" in x86_64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64; echo $ARCH ;;'
        " *) exit 1 ;; esac && echo done")
    assert names(script) == ["uname", None, None, "echo", "exit", "echo"]
    assert [c.conditional for c in script.commands] == [False, True, True, True, True, False]
    assert script.commands[2].assignments[0].value.value == "arm64"
    assert script.commands[-1].connector == "&&"


def test_function_definitions() -> None:
    script = parse_script("f() { apt-get install -y x; }; function g { b; }; f")
    assert set(script.functions) == {"f", "g"}
    install, b, call = script.commands
    assert install.conditional and install.function == "f" and b.function == "g"
    assert not call.conditional and call.function is None
    assert script.statements[0].kind == "function"


def test_group_redirect_and_depth() -> None:
    script = parse_script("{ echo a; echo b; } > /etc/x 2>&1")
    for command in script.commands:
        assert command.depth == 1 and command.redirects == []
        assert [(r.op, r.fd, r.target.value) for r in command.group_redirects if r.target] == [
            (">", None, "/etc/x"), (">&", 2, "1")]


def test_arithmetic_and_test_commands() -> None:
    script = parse_script('[[ -f x && $y == z* ]] && [ -d "$d" ] || test -e f; (( n += 1 ))')
    double, single, test = script.commands
    assert double.kind == "test" and double.name.value == "[["
    assert [a.text for a in double.args] == ["-f", "x", "&&", "$y", "==", "z*", "]]"]
    assert single.argv({"d": "/opt"}) == ["[", "-d", "/opt", "]"]
    assert test.kind == "simple" and test.conditional
    assert script.statements[-1].kind == "arith"
    arith = only("echo $((1 + 2))").args[0]
    assert arith.value is None and arith.parts[0].kind == ARITH
    assert names(parse_script("echo $(( 1 + $(nproc) ))")) == ["nproc", "echo"]


def test_comments_are_ignored() -> None:
    script = parse_script("a # comment && b\n# whole line\nc")
    assert names(script) == ["a", "c"]
    assert script.commands[1].connector == ";"


def test_empty_and_whitespace() -> None:
    for text in ("", "  \n", "# only a comment"):
        script = parse_script(text)
        assert script.commands == [] and not script.has_errors


def test_iter_commands() -> None:
    script = parse_script("apt-get update && /usr/bin/apt-get install x && apt update")
    assert len(list(iter_commands(script, "apt-get"))) == 2
    assert len(list(script.iter_commands())) == 3


# -- words: quoting, escapes, concatenation ---------------------------------------------

def test_quotes_and_escapes() -> None:
    command = only("""echo 'a b' "c \\"d\\" \\$e \\q" f\\ g $'h\\ti\\x41\\n' 'x'"y"z""")
    assert args(command) == ["a b", 'c "d" $e \\q', "f g", "h\tiA\n", "xyz"]
    assert all(a.literal for a in command.args)
    spans_are_slices(parse_script(command.name.text))


def test_concatenation_with_expansion() -> None:
    word = only('./configure --prefix=/usr/"$X" ${Y}/lib').args[0]
    assert word.text == '--prefix=/usr/"$X"' and word.value is None and not word.literal
    assert [(p.kind, p.text, p.quoted) for p in word.parts] == [
        (LIT, "--prefix=/usr/", False), (PARAM, "X", True)]
    assert expand_word(word, {"X": "local"}) == "--prefix=/usr/local"
    assert expand_word(word, {}) is None


def test_globs() -> None:
    command = only("rm -rf /var/lib/apt/lists/* '/tmp/*' /a\\*")
    assert args(command) == ["-rf", "/var/lib/apt/lists/*", "/tmp/*", "/a*"]
    assert [a.glob for a in command.args] == [False, True, False, False]


def test_assignments_prefix_and_export() -> None:
    command = only("DEBIAN_FRONTEND=noninteractive A+=x EMPTY= apt-get install -y tzdata")
    assert [(a.name, a.value.value, a.append) for a in command.assignments] == [
        ("DEBIAN_FRONTEND", "noninteractive", False), ("A", "x", True), ("EMPTY", "", False)]
    assert command.name.value == "apt-get"
    export = only('export PATH=/opt/bin:$PATH GOPATH=/go "Q=1" LANG')
    assert export.kind == "declaration" and export.name.value == "export"
    assert [a.text for a in export.args] == ["PATH=/opt/bin:$PATH", "GOPATH=/go", '"Q=1"', "LANG"]
    assert [(d.name, d.value.value) for d in export.declarations] == [
        ("PATH", None), ("GOPATH", "/go")]
    assert export.argv({"PATH": "/bin"}) == ["export", "PATH=/opt/bin:/bin", "GOPATH=/go",
                                             "Q=1", "LANG"]
    assert only("unset A B").kind == "unset"
    assert only("local x=1").declarations[0].name == "x"


def test_builtins_sourcing_and_set() -> None:
    script = parse_script(
        ". /etc/os-release && source ./env.sh; set -o pipefail; umask 0022; cd /src")
    assert [(c.name_value, args(c)) for c in script.commands] == [
        (".", ["/etc/os-release"]), ("source", ["./env.sh"]), ("set", ["-o", "pipefail"]),
        ("umask", ["0022"]), ("cd", ["/src"])]


def test_non_ascii_offsets_are_characters() -> None:
    text = 'echo "héllo" && ls ü > "f€" # ünïcode\ncp ∂ x'
    script = parse_script(text)
    spans_are_slices(script)
    assert [args(c) for c in script.commands] == [["héllo"], ["ü"], ["∂", "x"]]
    assert script.commands[1].redirects[0].target.value == "f€"


# -- redirects and the tree-sitter quirks -------------------------------------------------

def test_redirect_after_list_belongs_to_last_command() -> None:
    """tree-sitter attaches `> log` to the whole `a && b` list; bash to `b` only."""
    script = parse_script("make && make install > /tmp/log 2>&1")
    make, install = script.commands
    assert make.redirects == []
    assert [(r.op, r.fd, r.target.value) for r in install.redirects if r.target] == [
        (">", None, "/tmp/log"), (">&", 2, "1")]
    assert install.span == (8, 36)
    piped = parse_script("a | b > log")
    assert piped.commands[0].redirects == [] and piped.commands[1].redirects[0].writes


def test_redirect_in_the_middle_keeps_the_arguments() -> None:
    """tree-sitter puts `-q pat f` under the `2>/dev/null` redirect node."""
    command = only("grep 2>/dev/null -q pat f")
    assert args(command) == ["-q", "pat", "f"]
    (redirect,) = command.redirects
    assert (redirect.op, redirect.fd, redirect.target.value) == (">", 2, "/dev/null")
    assert redirect.effective_fd == 2 and redirect.span == (5, 16)
    command = only("cmd >a b >c d")
    assert args(command) == ["b", "d"]
    assert [r.target.value for r in command.redirects] == ["a", "c"]


def test_redirect_before_name_and_kinds() -> None:
    """Also: after another redirect tree-sitter reads `<<<` as an ERROR `<<` plus `<`."""
    command = only(">/tmp/f FOO=1 cmd a <in &>>all <<<'word'")
    assert command.name.value == "cmd" and args(command) == ["a"]
    assert [(r.op, r.target.value, r.writes, r.effective_fd) for r in command.redirects] == [
        (">", "/tmp/f", True, 1), ("<", "in", False, 0), ("&>>", "all", True, 1),
        ("<<<", "word", False, 0)]


def test_heredoc_with_file_redirect() -> None:
    """`cat <<EOF > /etc/x`: tree-sitter nests the `>` redirect inside the heredoc one."""
    text = "cat <<EOF > /etc/x\nhello $X\nEOF\necho hi"
    script = parse_script(text)
    cat, echo = script.commands
    heredoc, out = cat.redirects
    assert (heredoc.op, heredoc.target.value, heredoc.span) == ("<<", "EOF", (4, 9))
    assert heredoc.heredoc is not None and not heredoc.heredoc.quoted
    assert heredoc.heredoc.body.text == "hello $X\n"
    assert expand_word(heredoc.heredoc.body, {"X": "world"}) == "hello world\n"
    assert (out.op, out.target.value) == (">", "/etc/x")
    assert echo.connector == ";" and cat.span == (0, 18)


def test_heredoc_followed_by_pipeline_and_list() -> None:
    """tree-sitter nests `| tee ... && rm` inside the heredoc redirect."""
    script = parse_script("cat <<EOF | tee f > /dev/null && rm x\nb\nEOF\nz")
    assert names(script) == ["cat", "tee", "rm", "z"]
    cat, tee, rm, z = script.commands
    assert cat.in_pipeline and tee.in_pipeline and tee.connector == "|"
    assert not rm.in_pipeline and rm.connector == "&&" and z.connector == ";"
    assert [r.target.value for r in tee.redirects] == ["/dev/null"]
    assert script.statements[0].kind == "list"
    script = parse_script("cmd <<EOF || true\nb\nEOF\n")
    assert names(script) == ["cmd", "true"] and script.commands[1].conditional


def test_heredoc_quoting_tabs_and_continuations() -> None:
    quoted = only("cat <<'EOF' > /x\n$HOME \\\nstays\nEOF\n").redirects[0].heredoc
    assert quoted is not None and quoted.quoted and quoted.body.value == "$HOME \\\nstays\n"
    plain = only("cat <<EOF\nfoo \\\nbar \\$Y\nEOF\n").redirects[0].heredoc
    assert plain is not None and plain.body.value == "foo bar $Y\n"
    tabs = only("cat <<-EOF\n\tfoo\n\t\tbar\n\tEOF\n").redirects[0]
    assert tabs.op == "<<-" and tabs.heredoc is not None and tabs.heredoc.strip_tabs
    assert tabs.heredoc.body.value == "foo\nbar\n"
    assert only("cat <<EOF\nEOF").redirects[0].heredoc.body.value == ""


def test_heredoc_dash_argument() -> None:
    """tree-sitter drops the `-` of `python3 - <<EOF`, or lexes `-<<` as one token."""
    assert args(only("python3 - <<EOF\nprint(1)\nEOF\n")) == ["-"]
    assert args(only("cat -<<EOF\nx\nEOF\n")) == ["-"]
    assert args(only("cat a - <<EOF >f\nx\nEOF\n")) == ["a", "-"]


def test_leading_heredoc_redirect() -> None:
    """`RUN <<EOF python3 -` reaches us as a heredoc before the command name."""
    text = '<<"EOF" python3 - x\nprint(1)\nEOF\n'
    script = parse_script(text)
    assert not script.has_errors
    (command,) = script.commands
    assert command.name.value == "python3" and args(command) == ["-", "x"]
    (redirect,) = command.redirects
    assert redirect.span == (0, 7) and redirect.target.value == "EOF"
    assert redirect.heredoc is not None and redirect.heredoc.body.value == "print(1)\n"
    spans_are_slices(script)
    piped = parse_script("<<EOF cat | sh -x\necho\nEOF")
    assert names(piped) == ["cat", "sh"] and piped.commands[1].in_pipeline


def test_backtick_comment() -> None:
    """`` `# comment` `` in a joined RUN: tree-sitter's comment would eat the rest."""
    script = parse_script(
        "apt-get update &&     `# tools` apt-get install -y git &&  `# done`  true")
    assert not script.has_errors
    assert names(script) == ["apt-get", "apt-get", "true"]
    assert script.commands[1].args[-1].span == (51, 54)
    assert names(parse_script("echo '`# not a comment`' && b")) == ["echo", "b"]


def test_backslash_newline_inside_a_word() -> None:
    """tree-sitter splits `foo\\<newline>bar` into two words; bash reads one."""
    command = only('apt-get ins\\\ntall "a\\\nb" x\\ y')
    assert command.name.value == "apt-get"
    assert args(command) == ["install", "ab", "x y"]
    spaced = only("apt-get install \\\n  curl")
    assert args(spaced) == ["install", "curl"]


def test_errors_are_reported_not_raised() -> None:
    script = parse_script("if then fi; echo ok")
    assert script.has_errors and script.errors
    script = parse_script("echo 'unterminated")
    assert script.has_errors


def test_hostile_input_does_not_raise() -> None:
    chain = parse_script("a && " * 3000 + "b | c || d")
    assert len(chain.commands) == 3003 and not chain.has_errors
    assert chain.commands[-1].conditional and chain.commands[-2].in_pipeline
    deep = parse_script("( " * 400 + "a" + " )" * 400)
    assert deep.has_errors and deep.errors == [(0, len(deep.text))]
    for text in ("${", "$((", "<<", "cat <<EOF", "'", '"$(', "\\", "\udc80 \x00", "case x in"):
        parse_script(text)
    long = only("echo ${X%%.*}").args[0]
    assert expand_word(long, {"X": "a." * 5000}) is None


# -- expansion ----------------------------------------------------------------------------

ENV = {"X": "x", "E": "", "V": "1.2.3", "P": "a b  c", "F": "/usr/lib/libfoo.so.1"}


@pytest.mark.parametrize(("text", "expected"), [
    ("$X", "x"), ("${X}", "x"), ("${X:-d}", "x"), ("${E:-d}", "d"), ("${E-d}", ""),
    ("${U:-d}", None), ("${X:+alt}", "alt"), ("${E:+alt}", ""), ("${E+alt}", "alt"),
    ('${X:-"a b"}', "x"), ("${E:-$X/y}", "x/y"), ("${#V}", "5"), ("${V%.*}", "1.2"),
    ("${V%%.*}", "1"), ("${V#*.}", "2.3"), ("${V##*.}", "3"), ("${F##*/}", "libfoo.so.1"),
    ("${V//./-}", "1-2-3"), ("${V/./-}", "1-2.3"), ("${V:0:3}", "1.2"), ("${X^^}", "X"),
    ('"$X"-$V', "x-1.2.3"), ("$U", None), ("$(date)", None), ("${!X}", None),
    ("${E:?oops}", None), ("~/.cache", "~/.cache"),
])
def test_expand_word(text: str, expected: str | None) -> None:
    word = parse_script(f"echo {text}").commands[-1].args[0]
    assert expand_word(word, ENV) == expected


def test_expand_assume_unset() -> None:
    word = only("echo ${U:-default}-$U").args[0]
    assert expand_word(word, ENV) is None
    assert expand_word(word, ENV, assume_unset=True) == "default-"


def test_field_splitting_and_argv() -> None:
    command = only('apt-get install -y $P "$P" $E "" x$P')
    assert command.argv(ENV) == ["apt-get", "install", "-y", "a", "b", "c", "a b  c", "",
                                 "xa", "b", "c"]
    assert static_args(command, ENV) == ["install", "-y", "a b  c", "a b  c", "", "", "xa b  c"]
    assert command.argv({}) == ["apt-get", "install", "-y", None, None, None, "", None]
    assert expand_fields(only("echo $E").args[0], ENV) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("words", [
    '$P "$P" x$P"y"', "${V%.*} ${V##*.} ${V//./_} ${F#*/} ${F%/*}",
    "'a'\"b\"c \\$X \\\\ $'t\\tn'", '${E:-"a b"} ${X:+$P} ${E+set} -"$E"- $E',
    '"${P:-x}" pre${V:2}post ${V:1:3}', "${X^} ${V/#1/0}",
    "${E:-a  b}c ${X:+ x y } z${E:-'q r'}",
])
def test_expansion_matches_bash(words: str) -> None:
    """Differential check of expand_fields against the real shell."""
    exports = "".join(f"{k}='{v}'; " for k, v in ENV.items())
    out = subprocess.run(["bash", "-c", f"{exports}printf '%s\\0' {words}"],
                         capture_output=True, text=True, check=True).stdout
    expected = out.split("\0")[:-1]
    command = only(f"printf '%s\\0' {words}")
    assert command.argv(ENV)[2:] == expected


# -- corpus smoke test --------------------------------------------------------------------

_RUN = re.compile(r"^[ \t]*RUN[ \t]+", re.I)
_HEREDOC = re.compile(r"<<-?[ \t]*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")
_WINDOWS = re.compile(r"(?im)^\s*#\s*escape\s*=\s*`|^\s*FROM\s+\S*(windows|servercore|nanoserver)"
                      r"|SHELL\s*\[\s*\"(powershell|cmd|pwsh)")


def run_bodies(text: str) -> list[str]:
    """RUN scripts, roughly as BuildKit hands them to /bin/sh (crude, good enough here)."""
    if _WINDOWS.search(text):
        return []
    lines = text.splitlines()
    bodies: list[str] = []
    i = 0
    while i < len(lines):
        match = _RUN.match(lines[i])
        i += 1
        if not match:
            continue
        line, pieces = lines[i - 1][match.end():], []
        while line.rstrip().endswith("\\"):
            pieces.append(line.rstrip()[:-1])
            while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                i += 1  # BuildKit drops comment and blank lines inside continuations
            if i >= len(lines):
                line = ""
                break
            line, i = lines[i], i + 1
        script = "".join(pieces) + line
        while script.lstrip().startswith("--"):  # --mount=... flags
            script = script.lstrip().partition(" ")[2]
        if script.lstrip().startswith("["):
            continue  # exec form
        docs = _HEREDOC.findall(script)
        for _quote, name in docs:
            body = []
            while i < len(lines) and lines[i].strip() != name:
                body.append(lines[i])
                i += 1
            i += 1
            if len(docs) == 1 and re.fullmatch(r"\s*<<-?\s*\S+\s*", script):
                script = "\n".join(body) + "\n"
            else:
                script += "\n" + "\n".join(body) + "\n" + name
        bodies.append(script)
    return bodies


def test_real_corpus_run_bodies() -> None:
    bodies = [body for path in corpus_files("real")
              for body in run_bodies(path.read_bytes().decode("utf-8", "replace"))]
    assert len(bodies) > 5000
    parse_script("warm up")
    start = time.perf_counter()
    errors = commands = 0
    for body in bodies:
        script = parse_script(body)
        errors += script.has_errors
        commands += len(script.commands)
    elapsed = time.perf_counter() - start
    # tree-sitter alone, for scale: timings vary with machine load, so they are only printed.
    import tree_sitter
    import tree_sitter_bash

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    encoded = [body.encode() for body in bodies]
    start = time.perf_counter()
    for data in encoded:
        parser.parse(data)
    raw = time.perf_counter() - start
    print(f"\nshell corpus: {len(bodies)} RUN bodies, {errors} with tree-sitter errors, "
          f"{commands} commands; {len(bodies) / elapsed:.0f} RUNs/s "
          f"(tree-sitter alone: {len(bodies) / raw:.0f} RUNs/s)", file=sys.stderr)
    assert errors < len(bodies) // 200  # a regression guard: 10 of ~9000 today
