"""Per-instruction argument parsing: BuildKit's dispatch table of line parsers.

``dispatch`` returns the same values BuildKit's AST holds for an instruction (what its
``Dump`` prints in the reference ``result`` files), each with its logical offsets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dockopt.syntax.words import (
    GO_SPACE,
    RE_WHITESPACE,
    NotStringArray,
    Word,
    parse_json_array,
    parse_words,
    split_whitespace,
)


class DispatchError(ValueError):
    """BuildKit's parser rejects the instruction (the whole build fails)."""


@dataclass(frozen=True, slots=True)
class DispatchResult:
    words: list[Word]
    is_json: bool = False
    known: bool = True


def _json_or_none(rest: str) -> DispatchResult | None:
    try:
        values = parse_json_array(rest)
    except NotStringArray as exc:
        raise DispatchError(str(exc)) from None
    if values is None:
        return None
    return DispatchResult([(v, 0, len(rest)) for v in values], is_json=True)


def _maybe_json(rest: str, escape: str) -> DispatchResult:
    if rest == "":
        return DispatchResult([])
    return _json_or_none(rest) or DispatchResult([(rest, 0, len(rest))])


def _maybe_json_to_list(rest: str, escape: str) -> DispatchResult:
    return _json_or_none(rest) or DispatchResult(split_whitespace(rest))


def _whitespace_delimited(rest: str, escape: str) -> DispatchResult:
    return DispatchResult(split_whitespace(rest))


def _string(rest: str, escape: str) -> DispatchResult:
    return DispatchResult([(rest, 0, len(rest))] if rest else [])


def _name_or_name_val(rest: str, escape: str) -> DispatchResult:
    return DispatchResult(parse_words(rest, escape))


def _name_val(keyword: str) -> Callable[[str, str], DispatchResult]:
    def parse(rest: str, escape: str) -> DispatchResult:
        words = parse_words(rest, escape)
        if not words:
            return DispatchResult([])
        if "=" not in words[0][0]:
            # Old format: KEY name value (the value is the rest of the line, verbatim).
            m = RE_WHITESPACE.search(rest)
            if m is None:
                raise DispatchError(f"{keyword} must have two arguments")
            return DispatchResult(
                [(rest[: m.start()], 0, m.start()), (rest[m.end() :], m.end(), len(rest)), ("", len(rest), len(rest))]
            )
        out: list[Word] = []
        for value, start, end in words:
            if "=" not in value:
                raise DispatchError(
                    f'Syntax error - can\'t find = in "{value}". Must be of the form: name=value'
                )
            key, _, val = value.partition("=")
            eq = start + len(key)
            out += [(key, start, eq), (val, eq + 1, end), ("=", eq, eq + 1)]
        return DispatchResult(out)

    return parse


def _health(rest: str, escape: str) -> DispatchResult:
    sep = 0
    while sep < len(rest) and rest[sep] not in GO_SPACE:
        sep += 1
    nxt = sep
    while nxt < len(rest) and rest[nxt] in GO_SPACE:
        nxt += 1
    if sep == 0:
        return DispatchResult([])
    cmd = _maybe_json(rest[nxt:], escape)
    return DispatchResult(
        [(rest[:sep], 0, sep)] + [(v, s + nxt, e + nxt) for v, s, e in cmd.words], is_json=cmd.is_json
    )


def _sub_command(rest: str, escape: str) -> DispatchResult:
    # The triggered instruction is parsed by the caller (it needs the full machinery).
    return DispatchResult([])


DISPATCH: dict[str, Callable[[str, str], DispatchResult]] = {
    "ADD": _maybe_json_to_list,
    "ARG": _name_or_name_val,
    "CMD": _maybe_json,
    "COPY": _maybe_json_to_list,
    "ENTRYPOINT": _maybe_json,
    "ENV": _name_val("ENV"),
    "EXPOSE": _whitespace_delimited,
    "FROM": _whitespace_delimited,
    "HEALTHCHECK": _health,
    "LABEL": _name_val("LABEL"),
    "MAINTAINER": _string,
    "ONBUILD": _sub_command,
    "RUN": _maybe_json,
    "SHELL": _maybe_json,
    "STOPSIGNAL": _string,
    "USER": _string,
    "VOLUME": _maybe_json_to_list,
    "WORKDIR": _string,
}

INSTRUCTIONS = frozenset(DISPATCH)


def dispatch(name: str, rest: str, escape: str) -> DispatchResult:
    parser = DISPATCH.get(name)
    if parser is None:
        return DispatchResult([], known=False)
    return parser(rest, escape)
