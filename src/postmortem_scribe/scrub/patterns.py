"""Formats of vendor tokens that identify themselves (a prefix, a fixed shape).

Each :class:`TokenPattern` names the *kind* shown in the redaction marker, a regular expression,
and the literal *anchors* without which it cannot match.  Most formats begin with their anchor
(``ghp_``, ``xoxb-``, ``AKIA``): the scrubber finds every anchor that starts a word with one
combined search and tries only the matching patterns there, so a 64 KB log costs one pass
instead of sixty.  Formats whose anchor sits inside the token (``.atlasv1.``, ``:AA``) are marked
``anywhere`` and looked for with a substring test first.

Regular expressions start with their literal prefix where possible (the ``re`` module then skips
straight to candidate positions) and every quantifier is bounded, so no input can make matching
slow.  The character before a match must not be a token character (checked by the scrubber, not
by a leading look-behind, which would disable the prefix skip).

Tokens without a recognisable shape (Datadog keys, Twilio auth tokens, old 40-hex GitHub tokens,
Heroku UUID keys, Confluent secrets, PayPal client secrets ...) look exactly like checksums and
ids; they are caught by the key name they sit under (see :mod:`.keys`) or by the host
registering them, never by shape, because guessing from shape alone would redact every git SHA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TOKEN_PATTERNS", "TokenPattern", "anchor_regex"]

# Characters that may not directly precede or follow a token.
WORDISH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class TokenPattern:
    kind: str
    """Shown in the marker: ``[redacted <kind>]``."""
    regex: re.Pattern[str]
    anchors: tuple[str, ...]
    """Literal substrings of every match; the pattern runs only when one occurs in the text."""
    group: int | str = 0
    """Which group is the secret (a URL keeps its host, a DSN its project)."""
    left: frozenset[str] = WORDISH
    """Characters that must not come right before the match."""
    right: frozenset[str] = frozenset()
    """Characters that must not come right after the match (for fixed-length formats)."""
    back: tuple[int, ...] = ()
    """For a format whose anchor is not at its start: how far before the anchor the match may
    start.  The pattern is then tried only there instead of being run over the whole text."""
    anywhere: bool = False
    """The anchor is not where the match begins: find it by substring, not at word starts."""


def _p(kind: str, pattern: str, *anchors: str, group: int | str = 0,
       left: frozenset[str] = WORDISH, right: frozenset[str] = frozenset(),
       back: tuple[int, ...] = (), anywhere: bool = False) -> TokenPattern:
    return TokenPattern(kind, re.compile(pattern), tuple(anchors), group, left, right, back,
                        anywhere or bool(back))


_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_B64 = _ALNUM | frozenset("+/=")
_URLSAFE = _ALNUM | frozenset("_-")

TOKEN_PATTERNS: tuple[TokenPattern, ...] = (
    # --- source hosting -------------------------------------------------------------------
    # GitHub: prefix, 30 random base62 characters and a 6-character CRC32 checksum; GitHub
    # says the length may grow, hence the open upper bound.
    _p("github-token", r"ghp_[A-Za-z0-9]{36,251}", "ghp_"),
    _p("github-oauth-token", r"gho_[A-Za-z0-9]{36,251}", "gho_"),
    _p("github-user-token", r"ghu_[A-Za-z0-9]{36,251}", "ghu_"),
    _p("github-app-token", r"ghs_[A-Za-z0-9]{36,251}", "ghs_"),
    _p("github-refresh-token", r"ghr_[A-Za-z0-9]{36,251}", "ghr_"),
    _p("github-fine-grained-token", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59,200}",
       "github_pat_"),
    _p("gitlab-token",
       r"gl(?:pat|dt|rt|cbt|imt|agent|oas|soat|ffct|ptt|ft|wt)-[A-Za-z0-9_\-.]{20,256}",
       "glpat-", "gldt-", "glrt-", "glcbt-", "glimt-", "glagent-", "gloas-", "glsoat-",
       "glffct-", "glptt-", "glft-", "glwt-"),
    _p("gitlab-runner-token", r"GR1348941[A-Za-z0-9_\-]{20,64}", "GR1348941"),
    _p("bitbucket-app-password", r"ATBB[A-Za-z0-9_=.\-]{28,64}", "ATBB"),
    _p("atlassian-api-token", r"AT(?:ATT|CTT)[A-Za-z0-9_=\-]{40,400}", "ATATT", "ATCTT"),
    _p("sourcegraph-token", r"sgp_(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40}", "sgp_"),
    # --- clouds ---------------------------------------------------------------------------
    _p("aws-access-key-id", r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", "AKIA", "ASIA", "ABIA", "ACCA",
       right=_ALNUM),
    _p("aws-session-token", r"(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{40,8192}",
       "FwoGZXIvYXdz", "IQoJb3JpZ2lu"),
    _p("gcp-api-key", r"AIza[0-9A-Za-z_\-]{35}", "AIza", right=_URLSAFE),
    _p("gcp-oauth-client-secret", r"GOCSPX-[A-Za-z0-9_\-]{28,40}", "GOCSPX-"),
    _p("gcp-access-token", r"ya29\.[A-Za-z0-9_\-.]{20,4096}", "ya29."),
    _p("gcp-refresh-token", r"1//0[A-Za-z0-9_\-]{40,512}", "1//0", left=WORDISH | {"/"}),
    _p("azure-client-secret", r"[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}", "Q~",
       left=WORDISH | {"~", ".", "-"}, right=WORDISH | {"~", ".", "-"}, back=(4,)),
    _p("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", "dop_v1_", "doo_v1_", "dor_v1_"),
    _p("heroku-api-key", r"HRKU-[A-Za-z0-9_\-]{20,128}", "HRKU-"),
    _p("cloudflare-origin-ca-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", "v1.0-"),
    _p("flyio-token", r"(?:fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/=_\-]{40,4096})",
       "fo1_", "fm1", "fm2"),
    _p("supabase-token", r"sbp_(?:oauth_)?[a-f0-9]{40}", "sbp_"),
    _p("planetscale-token", r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_.=\-]{32,64}", "pscale_"),
    _p("tailscale-key", r"tskey-(?:[a-z]{3,8}-)?[A-Za-z0-9]{6,20}-[A-Za-z0-9]{16,64}", "tskey-"),
    _p("pulumi-token", r"pul-[a-f0-9]{40}", "pul-"),
    _p("terraform-cloud-token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,90}", ".atlasv1.",
       back=(14,)),
    _p("doppler-token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,64}", "dp."),
    _p("vault-token", r"hv[sbr]\.[A-Za-z0-9_\-]{24,512}", "hvs.", "hvb.", "hvr."),
    _p("age-secret-key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}", "AGE-SECRET-KEY-"),
    _p("onepassword-service-token", r"ops_eyJ[A-Za-z0-9+/=_\-]{40,4096}", "ops_eyJ"),
    # --- data platforms and orchestrators -------------------------------------------------
    _p("prefect-api-key", r"pn[ub]_[A-Za-z0-9]{36}", "pnu_", "pnb_", right=_ALNUM),
    _p("databricks-token", r"dapi[a-f0-9]{32}(?:-\d)?", "dapi"),
    _p("databricks-oauth-secret", r"dose[a-f0-9]{32}", "dose"),
    _p("airtable-token", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}", "pat"),
    # --- chat and messaging ---------------------------------------------------------------
    _p("slack-token", r"xox[abposre]-[A-Za-z0-9\-]{10,250}", "xoxb-", "xoxp-", "xoxa-",
       "xoxo-", "xoxs-", "xoxr-", "xoxe-"),
    _p("slack-token", r"xoxe\.xox[bp]-\d-[A-Za-z0-9\-]{20,250}", "xoxe."),
    _p("slack-app-token", r"xapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-f0-9]{32,80}", "xapp-"),
    _p("slack-webhook",
       r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_\-]{20,200})",
       "hooks.slack.com/", group=1),
    _p("discord-webhook",
       r"discord(?:app)?\.com/api/webhooks/\d{16,21}/([A-Za-z0-9_\-]{60,80})",
       "discord.com/api/webhooks/", "discordapp.com/api/webhooks/", group=1),
    # The first part is the base64 of the bot's numeric id, so it starts with one of these.
    _p("discord-bot-token",
       r"[MNO][TjzD][A-Za-z0-9_\-]{22,24}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
       "MT", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT", right=_URLSAFE),
    _p("teams-webhook", r"webhook\.office\.com/webhookb2/([A-Za-z0-9@/_\-]{40,400})",
       "webhook.office.com/", group=1),
    _p("telegram-bot-token", r"\d{8,10}:AA[A-Za-z0-9_\-]{33}", ":AA",
       left=frozenset("0123456789"), right=_URLSAFE, back=(10, 9, 8)),
    _p("sendgrid-api-key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", "SG."),
    _p("mailgun-api-key", r"key-[a-f0-9]{32}", "key-", right=_ALNUM),
    _p("twilio-api-key", r"SK[a-f0-9]{32}", "SK", right=_ALNUM),
    _p("mailchimp-api-key", r"[a-f0-9]{32}-us\d{1,2}", "-us", right=_ALNUM, back=(32,)),
    # --- payments and commerce ------------------------------------------------------------
    _p("stripe-secret-key", r"sk_(?:live|test)_[A-Za-z0-9]{10,247}", "sk_live_", "sk_test_"),
    _p("stripe-restricted-key", r"rk_(?:live|test)_[A-Za-z0-9]{10,247}", "rk_live_", "rk_test_"),
    _p("stripe-webhook-secret", r"whsec_[A-Za-z0-9+/=]{24,128}", "whsec_"),
    _p("square-token", r"EAAA[A-Za-z0-9_\-+=]{60,100}", "EAAA"),
    _p("square-token", r"sq0(?:atp|csp|idp)-[A-Za-z0-9_\-]{22,43}", "sq0"),
    _p("braintree-access-token",
       r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}", "access_token$"),
    _p("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shpat_", "shpca_", "shppa_",
       "shpss_"),
    _p("shippo-token", r"shippo_(?:live|test)_[a-f0-9]{40}", "shippo_"),
    _p("duffel-token", r"duffel_(?:test|live)_[A-Za-z0-9_=\-]{43}", "duffel_"),
    _p("flutterwave-secret-key", r"FLWSECK(?:_TEST)?-[a-f0-9]{32}-X", "FLWSECK"),
    # --- AI and ML ------------------------------------------------------------------------
    _p("anthropic-api-key", r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{20,160}", "sk-ant-"),
    _p("openai-api-key", r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,300}", "sk-proj-",
       "sk-svcacct-", "sk-admin-", "sk-None-"),
    _p("openai-api-key", r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", "sk-"),
    _p("api-key", r"sk-[A-Za-z0-9]{32,64}", "sk-", right=_URLSAFE),
    _p("huggingface-token", r"(?:hf_|api_org_)[A-Za-z0-9]{34,40}", "hf_", "api_org_"),
    _p("replicate-token", r"r8_[A-Za-z0-9]{37}", "r8_"),
    _p("groq-api-key", r"gsk_[A-Za-z0-9]{52}", "gsk_"),
    _p("langsmith-api-key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", "lsv2_"),
    _p("perplexity-api-key", r"pplx-[A-Za-z0-9]{48}", "pplx-"),
    _p("xai-api-key", r"xai-[A-Za-z0-9]{80}", "xai-"),
    # --- package registries and CI --------------------------------------------------------
    _p("npm-token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    _p("pypi-token", r"pypi-Ag[A-Za-z0-9_\-]{30,4096}", "pypi-Ag"),
    _p("rubygems-token", r"rubygems_[a-f0-9]{48}", "rubygems_"),
    _p("nuget-api-key", r"oy2[a-z0-9]{43}", "oy2", right=_ALNUM),
    _p("docker-hub-token", r"dckr_pat_[A-Za-z0-9_\-]{27,40}", "dckr_pat_"),
    _p("circleci-token", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}", "CCIPAT_"),
    _p("buildkite-token", r"bkua_[a-f0-9]{40}", "bkua_"),
    _p("sonarqube-token", r"sq[pua]_[a-f0-9]{40}", "sqp_", "squ_", "sqa_"),
    _p("postman-api-key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "PMAK-"),
    _p("readme-api-key", r"rdme_[a-z0-9]{70}", "rdme_"),
    # --- observability --------------------------------------------------------------------
    _p("sentry-dsn", r"https?://([a-f0-9]{32}(?::[a-f0-9]{32})?)@[A-Za-z0-9.\-]{0,200}sentry",
       "sentry", group=1, anywhere=True),
    _p("sentry-auth-token", r"sntry[su]_[A-Za-z0-9+/=_\-]{40,400}", "sntrys_", "sntryu_"),
    _p("newrelic-key", r"NR(?:AK|II|JS|RA)-[A-Za-z0-9_\-]{19,40}", "NRAK-", "NRII-", "NRJS-",
       "NRRA-"),
    _p("newrelic-license-key", r"[a-f0-9]{36}NRAL", "NRAL", back=(36,)),
    _p("grafana-token", r"glc_[A-Za-z0-9+/]{32,400}={0,2}", "glc_"),
    _p("grafana-token", r"glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}", "glsa_"),
    _p("grafana-api-key", r"eyJrIjoi[A-Za-z0-9+/=]{40,400}", "eyJrIjoi"),
    # --- productivity ---------------------------------------------------------------------
    _p("linear-api-key", r"lin_(?:api|oauth)_[A-Za-z0-9]{40,64}", "lin_api_", "lin_oauth_"),
    _p("notion-token", r"(?:ntn_[A-Za-z0-9]{40,50}|secret_[A-Za-z0-9]{43})", "ntn_", "secret_"),
    _p("figma-token", r"figd_[A-Za-z0-9_\-]{40,}", "figd_"),
    _p("dropbox-token", r"sl\.(?:u\.)?[A-Za-z0-9_\-]{60,1400}", "sl."),
    _p("mapbox-secret-token", r"sk\.eyJ[A-Za-z0-9_\-]{50,400}\.[A-Za-z0-9_\-]{20,100}", "sk.eyJ"),
    _p("firebase-cloud-messaging-key", r"AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{40,200}",
       ":APA91b", back=(11,)),
    _p("twitter-bearer-token", r"AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,200}",
       "AAAAAAAAAAAAAAAAAAAAA"),
    _p("infracost-api-key", r"ico-[A-Za-z0-9]{32}", "ico-", right=_ALNUM),
    # --- generic formats ------------------------------------------------------------------
    # A JSON Web Token: base64url header and payload (both JSON objects, so both start with
    # "eyJ"), a signature, and for an encrypted token (JWE) two more parts.
    _p("jwt", r"eyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{2,16384}\.[A-Za-z0-9_\-]{0,4096}"
       r"(?:\.[A-Za-z0-9_\-]{0,16384}){0,2}", "eyJ"),
)
"""Every self-identifying token format; at least one per vendor named in the module docstring."""


def anchor_regex(anchors: list[str]) -> re.Pattern[str]:
    """One regular expression matching any of ``anchors``, built as a trie.

    A trie lets the engine reject a position after a character or two instead of trying every
    alternative in turn; on a 64 KB log this is several times faster than a flat alternation.
    """
    trie: dict[str, dict] = {}
    for word in anchors:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        if list(node) == [""]:
            return ""
        optional = "" in node
        parts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return f"(?:{body})?" if optional else body

    if not anchors:
        return re.compile(r"(?!x)x")
    return re.compile(build(trie))
