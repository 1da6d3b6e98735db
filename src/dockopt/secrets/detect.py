"""What looks like a secret: file paths, file contents, variable names and values.

One module for every secret rule (DO201-DO205), so that they agree on what a secret is; the
string checks (names, values, token formats, URLs) live in ``dockopt.secrets.text`` and are
re-exported here. Precision comes first: a secret rule that cries wolf on checksums, GPG
fingerprints or CA bundles gets switched off, and then it catches nothing. Hence:

* Paths have a *strength*. Some names are secrets by themselves (``id_rsa``, ``.netrc``);
  some are usually secrets, but content decides when we can read it (``.env``); some are
  secrets only when their content shows a credential (``.npmrc`` often holds nothing but
  ``registry=``). Public key material (``*.pub``, CA bundles, apt/rpm signing keys) never is.
* Contents are sniffed for the credential formats of the files we name (npm, AWS, netrc,
  Docker, kubeconfig, service-account JSON, ``KEY=value`` files), plus known token formats.
"""
from __future__ import annotations

import enum
import functools
import posixpath
import re
from dataclasses import dataclass

from dockopt.secrets.text import (
    ENTROPY_CAP,
    ENTROPY_MARGIN,
    MIN_RANDOM_LENGTH,
    PRIVATE_KEY_HEADER,
    TokenMatch,
    UrlCredential,
    is_boolean,
    is_default_for,
    is_placeholder,
    is_reference,
    known_tokens,
    looks_like_path,
    looks_random,
    name_words,
    referenced_names,
    secret_name,
    shannon_entropy,
    url_credentials,
)

__all__ = [
    "ENTROPY_CAP", "ENTROPY_MARGIN", "MIN_RANDOM_LENGTH", "SecretPath", "Strength", "TokenMatch", "UrlCredential",
    "content_refutes", "is_boolean", "is_default_for", "is_placeholder", "is_reference", "known_tokens",
    "looks_like_path", "looks_random", "name_words", "public_key_path", "referenced_names", "secret_name",
    "secret_path", "shannon_entropy", "sniff_content", "token_in_content", "url_credentials", "MAX_CONTENT_BYTES",
]

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
# A pattern string: ``re.search`` compiles (and caches) it only once a key file turns up.
_PUBLIC_HINTS = (r"(?i)(^|[^a-z])(ca|cacert|cacerts|cert|certs|certificate|chain|fullchain|bundle|root|pub|"
                 r"public|trust|truststore|gpg|pgp|signing|release|repo|archive|keyring|apt|rpm|yum)([^a-z]|$)")
# Directories that only ever hold public keys or certificates.
_PUBLIC_DIRS = ("/etc/ssl/certs/", "/usr/local/share/ca-certificates/", "/usr/share/ca-certificates/",
                "/etc/pki/ca-trust/", "/etc/pki/rpm-gpg/", "/etc/apt/", "/usr/share/keyrings/",
                "/etc/apk/keys/", "/etc/ca-certificates/")


def public_key_path(path: str) -> bool:
    """Whether a path says its file is public key material (``*.pub``, ``*.asc``, a CA directory):
    ``COPY jenkins.key /war/jenkins-key.pub`` copies a public key whatever its source name."""
    clean = "/" + path.strip("/")
    lower = clean.rsplit("/", 1)[-1].lower()
    return lower.endswith((".pub", ".asc", ".gpg", ".crt", ".cer")) or any(
        (clean + "/").startswith(d) for d in _PUBLIC_DIRS)


def secret_path(path: str) -> SecretPath | None:
    """Whether a file path (absolute, context-relative, or a bare name) names a secret file.

    A path ending in ``/`` is a directory tree: ``.ssh/`` and ``.aws/`` trees are secrets.
    """
    is_tree = path.endswith("/")
    clean = posixpath.normpath("/" + path.strip("/")) if path.strip("/") else "/"
    name = posixpath.basename(clean)
    parent = posixpath.basename(posixpath.dirname(clean))
    lower = name.lower()
    if public_key_path(clean) or lower.endswith(".pub.pem"):
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
        if lower in _SSH_PUBLIC or lower.startswith(("config", "known_hosts", "authorized_keys")):
            return None
        return SecretPath("a file in .ssh/ (an SSH key)", Strength.STRONG)
    if parent == ".aws":
        if lower == "credentials":
            return SecretPath("AWS credentials", Strength.STRONG)
        return SecretPath("an AWS config file", Strength.WEAK)
    if (parent == ".kube" and lower == "config") or lower.endswith(".kubeconfig"):
        return SecretPath("a kubeconfig", Strength.STRONG)
    if parent == ".docker" and lower == "config.json":
        # Often only client settings (``psFormat``, ``detachKeys``, ``proxies``): content decides.
        return SecretPath("Docker registry credentials", Strength.CONTENT)
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
    if lower.endswith("credentials.json") or (lower.startswith("client_secret") and lower.endswith(".json")):
        return SecretPath("a credentials file", Strength.STRONG)
    if lower.endswith(".json") and ("service-account" in lower or "serviceaccount" in lower or
                                    "service_account" in lower or lower.endswith(("-sa.json", "_sa.json"))):
        return SecretPath("a service-account key", Strength.CONTENT)
    stem = lower.rsplit(".", 1)[0]
    if lower.endswith(_KEYSTORE_EXTENSIONS):  # PKCS#12/JKS bundles hold private keys, trust stores do not
        return None if re.search(r"trust|cacerts", stem) else SecretPath("a key store", Strength.STRONG)
    if lower.endswith(".key"):
        return None if re.search(_PUBLIC_HINTS, stem) else SecretPath("a private key", Strength.STRONG)
    if lower.endswith(".pem"):
        if re.search(r"key|priv", stem):
            return SecretPath("a private key", Strength.STRONG)
        return None if re.search(_PUBLIC_HINTS, stem) else SecretPath("a PEM file (may hold a private key)",
                                                                   Strength.WEAK)
    return None


# --- contents --------------------------------------------------------------------------------

# Compiled on first use (``_content_patterns``): only files whose content dockopt reads
# (a build context, a RUN writing a file) are sniffed; start-up time.
_CONTENT_EVIDENCE: list[tuple[str, str | re.Pattern[str]]] = [
    ("a private key", PRIVATE_KEY_HEADER),
    ("a service-account key", r'"private_key"\s*:\s*"[^"]{20,}'),
    ("an OAuth client secret", r'"client_secret"\s*:\s*"[^"$]{8,}'),
    ("an npm auth token", r"(?m)(?:^|:)_(?:authToken|auth|password)\s*=\s*(?P<v>\S+)"),
    ("a yarn auth token", r"(?m)^\s*npmAuth(?:Token|Ident)\s*:\s*[\"']?(?P<v>[^\s\"']+)"),
    ("AWS credentials", r"(?mi)^\s*aws_secret_access_key\s*=\s*(?P<v>\S+)"),
    ("a .netrc password", r"(?m)(?:^|\s)password\s+(?P<v>\S+)"),
    ("a registry login", r'"auth"\s*:\s*"(?P<v>[A-Za-z0-9+/=]{8,})"'),
    # An OAuth token saved by `docker login` to a registry that issues them. A ``credsStore`` or
    # ``credHelpers`` entry is not one: it names where the logins live, outside the image.
    ("a registry token", r'"(?:identitytoken|registrytoken)"\s*:\s*"(?P<v>[^"]+)"'),
    ("a kubeconfig credential", r"(?m)^\s*(?:client-key-data|token)\s*:\s*(?P<v>\S{16,})"),
    ("a password", r"(?m)<password>(?P<v>[^<$]+)</password>"),
]
_ENV_LINE = r"(?m)^[ \t]*(?:export[ \t]+)?(?P<k>[A-Za-z_][A-Za-z0-9_.-]*)[ \t]*[=:][ \t]*(?P<v>.*?)[ \t]*$"


@functools.cache
def _content_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(source)) for kind, source in _CONTENT_EVIDENCE)


@functools.cache
def _env_line() -> re.Pattern[str]:
    return re.compile(_ENV_LINE)


def sniff_content(text: str, *, shell_expands: bool = False) -> str | None:
    """What credential ``text`` (a file's content) holds, or None.

    ``shell_expands``: the text is what a RUN writes (``echo "_authToken=$NPM_TOKEN" >
    .npmrc``), so a ``$VAR`` reference is replaced by its value and counts as a credential.
    In a file copied as is, ``${NPM_TOKEN}`` is npm's own interpolation: no secret inside.
    """
    for kind, pattern in _content_patterns():
        for m in pattern.finditer(text):
            value = m.groupdict().get("v")
            if value is None or _credential_value(value.strip("\"'"), shell_expands):
                return kind
    token = known_tokens(text)
    if token:
        return token[0].kind
    for m in _env_line().finditer(text):
        value = m.group("v").strip("\"'")
        if secret_name(m.group("k")) and _credential_value(value, shell_expands):
            return f"a {m.group('k')} value"
        if looks_random(value):
            return f"a random-looking {m.group('k')} value"
    return None


# A file the name says nothing about is read only this far, and only for credentials of a known
# format: "random-looking" values in arbitrary files would bury the findings in false alarms.
MAX_CONTENT_BYTES = 16384


def token_in_content(text: str) -> str | None:
    """The kind of the first live-format credential in a file's text (``a GitHub token``), or None.

    For files whose name says nothing: documentation samples (AWS's ``...EXAMPLE`` keys) and JWTs
    (test fixtures and sample sessions in source trees, rarely a live credential) do not count.
    """
    if "\0" in text:
        return None  # binary
    for token in known_tokens(text[:MAX_CONTENT_BYTES]):
        if "EXAMPLE" in token.text.upper() or token.kind == "a JSON Web Token":
            continue
        return token.kind
    return None


def _credential_value(value: str, shell_expands: bool) -> bool:
    if not value or is_placeholder(value):
        return False
    if value.startswith("$"):
        return shell_expands and is_reference(value)
    return True


def content_refutes(path_kind: SecretPath, text: str, *, shell_expands: bool = False) -> bool:
    """Whether readable content shows that a secret-named file holds no secret.

    ``shell_expands`` as for :func:`sniff_content`: then ``$NAME`` is a value, not a template.
    """
    if not text.strip():
        return True  # an empty file
    if PRIVATE_KEY_HEADER.search(text):
        return False
    if _only_templates(text, shell_expands):
        return True  # every value is empty, a placeholder or a ``$NAME`` filled in elsewhere
    if path_kind.strength is Strength.STRONG:
        # Only certificate or public-key material refutes a strong name.
        return bool(re.search(r"-----BEGIN (CERTIFICATE|PUBLIC KEY|PGP PUBLIC KEY BLOCK|RSA PUBLIC KEY)-----", text)) \
            or text.lstrip().startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-"))
    return sniff_content(text) is None


def named_file_is_secret(named: SecretPath, content: str | None, *, shell_expands: bool = False,
                         allow_weak: bool = False) -> bool:
    """Whether a file whose name says ``named`` is a secret. Readable ``content`` decides: a
    credential in it, or for a strong name nothing that refutes it. Unread, the name decides:
    strong and content names count, a weak one only with ``allow_weak``."""
    if content is not None:
        return sniff_content(content, shell_expands=shell_expands) is not None or (
            named.strength is Strength.STRONG and not content_refutes(named, content, shell_expands=shell_expands))
    return named.strength is not Strength.WEAK or allow_weak


def _only_templates(text: str, shell_expands: bool) -> bool:
    """Whether ``text`` is key=value lines (and ``[sections]``, comments) none of which holds a value."""
    pairs = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")) or (stripped.startswith("[") and stripped.endswith("]")):
            continue
        m = _env_line().match(line)
        if m is None:
            return False
        value = m.group("v").strip("\"'")
        if value and not is_placeholder(value) and (shell_expands or not is_reference(value)):
            return False
        pairs += 1
    return pairs > 0
