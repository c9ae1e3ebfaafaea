"""Fake but format-valid secrets, generated at test time, and the texts they hide in.

Nothing here is a real credential: every value is drawn from a seeded random generator when the
tests run, with the prefix, length, alphabet and (where the format has one) checksum of the real
thing, so that a scanner cannot tell them apart from real ones by shape.  No secret-looking
literal is committed to the repository.

:func:`make_secrets` gives at least 150 secrets of more than 40 kinds; :func:`contexts` gives the
notations each one is found in (key=value, JSON, YAML, Python repr, headers, environment dumps,
URIs, command lines, bare in a sentence); :data:`BENIGN` lists look-alikes that are not secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import string
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

SEED = int(os.environ.get("SCRIBE_CORPUS_SEED", "20240501"))
"""Set ``SCRIBE_CORPUS_SEED`` to draw a different corpus; the tests print the seed they used."""


@dataclass
class Secret:
    kind: str
    value: str
    """The text that must never survive scrubbing."""
    key: str
    """A key name it typically sits under (``GITHUB_TOKEN``, ``aws_secret_access_key`` ...)."""
    self_identifying: bool = True
    """Recognisable by its shape alone, without a key name around it."""
    extra_forms: list[str] = field(default_factory=list)
    """Other encodings of the same secret that must not survive either."""
    header: str | None = None
    """An HTTP header line it is sent in, if that is how the vendor takes it."""

    def forms(self) -> list[str]:
        return [self.value, *self.extra_forms]


def _r(rnd: random.Random, alphabet: str, n: int) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(n))


def _b62_encode(number: int, width: int) -> str:
    digits = string.digits + string.ascii_letters
    out = ""
    while number:
        number, rem = divmod(number, 62)
        out = digits[rem] + out
    return out.rjust(width, "0")


def github_token(rnd: random.Random, prefix: str) -> str:
    """GitHub's format: prefix, 30 random base62 characters and their CRC32 in 6 base62 digits."""
    body = _r(rnd, ALNUM, 30)
    return prefix + body + _b62_encode(zlib.crc32(body.encode()), 6)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(rnd: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(
        json.dumps(
            {
                "sub": f"svc-{rnd.randint(1, 99999)}",
                "iat": 1714550400,
                "exp": 1714554000,
                "jti": _r(rnd, HEX, 16),
            },
            separators=(",", ":"),
        ).encode()
    )
    key = rnd.randbytes(32)
    sig = _b64url(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def pem(rnd: random.Random, label: str, nbytes: int = 900, lead: bytes = b"") -> str:
    body = base64.b64encode(lead + rnd.randbytes(nbytes)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def password(rnd: random.Random, n: int = 16) -> str:
    # Always a digit and a symbol, like a generated password; symbols that need URL-encoding too.
    body = _r(rnd, ALNUM, n - 2)
    return body + rnd.choice(string.digits) + rnd.choice("!#%^*-_+=@:/")


def discord_bot_token(rnd: random.Random) -> str:
    bot_id = str(rnd.randint(10**17, 2 * 10**18))
    first = base64.b64encode(bot_id.encode()).decode().rstrip("=")
    return f"{first}.{_r(rnd, URLSAFE, 6)}.{_r(rnd, URLSAFE, 38)}"


Gen = Callable[[random.Random], Secret]

GENERATORS: dict[str, Gen] = {
    "github-classic": lambda r: Secret("github-classic", github_token(r, "ghp_"), "GITHUB_TOKEN"),
    "github-oauth": lambda r: Secret("github-oauth", github_token(r, "gho_"), "oauth_token"),
    "github-user-to-server": lambda r: Secret(
        "github-user-to-server", github_token(r, "ghu_"), "token"
    ),
    "github-app-installation": lambda r: Secret(
        "github-app-installation", github_token(r, "ghs_"), "GH_TOKEN"
    ),
    "github-refresh": lambda r: Secret("github-refresh", github_token(r, "ghr_"), "refresh_token"),
    "github-fine-grained": lambda r: Secret(
        "github-fine-grained", f"github_pat_{_r(r, ALNUM, 22)}_{_r(r, ALNUM, 59)}", "GITHUB_PAT"
    ),
    "gitlab-pat": lambda r: Secret("gitlab-pat", "glpat-" + _r(r, URLSAFE, 20), "GITLAB_TOKEN"),
    "gitlab-deploy": lambda r: Secret(
        "gitlab-deploy", "gldt-" + _r(r, URLSAFE, 20), "deploy_token"
    ),
    "aws-access-key-id": lambda r: Secret(
        "aws-access-key-id", "AKIA" + _r(r, BASE32, 16), "aws_access_key_id"
    ),
    "aws-secret-access-key": lambda r: Secret(
        "aws-secret-access-key",
        _r(r, ALNUM + "/+", 38) + r.choice("/+") + r.choice(string.digits),
        "aws_secret_access_key",
        self_identifying=False,
    ),
    "gcp-api-key": lambda r: Secret("gcp-api-key", "AIza" + _r(r, URLSAFE, 35), "GOOGLE_API_KEY"),
    "gcp-service-account-key": lambda r: Secret(
        "gcp-service-account-key", pem(r, "PRIVATE KEY", 1190, b"0\x82\x04\xbd"), "private_key"
    ),
    "gcp-oauth-token": lambda r: Secret(
        "gcp-oauth-token", "ya29." + _r(r, URLSAFE, 150), "access_token"
    ),
    "gcp-oauth-client-secret": lambda r: Secret(
        "gcp-oauth-client-secret", "GOCSPX-" + _r(r, URLSAFE, 28), "client_secret"
    ),
    "azure-storage-key": lambda r: Secret(
        "azure-storage-key", base64.b64encode(r.randbytes(64)).decode(), "AccountKey"
    ),
    "azure-sas-signature": lambda r: Secret(
        "azure-sas-signature",
        quote(base64.b64encode(r.randbytes(32)).decode(), safe=""),
        "sig",
        self_identifying=False,
    ),
    "azure-client-secret": lambda r: Secret(
        "azure-client-secret",
        _r(r, ALNUM, 3) + r.choice(string.digits) + "Q~" + _r(r, ALNUM + "_~.-", 34),
        "AZURE_CLIENT_SECRET",
    ),
    "slack-bot-token": lambda r: Secret(
        "slack-bot-token",
        f"xoxb-{_r(r, string.digits, 12)}-{_r(r, string.digits, 13)}-{_r(r, ALNUM, 24)}",
        "SLACK_BOT_TOKEN",
    ),
    "slack-user-token": lambda r: Secret(
        "slack-user-token",
        "xoxp-" + "-".join(_r(r, string.digits, k) for k in (12, 12, 13)) + "-" + _r(r, HEX, 32),
        "slack_token",
    ),
    "slack-webhook": lambda r: Secret(
        "slack-webhook",
        f"T{_r(r, BASE32, 8)}/B{_r(r, BASE32, 10)}/{_r(r, ALNUM, 24)}",
        "SLACK_WEBHOOK_TOKEN",
        self_identifying=False,
    ),
    "stripe-secret-key": lambda r: Secret(
        "stripe-secret-key", "sk_live_" + _r(r, ALNUM, 99), "STRIPE_API_KEY"
    ),
    "stripe-restricted-key": lambda r: Secret(
        "stripe-restricted-key", "rk_live_" + _r(r, ALNUM, 99), "stripe_key"
    ),
    "stripe-webhook-secret": lambda r: Secret(
        "stripe-webhook-secret", "whsec_" + _r(r, ALNUM, 32), "webhook_secret"
    ),
    "prefect-user-key": lambda r: Secret(
        "prefect-user-key", "pnu_" + _r(r, ALNUM, 36), "PREFECT_API_KEY"
    ),
    "prefect-bot-key": lambda r: Secret(
        "prefect-bot-key", "pnb_" + _r(r, ALNUM, 36), "PREFECT_API_KEY"
    ),
    "databricks-token": lambda r: Secret(
        "databricks-token", "dapi" + _r(r, HEX, 32), "DATABRICKS_TOKEN"
    ),
    "snowflake-password": lambda r: Secret(
        "snowflake-password", password(r, 18), "SNOWFLAKE_PASSWORD", self_identifying=False
    ),
    "datadog-api-key": lambda r: Secret(
        "datadog-api-key", _r(r, HEX, 32), "DD_API_KEY", self_identifying=False
    ),
    "datadog-app-key": lambda r: Secret(
        "datadog-app-key", _r(r, HEX, 40), "DD_APP_KEY", self_identifying=False
    ),
    "twilio-api-key": lambda r: Secret("twilio-api-key", "SK" + _r(r, HEX, 32), "TWILIO_API_KEY"),
    "twilio-auth-token": lambda r: Secret(
        "twilio-auth-token", _r(r, HEX, 32), "TWILIO_AUTH_TOKEN", self_identifying=False
    ),
    "sendgrid": lambda r: Secret(
        "sendgrid", f"SG.{_r(r, URLSAFE, 22)}.{_r(r, URLSAFE, 43)}", "SENDGRID_API_KEY"
    ),
    "npm": lambda r: Secret("npm", "npm_" + _r(r, ALNUM, 36), "NPM_TOKEN"),
    "pypi": lambda r: Secret(
        "pypi", "pypi-AgEIcHlwaS5vcmc" + _r(r, URLSAFE, 160), "TWINE_PASSWORD"
    ),
    "openai-project": lambda r: Secret(
        "openai-project",
        "sk-proj-" + _r(r, URLSAFE, 124) + "T3BlbkFJ" + _r(r, URLSAFE, 24),
        "OPENAI_API_KEY",
    ),
    "openai-legacy": lambda r: Secret(
        "openai-legacy", "sk-" + _r(r, ALNUM, 20) + "T3BlbkFJ" + _r(r, ALNUM, 20), "openai_key"
    ),
    "anthropic": lambda r: Secret(
        "anthropic", "sk-ant-api03-" + _r(r, URLSAFE, 93) + "AA", "ANTHROPIC_API_KEY"
    ),
    "huggingface": lambda r: Secret("huggingface", "hf_" + _r(r, ALNUM, 34), "HF_TOKEN"),
    "shopify": lambda r: Secret("shopify", "shpat_" + _r(r, HEX, 32), "SHOPIFY_ACCESS_TOKEN"),
    "mailgun": lambda r: Secret("mailgun", "key-" + _r(r, HEX, 32), "MAILGUN_API_KEY"),
    "mailchimp": lambda r: Secret(
        "mailchimp", _r(r, HEX, 32) + f"-us{r.randint(1, 21)}", "MAILCHIMP_KEY"
    ),
    "heroku": lambda r: Secret("heroku", "HRKU-AA" + _r(r, URLSAFE, 58), "HEROKU_API_KEY"),
    "heroku-legacy": lambda r: Secret(
        "heroku-legacy",
        "-".join(_r(r, HEX, n) for n in (8, 4, 4, 4, 12)),
        "HEROKU_API_KEY",
        self_identifying=False,
    ),
    "digitalocean": lambda r: Secret(
        "digitalocean", "dop_v1_" + _r(r, HEX, 64), "DIGITALOCEAN_TOKEN"
    ),
    "doppler": lambda r: Secret("doppler", "dp.pt." + _r(r, ALNUM, 43), "DOPPLER_TOKEN"),
    "vault": lambda r: Secret("vault", "hvs." + _r(r, URLSAFE, 90), "VAULT_TOKEN"),
    "sentry-dsn-key": lambda r: Secret(
        "sentry-dsn-key", _r(r, HEX, 32), "SENTRY_DSN", self_identifying=False
    ),
    "discord-bot": lambda r: Secret("discord-bot", discord_bot_token(r), "DISCORD_TOKEN"),
    "discord-webhook": lambda r: Secret(
        "discord-webhook", _r(r, URLSAFE, 68), "DISCORD_WEBHOOK_TOKEN", self_identifying=False
    ),
    "telegram-bot": lambda r: Secret(
        "telegram-bot",
        f"{r.randint(10**9, 7 * 10**9)}:AA{_r(r, URLSAFE, 33)}",
        "TELEGRAM_BOT_TOKEN",
    ),
    "square": lambda r: Secret("square", "EAAA" + _r(r, URLSAFE, 60), "SQUARE_ACCESS_TOKEN"),
    "square-oauth-secret": lambda r: Secret(
        "square-oauth-secret", "sq0csp-" + _r(r, URLSAFE, 43), "square_secret"
    ),
    "braintree": lambda r: Secret(
        "braintree",
        "access_token$production$"
        + _r(r, string.ascii_lowercase + string.digits, 16)
        + "$"
        + _r(r, HEX, 32),
        "BRAINTREE_ACCESS_TOKEN",
    ),
    "paypal-client-secret": lambda r: Secret(
        "paypal-client-secret", _r(r, URLSAFE, 80), "PAYPAL_CLIENT_SECRET", self_identifying=False
    ),
    "atlassian": lambda r: Secret(
        "atlassian",
        "ATATT3xFfGF0" + _r(r, URLSAFE, 170) + "=" + _r(r, HEX.upper(), 8),
        "JIRA_API_TOKEN",
    ),
    "linear": lambda r: Secret("linear", "lin_api_" + _r(r, ALNUM, 40), "LINEAR_API_KEY"),
    "notion": lambda r: Secret("notion", "ntn_" + _r(r, ALNUM, 46), "NOTION_TOKEN"),
    "notion-legacy": lambda r: Secret("notion-legacy", "secret_" + _r(r, ALNUM, 43), "notion_key"),
    "newrelic": lambda r: Secret("newrelic", "NRAK-" + _r(r, BASE32, 27), "NEW_RELIC_API_KEY"),
    "grafana-service-account": lambda r: Secret(
        "grafana-service-account", f"glsa_{_r(r, ALNUM, 32)}_{_r(r, HEX, 8)}", "GRAFANA_TOKEN"
    ),
    "grafana-cloud": lambda r: Secret(
        "grafana-cloud",
        "glc_"
        + base64.b64encode(
            json.dumps(
                {"o": str(r.randint(1, 10**6)), "n": "stack", "k": _r(r, ALNUM, 24)}
            ).encode()
        ).decode(),
        "GRAFANA_CLOUD_TOKEN",
    ),
    "confluent": lambda r: Secret(
        "confluent", _r(r, ALNUM + "+/", 64), "sasl.password", self_identifying=False
    ),
    "pulumi": lambda r: Secret("pulumi", "pul-" + _r(r, HEX, 40), "PULUMI_ACCESS_TOKEN"),
    "terraform-cloud": lambda r: Secret(
        "terraform-cloud", f"{_r(r, ALNUM, 14)}.atlasv1.{_r(r, URLSAFE, 67)}", "TFE_TOKEN"
    ),
    "dropbox": lambda r: Secret("dropbox", "sl." + _r(r, URLSAFE, 138), "DROPBOX_TOKEN"),
    "jwt": lambda r: Secret("jwt", jwt(r), "id_token"),
    "rsa-private-key": lambda r: Secret(
        "rsa-private-key", pem(r, "RSA PRIVATE KEY", 1190), "private_key"
    ),
    "ec-private-key": lambda r: Secret(
        "ec-private-key", pem(r, "EC PRIVATE KEY", 121), "signing_key"
    ),
    "openssh-private-key": lambda r: Secret(
        "openssh-private-key", pem(r, "OPENSSH PRIVATE KEY", 380, b"openssh-key-v1\0"), "ssh_key"
    ),
    "age": lambda r: Secret("age", "AGE-SECRET-KEY-1" + _r(r, BECH32, 58), "AGE_KEY"),
    "docker-hub": lambda r: Secret(
        "docker-hub", "dckr_pat_" + _r(r, URLSAFE, 27), "DOCKERHUB_TOKEN"
    ),
    "airtable": lambda r: Secret(
        "airtable", f"pat{_r(r, ALNUM, 14)}.{_r(r, HEX, 64)}", "AIRTABLE_TOKEN"
    ),
    "postman": lambda r: Secret(
        "postman", f"PMAK-{_r(r, HEX, 24)}-{_r(r, HEX, 34)}", "POSTMAN_API_KEY"
    ),
    "tailscale": lambda r: Secret(
        "tailscale", f"tskey-auth-{_r(r, ALNUM, 7)}CNTRL-{_r(r, ALNUM, 33)}", "TS_AUTHKEY"
    ),
    "groq": lambda r: Secret("groq", "gsk_" + _r(r, ALNUM, 52), "GROQ_API_KEY"),
    "replicate": lambda r: Secret("replicate", "r8_" + _r(r, ALNUM, 37), "REPLICATE_API_TOKEN"),
    "langsmith": lambda r: Secret(
        "langsmith", f"lsv2_pt_{_r(r, HEX, 32)}_{_r(r, HEX, 10)}", "LANGSMITH_API_KEY"
    ),
    "supabase": lambda r: Secret("supabase", "sbp_" + _r(r, HEX, 40), "SUPABASE_ACCESS_TOKEN"),
    "sentry-auth-token": lambda r: Secret(
        "sentry-auth-token",
        "sntrys_"
        + base64.b64encode(
            json.dumps({"iat": 1714550400, "url": "https://sentry.io", "org": "acme"}).encode()
        )
        .decode()
        .rstrip("=")
        + "_"
        + _r(r, URLSAFE, 43),
        "SENTRY_AUTH_TOKEN",
    ),
    "flyio": lambda r: Secret("flyio", "fo1_" + _r(r, URLSAFE, 43), "FLY_API_TOKEN"),
    # Credentials that are only recognisable by where they sit.
    "db-password": lambda r: Secret("db-password", password(r), "password", self_identifying=False),
    "bearer-opaque": lambda r: Secret(
        "bearer-opaque", _r(r, ALNUM, 40), "api_token", self_identifying=False
    ),
    "session-cookie": lambda r: Secret(
        "session-cookie", _r(r, ALNUM, 32), "sessionid", self_identifying=False
    ),
    "old-github-token": lambda r: Secret(
        "old-github-token", _r(r, HEX, 40), "GITHUB_TOKEN", self_identifying=False
    ),
}


def make_secrets(seed: int = SEED, per_kind: int = 2) -> list[Secret]:
    """``per_kind`` secrets of every kind, reproducible from ``seed``."""
    rnd = random.Random(seed)
    secrets: list[Secret] = []
    for gen in GENERATORS.values():
        for _ in range(per_kind):
            s = gen(rnd)
            _decorate(s, rnd)
            secrets.append(s)
    return secrets


def _decorate(s: Secret, rnd: random.Random) -> None:
    """Add the encodings a secret also travels in."""
    encoded = quote(s.value, safe="")
    if encoded != s.value:
        s.extra_forms.append(encoded)
    if s.kind in ("db-password", "snowflake-password"):
        # As the password of a basic-auth header: the base64 of user:password.
        s.extra_forms.append(base64.b64encode(f"etl:{s.value}".encode()).decode())


# --------------------------------------------------------------------------------------------
# Where secrets hide
# --------------------------------------------------------------------------------------------


def contexts(s: Secret) -> dict[str, str]:
    """The texts ``s`` appears in, by notation.  Every one must come out without the secret."""
    v = s.value
    key = s.key
    one_line = "\n" not in v
    out: dict[str, str] = {}
    if s.kind in ("gcp-service-account-key",):
        out["service-account-json"] = json.dumps(
            {
                "type": "service_account",
                "project_id": "acme-data",
                "private_key_id": "0" * 40,
                "private_key": v + "\n",
                "client_email": "etl@acme-data.iam.gserviceaccount.com",
            }
        )
    if not one_line:
        out["multi-line"] = f"loading key for sftp upload\n{v}\ndone"
        out["json-escaped"] = json.dumps({key: v})
        out["yaml-block"] = f"sftp:\n  host: files.example.com\n  {key}: |\n" + "\n".join(
            "    " + line for line in v.splitlines()
        )
        return out
    out["key=value"] = f"{key}={v}"
    out["logfmt"] = f'level=error msg="request failed" {key}={v} attempt=3'
    out["json"] = json.dumps({"user": "etl", key: v, "timeout": 30})
    out["json-in-json"] = json.dumps({"event": "failed", "error_detail": json.dumps({key: v})})
    out["yaml"] = f"connection:\n  host: db.internal\n  {key}: {v}\n  port: 5432"
    out["python-repr"] = repr({"host": "db.internal", key: v, "port": 5432})
    out["kwargs"] = (
        "snowflake.connector.connect(account='acme-xy12345', user='etl',"
        f" {key.lower().replace('.', '_')}='{v}')"
    )
    out["env-dump"] = (
        "HOME=/home/airflow\n"
        f"export {key.upper().replace('.', '_').replace('-', '_')}={v}\nPATH=/usr/bin"
    )
    out["cli"] = f"etl-load --host db.internal --{key.lower().replace('_', '-')} {v} --retries 3"
    out["header-bearer"] = f"Authorization: Bearer {v}"
    out["curl"] = f"curl -sS -H 'Authorization: Bearer {v}' https://api.example.com/v1/orders"
    out["x-api-key"] = f"X-Api-Key: {v}"
    out["uri"] = f"https://etl:{quote(v, safe='')}@api.example.com/v1/export?page=2"
    if s.kind in ("db-password", "snowflake-password"):
        out["db-uri"] = (
            f"snowflake://etl:{quote(v, safe='')}@acme-xy12345/analytics/public?warehouse=LOAD_WH"
        )
        out["basic-auth"] = "Authorization: Basic " + base64.b64encode(f"etl:{v}".encode()).decode()
        out["pct-encoded-uri"] = "next=" + quote(
            f"postgresql://etl:{quote(v, safe='')}@db.internal/sales", safe=""
        )
    if s.kind == "session-cookie":
        out["cookie"] = f"Cookie: theme=dark; sessionid={v}; csrftoken=x"
        out["set-cookie"] = f"Set-Cookie: sessionid={v}; Path=/; HttpOnly; Secure"
    if s.kind == "slack-webhook":
        out["webhook-url"] = f"POST https://hooks.slack.com/services/{v} failed: 404"
    if s.kind == "discord-webhook":
        out["webhook-url"] = (
            f"POST https://discord.com/api/webhooks/{random.Random(v).randint(10**17, 10**18)}/{v}"
        )
    if s.kind == "sentry-dsn-key":
        out["dsn"] = f"sentry_sdk.init(dsn='https://{v}@o123456.ingest.us.sentry.io/4507654321')"
    if s.kind == "azure-storage-key":
        out["connection-string"] = (
            "DefaultEndpointsProtocol=https;AccountName=acmelake;AccountKey="
            f"{v};EndpointSuffix=core.windows.net"
        )
    if s.kind == "azure-sas-signature":
        out["sas-url"] = (
            "GET https://acmelake.blob.core.windows.net/raw/sales.csv?sv=2022-11-02&ss=b&srt=o&sp=r"
            f"&se=2024-06-01T00%3A00%3A00Z&spr=https&sig={v} -> 403"
        )
    if s.kind == "aws-secret-access-key":
        rnd = random.Random(v)
        key_id = "AKIA" + "".join(rnd.choice(BASE32) for _ in range(16))
        out["aws-pair"] = f"Using credentials {key_id} / {v} for s3://acme-lake"
        out["boto-repr"] = repr(
            {"AccessKeyId": key_id, "SecretAccessKey": v, "Expiration": "2024-05-01"}
        )
    if s.kind == "telegram-bot":
        out["bot-url"] = f"GET https://api.telegram.org/bot{v}/sendMessage -> 401"
    if s.self_identifying:
        out["bare"] = f"request rejected for credential {v} (401 Unauthorized)"
        out["quoted"] = f"Invalid API key provided: '{v}'."
        out["neutral-key"] = f"note={v}"
        out["in-url-query"] = f"https://api.example.com/hook?value={v}&next=1"
    return out


def slot_texts(text: str) -> dict[str, str]:
    """Title-like line for ``text``; the record slots are filled by the test itself."""
    return {"title": f"Post-mortem draft: sales_daily.load_csv failed: RuntimeError: {text}"}


# --------------------------------------------------------------------------------------------
# Look-alikes that are not secrets
# --------------------------------------------------------------------------------------------


def benign(seed: int = SEED) -> list[str]:
    """Texts that must come out of scrubbing unchanged (at least 50).

    Decisions recorded here: a name that *describes* a secret (``password_policy``,
    ``token_count``, ``secret_name``, ``credentials_file``) is not one; ``PWD`` holding a path is
    the shell's directory; publishable identifiers (client ids, account SIDs, key ids that are
    not AWS access keys) are not secrets.
    """
    rnd = random.Random(seed + 1)
    sha1 = _r(rnd, HEX, 40)
    sha256 = _r(rnd, HEX, 64)
    md5 = _r(rnd, HEX, 32)
    uuid4 = "-".join([_r(rnd, HEX, 8), _r(rnd, HEX, 4), "4" + _r(rnd, HEX, 3),
                      "a" + _r(rnd, HEX, 3), _r(rnd, HEX, 12)])
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + rnd.randbytes(600)).decode()
    return [
        f"commit {sha1}",
        f"HEAD is now at {sha1[:7]} fix loader",
        f"Merge pull request #412 from acme/fix-{sha1[:8]}",
        f"run_id={uuid4}",
        f"flow run '{uuid4}' entered state Failed",
        f"sha256:{sha256}",
        f"image: ghcr.io/acme/etl@sha256:{sha256}",
        f"md5 checksum {md5} does not match expected {_r(rnd, HEX, 32)}",
        f'etag "{md5}"',
        "s3://acme-data-lake/raw/sales/2024/05/01/part-00017.csv.gz",
        "key=raw/sales/2024/05/01/part-00017.parquet",
        "Key: raw/sales/2024/05/01/part-00017.parquet",
        "gs://acme-bucket/exports/token_usage/2024-05-01.json",
        f"order id {rnd.randint(10**15, 10**16)} not found",
        f"customer_id={rnd.randint(10**9, 10**10)}",
        f'<img src="data:image/png;base64,{png}">',
        "password=***",
        "password: '********'",
        "token=<redacted>",
        "Authorization: Bearer [redacted bearer-token]",
        "api_key=[redacted api-key]",
        "secret=xxxx",
        "AIRFLOW_CONN_DB=postgresql://etl:***@db.internal:5432/sales",
        "token_count=5",
        "max_tokens=4096 prompt_tokens=812 completion_tokens=96",
        "password_policy=strict",
        "min_password_length=12",
        "secret_name=prod/etl/snowflake",
        "token_type=bearer",
        "auth_method=oauth",
        "credentials_file=/opt/airflow/secrets/sa.json",
        "GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
        "PWD=/home/airflow",
        "OLDPWD=/opt/airflow/dags",
        "password=None",
        "'password': None",
        '"token": null',
        "api_key=${DATADOG_API_KEY}",
        "password={{ conn.snowflake_default.password }}",
        "author=alice passenger_count=3 bypass_cache=true",
        "tokenizer=bert-base-uncased",
        "Invalid token: expected 3 segments",
        "KeyError: 'password'",
        "Bearer authentication required",
        "Basic configuration loaded",
        "AWS_REGION=eu-west-1 AWS_DEFAULT_OUTPUT=json",
        "client_id=etl-loader",
        "Twilio account AC" + _r(rnd, HEX, 32),
        "postgresql://db.internal:5432/sales",
        "https://github.com/acme/etl/pull/412#issuecomment-2100000000",
        "Contact data-platform@acme.example for access",
        "http://localhost:8080/api/v1/dags/sales_daily/dagRuns",
        "[2024-05-01T10:00:00.123+0000] {taskinstance.py:3311} ERROR - Task failed with exception",
        "scheduled__2024-05-01T00:00:00+00:00",
        "arn:aws:iam::123456789012:role/etl-loader",
        "    token = get_token(session)",
        "    password = settings.DB_PASSWORD",
        "pod etl-loader-7d9f8b6c5-x2x7q evicted",
        "Retrieving connection 'snowflake_default'",
        "task-loader-5f7d9c8b6d-abcde",
        "TimeoutError: session expired after 3600s",
        "primary_key=order_id sort_key=created_at",
    ]


BENIGN_COUNT_MIN = 50
