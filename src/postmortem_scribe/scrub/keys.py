"""Values under sensitive key names, in every notation a log, a dump or a traceback uses.

``password=…``, ``password: …`` (YAML, HTTP headers), ``"password": "…"`` (JSON),
``'password': '…'`` (Python repr), ``\\"password\\": \\"…\\"`` (JSON inside a JSON string),
``export DB_PASSWORD=…`` (environment dumps), ``--password …`` (command lines),
``<password>…</password>`` (XML) and ``password%3D…`` (URL-encoded query strings).

Which names are sensitive is decided word by word (``AWS_SECRET_ACCESS_KEY``, ``clientSecret``,
``X-Api-Key`` and ``PGPASSWORD`` all are), and a name that *describes* a secret rather than holding
one is left alone: ``token_count``, ``password_policy``, ``secret_name``, ``token_type``,
``auth_method``, ``credentials_file``.  Values that are no secret at all (``None``, ``true``, an
already-masked ``***``, a ``${VAR}`` reference, a call like ``os.getenv(...)`` in a source line)
stay visible, because "password=None" is exactly the clue a person needs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = [
    "MARKER_RE",
    "SEARCH_WORDS",
    "find_key_values",
    "is_benign_value",
    "key_kind",
    "normalize_key",
]

Span = tuple[int, int, str, int]
"""``(start, end, kind, priority)`` of one secret in a text."""

PRIORITY = 1
"""Key-name findings yield to every finding that knows the format (a vendor token, a URI)."""

SEARCH_WORDS: tuple[str, ...] = (
    "pass", "pwd", "secret", "token", "key", "auth", "cred", "session", "cookie", "conn", "dsn",
    "sig", "jwt", "bearer",
)
"""Lower-case substrings one of which every sensitive key name contains."""

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

_PASSWORD = {"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pswd", "pword",
             "passwords"}
_SECRET = {"secret", "secrets", "clientsecret", "secretkey"}
_TOKEN = {"token", "accesstoken", "authtoken", "refreshtoken", "idtoken", "apitoken",
          "sessiontoken", "csrftoken", "xsrftoken", "bearertoken", "oauthtoken"}
_CREDENTIALS = {"credentials", "credential", "creds", "cred"}
_SESSION = {"session", "sessionid", "sessid", "sessionkey"}
_COOKIE = {"cookie", "cookies", "setcookie"}
_CONN = {"conn", "dsn", "connstr", "connectionstring", "connstring"}
_SIGNATURE = {"sig", "signature"}
# "key" alone is a dictionary key, an S3 object key, a cache key: sensitive only when qualified.
_KEY_QUALIFIERS = {
    "api", "access", "private", "secret", "signing", "encryption", "master", "fernet", "account",
    "shared", "client", "app", "application", "auth", "license", "licence", "subscription",
    "storage", "sas", "admin", "write", "ingest", "deploy", "webhook", "hmac", "jwt", "session",
    "crypt", "decryption", "sk",
}
_GLUED_KEYS = {
    "apikey": "api-key", "accesskey": "access-key", "privatekey": "private-key",
    "secretkey": "secret-key", "signingkey": "signing-key", "masterkey": "master-key",
    "encryptionkey": "encryption-key", "accountkey": "account-key", "fernetkey": "fernet-key",
    "licensekey": "license-key", "appkey": "app-key", "authkey": "auth-key",
    "subscriptionkey": "subscription-key", "sharedaccesskey": "shared-access-key",
}
# A last word that makes the name describe the secret instead of holding it.
_METADATA = {
    "name", "names", "type", "types", "id", "ids", "policy", "policies", "count", "counts",
    "length", "len", "min", "max", "size", "file", "files", "path", "paths", "dir", "directory",
    "folder", "url", "uri", "urls", "endpoint", "host", "enabled", "enable", "disabled",
    "required", "hint", "expiry", "expires", "expiration", "expire", "expired", "ttl", "age",
    "lifetime", "version", "versions", "prompt", "field", "fields", "label", "format", "mode",
    "method", "methods", "provider", "providers", "scope", "scopes", "strategy", "location", "ref",
    "refs", "reference", "env", "var", "vars", "variable", "backend", "kind", "source", "store",
    "manager", "rotation", "rotated", "reset", "changed", "updated", "created", "timeout", "limit",
    "limits", "header", "headers", "param", "params", "parameter", "prefix", "suffix", "arn",
    "class", "plugin", "module", "handler", "schema", "column", "table", "index", "number", "num",
    "user", "username", "login", "algorithm", "algo", "alg", "status", "state", "error",
    "errors", "exists", "set", "usage", "used", "valid", "validity", "regex", "pattern", "style",
    "level", "vault", "mount", "key", "keys", "lookup", "template", "option", "options",
    "config", "settings", "setting", "date", "time", "at", "ms", "seconds", "s", "secs", "retries",
    "attempts", "interval", "cache", "cached", "hash", "hashed", "digest", "fingerprint",
    "description", "desc", "text", "message", "msg", "info", "type_", "issuer", "audience",
}
# ... except where the pair itself is a secret (and "<qualifier> key", see above).
_METADATA_EXCEPTIONS = (
    {("session", "id"), ("secret", "id"), ("password", "hash"), ("token", "hash"),
     ("secret", "hash")}
    | {(q, "key") for q in _KEY_QUALIFIERS}
    | {(q, "keys") for q in _KEY_QUALIFIERS}
)


def normalize_key(name: str) -> str:
    """``X-Api-Key``, ``x_api_key`` and ``xApiKey`` all become ``xapikey``."""
    return "".join(c for c in name.lower() if c.isalnum())


@functools.lru_cache(maxsize=4096)
def key_kind(key: str) -> str | None:
    """The redaction kind for a value under ``key``, or ``None`` when the name is not sensitive.

    >>> key_kind("AWS_SECRET_ACCESS_KEY"), key_kind("token_count"), key_kind("PGPASSWORD")
    ('aws-secret-access-key', None, 'password')
    """
    words = [w.lower() for w in _WORDS.findall(key)]
    if not words:
        return None
    last = words[-1]
    if len(words) > 1 and last in _METADATA:
        pair = (words[-2], last)
        if pair not in _METADATA_EXCEPTIONS:
            return None
    glued = "".join(words)
    if glued in _GLUED_KEYS:
        return _GLUED_KEYS[glued]
    if "secretaccesskey" in glued:
        return "aws-secret-access-key"
    kind: str | None = None
    for i, word in enumerate(words):
        prev = words[i - 1] if i else ""
        if word in _PASSWORD or word.endswith(("password", "passwd", "passphrase")):
            return "password"
        if word in _SECRET or word.endswith("secret"):
            return "client-secret" if prev == "client" or word == "clientsecret" else "secret"
        if word in _TOKEN or (word.endswith("token") and len(word) > 5):
            kind = "token"
        elif word in _GLUED_KEYS:
            kind = _GLUED_KEYS[word]
        elif word in ("key", "keys") and prev in _KEY_QUALIFIERS:
            kind = f"{prev}-key"
        elif word in _CREDENTIALS:
            kind = "credentials"
        elif word == "authorization" or word.endswith("authorization"):
            kind = "authorization"
        elif word == "auth":
            kind = kind or "auth"
        elif word in _SESSION:
            kind = "session"
        elif word in _COOKIE or word.endswith("cookie"):
            kind = "cookie"
        elif word in _CONN:
            kind = "connection-string"
        elif word == "connection" and words[i + 1:i + 2] in (["string"], ["str"], ["uri"], ["url"]):
            kind = "connection-string"
        elif word in _SIGNATURE:
            kind = "signature"
        elif word == "jwt":
            kind = "jwt"
        elif word == "bearer":
            kind = "bearer-token"
    return kind


# --------------------------------------------------------------------------------------------
# Values that are not secrets
# --------------------------------------------------------------------------------------------

_BENIGN = {
    "", "none", "null", "nil", "undefined", "true", "false", "yes", "no", "on", "off", "n/a",
    "na", "-", "--", "[]", "{}", "()", "''", '""', "%s", "%r", "%d", "?", "default", "required",
    "optional", "not set", "notset", "unset", "missing", "empty", "<none>", "<unset>", "<empty>",
    "<missing>", "nan", "0",
}
_MASKED = re.compile(
    r"""^(?:[*xX•#.·_\-]{3,}|…|\*+[^*\s]{0,4}|[^*\s]{0,4}\*{3,}[^*\s]{0,4}"""
    r"""|[<\[({]?\s*(?:redacted|hidden|masked|removed|filtered|sanitized|sanitised|omitted|secret"""
    r"""|sensitive|censored|obfuscated|elided|scrubbed|not\ shown)(?:[\s:_\-][^\]>)}]{0,40})?"""
    r"""\s*[>\])}]?)$""",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"""^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}?|\{\{.{0,200}\}\}|\{[A-Za-z0-9_.\s]{0,60}\}"""
    r"""|%\([A-Za-z0-9_]+\)[sdr]|<[A-Za-z0-9_.\- ]{1,40}>|\$\([^)]{1,200}\))$""",
    re.DOTALL,
)
_PATHLIKE = re.compile(r"^(?:/|~/|\./|\.\./|[A-Za-z]:[\\/]|file://)[^\s]*$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
# Objects a source line reads a secret from (`password=conn.password`); a dotted value starting
# with anything else may be a password with dots in it, and is redacted.
_CODE_ROOTS = {
    "self", "cls", "os", "sys", "settings", "config", "conf", "cfg", "configuration", "conn",
    "connection", "connections", "creds", "credentials", "secrets", "env", "environ", "kwargs",
    "context", "ctx", "params", "args", "options", "opts", "request", "req", "response", "resp",
    "client", "session", "vault", "variable", "hook", "auth", "account", "app", "api", "task",
    "dag", "ti", "flow", "result", "data", "payload", "body", "headers", "obj", "item", "record",
    "row", "values", "block", "secret", "basehook", "models", "state",
}
# Words that follow "token:" or "password:" in an error message rather than a secret.
_PROSE = {
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "not", "no", "none", "must",
    "should", "cannot", "can", "could", "does", "did", "do", "has", "have", "had", "will", "would",
    "expected", "expect", "invalid", "missing", "required", "unknown", "empty", "incorrect",
    "wrong", "bad", "failed", "failure", "error", "expired", "revoked", "denied", "rejected",
    "unauthorized", "forbidden", "malformed", "too", "at", "for", "from", "with", "and", "or",
    "of", "in", "on", "to", "by", "if", "when", "see", "using", "use", "got", "received", "found",
    "length", "minimum", "maximum", "min", "max", "format", "type", "value", "field", "it",
    "this", "that", "these", "those", "please", "try", "check", "ok", "valid", "set", "unset",
    "refreshing", "refreshed", "rotated", "rotating", "loaded", "loading", "saved", "reading",
    "read", "written", "writing", "present", "absent", "provided", "supplied", "given", "changed",
    "verification", "validation", "mismatch", "doesn", "isn", "wasn", "aren", "can't", "won",
    "true", "false", "yes",
}


MARKER_RE = re.compile(r"\[redacted [a-z0-9][a-z0-9\-]{0,60}\]")
"""A redaction marker as the scrubber writes it."""


def is_benign_value(value: str) -> bool:
    """True for values that are no secret: empty, ``None``, booleans, masks, ``${VAR}`` ..."""
    v = value.strip()
    if v.lower() in _BENIGN:
        return True
    if "[redacted " in v and MARKER_RE.search(v):
        # Already scrubbed (by us): redacting again would not be idempotent.
        return True
    return bool(_MASKED.match(v) or _PLACEHOLDER.match(v))


# --------------------------------------------------------------------------------------------
# Finding key/value pairs
# --------------------------------------------------------------------------------------------

_KEYCHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_KEY_TAIL = re.compile(r"[A-Za-z0-9_.\-]{0,64}")
_SEP = re.compile(
    r"""(?P<close>\\?["'])?[ \t]{0,20}(?P<sep>=>|:=|==|=|:(?![:/])|%3[Dd])(?P<sp>[ \t]{0,40})"""
)
_CLI_SEP = re.compile(r"[ \t]{1,20}(?=[^\s\-])")
_Q = (r"""\\"(?P<edq>[^"\\\n]{0,4096})\\"|"(?P<dq>(?:[^"\\\n]|\\.){0,4096})\""""
      r"""|'(?P<sq>(?:[^'\\\n]|\\.){0,4096})'""")
_VALUE_WORD = re.compile(
    _Q + r"""|(?P<ph>\$\{[^}\n]{1,200}\}|\{\{[^\n]{1,200}?\}\}|%\([A-Za-z0-9_]{1,64}\)[sdr])"""
    r"""|["'](?P<open>[^\s"']{1,4096})|(?P<bare>[^\s"'`,;&<>()\[\]{}|]{1,4096})"""
)
_VALUE_PCT = re.compile(r"(?P<bare>(?:[A-Za-z0-9._~+\-]|%(?!26)[0-9A-Fa-f]{2}){1,4096})")
_VALUE_REST = {
    "": re.compile(_Q + r"""|(?P<rest>[^\n\r]{1,4096})"""),
    '"': re.compile(_Q + r"""|(?P<rest>[^\n\r"]{1,4096})"""),
    "'": re.compile(_Q + r"""|(?P<rest>[^\n\r']{1,4096})"""),
}
_LINE_START = re.compile(
    r"[ \t]*(?:-[ \t]+|export[ \t]+|set[ \t]+|declare[ \t]+-x[ \t]+|ENV[ \t]+|env[ \t]+|\$)?"
)
_AUTH_SCHEME = re.compile(
    r"(?i)(?P<scheme>bearer|basic|token|bot|digest|negotiate|ntlm|ssws|geniekey|splunk|apikey"
    r"|api-key|key|dsn|oauth|aws4-hmac-sha256|hmac|signature|mac|otp)[ \t]+(?=\S)"
)
_EXPORT = re.compile(r"(?:^|[\s;&|(])(?:export|set|setenv|ENV|declare -x)[ \t]+$")
_BLOCK_SCALAR = re.compile(r"^[|>][+\-]?[0-9]?$")
_REST_KINDS = {"authorization", "cookie", "bearer-token", "auth"}
_PATH_OK_KINDS = {"credentials", "private-key", "connection-string", "key-file"}


def find_key_values(text: str, low: str, extra_names: frozenset[str] = frozenset(),
                    extra_words: Iterable[str] = ()) -> list[Span]:
    """Spans of values under sensitive keys in ``text`` (``low`` is ``text.lower()``).

    ``extra_names`` are normalised key names (see :func:`normalize_key`) that are sensitive in
    this deployment; ``extra_words`` the lower-case substrings to look for them by.
    """
    spans: list[Span] = []
    n = len(text)
    done_until = -1
    hits: list[int] = []
    for word in (*SEARCH_WORDS, *extra_words):
        i = low.find(word)
        while i >= 0:
            hits.append(i)
            i = low.find(word, i + 1)
    if not hits:
        return spans
    hits.sort()
    for hit in hits:
        if hit < done_until:
            continue
        # The whole key around the hit: a run of key characters, at most 64 on each side.
        region = text[max(0, hit - 64):hit]
        start = hit - (len(region) - len(region.rstrip(_KEYCHARS)))
        end = _KEY_TAIL.match(text, hit).end()  # type: ignore[union-attr]
        done_until = end
        raw_key = text[start:end]
        dashes = raw_key.rfind("--")
        if dashes > 0:
            # `-----END KEY-----password=`: a key does not run across a dash line.
            start += dashes
            raw_key = raw_key[dashes:]
        key = raw_key.strip("-.")
        if not key:
            continue
        cli = raw_key.startswith("-") and (start == 0 or text[start - 1] in " \t")
        kind = None
        if extra_names and normalize_key(key) in extra_names:
            kind = "secret"
        if kind is None:
            kind = key_kind(key)
        if kind is None:
            continue
        found = _value_after(text, n, start, end, key, kind, cli)
        if found is not None:
            spans.extend(found)
            done_until = max(done_until, found[-1][1])
    return spans


def _value_after(text: str, n: int, start: int, end: int, key: str, kind: str,
                 cli: bool) -> list[Span] | None:
    if start >= 3 and text[start - 3:start] == "://":
        return None  # a URI's user name; the URI rule handles what follows
    opener = text[start - 1] if start and text[start - 1] in "\"'" else ""
    sep_match = _SEP.match(text, end)
    pct = False
    if sep_match is not None:
        sep = sep_match.group("sep")
        pct = sep.lower() == "%3d"
        pos = sep_match.end()
    elif cli:
        cli_match = _CLI_SEP.match(text, end)
        if cli_match is None:
            return None
        sep, pos = " ", cli_match.end()
    else:
        return None
    if pos >= n:
        return None
    line_start = text.rfind("\n", 0, start) + 1
    at_line_start = _LINE_START.fullmatch(text, line_start, start) is not None
    # `export X=...` behind a log prefix is still a shell line whose value runs to its end.
    exported = _EXPORT.search(text, max(line_start, start - 12), start) is not None
    # At the start of a line, a YAML or header value runs to the end of the line, and so does
    # an environment variable's (`DB_PASSWORD=two words`); a lower-case `key=value` there is
    # more likely logfmt, where the value ends at the first space.
    rest_mode = kind in _REST_KINDS or (exported and sep == "=") or (
        at_line_start and not opener
        and (sep == ":" or (sep == "=" and (key.isupper() or text[line_start:start].strip() != "")))
    )
    if pct:
        m = _VALUE_PCT.match(text, pos)
    elif rest_mode:
        m = _VALUE_REST[opener].match(text, pos)
    else:
        m = _VALUE_WORD.match(text, pos)
    if m is None:
        return None
    group = m.lastgroup or "bare"
    vs, ve = m.span(group)
    value = text[vs:ve]
    if group == "rest":
        stripped = value.rstrip()
        if stripped.endswith(("\\",)):
            stripped = stripped[:-1].rstrip()
        # A pretty-printed JSON or YAML value: `"token": null,` must not lose its comma.
        core = stripped.rstrip(",;")
        if core.strip().lower() in _BENIGN or (stripped != core and " " not in core.strip()):
            stripped = core
        ve = vs + len(stripped)
        value = stripped
        if _BLOCK_SCALAR.match(value.strip()):
            return _block_scalar(text, n, line_start, ve, kind)
    if not value.strip() or is_benign_value(value):
        return None
    if group == "bare":
        after = text[ve] if ve < n else ""
        if after in "([" and after:
            return None  # a call or subscript in a source line: `token = get_token()`
        if _DOTTED_NAME.match(value) and value.split(".", 1)[0].lower() in _CODE_ROOTS:
            return None  # `password = settings.DB_PASSWORD`, a reference not a value
    if normalize_key(value) == normalize_key(key):
        return None  # `password=password`: passing a variable along
    if (kind in _PATH_OK_KINDS or key.lower() == "pwd") and _PATHLIKE.match(value):
        return None  # `PWD=/home/airflow` is the shell's directory, not a password
    if sep == "==" and group not in ("dq", "sq", "edq"):
        return None  # `if token == expected:` compares two variables in a source line
    if kind == "connection-string" and ("://" in value or "=" in value):
        return None  # the URI rule or the inner key names take the credentials out
    if sep == ":" and group in ("bare", "open") and not at_line_start:
        if value.lower().rstrip(".,;:!") in _PROSE:
            return None  # "Invalid token: expected 3 segments"
    if kind in ("authorization", "auth", "bearer-token"):
        scheme = _AUTH_SCHEME.match(value)
        if scheme is not None:
            name = scheme.group("scheme").lower()
            shown = {"bearer": "bearer-token", "basic": "basic-auth"}.get(name, kind)
            cred_start = vs + scheme.end()
            if is_benign_value(text[cred_start:ve]):
                return None
            return [(cred_start, ve, shown, PRIORITY)]
    return [(vs, ve, kind, PRIORITY)]


def _block_scalar(text: str, n: int, line_start: int, pos: int, kind: str) -> list[Span] | None:
    """A YAML block scalar (``password: |``): the value is the more-indented lines below."""
    key_line = text[line_start:pos]
    indent = len(key_line) - len(key_line.lstrip(" \t-"))
    nl = text.find("\n", pos)
    if nl < 0:
        return None
    first = nl + 1
    cursor = first
    last_end = -1
    for _ in range(2000):
        if cursor >= n:
            break
        line_end = text.find("\n", cursor)
        if line_end < 0:
            line_end = n
        line = text[cursor:line_end]
        if line.strip():
            if len(line) - len(line.lstrip(" \t")) <= indent:
                break
            last_end = line_end
        cursor = line_end + 1
    if last_end < 0:
        return None
    # Keep the indentation of the first line so the YAML shape stays visible.
    lead = len(text[first:last_end]) - len(text[first:last_end].lstrip(" \t\n"))
    return [(first + lead, last_end, kind, PRIORITY)]


_XML = re.compile(
    r"<(?P<tag>[A-Za-z_][A-Za-z0-9_.\-:]{0,63})(?:[ \t][^<>\n]{0,200})?>(?P<val>[^<\n]{1,4096})"
    r"</(?P=tag)>"
)


def find_xml_values(text: str) -> list[Span]:
    """``<password>…</password>`` and the like."""
    spans: list[Span] = []
    for m in _XML.finditer(text):
        kind = key_kind(m.group("tag").rsplit(":", 1)[-1])
        if kind is None:
            continue
        value = m.group("val")
        if is_benign_value(value) or (kind in _PATH_OK_KINDS and _PATHLIKE.match(value.strip())):
            continue
        spans.append((m.start("val"), m.end("val"), kind, PRIORITY))
    return spans
