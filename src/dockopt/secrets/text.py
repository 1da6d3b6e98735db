"""What a string says about secrets: variable names, values, token formats, URLs.

The string half of ``dockopt.secrets.detect`` (which re-exports all of it: rules import from there).
Split out so that each file stays readable; it imports nothing from the file half.

* Variable names are split into words (``awsSecretAccessKey`` -> AWS SECRET ACCESS KEY), so
  ``TOKENIZERS_PARALLELISM`` is not a token and ``GPG_KEY`` (a public fingerprint) is not a
  key; names that describe a secret rather than hold one (``*_FILE``, ``*_PATH``,
  ``PASSWORD_MIN_LENGTH``, ``AUTH_METHOD``, ``DISABLE_TOKEN_AUTH``) are benign.
* Values: known token formats are certain; "high entropy" is reserved for strings that are
  random by every measure we have (see :func:`looks_random`); hex strings never qualify on
  their own, because in Dockerfiles they are checksums, commits and key fingerprints.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass

# --- variable names --------------------------------------------------------------------------

_SECRET_WORDS = frozenset({
    "TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PASS", "PWD",
    "CREDENTIAL", "CREDENTIALS", "CREDS", "APIKEY", "APITOKEN", "AUTHTOKEN", "ACCESSTOKEN", "PRIVATEKEY",
    "SECRETKEY", "CLIENTSECRET", "APISECRET", "AUTH", "AUTHKEY", "PAT",
})
# Run-together names: PGPASSWORD, GHTOKEN, DBSECRET.
_SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS")
# KEY is a secret only with one of these before it: GPG_KEY and SIGNING_KEY are fingerprints.
_KEY_QUALIFIERS = frozenset({
    "API", "PRIVATE", "ACCESS", "SECRET", "SSH", "ENCRYPTION", "ENCRYPT", "MASTER", "APP", "AUTH", "CLIENT",
    "ACCOUNT", "LICENSE", "SESSION", "DEPLOY", "HMAC", "JWT", "STORAGE", "SHARED", "WEBHOOK", "CONSUMER", "TLS",
    "SSL",
})
# A last word that makes the name describe a secret rather than hold one.
_BENIGN_LAST = frozenset({
    "FILE", "FILES", "PATH", "DIR", "DIRECTORY", "URL", "URI", "HOST", "HOSTNAME", "PORT", "LENGTH", "LEN", "SIZE",
    "MIN", "MAX", "ENABLED", "DISABLED", "METHOD", "METHODS", "TYPE", "HEADER", "EXPIRY", "EXPIRES", "EXPIRATION",
    "TTL", "TIMEOUT", "LIFETIME", "VERSION", "ID", "IDS", "NAME", "USER", "USERNAME", "LOGIN", "EMAIL", "PLUGIN",
    "PROVIDER", "MODE", "LOCATION", "ENDPOINT", "SERVER", "REALM", "SCOPE", "SCOPES", "ISSUER", "AUDIENCE",
    "FORMAT", "ALGORITHM", "ALG", "PREFIX", "COUNT", "LIMIT", "POLICY", "LEVEL", "STRATEGY", "BACKEND", "DOMAIN",
    "ROTATION", "INTERVAL", "NAMESPACE", "ARN", "REGION", "BUCKET", "MOUNT", "TARGET", "TEMPLATE", "CONFIG",
    "CONF", "HELPER", "STORE", "MANAGER", "COMMAND", "CMD", "SCRIPT", "LABEL", "TAG", "FIELD", "HASH", "SALT",
    "ENV", "VAR", "NAMES", "SOURCE", "SRC", "DEST", "REF", "HINT", "URLS", "ENDPOINTS", "SERVICE", "DIGEST",
    "FINGERPRINT", "SHA", "SHA256", "SHA512", "CHECKSUM", "KEYRING", "SERVERS",
})
# Words that make the variable a switch about secrets, not a secret: DISABLE_TOKEN_AUTH.
_SWITCH_WORDS = frozenset({"ENABLE", "ENABLED", "DISABLE", "DISABLED", "USE", "SKIP", "NO", "ALLOW", "REQUIRE",
                           "REQUIRED", "ENFORCE", "VERIFY", "INSECURE", "IGNORE", "WITH", "WITHOUT"})
_NOT_SECRETS = frozenset({"PWD", "OLDPWD"})  # the shell's working directories
_NOT_PASSWORDS = frozenset({"BYPASS", "COMPASS", "SURPASS", "ENCOMPASS", "TRESPASS", "OVERPASS", "UNDERPASS",
                            "KEEPASS"})


def name_words(name: str) -> list[str]:
    """``awsSecretAccessKey`` -> AWS SECRET ACCESS KEY; ``NPM_TOKEN`` -> NPM TOKEN."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.upper() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def secret_name(name: str) -> bool:
    """Whether a variable (ARG/ENV/shell/.env key) name says it holds a credential."""
    if name.upper() in _NOT_SECRETS:
        return False
    words = name_words(name)
    if not words or words[-1] in _BENIGN_LAST or _SWITCH_WORDS.intersection(words):
        return False
    if _SECRET_WORDS.intersection(words) or any(w.endswith(_SECRET_SUFFIXES) for w in words):
        return True
    if any(w.endswith("PASS") and w not in _NOT_PASSWORDS for w in words):
        return True  # ROOTPASS, DBPASS
    return any(w == "KEY" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words))


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenMatch:
    kind: str  # "a GitHub token"
    start: int
    end: int
    text: str


PRIVATE_KEY_HEADER = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Compiled on first use (``_known_token_patterns``): most texts fail the ``_TOKEN_HINT``
# prefilter below, and fifteen patterns cost a check ~2 ms of start-up.
_KNOWN_TOKEN_SOURCES: list[tuple[str, str | re.Pattern[str]]] = [
    ("an AWS access key ID", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])"),
    ("a GitHub token", r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])"),
    ("a GitHub token", r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,255}"),
    ("a GitLab token", r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"(?<![A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,}"),
    ("a Stripe secret key", r"(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{16,}"),
    ("a Google API key", r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    ("a private key", PRIVATE_KEY_HEADER),
    ("a JSON Web Token", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("an npm token", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    ("a PyPI token", r"(?<![A-Za-z0-9_])pypi-AgE[A-Za-z0-9_-]{50,}"),
    ("a Hugging Face token", r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])"),
    ("a Docker Hub token", r"(?<![A-Za-z0-9_])dckr_pat_[A-Za-z0-9_-]{27,}"),
    ("an OpenAI key", r"(?<![A-Za-z0-9_])sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
    ("an Anthropic key", r"(?<![A-Za-z0-9_])sk-ant-[A-Za-z0-9_-]{80,}"),
]


@functools.cache
def _known_token_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(source)) for kind, source in _KNOWN_TOKEN_SOURCES)


# Every format above contains one of these: one search rules most text out (rules call this per word).
_TOKEN_HINT = re.compile(r"A[KS]IA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|k_live_|AIza|PRIVATE KEY|"
                         r"eyJ|npm_|pypi-|hf_|dckr_pat_|sk-")


def known_tokens(text: str) -> list[TokenMatch]:
    """Every credential of a known format in ``text`` (certain: these prefixes mean nothing else)."""
    if not _TOKEN_HINT.search(text):
        return []
    found = [TokenMatch(kind, m.start(), m.end(), m.group()) for kind, rx in _known_token_patterns()
             for m in rx.finditer(text)
             if not (rx is PRIVATE_KEY_HEADER and placeholder_key_body(text[m.end():]))]
    return sorted(found, key=lambda t: t.start)


# Every PEM private key is DER (an ASN.1 SEQUENCE: base64 "M...") or OpenSSH's format
# ("openssh-key-v1" = "b3BlbnNzaC1rZXktdjE"); encrypted PEM has "Key: value" headers first.
_KEY_COMMENT = re.compile(r"^[ \t#;/*|]*")


def placeholder_key_body(after_header: str) -> bool:
    """Whether the line under a ``-----BEGIN ... PRIVATE KEY-----`` header is a placeholder
    rather than key material (getsentry's ``config.example.yml`` documents the setting with
    ``privatekeyprivatekey...``; ``<your key here>``, ``...``). Only a header that ends its
    line and is followed by a body is judged: a header inside code (``if "-----BEGIN"...``)
    or alone stays a key."""
    lines = after_header[:600].split("\n")
    if len(lines) < 2 or lines[0].strip():
        return False
    for line in lines[1:]:
        body = _KEY_COMMENT.sub("", line).strip()
        if ":" in body and not body.startswith("-----"):
            continue  # Proc-Type: / DEK-Info: headers of an encrypted PEM
        if not body or body.startswith("-----"):
            return False
        return not (body.startswith("M") or body.startswith("b3BlbnNzaC1rZXktdjE"))
    return False


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]+$")
_WORDISH = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{5,}")
MAX_WORDISH = 0.6  # random base62 passes it ~98% of the time (20 chars), CamelCase names never
MIN_RANDOM_LENGTH = 20
ENTROPY_MARGIN = 0.85  # below log2(len): random base62 strings fall under it ~1% of the time
ENTROPY_CAP = 4.6  # long base64 strings: the bar stops rising with length


def looks_random(token: str) -> bool:
    """Whether a token is random enough to be a generated secret (tuned on the corpus's ARG/ENV
    values and on generated base62 tokens; tests/test_secrets.py holds both sides).

    At least 20 base64 characters mixing upper case, lower case and digits, entropy within
    0.85 bits of log2(length) (capped at 4.6), not CamelCase words. Words joined by ``-``/``_``
    are names unless a 16+ character segment is random on its own. Hex is a checksum, commit
    or fingerprint here, never a secret by itself; ``AAAA...`` is an SSH public key.
    """
    stripped = token.strip("\"'")
    if len(stripped) < MIN_RANDOM_LENGTH or not _TOKEN_CHARS.match(stripped) or _HEX.match(stripped):
        return False
    if stripped.startswith("AAAA") or re.fullmatch(r"[0-9a-fA-F-]{36}", stripped):  # SSH public key, UUID
        return False
    segments = [s for s in re.split(r"[-_]", stripped) if s]
    if len(segments) > 1:
        return any(_random_segment(s) for s in segments if len(s) >= 16)
    return _random_segment(stripped)


def _random_segment(text: str) -> bool:
    if _HEX.match(text) or not (re.search(r"[a-z]", text) and re.search(r"[A-Z]", text) and re.search(r"\d", text)):
        return False
    wordish = sum(len(m.group()) for m in _WORDISH.finditer(text)) / len(text)
    if wordish > MAX_WORDISH:
        return False
    threshold = min(math.log2(len(text)) - ENTROPY_MARGIN, ENTROPY_CAP)
    return shannon_entropy(text) >= threshold


_PLACEHOLDER = (
    r"^(?:|x+|\*+|\.+|-+|_+|<[^<>]*>|\{\{[^{}]*\}\}|%[A-Za-z_]+%|(?:your|my|insert|replace|put|enter|add)[\s_-].*|"
    r"change[_-]?(?:me|it|this|that|the[_-]?[a-z]*)(?:[_-]?[a-z]+)*|placeholder|dummy|example|sample|test|todo|fixme|none|null|nil|undefined|unset|"
    r"empty|secret|password|token|redacted|hidden|notset|not[_-]?set|tbd|fake|xxx.*|\.\.\.)$"
)
# Default credentials everybody knows (``ENV MAIL_PASS admin``): weak, but no secret leaks.
_WELL_KNOWN_DEFAULTS = frozenset({"admin", "root", "guest", "pass", "passwd", "user", "demo", "default", "123456",
                                  "12345678", "qwerty", "letmein", "postgres", "mysql", "changeit", "public"})
_BOOLEAN = re.compile(r"^(?:true|false|yes|no|on|off|0|1|enabled?|disabled?)$", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$")


@functools.cache
def _placeholder() -> re.Pattern[str]:
    return re.compile(_PLACEHOLDER, re.IGNORECASE)  # on first use: start-up time


def is_placeholder(value: str) -> bool:
    """Values that stand for "fill this in" (or a filler like 0000-...), and default
    credentials everybody knows (``admin``, ``changeit``): no secret leaks through them."""
    v = value.strip().strip("\"'")
    # Decoration around a filler word: ``**None**``, ``__TOKEN__``, ``[password]``, ``%PASSWORD%``.
    undecorated = v.strip("*_[]()%")
    if _placeholder().match(v) or (undecorated != v and _placeholder().match(undecorated)):
        return True
    return (len(set(v) - set("-_. ")) <= 1 and len(v) > 0) or v.lower() in _WELL_KNOWN_DEFAULTS


def is_default_for(name: str, value: str) -> bool:
    """A value the name itself gives away (``NAGIOSADMIN_PASS=nagios``, ``POSTGRES_PASSWORD=postgres``):
    the product's documented default, public by definition."""
    v = value.strip().strip("\"'").lower()
    squeezed = re.sub(r"[^a-z0-9]", "", name.lower())  # VNC_PASSWORD=vncpassword
    return len(v) >= 3 and v.isalpha() and (v in name.lower() or v == squeezed)


def is_boolean(value: str) -> bool:
    return bool(_BOOLEAN.match(value.strip().strip("\"'")))


def is_reference(value: str) -> bool:
    """The whole value is one ``$VAR``/``${VAR}`` (its value comes from elsewhere)."""
    return bool(_REFERENCE.match(value.strip().strip("\"'")))


def referenced_names(value: str) -> list[str]:
    """Names of the variables ``value`` refers to (``$X``, ``${X}``, ``${X:-d}``)."""
    return [a or b for a, b in re.findall(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))", value)]


def looks_like_path(value: str) -> bool:
    v = value.strip("\"'")
    return v.startswith(("/", "./", "~/", "../")) or bool(re.match(r"^[A-Za-z]:\\", v))


@dataclass(frozen=True, slots=True)
class UrlCredential:
    """``scheme://user:password@host``: the password (or a token in the user part)."""

    start: int  # span of the secret part within the scanned text
    end: int
    secret: str
    literal: bool  # False when it is a $VAR reference (its value is filled in at build time)
    in_password: bool  # the password part; False: a token standing as the user part


_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^\s/@:'\"<>]*)"
                           r"(?::(?P<password>[^\s/@'\"<>]*))?@(?P<host>[A-Za-z0-9$\[{])")


def url_credentials(text: str) -> list[UrlCredential]:
    """Credentials embedded in URLs of ``text``. ``user@host`` alone is not one, unless the
    user part is itself a token (``https://${GITHUB_TOKEN}@github.com``, ``https://ghp_...@``)."""
    found = []
    for m in _URL_USERINFO.finditer(text):
        password, user = m.group("password"), m.group("user")
        if password:
            if is_placeholder(password) or password.startswith("%"):
                continue
            literal = not (password.startswith("$") and referenced_names(password))
            found.append(UrlCredential(m.start("password"), m.end("password"), password, literal, True))
        elif user:
            names = referenced_names(user)
            if (names and any(secret_name(n) for n in names)) or known_tokens(user):
                found.append(UrlCredential(m.start("user"), m.end("user"), user, not names, False))
    return found
