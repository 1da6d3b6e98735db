"""DO205 credential-in-command: a credential written into a RUN command line.

A RUN's command text is the Dockerfile (committed), the build log, and, for the shipped
stage, the image history (``docker history --no-trunc`` prints every RUN). So a literal
credential there leaks in any stage. Found per simple command (``sh -c`` scripts and
heredoc bodies included):
- known token formats anywhere (``dockopt.secrets.detect.known_tokens``);
- URLs with a password (``https://user:pass@host``) or a token as the user part;
- auth headers with a value (``-H "Authorization: Bearer ..."``, ``PRIVATE-TOKEN:``,
  ``X-API-Key:`` ...);
- password options: ``docker|podman|helm ... login -p/--password``, ``mysql -pSECRET``,
  ``sshpass -p``, ``curl -u user:pass``, ``openssl -passout pass:...``, ``keytool -storepass``,
  ``htpasswd -b``, ``npm|pnpm|yarn config set ..._authToken``, ``poetry config http-basic``,
  any ``--password/--token/--api-key/--secret``, and credential-named variables assigned a
  literal (``PGPASSWORD=... psql``, ``export API_KEY=...``).

A ``$VAR`` in those places is reported when it comes from a build argument or ENV of a
shipped stage whose name does not look like a credential (a credential-named ARG is
DO202's finding already): the value is then in the image history. A secret mount
(``--mount=type=secret,env=VAR``) or a variable the script sets itself is fine, except for
``git clone``/``git remote add`` with credentials in the URL: git stores the URL in
``.git/config`` inside the layer, whatever the variable's source.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dockopt.checks.base import Finding, LintContext, Rule
from dockopt.checks.secret_flow import word_template
from dockopt.diagnostics import Severity
from dockopt.model import Run
from dockopt.secrets.detect import (
    is_placeholder,
    known_tokens,
    looks_like_path,
    referenced_names,
    secret_name,
    url_credentials,
)
from dockopt.shell import Command, Script, Word, parse_script

_HEADER = re.compile(r"^\s*(?P<name>authorization|proxy-authorization|private-token|job-token|deploy-token|"
                     r"x-api-key|api-key|apikey|x-auth-token|x-access-token|x-vault-token|x-jfrog-art-api|"
                     r"x-registry-auth)\s*:\s*(?:(?:bearer|token|basic|apikey|key|digest)\s+)?(?P<value>\S.*?)\s*$",
                     re.IGNORECASE)
_LOGIN_TOOLS = frozenset({"docker", "podman", "buildah", "skopeo", "nerdctl", "helm", "oras", "crane", "oc", "az",
                          "regctl", "singularity", "apptainer"})
_MYSQL = frozenset({"mysql", "mysqladmin", "mysqldump", "mariadb", "mariadb-admin", "mariadb-dump", "mysqlimport"})
_KEYTOOL_OPTIONS = frozenset({"-storepass", "-keypass", "-srcstorepass", "-deststorepass", "-srckeypass",
                              "-destkeypass", "-new"})
_SECRET_OPTIONS = frozenset({"--password", "--passwd", "--token", "--api-key", "--apikey", "--secret",
                             "--client-secret", "--access-token", "--auth-token", "--http-password",
                             "--ftp-password", "--proxy-password", "--registry-password", "--oauth2-bearer"})
_NPM_AUTH = re.compile(r"(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent)(?:=(?P<value>.*))?$")
# ``https://host/file?token=...``: services that take the credential as a query parameter (GitLab's
# private_token, OAuth's access_token, Azure SAS signatures). The name must say so (secret_name or
# one of these), and a literal must be 8+ characters: ``?auth=1`` is a switch.
_QUERY = re.compile(r"://[^\s?#'\"]*\?(?P<query>[^\s#'\"]+)")
_QUERY_KEYS = frozenset({"key", "apikey", "sig", "signature", "x-amz-signature", "access_token", "private_token",
                         "auth", "token"})


def _query_credentials(text: str) -> Iterator[tuple[str, str]]:
    """(parameter, value) of each credential parameter in the query strings of ``text``'s URLs."""
    for m in _QUERY.finditer(text):
        for pair in m.group("query").split("&"):
            key, eq, value = pair.partition("=")
            if eq and value and (secret_name(key) or key.lower() in _QUERY_KEYS) and (len(value) >= 8 or "$" in value):
                yield key, value
_DEFAULT_PASSWORDS = frozenset({"changeit"})  # the JDK trust store's documented default
# Commands that save the credential they are given into a file of the layer:
# (command names, subcommand word sets, where it goes, words of a later command undoing it).
_STORING_COMMANDS = (
    (frozenset({"git"}), (("clone",), ("remote", "add"), ("remote", "set-url")),
     "`.git/config` (the remote URL)", (".git", "remote remove")),
    (frozenset({"docker", "podman", "buildah", "helm", "oras", "nerdctl"}), (("login",),),
     "the registry auth file (`~/.docker/config.json` or similar)", ("logout", "config.json", ".docker")),
    (frozenset({"huggingface-cli", "hf"}), (("login",),), "`~/.cache/huggingface/token`",
     ("logout", "huggingface")),
    (frozenset({"npm"}), (("login",), ("adduser",)), "`~/.npmrc`", (".npmrc", "logout")),
    (frozenset({"npm", "pnpm", "yarn"}), (("config", "set"),), "the user config file (`~/.npmrc`, `.yarnrc.yml`)",
     (".npmrc", ".yarnrc", "delete", "unset")),
)


@dataclass(frozen=True, slots=True)
class _Credential:
    start: int  # script offsets of the word holding it
    end: int
    what: str  # "a URL password", "an Authorization header"
    value: str  # the template text of the secret (for the literal/reference decision)


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 6 else "…"


class CredentialInCommand(Rule):
    code = "DO205"
    name = "credential-in-command"
    severity = Severity.ERROR

    def check(self, ctx: LintContext) -> Iterator[Finding]:
        shipped = {stage.index for stage in ctx.build.shipped_stages(ctx.target)}
        for stage in ctx.build.stages:
            for run in stage.runs:
                yield from self._run(run, stage.index in shipped)

    def _run(self, run: Run, shipped: bool) -> Iterator[Finding]:
        ins = run.instruction
        if run.script is None or run.source is None:
            for token in known_tokens(ins.logical):  # PowerShell, exec form: the text is all we have
                yield Finding.at(ins, f"this RUN contains {token.kind} (`{_mask(token.text)}`): {self._where(shipped)}")
            return
        seen: set[tuple[int, int]] = set()  # one finding per word
        for script, start, end, nested in self._scripts(run.script):
            for command in script.commands:
                for cred in self._credentials(command):
                    if nested:
                        cred = _Credential(start, end, cred.what, cred.value)
                    key = (cred.start, cred.end)
                    if key in seen:
                        continue
                    message = self._judge(run, command, script, cred, shipped)
                    if message is not None:
                        seen.add(key)
                        a = run.source.to_source(cred.start)
                        b = run.source.to_source(max(cred.start, cred.end - 1)) + 1
                        yield Finding(a, b, message)

    def _scripts(self, script: Script) -> Iterator[tuple[Script, int, int, bool]]:
        """The script and, one level down, ``sh -c '...'`` scripts (reported at their word)."""
        yield script, 0, 0, False
        for command in script.commands:
            name = (command.name_value or "").rsplit("/", 1)[-1]
            if name not in ("sh", "bash", "ash", "dash", "zsh"):
                continue
            values = [w.value for w in command.args]
            if "-c" in values and values.index("-c") + 1 < len(values):
                word = command.args[values.index("-c") + 1]
                if word.value:
                    yield parse_script(word.value), word.span[0], word.span[1], True

    # -- finding credentials ---------------------------------------------------------------------
    def _credentials(self, command: Command) -> Iterator[_Credential]:
        words = command.words
        # A plain word (no parts recorded) is one unquoted literal: its template is its text.
        texts = [w.text if w.raw_parts is None else word_template(w) for w in words]
        name = (command.name_value or "").rsplit("/", 1)[-1]
        for word, text in zip(words, texts, strict=True):
            for token in known_tokens(text):
                yield _Credential(*word.span, token.kind, token.text)
            # Cheap prefilters, run on every word of every command: a URL credential needs
            # "user@host", a header needs "name: value". Nearly all words have neither.
            if "@" in text:
                for cred in url_credentials(text):
                    what = "a password in a URL" if cred.in_password else "a token in a URL"
                    yield _Credential(*word.span, what, cred.secret)
            if "=" in text and ("?" in text or "&" in text):
                for key, value in _query_credentials(text):
                    yield _Credential(*word.span, f"a `{key}` in a URL's query string", value)
            if ":" not in text:
                continue
            header = _HEADER.match(text.split("=", 1)[1] if text.startswith("--header=") else text)
            if header:
                what = f"a credential in the `{header.group('name')}` header"
                yield _Credential(*word.span, what, header.group("value"))
        for redirect in command.redirects:
            if redirect.heredoc is not None:
                body = redirect.heredoc.body
                text = word_template(body)
                for token in known_tokens(text):
                    yield _Credential(*body.span, token.kind, token.text)
                for cred in url_credentials(text):
                    if cred.literal:
                        yield _Credential(*body.span, "a password in a URL", cred.secret)
        for assignment in list(command.assignments) + list(command.declarations):
            if secret_name(assignment.name):
                yield _Credential(*assignment.span, f"a credential assigned to {assignment.name}",
                                  word_template(assignment.value))
        yield from self._options(name, words, texts)

    def _options(self, name: str, words: list[Word], texts: list[str]) -> Iterator[_Credential]:
        """Password options, command by command (what ``-p`` means depends on the command)."""
        args = list(zip(words[1:], texts[1:], strict=True))
        values = [t for _, t in args]
        for i, (word, text) in enumerate(args):
            following = args[i + 1] if i + 1 < len(args) else None
            option, eq, attached = text.partition("=")
            if text.startswith("--") and option in _SECRET_OPTIONS:
                if eq:
                    yield _Credential(*word.span, f"a `{option}` value", attached)
                elif following is not None:
                    yield _Credential(*following[0].span, f"a `{option}` value", following[1])
            elif name in _LOGIN_TOOLS and "login" in values and text == "-p" and following is not None:
                yield _Credential(*following[0].span, f"a `{name} login -p` password", following[1])
            elif name in _MYSQL and text.startswith("-p") and len(text) > 2 and not text.startswith("--"):
                yield _Credential(*word.span, f"a `{name} -p` password", text[2:])
            elif name == "sshpass" and text.startswith("-p") and len(text) > 2:
                yield _Credential(*word.span, "an `sshpass -p` password", text[2:])
            elif name == "sshpass" and text == "-p" and following is not None:
                yield _Credential(*following[0].span, "an `sshpass -p` password", following[1])
            elif name in ("curl",) and text in ("-u", "--user", "-U", "--proxy-user") and following is not None:
                _, colon, password = following[1].partition(":")
                if colon:
                    yield _Credential(*following[0].span, f"a password in `curl {text}`", password)
            elif name == "openssl" and text.startswith("pass:"):
                yield _Credential(*word.span, "an `openssl pass:` password", text[5:])
            elif name == "keytool" and text in _KEYTOOL_OPTIONS and following is not None:
                yield _Credential(*following[0].span, f"a `keytool {text}` password", following[1])
            elif name == "htpasswd" and i == len(args) - 1 and not text.startswith("-") and any(
                    v.startswith("-") and not v.startswith("--") and "b" in v for v in values):
                yield _Credential(*word.span, "an `htpasswd -b` password", text)
            elif name in ("npm", "pnpm", "yarn") and "config" in values[:2] and _NPM_AUTH.search(text):
                value = _NPM_AUTH.search(text).group("value")  # type: ignore[union-attr]
                if value is None and following is not None:
                    yield _Credential(*following[0].span, f"an auth token in `{name} config`", following[1])
                elif value:
                    yield _Credential(*word.span, f"an auth token in `{name} config`", value)
            elif name == "poetry" and values[:1] == ["config"] and re.match(r"(http-basic|pypi-token)\.", text):
                rest = args[i + 1:]
                secret = rest[-1] if rest else None
                if secret is not None and not secret[1].startswith("-"):
                    yield _Credential(*secret[0].span, "a credential in `poetry config`", secret[1])

    # -- deciding --------------------------------------------------------------------------------
    def _judge(self, run: Run, command: Command, script: Script, cred: _Credential, shipped: bool) -> str | None:
        value = cred.value.strip("\"'")
        names = referenced_names(value)
        stored = self._stored_in(command)
        if not names:
            if not value or is_placeholder(value) or value in _DEFAULT_PASSWORDS or looks_like_path(value) \
                    or value.startswith(("$(", "`")):
                return None
            return f"{cred.what} is written into the command (`{_mask(value)}`): {self._where(shipped)}"
        if stored is not None and not self._undone(script, command, stored[1]):
            return (f"{cred.what} (`{value}`) is saved in {stored[0]} inside the layer, whatever the variable's "
                    f"source; remove it in the same RUN, or authenticate without storing it")
        if not shipped:
            return None
        mounted_env = {m.get("env") for m in run.mounts if m.get("type") == "secret"}
        for name in names:
            variable = run.scope.get(name)
            if variable is None or name in mounted_env or secret_name(name):
                continue  # set by the script, a secret mount, or DO202's finding already
            source = "build argument" if variable.kind == "arg" else "ENV"
            line = variable.instruction.start_line if variable.instruction is not None else None
            where = f" (line {line})" if line else ""
            return (f"{cred.what} comes from {source} {name}{where}: its value is recorded in the image "
                    f"{'history' if variable.kind == 'arg' else 'config'}; pass it with "
                    f"`RUN --mount=type=secret,id=<id>,env={name}` instead")
        return None

    @staticmethod
    def _where(shipped: bool) -> str:
        if shipped:
            return ("anyone can read it in the Dockerfile, the build log and the image history "
                    "(`docker history --no-trunc`); pass it with `RUN --mount=type=secret` instead")
        return ("anyone can read it in the Dockerfile and the build log; pass it with "
                "`RUN --mount=type=secret` instead")

    @staticmethod
    def _stored_in(command: Command) -> tuple[str, tuple[str, ...]] | None:
        """(file a command saves the credential to, words whose later removal undoes it)."""
        name = (command.name_value or "").rsplit("/", 1)[-1]
        values = [w.value for w in command.args]
        for tool, subcommands, stored, undo in _STORING_COMMANDS:
            if name in tool and any(all(word in values for word in sub) for sub in subcommands):
                return stored, undo
        return None

    @staticmethod
    def _undone(script: Script, command: Command, undo: tuple[str, ...]) -> bool:
        """Whether a later command of the same RUN removes what ``command`` stored."""
        after = script.commands[script.commands.index(command) + 1:] if command in script.commands else []
        for later in after:
            words = [later.name_value or ""] + [w.value or "" for w in later.args]
            if any(marker in word for word in words for marker in undo):
                return True
        return False
