"""Secrets: the shared secret-likeness module (tables) and the DO201-DO205 rules (fixtures).

Token-shaped test values are assembled from pieces so that no scanner mistakes this file
for a leak (and so that nobody copies a "real-looking" token out of it).
"""
from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from dockopt.context.build_context import BuildContext
from dockopt.diagnostics import Applicability, Diagnostic
from dockopt.linter import lint
from dockopt.fixes.fixer import apply_edits
from dockopt.secrets.detect import (
    Strength,
    content_refutes,
    is_placeholder,
    known_tokens,
    looks_random,
    public_key_path,
    secret_name,
    secret_path,
    shannon_entropy,
    sniff_content,
    url_credentials,
)
from tests.lintkit import Only, findings, fixed

GITHUB = "gh" + "p_" + "a1B2c3D4" * 4 + "e5F6"
GITLAB = "gl" + "pat-" + "xY9_zW8-vU7tS6rQ5pO4"
SLACK = "xo" + "xb-" + "1234567890-abcdefABCDEF"
STRIPE = "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GOOGLE = "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
AWS = "AK" + "IAIOSFODNN7EXAMPLE"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9.ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
NPM = "np" + "m_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PYPI = "py" + "pi-AgEIcHlwaS5vcmc" + "CJGFhYmJjY2RkLWVlZmYtMDAxMS0yMjMzLTQ0NTU2Njc3ODg5OQ"
PRIVATE_KEY = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


# --- secret_path -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "strength"), [
    ("/root/.ssh/id_rsa", Strength.STRONG),
    ("id_ed25519", Strength.STRONG),
    ("/home/app/.ssh/deploy_key", Strength.STRONG),
    ("/root/.ssh/", Strength.STRONG),
    ("/root/.ssh", Strength.STRONG),
    (".aws/credentials", Strength.STRONG),
    ("/root/.aws/config", Strength.WEAK),
    ("/root/.kube/config", Strength.STRONG),
    ("prod.kubeconfig", Strength.STRONG),
    ("/root/.docker/config.json", Strength.CONTENT),
    (".netrc", Strength.STRONG),
    (".pypirc", Strength.STRONG),
    (".git-credentials", Strength.STRONG),
    (".htpasswd", Strength.STRONG),
    ("credentials.json", Strength.STRONG),
    ("application_default_credentials.json", Strength.STRONG),
    ("my-service-account.json", Strength.CONTENT),
    ("server.key", Strength.STRONG),
    ("tls/key.pem", Strength.STRONG),
    ("server.pem", Strength.WEAK),
    ("keystore.jks", Strength.STRONG),
    ("client.p12", Strength.STRONG),
    ("cert.pfx", Strength.STRONG),
    ("release.keystore", Strength.STRONG),
    (".env", Strength.CONTENT),
    ("app/.env.production", Strength.CONTENT),
    (".env.local", Strength.CONTENT),
    (".npmrc", Strength.WEAK),
    ("prod.env", Strength.WEAK),
])
def test_secret_paths(path: str, strength: Strength) -> None:
    found = secret_path(path)
    assert found is not None and found.strength is strength, path


@pytest.mark.parametrize("path", [
    ".env.example", ".env.sample", ".env.template", ".env.dist", "config/.env.local.example",
    "/root/.ssh/id_rsa.pub", "/root/.ssh/known_hosts", "/root/.ssh/config", "/root/.ssh/authorized_keys",
    "/usr/share/jenkins/ref/.ssh/config.override",
    "cacert.pem", "ca-bundle.pem", "fullchain.pem", "/etc/ssl/certs/site.pem", "truststore.jks",
    "nginx_signing.key", "Release.key", "/etc/apt/keyrings/docker.key", "repo-gpg.key",
    "/usr/share/keyrings/x.key", "/app/", "package.json", "/etc/passwd", "key.txt", "environment.yml",
    "meta.env.example",
])
def test_not_secret_paths(path: str) -> None:
    assert secret_path(path) is None, path


def test_a_public_destination_wins_over_a_key_like_source() -> None:
    assert public_key_path("/war/jenkins-key.pub")
    assert public_key_path("/usr/local/share/ca-certificates/corp.crt")
    assert not public_key_path("/root/.ssh/id_rsa")


# --- variable names --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "NPM_TOKEN", "GITHUB_TOKEN", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey", "API_KEY", "apiKey",
    "STRIPE_API_KEY", "SSH_PRIVATE_KEY", "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "PGPASSWORD", "DB_PASS", "MAIL_PASS",
    "LDAP_ROOTPASS", "DB_PWD", "PASSWD", "CLIENT_SECRET", "SECRET_KEY_BASE", "GOOGLE_CREDENTIALS", "NPM_AUTH",
    "BASIC_AUTH", "GITHUB_PAT", "LICENSE_KEY", "ACCESS_KEY", "ENCRYPTION_KEY", "JWT_SECRET", "PASSPHRASE",
])
def test_secret_names(name: str) -> None:
    assert secret_name(name), name


@pytest.mark.parametrize("name", [
    "TOKENIZERS_PARALLELISM", "GPG_KEY", "GPG_KEYS", "SWIFT_SIGNING_KEY", "KEY", "PWD", "OLDPWD",
    "PASSWORD_MIN_LENGTH", "PASSWORD_FILE", "DB_PASSWORD_FILE", "SECRET_PATH", "TOKEN_DIR", "AUTH_URL",
    "AUTH_METHOD", "AUTH_TYPE", "TOKEN_EXPIRY", "TOKEN_TTL", "AUTH_HEADER", "AUTH_ENABLED", "DISABLE_TOKEN_AUTH",
    "TS_DISABLE_TOKEN_AUTHORIZATION", "USE_GKE_GCLOUD_AUTH_PLUGIN", "DOCKER_CREDENTIAL_GCR_CONFIG",
    "DOCKER_AUTH_VERSION", "OAUTH2_PROXY_VERSION", "AWS_ACCESS_KEY_ID", "CLIENT_ID", "BYPASS_PROXY", "KEEPASS_DIR",
    "AUTHOR", "KEYSIZE", "PASSENGER_VERSION", "SECRET_NAME", "KEEPASSXC_VERSION",
])
def test_benign_names(name: str) -> None:
    assert not secret_name(name), name


# --- values --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    (f"token={GITHUB}", "a GitHub token"), (GITLAB, "a GitLab token"), (SLACK, "a Slack token"),
    (STRIPE, "a Stripe secret key"), (GOOGLE, "a Google API key"), (AWS, "an AWS access key ID"),
    (JWT, "a JSON Web Token"), (NPM, "an npm token"), (PYPI, "a PyPI token"), (PRIVATE_KEY, "a private key"),
    ("-----BEGIN RSA " + "PRIVATE KEY-----", "a private key"), ("-----BEGIN " + "PRIVATE KEY-----", "a private key"),
])
def test_known_token_formats(text: str, kind: str) -> None:
    assert [t.kind for t in known_tokens(text)] == [kind]


@pytest.mark.parametrize("text", [
    "ghp_short", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "AKIA1234", "xoxb-", "-----BEGIN PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----", "eyJhbGciOiJIUzI1NiJ9", "npm_config_cache", "pypi-simple",
    "MYAKIAIOSFODNN7EXAMPLEX",
])
def test_not_known_tokens(text: str) -> None:
    assert known_tokens(text) == []


def test_random_tokens_are_found() -> None:
    """Recall on generated tokens: the threshold keeps about 99% of random base62 strings."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    for length in (20, 24, 32, 40, 64):
        tokens = ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(500)]
        found = sum(looks_random(t) for t in tokens)
        assert found >= 0.9 * len(tokens), (length, found)


@pytest.mark.parametrize("value", [
    # checksums, commits, GPG fingerprints (hex): never random enough on their own
    "8c136d199d3637a1fce98a16adc809c1d83c922d02d41f3614b34f8b6e7d38ec", "A035C8C19219BA821ECEA86B64E628F8D684696D",
    "0x0A9AF2115F4687BD29803A206B73A36E6026DFCA", "66063c6c6e5bbbafcf493c5bc7c825f0a6e1b03d",
    # identifiers and versions seen in the corpus
    "PSDocker-arm64v7-Mariner-2", "PSModuleAnalysisCachePath", "swift-5.10-DEVELOPMENT-SNAPSHOT-2024-05-26-a",
    "com.redhat.stacks.ubi9-python-312", "commandlinetools-linux-9477386_latest.zip", "MyApplicationServer2024",
    "00000000-0000-0000-0000-000000000000", "3f6d2b1c-9a4e-4c2b-8f1d-2e7a9b0c4d5e",
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7", "short1A", "--driver-java-options=-Xmx4096M",
])
def test_not_random(value: str) -> None:
    assert not looks_random(value), value


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


@pytest.mark.parametrize(("value", "expected"), [
    ("", True), ("changeme", True), ("CHANGE_ME", True), ("xxxxxxxx", True), ("<your-token>", True),
    ("your_api_key_here", True), ("0000000000", True), ("00000000-0000-0000-0000-000000000000", True),
    ("admin", True), ("changeit", True), ("fake", True), ("hunter2", False), ("s3cr3t-pa55", False),
])
def test_placeholders(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


@pytest.mark.parametrize(("text", "secrets", "literal"), [
    ("https://user:s3cret@example.com/x", ["s3cret"], [True]),
    ("git clone https://oauth2:${GITLAB_TOKEN}@gitlab.com/x.git", ["${GITLAB_TOKEN}"], [False]),
    ("https://${GITHUB_TOKEN}@github.com/x", ["${GITHUB_TOKEN}"], [False]),
    (f"https://{GITHUB}@github.com/x", [GITHUB], [True]),
    ("https://user@example.com/x", [], []),
    ("https://${USER}@example.com/x", [], []),
    ("git@github.com:org/repo.git", [], []),
    ("https://example.com/a@b", [], []),
    ("https://user:@example.com", [], []),
    ("postgres://app:changeme@db/app", [], []),
])
def test_url_credentials(text: str, secrets: list[str], literal: list[bool]) -> None:
    found = url_credentials(text)
    assert [c.secret for c in found] == secrets
    assert [c.literal for c in found] == literal


@pytest.mark.parametrize(("text", "expands", "expected"), [
    ("//registry.npmjs.org/:_authToken=abc123def456\n", False, "an npm auth token"),
    ("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", False, None),  # npm reads the variable itself
    ("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", True, "an npm auth token"),  # the shell wrote the value
    ("registry=https://registry.npmjs.org/\n", False, None),
    ('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE"}', False, "a private key"),
    ('{"type": "service_account", "private_key_id": "abc"}', False, None),
    ("[default]\naws_access_key_id = X\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n", False, "AWS credentials"),
    ("machine github.com login me password s3cret\n", False, "a .netrc password"),
    ('{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', False, "a registry login"),
    ('{"credsStore": "desktop"}', False, None),
    ("DB_PASSWORD=s3cr3t\nPORT=3000\n", False, "a DB_PASSWORD value"),
    ("DB_PASSWORD=\nAPI_TOKEN=changeme\nNODE_ENV=production\n", False, None),
    (f"export GH={GITHUB}\n", False, "a GitHub token"),
])
def test_sniff_content(text: str, expands: bool, expected: str | None) -> None:
    assert sniff_content(text, shell_expands=expands) == expected


def test_content_refutes_only_what_it_shows() -> None:
    key = secret_path("server.key")
    pem = secret_path("server.pem")
    assert key is not None and pem is not None
    assert content_refutes(key, "-----BEGIN CERTIFICATE-----\nMIIB\n")
    assert content_refutes(key, "")
    assert not content_refutes(key, "binary-ish unknown content")  # a strong name stands
    assert not content_refutes(key, PRIVATE_KEY)
    assert content_refutes(pem, "-----BEGIN CERTIFICATE-----\n")
    assert not content_refutes(pem, PRIVATE_KEY)


# --- helpers for the rule tests --------------------------------------------------------------------

def make_context(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def codes(text: str, code: str, **kwargs: object) -> list[Diagnostic]:
    return [d for d in findings(text.lstrip("\n"), code, **kwargs) if d.code == code]


# --- DO201 ---------------------------------------------------------------------------------------

NPMRC_COPY_RM = """
FROM node:20-slim
WORKDIR /app
COPY .npmrc package.json ./
RUN npm ci
RUN rm .npmrc
"""


def test_do201_names_both_lines_and_suggests_a_secret_mount() -> None:
    [d] = codes(NPMRC_COPY_RM, "DO201")
    assert d.start.line == 5
    assert "line 5" in d.message and "COPY on line 3" in d.message and "/app/.npmrc" in d.message
    assert [text for text, _ in d.related] == ["the secret was stored by this COPY"]
    assert d.fix is not None and d.fix.applicability is Applicability.SUGGESTION
    rewritten = apply_edits(NPMRC_COPY_RM.lstrip("\n"), list(d.fix.edits))
    assert rewritten == (
        "FROM node:20-slim\n"
        "WORKDIR /app\n"
        "COPY package.json ./\n"
        "RUN --mount=type=secret,id=npmrc,target=/app/.npmrc npm ci\n"
    )
    assert "--secret id=npmrc,src=.npmrc" in d.fix.message


def test_do201_suggestion_is_never_applied() -> None:
    text = NPMRC_COPY_RM.lstrip("\n")
    assert fixed(text, "DO201").text == text
    assert fixed(text, "DO201", unsafe=True).text == text


def test_do201_rm_inside_the_using_run_keeps_that_run() -> None:
    text = "FROM node:20\nCOPY .npmrc /root/.npmrc\nRUN npm ci && rm /root/.npmrc\n"
    [d] = codes(text, "DO201")
    assert d.fix is not None
    assert apply_edits(text, list(d.fix.edits)) == (
        "FROM node:20\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n")


def test_do201_written_by_run_and_removed_later() -> None:
    text = """
FROM node:20
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > /root/.npmrc
RUN npm ci
RUN rm /root/.npmrc
"""
    [d] = codes(text, "DO201")
    assert "RUN on line 3" in d.message and "written by `echo" in d.message


@pytest.mark.parametrize("text", [
    # removed in the same RUN: never in a layer
    "FROM node:20\nARG T\nRUN echo \"_authToken=$T\" > /root/.npmrc && npm ci && rm /root/.npmrc\n",
    # a builder stage does not ship
    "FROM node:20 AS b\nCOPY .npmrc /root/.npmrc\nRUN npm ci\nRUN rm /root/.npmrc\nFROM nginx\nCOPY --from=b /d /d\n",
    # a secret mount
    "FROM node:20\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n",
    # an .npmrc without a token, written by a RUN (its content is visible)
    "FROM node:20\nRUN echo registry=https://r.example.com > /root/.npmrc\nRUN rm /root/.npmrc\n",
    # mv keeps the bytes where they are: not a removal
    "FROM alpine\nCOPY id_rsa /tmp/id_rsa\nRUN mv /tmp/id_rsa /root/.ssh/id_rsa\n",
    # public key material
    "FROM alpine\nCOPY deploy.pub /root/.ssh/authorized_keys\nRUN rm /root/.ssh/authorized_keys\n",
    # a downloaded signing key
    "FROM debian\nRUN curl -fsSLo /tmp/repo.key https://example.com/repo.key\nRUN rm /tmp/repo.key\n",
])
def test_do201_silent(text: str) -> None:
    assert codes(text, "DO201") == []


def test_do201_no_suggestion_under_a_non_root_user() -> None:
    text = "FROM node:20\nCOPY .npmrc /home/node/.npmrc\nUSER node\nRUN npm ci\nRUN rm /home/node/.npmrc\n"
    [d] = codes(text, "DO201")
    assert d.fix is None


def test_do201_no_suggestion_when_a_comment_would_be_lost() -> None:
    text = "FROM node:20\nCOPY .npmrc \\\n# the token\n  /root/.npmrc\nRUN npm ci\nRUN rm /root/.npmrc\n"
    [d] = codes(text, "DO201")
    assert d.fix is None


def test_do201_no_suggestion_when_rm_removes_more() -> None:
    text = "FROM node:20\nCOPY .npmrc /root/.npmrc\nRUN npm ci\nRUN rm -rf /root/.npmrc /tmp/cache\n"
    [d] = codes(text, "DO201")
    assert d.fix is None


def test_do201_secret_inside_a_copied_tree(tmp_path: Path) -> None:
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nRUN rm -f .env\n"
    # Unknown context: the later removal of a .env shows it was expected there.
    [d] = codes(text, "DO201")
    assert ".dockerignore" in d.message and d.fix is None
    # Known context without such a file: nothing was copied, nothing leaks.
    empty = make_context(tmp_path / "a", {"requirements.txt": ""})
    assert codes(text, "DO201", context=empty) == []
    # .dockerignore keeps it out.
    ignored = make_context(tmp_path / "b", {".env": "API_KEY=abc123def456\n", ".dockerignore": ".env\n"})
    assert codes(text, "DO201", context=ignored) == []
    present = make_context(tmp_path / "c", {".env": "API_KEY=abc123def456\n"})
    assert len(codes(text, "DO201", context=present)) == 1


# --- DO202 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "fragment"), [
    ("FROM a\nARG NPM_TOKEN\nRUN npm ci\n", "--build-arg NPM_TOKEN"),
    ("FROM a\nARG API_KEY\nENV API_KEY=$API_KEY\n", "copies build argument API_KEY"),
    ("FROM a\nARG TOKEN\nENV SETTINGS_TOKEN_VALUE=${TOKEN}\n", "copies build argument TOKEN"),
    ("FROM a\nENV DB_PASSWORD=hunter2hunter2\n", "hard-coded credential"),
    ("FROM a\nENV LDAP_ROOTPASS fsociety\n", "default password"),  # a demo default: info (see below)
    (f"FROM a\nENV AWS_ACCESS_KEY_ID={AWS}\n", "an AWS access key ID"),
    (f"FROM a AS b\nENV GH={GITHUB}\nFROM c\n", "committed with the Dockerfile"),
    (f"ARG TOKEN={GITHUB}\nFROM a\n", "a GitHub token"),
    ("FROM a\nENV PIP_INDEX_URL=https://ci:s3cr3tpw@pypi.example.com/simple\n", "a URL with a password"),
    ("FROM a\nENV SESSION_SEED=Zx8fQ2mLp9RtV3wK7yBn4HcJ\n", "long random string"),
    ("FROM a\nARG API_KEY\nENV API_KEY=$API_KEY\nENV API_KEY=\n", "the ENV on line 4 replaces it"),
])
def test_do202_fires(text: str, fragment: str) -> None:
    found = codes(text, "DO202")
    assert len(found) == 1 and fragment in found[0].message, [d.message for d in found]


@pytest.mark.parametrize("text", [
    "FROM a\nARG APP_VERSION\nARG BUILD_DATE\n",  # benign names without defaults
    "FROM a\nENV X_FILE=/run/secrets/x DB_PASSWORD_FILE=/run/secrets/db\n",
    "FROM a\nENV PASSWORD= API_TOKEN=changeme SECRET=xxxxxxxx MTP_SECRET=00000000000000000000000000000000\n",
    "FROM a\nENV MAIL_PASS=admin\n",  # a default everybody knows
    "FROM a\nENV NAGIOSADMIN_PASS=nagios POSTGRES_PASSWORD=postgres\n",  # the name gives the default away
    "FROM a\nENV USE_GKE_GCLOUD_AUTH_PLUGIN=True TOKENIZERS_PARALLELISM=false AUTH_METHOD=oauth\n",
    "FROM a\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
    "FROM a\nENV AUTH_SERVER_URL=https://auth.example.com SSL_KEY=/etc/ssl/private/site.key\n",
    "FROM a\nARG NPM_TOKEN\nRUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci\n",
    "FROM a\nARG NPM_TOKEN\nRUN --mount=type=secret,id=npm,env=NPM_TOKEN "
    "npm config set //r/:_authToken=$NPM_TOKEN && npm ci\n",
    "FROM a AS build\nARG NPM_TOKEN\nRUN npm ci\nFROM b\nCOPY --from=build /x /x\n",  # builder stage
    "ARG NPM_TOKEN\nFROM a\n",  # a global ARG not redeclared: in no stage's history
    "FROM a\nENV POWERSHELL_DISTRIBUTION_CHANNEL=PSDocker-arm64v7-Mariner-2\n",
])
def test_do202_silent(text: str) -> None:
    assert codes(text, "DO202") == []


def test_do202_reports_the_env_not_also_the_arg_it_copies() -> None:
    found = codes("FROM a\nARG API_KEY\nENV API_KEY=$API_KEY\n", "DO202")
    assert [d.start.line for d in found] == [3]


# --- DO203 ---------------------------------------------------------------------------------------

SECRET_FILES = {
    ".env": "STRIPE_API_KEY=abcdef0123456789\n",
    "certs/server.key": PRIVATE_KEY,
    "gcp.json": '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE"}',
    "app.py": "print(1)\n",
}


def test_do203_lists_the_secret_files(tmp_path: Path) -> None:
    root = make_context(tmp_path, SECRET_FILES)
    [d] = codes("FROM python\nCOPY . /app\n", "DO203", context=root)
    assert "`.env` (an environment file)" in d.message
    assert "`certs/server.key` (a private key)" in d.message
    assert "`gcp.json` (a service-account key)" in d.message
    assert "app.py" not in d.message and "--context" not in d.message
    assert "add a .dockerignore" in d.message


def test_do203_caps_the_list(tmp_path: Path) -> None:
    root = make_context(tmp_path, {f"keys/k{i}.key": PRIVATE_KEY for i in range(8)})
    [d] = codes("FROM python\nCOPY . /app\n", "DO203", context=root)
    assert d.message.count(".key`") == 5 and "and 3 more" in d.message


def test_do203_dockerignore_and_reinclusion(tmp_path: Path) -> None:
    ignore = ".env\ncerts/\n*.json\n!certs/server.key\n"
    root = make_context(tmp_path, {**SECRET_FILES, ".dockerignore": ignore})
    [d] = codes("FROM python\nCOPY . /app\n", "DO203", context=root)
    assert "certs/server.key" in d.message and ".env" not in d.message and "gcp.json" not in d.message
    assert "add them to .dockerignore" in d.message


@pytest.mark.parametrize("text", [
    "FROM python\nCOPY app.py /app/\n",  # a named file: DO204's business
    "FROM python\nCOPY .env /app/.env\n",
    "FROM python AS b\nCOPY . /app\nRUN make\nFROM python\nCOPY --from=b /app/dist /dist\n",  # builder only
    "FROM python AS b\nCOPY . /app\nRUN rm /app/.env /app/certs/server.key /app/gcp.json\n"
    "FROM python\nCOPY --from=b /app /app\n",  # removed in the builder before the final copy
])
def test_do203_silent(text: str, tmp_path: Path) -> None:
    assert codes(text, "DO203", context=make_context(tmp_path, SECRET_FILES)) == []


def test_do203_content_decides_inconclusive_names(tmp_path: Path) -> None:
    root = make_context(tmp_path, {
        ".npmrc": "registry=https://registry.npmjs.org/\n", ".env": "NODE_ENV=production\n",
        "site.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n", "node_modules/pkg/test.key": PRIVATE_KEY,
        "fixtures/sample.key": PRIVATE_KEY, "settings.json": '{"private_key_path": "/x"}',
    })
    assert codes("FROM node\nCOPY . /app\n", "DO203", context=root) == []
    (root / ".npmrc").write_text("//registry.npmjs.org/:_authToken=abcdef0123456789\n")
    [d] = codes("FROM node\nCOPY . /app\n", "DO203", context=root)
    assert "`.npmrc`" in d.message


def test_do203_follows_copy_from(tmp_path: Path) -> None:
    text = "FROM node AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci\nFROM node\nCOPY --from=build /app /srv\n"
    [d] = codes(text, "DO203", context=make_context(tmp_path, SECRET_FILES))
    assert d.start.line == 6 and "through stage 'build'" in d.message


def test_do203_wildcard_sources(tmp_path: Path) -> None:
    root = make_context(tmp_path, {"a.json": "{}", **SECRET_FILES})
    [d] = codes("FROM python\nCOPY *.json /app/\n", "DO203", context=root)
    assert "gcp.json" in d.message and "a.json" not in d.message


def test_do203_needs_a_context_and_hedges_an_assumed_one(tmp_path: Path) -> None:
    text = "FROM python\nCOPY . /app\n"
    assert codes(text, "DO203") == []  # no directory at all: nothing certain to say
    root = make_context(tmp_path, SECRET_FILES)
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(text)
    assumed = BuildContext.for_dockerfile(dockerfile, None)
    assert not assumed.known
    result = lint(text, "Dockerfile", Only(frozenset({"DO203"})), path=dockerfile, build_context=assumed)
    [d] = result.diagnostics
    assert "assuming the build context is" in d.message and "--context" in d.message


# --- DO204 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "fragment"), [
    ("FROM a\nCOPY id_rsa /root/.ssh/id_rsa\nRUN git clone git@github.com:o/r.git\n", "an SSH private key"),
    ("FROM a\nCOPY id_rsa /root/.ssh/id_rsa\nRUN chmod 600 /root/.ssh/id_rsa\n", "an SSH private key"),
    ("FROM a\nCOPY deploy_key /root/.ssh/\n", "a file in .ssh/"),
    ("FROM a\nARG K\nRUN mkdir -p /root/.ssh && echo \"$K\" > /root/.ssh/id_ed25519\n", "written by `echo"),
    ("FROM a\nRUN --mount=type=secret,id=n cp /run/secrets/n /root/.npmrc && npm ci\n", "secret mount"),
    ("FROM a\nRUN --mount=type=secret,id=t cp /run/secrets/t /app/token.txt\n", "a build secret"),
    ("FROM a\nCOPY .env /app/.env\n", "an environment file"),
    ("FROM a\nCOPY .aws /root/.aws\n", ".aws directory"),
    ("FROM a\nCOPY <<EOF /root/.npmrc\n//r/:_authToken=${NPM_TOKEN}\nEOF\n", "a COPY heredoc"),
    ("FROM a\nCOPY key.pem /etc/nginx/\n", "a private key"),
    ("FROM a\nCOPY deploy /tmp/deploy\nRUN cp /tmp/deploy /root/.ssh/id_rsa\n", "from what the COPY on line 2"),
    ("FROM a\nRUN /bin/echo -e \"[default]\\naccess_key=$AWS_ACCESS_KEY\" > /.s3cfg\n", "S3 credentials"),
    ("FROM a AS b\nCOPY .env /app/.env\nFROM c\nCOPY --from=b /app /app\n", "from stage 'b'"),
    ("FROM a AS b\nCOPY .env /app/.env\nFROM b\nRUN echo hi\n", "an environment file"),  # FROM a stage: ships
])
def test_do204_fires(text: str, fragment: str) -> None:
    found = codes(text, "DO204")
    assert len(found) == 1 and fragment in found[0].message, [d.message for d in found]


@pytest.mark.parametrize("text", [
    "FROM a\nCOPY id_rsa /root/.ssh/id_rsa\nRUN git clone git@x:o/r.git\nRUN rm /root/.ssh/id_rsa\n",  # DO201's
    "FROM a\nRUN echo \"$K\" > /root/.ssh/id_rsa && git clone git@x:o/r.git && rm /root/.ssh/id_rsa\n",
    "FROM a\nCOPY .npmrc /app/.npmrc\n",  # a weak name without content
    "FROM a\nRUN echo registry=https://r > /root/.npmrc\n",
    "FROM a\nCOPY jenkins.key /war/jenkins-key.pub\nCOPY ssh_config /root/.ssh/config\n",
    "FROM a\nRUN mkdir -p /root/.ssh && touch /root/.ssh/config.override && ssh-keyscan gh >> /root/.ssh/known_hosts\n",
    "FROM a\nADD https://example.com/repo.key /tmp/repo.key\nCOPY corp-ca.pem /usr/local/share/ca-certificates/\n",
    "FROM a\nRUN curl -sSL https://x/y.tar.gz | tar xz && cp y/airport.key /airport.key\n",  # from inside the image
    "FROM a AS b\nCOPY id_rsa /root/.ssh/id_rsa\nRUN git clone git@x:o/r.git /src\nFROM c\nCOPY --from=b /src /src\n",
    "FROM a\nCOPY library-scripts/*.env /tmp/library-scripts/\n",  # a wildcard: DO203 reads the context
    # single quotes: the file holds the text `$AWS_ACCESS_KEY`, filled in later by a script
    "FROM a\nRUN /bin/echo -e '[default]\\naccess_key=$AWS_ACCESS_KEY\\nsecret_key=$AWS_SECRET_KEY' > /.s3cfg\n",
])
def test_do204_silent(text: str) -> None:
    assert codes(text, "DO204") == []


def test_do204_reads_the_context(tmp_path: Path) -> None:
    text = "FROM node\nCOPY .npmrc /app/.npmrc\nCOPY .env /app/.env\n"
    root = make_context(tmp_path, {".npmrc": "//r/:_authToken=abcdef0123456789\n", ".env": "PORT=3000\n"})
    [d] = codes(text, "DO204", context=root)
    assert d.start.line == 2 and ".npmrc" in d.message


def test_do204_moved_secret_is_reported_once() -> None:
    found = codes("FROM a\nCOPY id_rsa /tmp/id_rsa\nRUN mv /tmp/id_rsa /root/.ssh/id_rsa\n", "DO204")
    assert [d.start.line for d in found] == [2]


# --- DO205 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("run", "fragment"), [
    ("pip install --index-url https://ci:Zx8fQ2mLp9Rt@pypi.example.com/simple x", "a password in a URL"),
    (f"git clone https://{GITHUB}@github.com/o/r.git", "a GitHub token"),
    ('curl -H "Authorization: Bearer 8a1f7c2e9b4d" https://api.example.com', "`Authorization` header"),
    ('curl --header "PRIVATE-TOKEN: abcdef123456" https://gitlab.example.com', "`PRIVATE-TOKEN` header"),
    ('wget --header="X-API-Key: abcdef123456" https://x', "`X-API-Key` header"),
    ("docker login -u ci -p hunter2-prod registry.example.com", "`docker login -p` password"),
    ("mysql -uroot -pSecretPass -e 'select 1'", "`mysql -p` password"),
    ("sshpass -p s3cret ssh host true", "`sshpass -p` password"),
    ("curl -u admin:admin123 http://nexus/repo", "a password in `curl -u`"),
    ("openssl pkcs12 -export -passout pass:s3cret -in a -out b", "`openssl pass:` password"),
    ("keytool -importcert -storepass s3cretpw -file ca.crt", "`keytool -storepass` password"),
    ("htpasswd -cb /etc/nginx/.htpasswd admin s3cretpw", "`htpasswd -b` password"),
    ("npm config set //registry.npmjs.org/:_authToken=abcdef123456", "an auth token in `npm config`"),
    ("npm config set //registry.npmjs.org/:_authToken abcdef123456", "an auth token in `npm config`"),
    ("poetry config http-basic.corp ci s3cretpw", "`poetry config`"),
    ("vault login --token=s.abcdef123456", "a `--token` value"),
    ("PGPASSWORD=pg_pass psql -h db", "assigned to PGPASSWORD"),
    ("export API_KEY=abcdef123456 && ./run", "assigned to API_KEY"),
    ("sh -c 'curl https://bob:pw123456@example.com/file'", "a password in a URL"),
    ("cat > /root/.netrc <<EOF\nmachine x login y password z\nhttps://u:pw123456@h/\nEOF", "a password in a URL"),
])
def test_do205_fires(run: str, fragment: str) -> None:
    found = codes(f"FROM a\nRUN {run}\n", "DO205")
    assert len(found) == 1 and fragment in found[0].message, [d.message for d in found]
    assert run.split()[0] not in ("",)


def test_do205_masks_the_secret() -> None:
    [d] = codes("FROM a\nRUN curl -u admin:Zx8fQ2mLp9Rt http://nexus/\n", "DO205")
    assert "Zx8fQ2mLp9Rt" not in d.message and "Zx8f…" in d.message


@pytest.mark.parametrize("text", [
    "FROM a\nRUN git clone git@github.com:o/r.git && curl https://user@example.com/f\n",
    "FROM a\nRUN mysql -u root -p appdb\n",  # -p alone prompts
    "FROM a\nRUN keytool -importcert -storepass changeit -file ca.crt\n",
    "FROM a\nRUN VULTR_API_KEY=fake vultr-cli version\n",
    "FROM a\nRUN echo 'RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]' >> /etc/a.conf\n",
    "FROM a\nRUN --mount=type=secret,id=gh,env=GH curl -H \"Authorization: Bearer ${GH}\" https://api.github.com\n",
    "FROM a\nARG NPM_TOKEN\nRUN curl -H \"Authorization: Bearer $NPM_TOKEN\" https://x\n",  # DO202's finding
    "FROM a AS b\nARG GH\nRUN curl -H \"Authorization: token ${GH}\" https://x\nFROM c\n",  # builder: no history
    "FROM a\nRUN TOKEN=$(cat /run/secrets/t) && curl -H \"Authorization: Bearer $TOKEN\" https://x\n",
    "FROM a\nRUN docker login -u ci --password-stdin registry.example.com < /run/secrets/pw\n",
    "FROM a\nRUN curl --password-file /run/secrets/pw https://x && ./tool --token-file /run/secrets/t\n",
    "FROM a\nRUN --mount=type=secret,id=gh,env=T git clone https://x:${T}@github.com/o/r.git /r && rm -rf /r/.git\n",
])
def test_do205_silent(text: str) -> None:
    assert codes(text, "DO205") == []


@pytest.mark.parametrize(("text", "fragment"), [
    ("FROM a\nARG GH\nRUN curl -H \"Authorization: token ${GH}\" https://x\n", "build argument GH (line 2)"),
    ("FROM a\nRUN --mount=type=secret,id=gh,env=T git clone https://x:${T}@github.com/o/r.git /r\n",
     "`.git/config`"),
    ("FROM a\nARG HF_TOKEN\nRUN huggingface-cli login --token $HF_TOKEN\n", "`~/.cache/huggingface/token`"),
    ("FROM a\nRUN --mount=type=secret,id=n,env=T npm config set //r/:_authToken=$T && npm ci\n", "`~/.npmrc`"),
])
def test_do205_references(text: str, fragment: str) -> None:
    found = codes(text, "DO205")
    assert len(found) == 1 and fragment in found[0].message, [d.message for d in found]


def test_live_token_formats_are_errors_unless_the_rule_severity_is_configured() -> None:
    from dataclasses import dataclass

    from dockopt.diagnostics import Severity
    from dockopt.linter import lint

    text = "FROM alpine:3.20\nENV GITHUB_TOKEN=ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "\n"

    @dataclass(frozen=True)
    class Sel:
        override: Severity | None

        def enabled(self, code: str, path: str | None) -> bool:
            return code == "DO202"

        def severity(self, code: str, default: Severity) -> Severity:
            return self.override or default

    (found,) = lint(text, "Dockerfile", Sel(None)).diagnostics
    assert found.severity is Severity.ERROR
    (found,) = lint(text, "Dockerfile", Sel(Severity.INFO)).diagnostics
    assert found.severity is Severity.INFO


# --- issue 16: precision and recall on real files -----------------------------------------------

@pytest.mark.parametrize("value", ["**None**", "changethepass", "changeme", "<your-token>", "", "__TOKEN__",
                                   "CHANGE_THIS_PASSWORD"])
def test_placeholders_from_real_files(value: str) -> None:
    assert is_placeholder(value)
    assert codes(f"FROM a\nENV ADMIN_PASSWORD={value}\nCMD x\n", "DO202") == []


def test_do202_documented_demo_default_is_info() -> None:
    from dockopt.diagnostics import Severity

    [word] = codes("FROM a\nENV LDAP_ROOTPASS=fsociety\n", "DO202")
    assert word.severity is Severity.INFO and "default password" in word.message
    [commented] = codes("FROM a\n# default login, override with -e\nENV ADMIN_PASSWORD=Xy7-pq2-Lm9\n", "DO202")
    assert commented.severity is Severity.INFO
    [real] = codes("FROM a\nENV DB_PASSWORD=s3cr3t-pa55word\n", "DO202")  # no word, no comment: a warning
    assert real.severity is Severity.WARNING


DOCKER_CONFIG = "FROM alpine\nCOPY config/config.json /root/.docker/config.json\nCMD x\n"


@pytest.mark.parametrize(("content", "is_credential"), [
    ('{"psFormat": "table {{.ID}}\\t{{.Names}}", "detachKeys": "ctrl-e,e"}', False),
    ('{"credsStore": "desktop"}', False),  # the logins live in the OS key store, not in the image
    ('{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNzd29yZDEyMw=="}}}', True),
    ('{"auths": {"r.example.com": {"identitytoken": "eyJhbGciOi.abc.def"}}}', True),
])
def test_do204_docker_config_read_when_the_context_is_known(tmp_path: Path, content: str,
                                                             is_credential: bool) -> None:
    context = make_context(tmp_path, {"config/config.json": content})
    assert bool(codes(DOCKER_CONFIG, "DO204", context=context)) is is_credential
    assert len(codes(DOCKER_CONFIG, "DO204")) == 1  # unknown content: the name decides


@pytest.mark.parametrize("name", [".pgpass", ".netrc", ".git-credentials", ".pypirc"])
def test_do204_credential_files_by_name(name: str) -> None:
    [d] = codes(f"FROM a\nCOPY creds /root/{name}\nCMD x\n", "DO204")
    assert f"/root/{name}" in d.message


@pytest.mark.parametrize(("command", "found"), [
    ("curl -fsSLo x 'https://gitlab.example.com/api/v4/projects/1/repository/files/a/raw?ref=main&private_token=glx9Kd2LmQ8vTz'", True),
    ("wget 'https://api.example.com/file?access_token=Zq3fR9aX2kLm7' -O f", True),
    ("curl -o x \"https://example.com/download?token=$DL_KEY\"", True),  # ENV: in the image config
    ("curl -o x 'https://example.com/download?version=1.2.3&os=linux'", False),
    ("curl -o x 'https://example.com/download?auth=1'", False),  # a switch, not a credential
])
def test_do205_token_in_a_url_query_string(command: str, found: bool) -> None:
    text = f"FROM a\nENV DL_KEY=abc\nRUN {command}\n"
    hits = [d for d in codes(text, "DO205") if "query string" in d.message or "DL_KEY" in d.message]
    assert bool(hits) is found, [d.message for d in codes(text, "DO205")]


def test_secret_by_content_in_a_context_file(tmp_path: Path) -> None:
    """A GitHub token in a file whose name says nothing, copied in and removed later."""
    context = make_context(tmp_path, {"secrets/api-token": GITHUB + "\n", "README.md": "hello\n"})
    text = ("FROM alpine\nCOPY secrets/api-token /tmp/api-token\nRUN TOKEN=$(cat /tmp/api-token) ./fetch.sh\n"
            "RUN rm /tmp/api-token\nCMD x\n")
    [removed] = codes(text, "DO201", context=context)
    assert "a GitHub token" in removed.message
    kept = text.replace("RUN rm /tmp/api-token\n", "")
    [stays] = codes(kept, "DO204", context=context)
    assert "a GitHub token" in stays.message
    [swept] = codes("FROM alpine\nCOPY . /app\nCMD x\n", "DO203", context=context)
    assert "secrets/api-token" in swept.message and "README" not in swept.message
    make_context(tmp_path, {"secrets/api-token": "not a token\n"})
    assert codes(text, "DO201", context=context) == [] and codes(kept, "DO204", context=context) == []


def test_secret_by_content_skips_samples(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"docs/aws.md": f"export AWS_ACCESS_KEY_ID={AWS}\n",
                                      "test/jwt.txt": JWT + "\n"})
    assert codes("FROM alpine\nCOPY . /app\nCMD x\n", "DO203", context=context) == []


def test_secret_by_content_in_heredocs() -> None:
    copy = f"# syntax=docker/dockerfile:1\nFROM a\nCOPY <<EOF /app/settings.ini\n[api]\ntoken = {GITHUB}\nEOF\nCMD x\n"
    [d] = codes(copy, "DO204")
    assert "a GitHub token" in d.message and "heredoc" in d.message
    npmrc = ("# syntax=docker/dockerfile:1\nFROM node:20\nRUN <<EOF\ncat > /app/.npmrc <<X\n"
             "//registry.npmjs.org/:_authToken=abcdefgh12345678\nX\nnpm ci\nEOF\nCMD x\n")
    [d] = codes(npmrc, "DO204")
    assert "/app/.npmrc" in d.message


@pytest.mark.parametrize("name", [".pgpass", ".netrc", ".git-credentials", ".pypirc"])
def test_secret_file_written_then_chmodded(name: str) -> None:
    """`echo ... > ~/.pgpass && chmod 600 ~/.pgpass` (the tools insist on 0600): the chmod's rewrite
    must not hide the write that put the credential into the layer."""
    write = f'RUN echo "db:5432:*:app:Sup3rS3cretPw" > /root/{name} && chmod 600 /root/{name}\n'
    [kept] = codes(f"FROM a\n{write}CMD x\n", "DO204")
    assert f"/root/{name}" in kept.message and "echo" in kept.message
    [removed] = codes(f"FROM a\n{write}RUN rm /root/{name}\nCMD x\n", "DO201")
    assert "written by `echo" in removed.message


def test_secret_by_content_written_by_a_run() -> None:
    """A RUN writing a known-format token into a file whose name says nothing: the file ships it
    (DO204), besides the command text (DO205); the message does not repeat the token."""
    text = f"FROM a\nRUN echo 'token={GITHUB}' > /app/settings.ini\nCMD x\n"
    [d] = codes(text, "DO204")
    assert "a GitHub token" in d.message and GITHUB not in d.message
    assert codes(text.replace(GITHUB, "$TOKEN"), "DO204") == []
    assert codes(f"FROM a\nRUN echo 'token={GITHUB}' > /s.ini && ./use && rm /s.ini\nCMD x\n", "DO204") == []
