"""Hypothesis strategies that generate Dockerfiles, for the parser's property-based tests.

Three families, from most to least structured:

* ``dockerfiles()`` builds files from a grammar of what BuildKit accepts: parser directives,
  every instruction kind with its flags and both argument forms, continuation lines using the
  active escape character (sometimes the other one, sometimes with trailing blanks after it),
  comment and blank lines inside continuations, heredocs (terminated or not), CRLF/LF mixes,
  a BOM, unicode, a trailing escape at EOF and a missing final newline.
* ``line_soups()`` glues lines drawn from a pool of parser-significant fragments, so that
  odd combinations the grammar never produces (a lone escape, ``<<`` words in a comment,
  a directive after an instruction ...) show up densely.
* ``corpus_mutants()`` takes real files from the shared corpus and damages them: inserting,
  deleting, duplicating and swapping lines, flipping line endings, splicing two files,
  truncating at a random point and inserting random text.

Every strategy produces ``str`` (decoded text), the parser's input type.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

from tests.corpus import CORPUS

# ---------------------------------------------------------------------------------------------
# Building blocks

# Line endings: mostly LF, then CRLF; a doubled CR and a lone CR are rare but legal bytes
# (BuildKit only splits at LF and strips every trailing CR/LF from a line).
LINE_ENDINGS = st.sampled_from(["\n"] * 6 + ["\r\n"] * 3 + ["\r\r\n", "\n\r\n"])
# Blanks BuildKit treats differently: [ \t] may follow a continuation escape, the other Go
# spaces (\v \f \xa0 ...) may not, but they are stripped at the start of a line.
INLINE_BLANK = st.sampled_from([" ", "  ", "\t", " \t "])
TRAILING_AFTER_ESCAPE = st.sampled_from(["", "", "", " ", "\t", "  \t "])
INDENT = st.sampled_from(["", "", "  ", "    ", "\t", " \t"])

UNICODE_BITS = ["é", "日本語", "Ω", "🐳", "\u00a0", "\u2003", "\u200b", "ß", "İ", "\u0085", "ſ"]
IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
PATHS = st.sampled_from(
    ["/app", "/usr/local/bin/", ".", "./src", "src/*.py", "/etc/nginx/conf.d/x.conf", "C:\\app", "/tmp/ä ö", "$HOME/x"]
)
IMAGES = st.sampled_from(
    ["alpine", "alpine:3.19", "ubuntu:22.04", "python:3.12-slim", "golang:1.22 ", "scratch",
     "${BASE}", "$REGISTRY/app:${TAG:-latest}", "mcr.microsoft.com/windows/servercore:ltsc2022",
     "node@sha256:" + "a" * 64]
)


def keyword_case(word: str) -> st.SearchStrategy[str]:
    """The keyword as written: upper, lower or mixed case (BuildKit is case-insensitive)."""
    return st.sampled_from([word, word, word.lower(), word.capitalize(), word[0].lower() + word[1:]])


@st.composite
def shell_words(draw: st.DrawFn) -> str:
    """One shell-ish word: plain, quoted, with variables, escapes, substitutions, unicode."""
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return draw(st.sampled_from(["&&", "||", "|", ";", ">", "2>&1", "<", "&", "\\;"]))
    if kind == 1:
        inner = "".join(draw(st.lists(st.sampled_from(list("ab $\\'`#") + ['\\"']), max_size=8)))
        return '"' + inner + '"'
    if kind == 2:
        return "'" + draw(st.text(st.sampled_from(list('ab $\\"`#<')), max_size=8)) + "'"
    if kind == 3:
        return draw(st.sampled_from(["$VAR", "${VAR}", "${VAR:-def}", "${VAR:+x}", "$(id -u)", "`date`", "$$"]))
    if kind == 4:
        return draw(st.sampled_from(UNICODE_BITS))
    if kind == 5:
        # A word containing either escape character somewhere (never a line end by itself).
        return draw(st.sampled_from(["a\\b", "c:\\\\path", "x`y", "\\$HOME", "\\\\", "``"]))
    if kind == 6:
        return draw(st.sampled_from(["#", "#notacomment", "a#b", "<<", "<<-", "'<<EOF'", "\"<<X\"", "<EOF", "<<<x"]))
    if kind == 7:
        return draw(st.sampled_from(["--", "--flag", "-e", "--mount=type=cache,target=/x"]))
    return draw(st.sampled_from(
        ["apt-get", "install", "-y", "--no-install-recommends", "curl", "echo", "hello", "make", "pip",
         "rm", "-rf", "/var/lib/apt/lists/*", "cd", "/src", "go", "build", "./...", "true", "npm", "ci"]
    ))


def json_array(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """An exec-form array, sometimes malformed (BuildKit then falls back to the shell form)."""
    good = st.builds(
        lambda xs, sep: "[" + sep.join(json.dumps(x, ensure_ascii=False) for x in xs) + "]",
        st.lists(items, max_size=4),
        st.sampled_from([", ", ",", " , "]),
    )
    bad = st.sampled_from(
        ['["a", 1]', '["unterminated', "['single']", "[]", '["a",]', '[["nested"]]', "[ ]", '["a"] trailing', '[true]']
    )
    return st.one_of(good, good, bad)


JSON_ITEMS = st.one_of(shell_words(), st.text(max_size=6))


@st.composite
def flags(draw: st.DrawFn, names: list[str]) -> list[str]:
    """Zero or more ``--name=value`` flags, sometimes quoted, sometimes valueless."""
    out = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(names))
        value = draw(st.sampled_from(["", "x", "type=cache,target=/root/.cache", "type=secret,id=npmrc",
                                      "type=bind,source=.,target=/src,rw", "none", "host", "insecure", "sandbox",
                                      "1000:1000", "755", "u=rwx,go=rx", "builder", "linux/amd64", "$BUILDPLATFORM",
                                      '"quoted value"', "'single'", "a\\ b", "façade"]))
        out.append(f"--{name}" if value == "" and draw(st.booleans()) else f"--{name}={value}")
    return out


# ---------------------------------------------------------------------------------------------
# Instructions as lists of words (the layout onto physical lines happens later)


@st.composite
def instruction_words(draw: st.DrawFn, *, allow_onbuild: bool = True) -> list[str]:
    kind = draw(st.sampled_from(
        ["FROM", "RUN", "RUN", "RUN-JSON", "COPY", "ADD", "COPY-JSON", "ENV", "LABEL", "ARG", "ONBUILD",
         "HEALTHCHECK", "SHELL", "CMD", "ENTRYPOINT", "WORKDIR", "USER", "EXPOSE", "VOLUME", "STOPSIGNAL",
         "MAINTAINER", "UNKNOWN"]
    ))
    if kind == "ONBUILD" and not allow_onbuild:
        kind = "RUN"
    if kind == "FROM":
        words = [draw(keyword_case("FROM"))] + draw(flags(["platform"])) + [draw(IMAGES)]
        if draw(st.booleans()):
            words += [draw(st.sampled_from(["AS", "as", "As"])), draw(IDENT)]
        return words
    if kind == "RUN":
        words = [draw(keyword_case("RUN"))] + draw(flags(["mount", "network", "security", "mount"]))
        return words + draw(st.lists(shell_words(), min_size=0, max_size=8))
    if kind in ("RUN-JSON", "CMD", "ENTRYPOINT", "SHELL"):
        name = "RUN" if kind == "RUN-JSON" else kind
        words = [draw(keyword_case(name))]
        if kind != "SHELL" and draw(st.booleans()):
            return words + draw(st.lists(shell_words(), min_size=0, max_size=5))
        return words + [draw(json_array(JSON_ITEMS))]
    if kind in ("COPY", "ADD", "COPY-JSON"):
        name = "COPY" if kind == "COPY-JSON" else kind
        words = [draw(keyword_case(name))] + draw(flags(["from", "chown", "chmod", "link", "exclude", "parents", "checksum", "keep-git-dir"]))
        if kind == "COPY-JSON":
            return words + [draw(json_array(st.sampled_from(["a.txt", "b c", "/dst/", "ü"])))]
        return words + draw(st.lists(PATHS, min_size=0, max_size=4))
    if kind in ("ENV", "LABEL"):
        words = [draw(keyword_case(kind))]
        if draw(st.integers(0, 3)) == 0:  # old form: KEY value with spaces
            return words + [draw(IDENT)] + draw(st.lists(shell_words(), min_size=0, max_size=3))
        for _ in range(draw(st.integers(0, 3))):
            value = draw(st.sampled_from(['x', '"a b"', "'c d'", 'a\\ b', '"esc \\" quote"', "", '"', "$OTHER", "é=1", "a=b=c"]))
            words.append(f"{draw(IDENT)}={value}")
        if draw(st.integers(0, 6)) == 0:
            words.append(draw(IDENT))  # a word without '=': a syntax error in BuildKit
        return words
    if kind == "ARG":
        words = [draw(keyword_case("ARG"))]
        for _ in range(draw(st.integers(0, 3))):
            name = draw(IDENT)
            words.append(draw(st.sampled_from([name, f"{name}=", f"{name}=1", f'{name}="a b"', f"{name}='x'"])))
        return words
    if kind == "ONBUILD":
        return [draw(keyword_case("ONBUILD"))] + draw(instruction_words(allow_onbuild=draw(st.integers(0, 5)) == 0))
    if kind == "HEALTHCHECK":
        words = [draw(keyword_case("HEALTHCHECK"))]
        if draw(st.integers(0, 3)) == 0:
            return words + ["NONE"]
        words += draw(flags(["interval", "timeout", "start-period", "retries", "start-interval"]))
        words.append(draw(st.sampled_from(["CMD", "cmd", "CMD"])))
        if draw(st.booleans()):
            return words + [draw(json_array(JSON_ITEMS))]
        return words + draw(st.lists(shell_words(), min_size=0, max_size=4))
    if kind == "EXPOSE":
        return [draw(keyword_case("EXPOSE"))] + draw(st.lists(st.sampled_from(["80", "443/tcp", "53/udp", "$PORT"]), max_size=3))
    if kind == "VOLUME":
        if draw(st.booleans()):
            return [draw(keyword_case("VOLUME")), draw(json_array(PATHS))]
        return [draw(keyword_case("VOLUME"))] + draw(st.lists(PATHS, max_size=3))
    if kind in ("WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"):
        return [draw(keyword_case(kind))] + draw(st.lists(st.one_of(PATHS, shell_words()), max_size=3))
    # Unknown instruction words: BuildKit's parser keeps them (the build rejects them later).
    word = draw(st.sampled_from(["FOO", "RUNX", "COPY2", "FROM:", "#x", "\ufeffFROM", "ＲＵＮ", "ſHELL", "HEALTHCHEC\u212a", "x"]))
    return [word] + draw(st.lists(shell_words(), max_size=3))


# ---------------------------------------------------------------------------------------------
# Layout: words onto physical lines with continuations, comments and blanks in between


@st.composite
def continuation_break(draw: st.DrawFn, escape: str) -> str:
    """What goes between two pieces of one instruction when the line is continued."""
    esc = escape if draw(st.integers(0, 9)) else ("`" if escape == "\\" else "\\")  # sometimes the wrong one
    out = esc + draw(TRAILING_AFTER_ESCAPE) + draw(LINE_ENDINGS)
    # Lines BuildKit drops inside a continuation: comments (even indented ones) and blank lines.
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 3)) == 0 else 0):
        filler = draw(st.sampled_from(["", "   ", "# comment", "  # indented comment", "#", "\t", "# <<EOF"]))
        out += filler + draw(LINE_ENDINGS)
    if draw(st.integers(0, 12)) == 0:
        out += esc + draw(LINE_ENDINGS)  # a line holding only the escape
    return out + draw(INDENT)


@st.composite
def layout(draw: st.DrawFn, words: list[str], escape: str) -> str:
    """Join words with blanks or continuation breaks; the result has no final line ending."""
    out = draw(INDENT) + words[0]
    for word in words[1:]:
        if draw(st.integers(0, 4)) == 0:
            out += draw(st.sampled_from([" ", ""])) + draw(continuation_break(escape))
        else:
            out += draw(INLINE_BLANK)
        out += word
    if draw(st.integers(0, 8)) == 0:
        out += draw(INLINE_BLANK)  # trailing blanks on the last line
    return out


@st.composite
def heredoc_instruction(draw: st.DrawFn, escape: str, line_ending: str) -> str:
    """RUN/COPY/ADD (maybe under ONBUILD) with 1-3 heredocs and their bodies."""
    head = [draw(st.sampled_from(["RUN", "run", "COPY", "ADD", "ONBUILD RUN", "ONBUILD COPY"]))]
    if draw(st.booleans()):
        head += draw(flags(["mount", "network", "chmod", "link"]))
    names: list[tuple[str, bool]] = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(["EOF", "EOT", "END", "FILE1", "x", "eof", "E_O-F", "é", "one"]))
        chomp = draw(st.booleans())
        fd = draw(st.sampled_from(["", "", "", "2", "10"]))
        quoted = draw(st.sampled_from(["{}", "{}", "'{}'", '"{}"', "{}'", "e'{}'"]))
        spaced = draw(st.integers(0, 5)) == 0
        op = f"{fd}<<{'-' if chomp else ''}"
        delimiter = quoted.format(name)
        head.append(f"{op} {delimiter}" if spaced else op + delimiter)
        names.append((name, chomp))
        if draw(st.integers(0, 2)) == 0:
            head.append(draw(st.sampled_from(["python3", "> /out", "/dest/", "|", "sh", "&&", "cat"])))
    text = draw(layout(head, escape)) + line_ending
    for name, chomp in names:
        for _ in range(draw(st.integers(0, 4))):
            body = draw(st.sampled_from(
                ["echo hi", "\techo tab", "", "  ", f"{name} not yet", f" {name}", f"{name} ", "# comment",
                 "RUN inside", "\\", "`", "<<EOF", "$VAR ${X}", "🐳 é", f"{name}x"]
            ))
            text += body + draw(LINE_ENDINGS)
        mode = draw(st.integers(0, 9))
        if mode == 0:
            continue  # unterminated: the rest of the file becomes body, and parsing reports it
        prefix = draw(st.sampled_from(["\t", "\t\t"])) if chomp and draw(st.booleans()) else ""
        text += prefix + name + draw(LINE_ENDINGS)
    return text


@st.composite
def directives(draw: st.DrawFn) -> tuple[str, str]:
    """Leading parser-directive lines and the escape character they select."""
    escape = draw(st.sampled_from(["\\", "\\", "`"]))
    lines = []
    pool = [
        "# syntax=docker/dockerfile:1", "#syntax = docker/dockerfile:1.7-labs", "# check=skip=all",
        "# check=error=true", "# Syntax=foo", "#  escape  =  {e}", "# unknown=1", "# not a directive",
        "# escape={e}", "# escape={e}", "#escape={e}",
        # Blanks that RE2's \s does or does not accept (Python's \s accepts them all).
        "#\tescape\f=\f{e}", "#\vescape={e}", "# escape={e}\u00a0", "#\u2003syntax=x", "# escape= ", "# syntax=\t",
    ]
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(st.sampled_from(pool)).format(e=escape))
    if escape == "`" and not any("escape" in line.lower() for line in lines):
        lines.insert(0, "# escape=`")
    if draw(st.integers(0, 15)) == 0:
        lines.append(draw(st.sampled_from(["# escape=x", "# escape=", "# syntax=a", "# ESCAPE=\\"])))
    return "".join(line + draw(LINE_ENDINGS) for line in lines), escape


@st.composite
def dockerfiles(draw: st.DrawFn, *, heredocs: bool = True, max_items: int = 12) -> str:
    """A whole Dockerfile from the grammar above (valid or subtly broken)."""
    text, escape = draw(directives())
    for _ in range(draw(st.integers(1, max_items))):
        item = draw(st.integers(0, 9))
        if item == 0:
            text += draw(st.sampled_from(["", " ", "\t", "  \t"])) + draw(LINE_ENDINGS)
        elif item == 1:
            text += draw(INDENT) + "#" + draw(st.sampled_from([" comment", "", " RUN x \\", " <<EOF", " é 🐳", " escape=`"])) + draw(LINE_ENDINGS)
        elif item == 2 and heredocs:
            text += draw(heredoc_instruction(escape, draw(LINE_ENDINGS)))
        else:
            text += draw(layout(draw(instruction_words()), escape)) + draw(LINE_ENDINGS)
    ending = draw(st.integers(0, 9))
    if ending == 0:
        text = text.rstrip("\r\n")  # no final newline
    elif ending == 1:
        text = text.rstrip("\r\n") + " " + escape + draw(TRAILING_AFTER_ESCAPE)  # trailing escape at EOF
    elif ending == 2:
        text += escape + draw(LINE_ENDINGS)  # a lone escape line at the end
    if draw(st.integers(0, 7)) == 0:
        text = "\ufeff" + text
    return text


# ---------------------------------------------------------------------------------------------
# Line soups: dense combinations of parser-significant fragments

SOUP_LINES = [
    "FROM a", "RUN x", "run y \\", "RUN a `", "\\", "`", " \\ ", "\\\\", "``", "# c", "  # c \\", "#", "",
    "   ", "\t", "# escape=`", "# escape=\\", "# syntax=x", "# check=skip=all", "RUN <<EOF", "RUN <<-EOF",
    "COPY <<A <<B /d", "EOF", "\tEOF", "A", "B", "RUN 2<<'X' \\", "X", "ONBUILD RUN <<EOF", "ENV a=b \\",
    "LABEL k v", "ENV X", "CMD [\"a\"]", "CMD [\"a\", 1]", "HEALTHCHECK", "ONBUILD", "ONBUILD ONBUILD RUN x",
    "\ufeffFROM b", "é \\", "RUN echo \"unterminated \\", "RUN '<<EOF'", "RUN <<\"EOF", "\x00", "\u2028",
    "\u0085RUN x", "\u00a0\\", "RUN [", "ARG A=1 B", "FROM --platform=$P a AS b", "COPY --from=b . .",
]


@st.composite
def line_soups(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(st.sampled_from(SOUP_LINES), st.text(max_size=6)), min_size=0, max_size=25))
    text = "".join(line + draw(LINE_ENDINGS) for line in lines)
    if text and draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


# Arbitrary text weighted towards characters the parser cares about.
NASTY_CHARS = list("\\`#<-'\" \t\r\n\r\n=[]$EOFRUN\ufeff\x00") + ["\u00a0", "\u0085", "\u2028", "é", "🐳"]
nasty_text = st.text(st.one_of(st.sampled_from(NASTY_CHARS), st.characters()), max_size=200)


# ---------------------------------------------------------------------------------------------
# Corpus mutation


def _corpus_root() -> Path:
    return Path(os.environ.get("DOCKOPT_CORPUS", CORPUS))


@lru_cache(maxsize=1)
def corpus_paths() -> tuple[Path, ...]:
    """Corpus files (any decodable encoding), or () when the corpus is not checked out."""
    root = _corpus_root()
    if not root.is_dir():
        return ()
    return tuple(sorted(p for p in root.rglob("*") if p.is_file() and p.name not in {"MANIFEST.tsv", "README.md"}))


@lru_cache(maxsize=512)
def read_corpus_text(path: Path) -> str:
    from dockopt.fileio import FileError, decode

    try:
        return decode(path.read_bytes(), str(path))[0]
    except FileError:
        return path.read_bytes().decode("utf-8", "replace")


# Used when the corpus is absent so that the strategy still has something to mutate.
FALLBACK_SEEDS = (
    "FROM alpine:3.19\nRUN apk add --no-cache curl \\\n    && rm -rf /var/cache/apk/*\nCOPY . /app\nCMD [\"/app/run\"]\n",
    "# escape=`\r\nFROM mcr.microsoft.com/windows/servercore\r\nRUN dir `\r\n  c:\\\r\n",
    "# syntax=docker/dockerfile:1\nFROM python:3.12\nRUN <<EOF\npip install x\nEOF\nCOPY <<A <<B /d\na\nA\nb\nB\n",
)


def corpus_texts() -> st.SearchStrategy[str]:
    paths = corpus_paths()
    if not paths:
        return st.sampled_from(FALLBACK_SEEDS)
    return st.sampled_from(paths).map(read_corpus_text)


def _split_keepends(text: str) -> list[str]:
    # str.splitlines also splits at \v, \x1c, U+2028 ...: coarser or finer "lines" only change
    # where edits land, and "".join() of the pieces is always the original text.
    return text.splitlines(keepends=True)


@st.composite
def corpus_mutants(draw: st.DrawFn) -> str:
    """A real Dockerfile after 1-6 random edits."""
    lines = _split_keepends(draw(corpus_texts()))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(
            ["insert", "delete", "duplicate", "swap", "flip-one", "flip-all", "splice", "truncate", "random-text", "bom", "strip-final"]
        ))
        n = len(lines)
        if op == "insert":
            new = draw(st.one_of(st.sampled_from(SOUP_LINES), st.text(max_size=10))) + draw(LINE_ENDINGS)
            lines.insert(draw(st.integers(0, n)), new)
        elif op == "delete" and n:
            del lines[draw(st.integers(0, n - 1))]
        elif op == "duplicate" and n:
            i = draw(st.integers(0, n - 1))
            lines.insert(draw(st.integers(0, n)), lines[i])
        elif op == "swap" and n >= 2:
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip-one" and n:
            i = draw(st.integers(0, n - 1))
            body = lines[i].rstrip("\r\n")
            lines[i] = body + ("\n" if lines[i].endswith("\r\n") else "\r\n")
        elif op == "flip-all":
            to_crlf = draw(st.booleans())
            lines = [l.rstrip("\r\n") + ("\r\n" if to_crlf else "\n") if l.endswith("\n") else l for l in lines]
        elif op == "splice":
            other = _split_keepends(draw(corpus_texts()))
            cut_here = draw(st.integers(0, n))
            cut_there = draw(st.integers(0, len(other)))
            lines = lines[:cut_here] + other[cut_there:]
        elif op == "truncate":
            text = "".join(lines)
            lines = _split_keepends(text[: draw(st.integers(0, len(text)))])
        elif op == "random-text":
            text = "".join(lines)
            at = draw(st.integers(0, len(text)))
            lines = _split_keepends(text[:at] + draw(nasty_text.filter(bool)) + text[at:])
        elif op == "bom":
            text = "".join(lines)
            lines = _split_keepends(text[1:] if text.startswith("\ufeff") else "\ufeff" + text)
        elif op == "strip-final" and lines:
            lines[-1] = lines[-1].rstrip("\r\n")
    return "".join(lines)


def any_dockerfile() -> st.SearchStrategy[str]:
    """Every family at once, for properties that must hold for all input."""
    return st.one_of(dockerfiles(), line_soups(), nasty_text, corpus_mutants())
