"""What BuildKit's instruction parser refuses in a Dockerfile that its line parser accepted.

``dockopt.syntax.parse`` follows BuildKit's *line* parser (moby/buildkit
``frontend/dockerfile/parser``). The build then turns each node into a typed instruction
(``frontend/dockerfile/instructions/parse.go`` and its ``bflag.go``, ``commands_run*.go``),
and refuses, before running anything:

- an instruction other than ARG before the first FROM ("no build stage in current
  context"), and a file with no FROM at all;
- wrong argument counts (``COPY onlyone``, an empty ``WORKDIR``/``EXPOSE``/``USER``/
  ``STOPSIGNAL``, ``FROM a b``), a bad stage name, ``SHELL`` not in JSON form, blank
  ``ENV``/``LABEL``/``ARG`` names, ``ONBUILD ONBUILD``/``FROM``/``MAINTAINER``;
- flags the instruction does not have, a flag without its value, a repeated flag, a bad
  boolean (``--link=maybe``);
- ``HEALTHCHECK`` durations Go's ``time.ParseDuration`` rejects or below 1ms, bad
  ``--retries``, an unknown type, ``NONE`` with arguments;
- ``RUN --network``/``--security`` values, and ``--mount`` specs it cannot use (type,
  sharing, keys, values; checked as the build checks them, after variable expansion, so a
  value that holds a variable is left alone).

``validate(document)`` returns these as ``SyntaxIssue``s with BuildKit's own wording, at the
instruction's line and the column of the offending flag or argument (BuildKit itself only
names the line). The linter reports them as DO000, like parse errors.

A ``# syntax=`` directive naming another frontend than docker/dockerfile turns this off:
other frontends accept other things.
"""
from __future__ import annotations

import re

from dockopt.syntax.nodes import Document, Flag, Instruction, SyntaxIssue
from dockopt.text import edit_distance

__all__ = ["go_duration", "validate"]

# Flags of each instruction: name -> kind ("string", "strings": repeatable, "bool").
_FLAGS: dict[str, dict[str, str]] = {
    "ADD": {"chown": "string", "chmod": "string", "link": "bool", "keep-git-dir": "bool", "checksum": "string",
            "unpack": "bool", "exclude": "strings"},
    "COPY": {"chown": "string", "from": "string", "chmod": "string", "link": "bool", "exclude": "strings",
             "parents": "bool"},
    "FROM": {"platform": "string"},
    "RUN": {"mount": "strings", "network": "string", "security": "string", "device": "strings"},
    "HEALTHCHECK": {"interval": "string", "timeout": "string", "start-period": "string", "start-interval": "string",
                    "retries": "string"},
}
# Instructions whose parser never calls flags.Parse(): their flags are not checked at all.
_FLAGS_UNCHECKED = frozenset({"STOPSIGNAL", "ARG"})
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_SHARING = ("shared", "private", "locked")
_MOUNT_KEYS = ("type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid",
               "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env")
_OFFICIAL_FRONTEND = re.compile(r"^(?:(?:docker\.io/)?docker/dockerfile(?:-upstream)?)(?::[\w.\-]+)?(?:@sha256:[0-9a-f]+)?$")


def validate(document: Document) -> list[SyntaxIssue]:
    """BuildKit's instruction-level errors in a document that parsed (see the module docstring)."""
    syntax = document.directive("syntax")
    if syntax is not None and not _OFFICIAL_FRONTEND.match(syntax.value.strip()):
        return []
    issues: list[SyntaxIssue] = []
    seen_from = False
    for ins in document.instructions:
        if not ins.known:
            continue  # the line parser already reported it
        if ins.name == "FROM":
            seen_from = True
        elif not seen_from and ins.name != "ARG":
            issues.append(_issue(ins, "no build stage in current context"))
            seen_from = True  # BuildKit stops at the first; one is enough to say why
        problem = _check(ins)
        if problem is not None:
            message, offset = problem
            issues.append(_issue(ins, message, offset))
    if not any(ins.name == "FROM" for ins in document.instructions) and not issues and document.instructions:
        issues.append(_issue(document.instructions[-1], "dockerfile contains no stages to build"))
    return issues


def _issue(ins: Instruction, message: str, offset: int | None = None) -> SyntaxIssue:
    """At the instruction's line, the column of ``offset`` (a source offset) when it lies on
    that first line, else the keyword's column."""
    start = ins.start if offset is None else offset
    first_line_end = ins.line_start + (ins.text.find("\n") if "\n" in ins.text else len(ins.text))
    if not ins.line_start <= start < max(first_line_end, ins.line_start + 1):
        start = ins.start
    return SyntaxIssue(message, ins.start_line, ins.start_line, start - ins.line_start + 1)


Problem = tuple[str, "int | None"]


def _check(ins: Instruction) -> Problem | None:
    name = ins.name
    args = ins.arguments
    values = [a.value for a in args]
    at_keyword = None

    def at_least_one() -> Problem:
        return f"{name} requires at least one argument", at_keyword

    def exactly_one() -> Problem:
        return f"{name} requires exactly one argument", args[1].start if len(args) > 1 else at_keyword

    # Argument counts checked before the flags, in parse.go's order.
    if name in ("ADD", "COPY") and len(args) < 2:
        return (f"{name} requires at least two arguments, but only one was provided. "
                "Destination could not be determined", args[0].start if args else at_keyword)
    if name == "FROM":
        if len(args) == 3 and values[1].lower() == "as":
            if not _STAGE_NAME.match(values[2].lower()):
                return (f"invalid name for build stage: {_go_quote(values[2])}, name can't start with a number "
                        "or contain symbols", args[2].start)
        elif len(args) != 1:
            return "FROM requires either one or three arguments", args[1].start if len(args) > 1 else at_keyword
    if name == "MAINTAINER" and len(args) != 1:
        return exactly_one()
    if name in ("WORKDIR", "USER", "STOPSIGNAL") and len(args) != 1:
        return exactly_one()
    if name in ("ONBUILD", "EXPOSE", "VOLUME", "HEALTHCHECK") and not args and ins.onbuild is None:
        return at_least_one()
    if name == "ARG":
        if not args:
            return at_least_one()
        for arg in args:
            if arg.value.startswith("="):
                return "ARG names can not be blank", arg.start
        return None

    if name == "HEALTHCHECK" and values and values[0].upper() == "NONE":
        if len(values) > 1:
            return "HEALTHCHECK NONE takes no arguments", args[1].start
        return None  # BuildKit parses no flags for NONE

    if name not in _FLAGS_UNCHECKED:
        problem = _check_flags(ins, _FLAGS.get(name, {}))
        if problem is not None:
            return problem

    if name in ("ENV", "LABEL"):
        if not args:
            return at_least_one()
        for key in args[0::3]:
            if key.value == "":
                return f"{name} names can not be blank", key.start
    elif name == "ONBUILD":
        trigger = ins.onbuild.name if ins.onbuild is not None else (values[0].upper() if values else "")
        where = ins.onbuild.start if ins.onbuild is not None else at_keyword
        if trigger == "ONBUILD":
            return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", where
        if trigger in ("MAINTAINER", "FROM"):
            return f"{trigger} isn't allowed as an ONBUILD trigger", where
    elif name in ("ADD", "COPY"):
        if re.match(r"^<<-?", values[-1]):
            return f"{name} cannot accept a heredoc as a destination", args[-1].start
    elif name == "VOLUME":
        for arg in args:
            if not arg.value.strip():
                return "VOLUME specified can not be an empty string", arg.start
    elif name == "SHELL":
        if ins.is_json and not values:
            return at_least_one()
        if not ins.is_json:
            return ("SHELL requires at least one argument", at_keyword) if not values else (
                "SHELL requires the arguments to be in JSON form", args[0].start)
    elif name == "HEALTHCHECK":
        return _check_healthcheck(ins)
    elif name == "RUN":
        return _check_run(ins)
    return None


def _check_flags(ins: Instruction, known: dict[str, str]) -> Problem | None:
    """bflag.go's Parse: unknown flags, missing values, duplicates, booleans."""
    used: set[str] = set()
    for flag in ins.flags:
        text = flag.text
        if text == "--":
            return None
        flag_name = text.split("=", 1)[0]
        kind = known.get(flag.name)
        if kind is None:
            return f"unknown flag: {flag_name}{_suggestion(flag.name, list(known))}", flag.start
        if flag.name in used and kind != "strings":
            return f"duplicate flag specified: {flag_name}", flag.start
        used.add(flag.name)
        has_value = "=" in text
        if kind == "bool":
            if has_value and flag.value == "":
                return f"missing a value on flag: {flag_name}", flag.start
            if has_value and (flag.value or "").lower() not in ("true", "false"):
                return f"expecting boolean value for flag {flag_name}, not: {flag.value}", flag.start
        elif not has_value:
            return f"missing a value on flag: {flag_name}", flag.start
    return None


def _flag(ins: Instruction, name: str) -> Flag | None:
    found = None
    for flag in ins.flags:
        if flag.name == name:
            found = flag  # the last one wins, as in BuildKit
    return found


def _check_healthcheck(ins: Instruction) -> Problem | None:
    values = [a.value for a in ins.arguments]
    kind = values[0].upper()
    if kind != "CMD":
        return f"Unknown type {_go_quote(kind)} in HEALTHCHECK (try CMD)", ins.arguments[0].start
    command = values[1:]
    if not command or (ins.is_json and not [v for v in command]):
        return "Missing command after HEALTHCHECK CMD", ins.arguments[0].start
    for name in ("interval", "timeout", "start-period", "start-interval"):
        flag = _flag(ins, name)
        if flag is None or not flag.value:
            continue
        nanoseconds, error = go_duration(flag.value)
        if error:
            return error, flag.start
        if nanoseconds and nanoseconds < 1_000_000:
            return f"Interval {_go_quote(name)} cannot be less than 1ms", flag.start
    retries = _flag(ins, "retries")
    if retries is not None and retries.value:
        value = retries.value
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            return f"strconv.ParseInt: parsing {_go_quote(value)}: invalid syntax", retries.start
        number = int(value)
        if not -(2**31) <= number < 2**31:
            return f"strconv.ParseInt: parsing {_go_quote(value)}: value out of range", retries.start
        if number < 0:
            return f"--retries cannot be negative ({number})", retries.start
    return None


def _check_run(ins: Instruction) -> Problem | None:
    network = _flag(ins, "network")
    if network is not None and network.value not in ("default", "none", "host"):
        return f"invalid network mode {_go_quote(network.value or '')}", network.start
    security = _flag(ins, "security")
    if security is not None and security.value not in ("insecure", "sandbox"):
        return f"security {_go_quote(security.value or '')} is not valid", security.start
    for flag in ins.flags:
        if flag.name == "mount":
            message = _mount_problem(flag.value or "")
            if message is not None:
                return message, flag.start
    return None


def _mount_problem(spec: str) -> str | None:
    """commands_runmount.go's parseMount as the build runs it (with variable expansion):
    fields holding a ``$`` are skipped, their value is only known at build time."""
    import csv

    try:
        fields = next(csv.reader([spec], skipinitialspace=False), [])
    except csv.Error as exc:
        return f"failed to parse csv mounts: {exc}"
    mount_type = "bind"
    keys: dict[str, str] = {}
    for field in fields:
        key, has_value, value = field.partition("=")
        key = key.lower()
        if not has_value:
            if key in ("readonly", "ro", "readwrite", "rw"):
                continue
            if key == "required":
                if mount_type in ("secret", "ssh"):
                    continue
                return f"unexpected key '{key}' for mount type '{mount_type}'"
            return f"invalid field '{field}' must be a key=value pair"
        if key == "from" and "$" in value[:-1]:
            return "'from' doesn't support variable expansion, define alias stage instead"
        if "$" in value:
            keys[key] = value
            continue  # expanded at build time: cannot be judged here
        if key == "type":
            if value.lower() not in _MOUNT_TYPES:
                return f"unsupported mount type {_go_quote(value)}{_suggestion(value, list(_MOUNT_TYPES))}"
            mount_type = value.lower()
        elif key in ("readonly", "ro", "readwrite", "rw"):
            if value not in _GO_BOOLS:
                return f"invalid value for {key}: {value}"
        elif key == "required":
            if mount_type not in ("secret", "ssh"):
                return f"unexpected key '{key}' for mount type '{mount_type}'"
            if value not in _GO_BOOLS:
                return f"invalid value for {key}: {value}"
        elif key == "size":
            if mount_type != "tmpfs":
                return f"unexpected key '{key}' for mount type '{mount_type}'"
            if not re.fullmatch(r"(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?", value):
                return f"invalid value for {key}: {value}"
        elif key == "sharing":
            if value.lower() not in _SHARING:
                return f"unsupported sharing value {_go_quote(value)}{_suggestion(value, list(_SHARING))}"
        elif key == "mode":
            if not re.fullmatch(r"[+]?[0-7]+", value) or int(value, 8) >= 2**32:
                return f"invalid value {value} for mode"
        elif key in ("uid", "gid"):
            if not re.fullmatch(r"[+]?[0-9]+", value) or int(value) >= 2**32:
                return f"invalid value {value} for {key}"
        elif key not in _MOUNT_KEYS:
            return f"unexpected key '{key}' in '{field}'{_suggestion(key, list(_MOUNT_KEYS))}"
        keys[key] = value
    if mount_type not in ("secret", "ssh", "cache"):
        for key in ("mode", "uid", "gid"):
            if key in keys:
                return f"{key} not allowed for {_go_quote(mount_type)} type mounts"
    if mount_type == "secret":
        if keys.get("from"):
            return "secret mount should not have a from"
        if keys.get("sharing"):
            return "secret mount should not define sharing"
        source = keys.get("source") or keys.get("src")
        target = keys.get("target") or keys.get("dst") or keys.get("destination")
        if not source and not target and not keys.get("id"):
            return "invalid secret mount. one of source, target required"
        if source and keys.get("id"):
            return "both source and id can't be set"
    if keys.get("sharing") and mount_type != "cache":
        return f"invalid cache sharing set for {mount_type} mount"
    return None


# strconv.ParseBool
_GO_BOOLS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})

# Go's time.ParseDuration units, in nanoseconds.
_UNITS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}
_MAX_DURATION = 2**63 - 1


def go_duration(text: str) -> tuple[int, str]:
    """Go's ``time.ParseDuration``: (nanoseconds, "") or (0, Go's error message)."""
    invalid = f"time: invalid duration {_go_quote(text)}"
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0, ""
    if not s:
        return 0, invalid
    total = 0
    while s:
        if not (s[0] == "." or s[0].isascii() and s[0].isdigit()):
            return 0, invalid
        match = re.match(r"[0-9]*", s)
        assert match is not None
        whole_digits = match.group()
        s = s[len(whole_digits):]
        fraction_digits = ""
        if s.startswith("."):
            s = s[1:]
            fraction = re.match(r"[0-9]*", s)
            assert fraction is not None
            fraction_digits = fraction.group()
            s = s[len(fraction_digits):]
        if not whole_digits and not fraction_digits:
            return 0, invalid
        unit_end = 0
        while unit_end < len(s) and not (s[unit_end] == "." or s[unit_end].isascii() and s[unit_end].isdigit()):
            unit_end += 1
        if unit_end == 0:
            return 0, f"time: missing unit in duration {_go_quote(text)}"
        unit, s = s[:unit_end], s[unit_end:]
        if unit not in _UNITS:
            return 0, f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(text)}"
        whole = int(whole_digits or "0")
        if whole > _MAX_DURATION // _UNITS[unit]:
            return 0, invalid
        value = whole * _UNITS[unit]
        if fraction_digits:
            value += int(int(fraction_digits) * _UNITS[unit] / 10 ** len(fraction_digits))
        total += value
        if total > _MAX_DURATION:
            return 0, invalid
    return (-total if negative else total), ""


def _go_quote(text: str) -> str:
    """Go's %q / %#v of a string (enough for messages: printable text, escapes otherwise)."""
    from dockopt.syntax.dump import go_quote

    return go_quote(text)


def _suggestion(value: str, options: list[str]) -> str:
    """BuildKit's suggest.WrapError: " (did you mean X?)" for an option within edit distance 2."""
    best, best_distance = "", 3
    for option in options:
        if option == value:
            return ""
        distance = edit_distance(value, option)
        if distance < best_distance:
            best, best_distance = option, distance
    return f" (did you mean {best}?)" if best else ""

