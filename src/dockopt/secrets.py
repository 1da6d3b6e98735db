"""What looks like a secret: file paths, variable names, values and file contents.

One module for every secret rule (DO201-DO205), so that they agree on what a secret is.
Precision comes first: a secret rule that cries wolf on checksums, GPG fingerprints or CA
bundles gets switched off, and then it catches nothing. Hence:

* Paths have a *strength*. Some names are secrets by themselves (``id_rsa``, ``.netrc``);
  some are usually secrets, but content decides when we can read it (``.env``); some are
  secrets only when their content shows a credential (``.npmrc`` often holds nothing but
  ``registry=``). Public key material (``*.pub``, CA bundles, apt/rpm signing keys) never is.
* Variable names are split into words (``awsSecretAccessKey`` -> AWS SECRET ACCESS KEY), so
  ``TOKENIZERS_PARALLELISM`` is not a token and ``GPG_KEY`` (a public fingerprint) is not a
  key; names that describe a secret rather than hold one (``*_FILE``, ``*_PATH``,
  ``PASSWORD_MIN_LENGTH``, ``AUTH_METHOD``, ``DISABLE_TOKEN_AUTH``) are benign.
* Values: known token formats are certain; "high entropy" is reserved for strings that are
  random by every measure we have (see :func:`looks_random`); hex strings never qualify on
  their own, because in Dockerfiles they are checksums, commits and key fingerprints.
"""
from __future__ import annotations

import enum
import math
import posixpath
import re
from collections import Counter
from dataclasses import dataclass

# --- file paths ------------------------------------------------------------------------------


class Strength(enum.Enum):
    STRONG = "strong"  # a secret by name; content can only refute it (a certificate, an empty file)
    CONTENT = "content"  # a secret by name when unreadable; readable content decides
    WEAK = "weak"  # a secret only when its content shows a credential


@dataclass(frozen=True, slots=True)
class SecretPath:
    kind: str  # for messages: "an SSH private key"
    strength: Strength


_STRONG_NAMES = {
    ".netrc": "a .netrc (login credentials)", "_netrc": "a .netrc (login credentials)",
    ".pypirc": "a .pypirc (PyPI credentials)", ".git-credentials": "a git credential store",
    ".pgpass": "a PostgreSQL password file", ".htpasswd": "an .htpasswd password file",
    ".dockercfg": "Docker registry credentials", ".s3cfg": "S3 credentials",
    ".vault-token": "a Vault token", "kubeconfig": "a kubeconfig",
}
_WEAK_NAMES = {
    ".npmrc": "an .npmrc", ".yarnrc.yml": "a .yarnrc.yml", "pip.conf": "a pip.conf",
    "auth.json": "an auth.json", "settings.xml": "a Maven settings.xml",
}
_SSH_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
# Files under .ssh/ that hold no secret: host keys of others, public keys, client config.
_SSH_PUBLIC = frozenset({"known_hosts", "known_hosts.old", "config", "authorized_keys", "authorized_keys2",
                         "environment", "rc"})
_ENV_TEMPLATES = frozenset({"example", "sample", "template", "tmpl", "tpl", "dist", "defaults", "default",
                            "schema", "skel", "in"})
_KEYSTORE_EXTENSIONS = (".p12", ".pfx", ".jks", ".keystore", ".ppk")
# Name fragments that mark a key or .pem file as public material (CA bundles, signing keys).
_PUBLIC_HINTS = re.compile(r"(^|[^a-z])(ca|cacert|cacerts|cert|certs|certificate|chain|fullchain|bundle|root|pub|"
                           r"public|trust|truststore|gpg|pgp|signing|release|repo|archive|keyring|apt|rpm|yum)"
                           r"([^a-z]|$)", re.IGNORECASE)
# Directories that only ever hold public keys or certificates.
_PUBLIC_DIRS = ("/etc/ssl/certs/", "/usr/local/share/ca-certificates/", "/usr/share/ca-certificates/",
                "/etc/pki/ca-trust/", "/etc/pki/rpm-gpg/", "/etc/apt/", "/usr/share/keyrings/",
                "/etc/apk/keys/", "/etc/ca-certificates/")


def secret_path(path: str) -> SecretPath | None:
    """Whether a file path (absolute, context-relative, or a bare name) names a secret file.

    A path ending in ``/`` is a directory tree: ``.ssh/`` and ``.aws/`` trees are secrets.
    """
    is_tree = path.endswith("/")
    clean = posixpath.normpath("/" + path.strip("/")) if path.strip("/") else "/"
    name = posixpath.basename(clean)
    parent = posixpath.basename(posixpath.dirname(clean))
    lower = name.lower()
    if any((clean + "/").startswith(d) for d in _PUBLIC_DIRS) or lower.endswith((".pub", ".pub.pem")):
        return None
    if is_tree or lower in (".ssh", ".aws", ".kube", ".docker", ".gnupg"):
        if lower == ".ssh":
            return SecretPath("an .ssh directory (private keys)", Strength.STRONG)
        if lower in (".aws", ".kube", ".docker", ".gnupg"):
            return SecretPath(f"a {name} directory (credentials)", Strength.STRONG)
        return None
    if lower.startswith(_SSH_KEY_PREFIXES):
        return SecretPath("an SSH private key", Strength.STRONG)
    if parent == ".ssh":
        return None if lower in _SSH_PUBLIC else SecretPath("a file in .ssh/ (an SSH key)", Strength.STRONG)
    if parent == ".aws":
        if lower == "credentials":
            return SecretPath("AWS credentials", Strength.STRONG)
        return SecretPath("an AWS config file", Strength.WEAK)
    if parent == ".kube" and lower == "config" or lower.endswith(".kubeconfig"):
        return SecretPath("a kubeconfig", Strength.STRONG)
    if parent == ".docker" and lower == "config.json":
        return SecretPath("Docker registry credentials", Strength.STRONG)
    if parent in (".cargo", ".gem") and lower in ("credentials", "credentials.toml"):
        return SecretPath(f"{parent[1:]} credentials", Strength.STRONG)
    if lower in _STRONG_NAMES:
        return SecretPath(_STRONG_NAMES[lower], Strength.STRONG)
    if lower in _WEAK_NAMES:
        return SecretPath(_WEAK_NAMES[lower], Strength.WEAK)
    if lower == ".env" or lower.startswith((".env.", ".env-")):
        suffix = lower[5:]
        if suffix in _ENV_TEMPLATES or suffix.endswith(tuple("." + t for t in _ENV_TEMPLATES)):
            return None
        return SecretPath("an environment file", Strength.CONTENT)
    if lower.endswith(".env") and len(lower) > 4 and lower[:-4].rsplit(".", 1)[-1] not in _ENV_TEMPLATES:
        return SecretPath("an environment file", Strength.WEAK)
    if lower.endswith("credentials.json") or lower.startswith("client_secret") and lower.endswith(".json"):
        return SecretPath("a credentials file", Strength.STRONG)
    if lower.endswith(".json") and ("service-account" in lower or "serviceaccount" in lower or
                                    "service_account" in lower or lower.endswith(("-sa.json", "_sa.json"))):
        return SecretPath("a service-account key", Strength.CONTENT)
    stem = lower.rsplit(".", 1)[0]
    if lower.endswith(_KEYSTORE_EXTENSIONS):
        return None if _PUBLIC_HINTS.search(stem) else SecretPath("a key store", Strength.STRONG)
    if lower.endswith(".key"):
        return None if _PUBLIC_HINTS.search(stem) else SecretPath("a private key", Strength.STRONG)
    if lower.endswith(".pem"):
        if re.search(r"key|priv", stem):
            return SecretPath("a private key", Strength.STRONG)
        return None if _PUBLIC_HINTS.search(stem) else SecretPath("a PEM file (may hold a private key)",
                                                                   Strength.WEAK)
    return None


# --- contents --------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_CONTENT_EVIDENCE = [
    ("a private key", _PRIVATE_KEY),
    ("a service-account key", re.compile(r'"private_key"\s*:\s*"[^"]{20,}')),
    ("an OAuth client secret", re.compile(r'"client_secret"\s*:\s*"[^"$]{8,}')),
    ("an npm auth token", re.compile(r"(?m)(?:^|:)_(?:authToken|auth|password)\s*=\s*(?P<v>\S+)")),
    ("a yarn auth token", re.compile(r"(?m)^\s*npmAuth(?:Token|Ident)\s*:\s*[\"']?(?P<v>[^\s\"']+)")),
    ("AWS credentials", re.compile(r"(?mi)^\s*aws_secret_access_key\s*=\s*(?P<v>\S+)")),
    ("a .netrc password", re.compile(r"(?m)(?:^|\s)password\s+(?P<v>\S+)")),
    ("a registry login", re.compile(r'"auth"\s*:\s*"(?P<v>[A-Za-z0-9+/=]{8,})"')),
    ("a kubeconfig credential", re.compile(r"(?m)^\s*(?:client-key-data|token)\s*:\s*(?P<v>\S{16,})")),
    ("a password", re.compile(r"(?m)<password>(?P<v>[^<$]+)</password>")),
]
_ENV_LINE = re.compile(r"(?m)^\s*(?:export\s+)?(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(?P<v>.*?)\s*$")


def sniff_content(text: str, *, shell_expands: bool = False) -> str | None:
    """What credential ``text`` (a file's content) holds, or None.

    ``shell_expands``: the text is what a RUN writes (``echo "_authToken=$NPM_TOKEN" >
    .npmrc``), so a ``$VAR`` reference is replaced by its value and counts as a credential.
    In a file copied as is, ``${NPM_TOKEN}`` is npm's own interpolation: no secret inside.
    """
    for kind, pattern in _CONTENT_EVIDENCE:
        for m in pattern.finditer(text):
            value = m.groupdict().get("v")
            if value is None or _credential_value(value.strip("\"'"), shell_expands):
                return kind
    token = known_tokens(text)
    if token:
        return token[0].kind
    for m in _ENV_LINE.finditer(text):
        value = m.group("v").strip("\"'")
        if secret_name(m.group("k")) and _credential_value(value, shell_expands):
            return f"a {m.group('k')} value"
    return None


def _credential_value(value: str, shell_expands: bool) -> bool:
    if not value or is_placeholder(value):
        return False
    if value.startswith("$"):
        return shell_expands and is_reference(value)
    return True


def content_refutes(path_kind: SecretPath, text: str) -> bool:
    """Whether readable content shows that a secret-named file holds no secret."""
    if not text.strip():
        return True  # an empty file
    if _PRIVATE_KEY.search(text):
        return False
    if path_kind.strength is Strength.STRONG:
        # Only certificate or public-key material refutes a strong name.
        return bool(re.search(r"-----BEGIN (CERTIFICATE|PUBLIC KEY|PGP PUBLIC KEY BLOCK|RSA PUBLIC KEY)-----", text)) \
            or text.lstrip().startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-"))
    return sniff_content(text) is None


# --- variable names --------------------------------------------------------------------------

_SECRET_WORDS = frozenset({
    "TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "PASS", "PWD",
    "CREDENTIAL", "CREDENTIALS", "CREDS", "APIKEY", "APITOKEN", "AUTHTOKEN", "ACCESSTOKEN", "PRIVATEKEY",
    "SECRETKEY", "CLIENTSECRET", "APISECRET", "AUTH", "AUTHKEY", "PAT",
})
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
    if _SECRET_WORDS.intersection(words):
        return True
    return any(w == "KEY" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words))


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenMatch:
    kind: str
    start: int
    end: int
    text: str


_KNOWN_TOKENS = [
    ("an AWS access key ID", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,255}")),
    ("a GitLab token", re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("a private key", _PRIVATE_KEY),
    ("a JSON Web Token", re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("an npm token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("a PyPI token", re.compile(r"(?<![A-Za-z0-9_])pypi-AgE[A-Za-z0-9_-]{50,}")),
    ("a Hugging Face token", re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])")),
    ("a Docker Hub token", re.compile(r"(?<![A-Za-z0-9_])dckr_pat_[A-Za-z0-9_-]{27,}")),
    ("an OpenAI key", re.compile(r"(?<![A-Za-z0-9_])sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}")),
    ("an Anthropic key", re.compile(r"(?<![A-Za-z0-9_])sk-ant-[A-Za-z0-9_-]{80,}")),
]


def known_tokens(text: str) -> list[TokenMatch]:
    """Every credential of a known format in ``text`` (certain: these prefixes mean nothing else)."""
    found = [TokenMatch(kind, m.start(), m.end(), m.group()) for kind, rx in _KNOWN_TOKENS for m in rx.finditer(text)]
    return sorted(found, key=lambda t: t.start)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s own character distribution."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]+$")
_WORDISH = re.compile(r"[A-Z][a-z]{2,}|[a-z]{4,}|[A-Z]{5,}")
MIN_RANDOM_LENGTH = 20
ENTROPY_MARGIN = 0.85  # below log2(len): random base62 strings fall under it ~1% of the time
ENTROPY_CAP = 4.6  # long base64 strings: the bar stops rising with length


def looks_random(token: str) -> bool:
    """Whether a single token is random enough to be a generated secret.

    Tuned on the corpus's ARG/ENV values (checksums, fingerprints, versions, image
    descriptions, Windows paths) and on generated base62 tokens: a token qualifies when it
    is at least 20 characters of the base64/base62 alphabet, mixes upper case, lower case and
    digits, its Shannon entropy is within 0.85 bits of the maximum its length allows (capped at
    4.6), and it is not made of words (CamelCase identifiers). Hex is never random enough:
    in Dockerfiles it is a checksum, a commit or a GPG fingerprint. Base64 starting with
    ``AAAA`` is an SSH public key.
    """
    stripped = token.strip("\"'")
    if len(stripped) < MIN_RANDOM_LENGTH or not _TOKEN_CHARS.match(stripped) or _HEX.match(stripped):
        return False
    if stripped.startswith("AAAA") or re.fullmatch(r"[0-9a-fA-F-]{36}", stripped):  # SSH public key, UUID
        return False
    if not (re.search(r"[a-z]", stripped) and re.search(r"[A-Z]", stripped) and re.search(r"[0-9]", stripped)):
        return False
    wordish = sum(len(m.group()) for m in _WORDISH.finditer(stripped)) / len(stripped)
    if wordish > 0.5:
        return False
    threshold = min(math.log2(len(stripped)) - ENTROPY_MARGIN, ENTROPY_CAP)
    return shannon_entropy(stripped) >= threshold


_PLACEHOLDER = re.compile(
    r"^(?:|x+|\*+|\.+|-+|_+|<[^<>]*>|\{\{[^{}]*\}\}|%[A-Za-z_]+%|(?:your|my|insert|replace|put|enter|add)[\s_-].*|"
    r"change[_-]?me|changeit|placeholder|dummy|example|sample|test|todo|fixme|none|null|nil|undefined|unset|"
    r"empty|secret|password|token|redacted|hidden|notset|not[_-]?set|tbd|xxx.*|\.\.\.)$", re.IGNORECASE)
_BOOLEAN = re.compile(r"^(?:true|false|yes|no|on|off|0|1|enabled?|disabled?)$", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$")


def is_placeholder(value: str) -> bool:
    """Values that stand for "fill this in" (or a filler like 0000-...): not a credential."""
    v = value.strip().strip("\"'")
    return bool(_PLACEHOLDER.match(v)) or (len(set(v) - set("-_. ")) <= 1 and len(v) > 0)


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
    url: str


_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^\s/@:'\"<>]*)"
                           r"(?::(?P<password>[^\s/@'\"<>]*))?@(?P<host>[A-Za-z0-9$\[{])")


def url_credentials(text: str) -> list[UrlCredential]:
    """Credentials embedded in URLs of ``text``. ``user@host`` alone is not one, unless the
    user part is itself a token (``https://${GITHUB_TOKEN}@github.com``, ``https://ghp_...@``)."""
    found = []
    for m in _URL_USERINFO.finditer(text):
        password, user = m.group("password"), m.group("user")
        url = m.group(0)
        if password:
            if is_placeholder(password) or password.startswith("%"):
                continue
            literal = not (password.startswith("$") and referenced_names(password))
            found.append(UrlCredential(m.start("password"), m.end("password"), password, literal, url))
        elif user:
            names = referenced_names(user)
            if (names and any(secret_name(n) for n in names)) or known_tokens(user):
                found.append(UrlCredential(m.start("user"), m.end("user"), user, not names, url))
    return found
