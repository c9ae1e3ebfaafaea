"""The scrub stage: no secret survives, look-alikes stay, every field of a record is covered.

The corpus is generated at test time (tests/secret_corpus.py): fake but format-valid secrets of
more than 40 kinds, in every notation and in every slot of a failure record, plus benign
look-alikes.  The leak rate must be 0 and the false-redaction rate at most 2 %; both are printed
(run with ``-s`` to see them).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from urllib.parse import quote

import pytest
from secret_corpus import BENIGN_COUNT_MIN, SEED, Secret, benign, contexts, make_secrets, slot_texts

from postmortem_scribe.records import (
    Classification,
    Evidence,
    ExceptionInfo,
    FailureRecord,
    Frame,
    InputReport,
    LogExcerpt,
    Problem,
    from_json,
    to_dict,
    to_json,
)
from postmortem_scribe.scrub import (
    Scrubber,
    clear_registry,
    key_kind,
    register_secret,
    registered_secrets,
    scrub_text,
)

SECRETS = make_secrets()


@pytest.fixture(autouse=True)
def _clean_registry():
    clear_registry()
    yield
    clear_registry()


def _leaked(secret: Secret, text: str) -> bool:
    """Whether any form of the secret, or any 16-character piece of one, is still in ``text``."""
    for form in secret.forms():
        if form in text:
            return True
        for line in form.splitlines():
            for i in range(0, len(line) - 15):
                if line[i : i + 16] in text:
                    return True
    return False


def _strings(obj) -> list[str]:
    """Every string anywhere in a record's plain form."""
    out: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                out.append(str(k))
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)

    walk(to_dict(obj))
    return out


def _record_with(text: str) -> FailureRecord:
    """A record carrying ``text`` in every slot where captured text lands."""
    lines = text.split("\n")
    return FailureRecord(
        pipeline="sales_daily",
        task="load_csv",
        orchestrator="airflow",
        occurrence_key="airflow|sales_daily|run1|load_csv||1",
        run_url=f"https://airflow.example/dags/sales_daily/grid?note={quote(text[:200], safe='')}",
        exceptions=[
            ExceptionInfo(
                type="RuntimeError",
                message=text,
                frames=[
                    Frame(
                        filename="/opt/airflow/dags/sales/load.py",
                        lineno=12,
                        function="load_csv",
                        line=lines[0],
                    )
                ],
            )
        ],
        error_text=(
            f'Traceback (most recent call last):\n  File "x.py", line 1, in f\n    {text}\n'
            "ValueError: boom"
        ),
        log=LogExcerpt(
            source="/opt/airflow/logs/x.log",
            lines=["[2024-05-01T10:00:00.000+0000] {sql.py:12} ERROR - " + ln for ln in lines],
        ),
        inputs=[
            InputReport(
                path="/data/in/sales.csv",
                header=["id", text],
                problems=[Problem(message=f"row 3 has 5 fields: {text}", excerpt=text)],
            )
        ],
        environment={"DEBUG_INFO": text},
        notes=[text],
        extra={"detail": text},
        tags=["nightly", text[:200]],
        capture_problems=[f"could not parse: {text}"],
        classification=Classification(
            category="auth",
            confidence=0.9,
            evidence=[Evidence(rule="auth.401", source="log", text=text)],
        ),
    )


SLOTS = {
    "exception message": lambda r: [r.exceptions[0].message],
    "traceback": lambda r: [r.error_text or "", r.exceptions[0].frames[0].line or ""],
    "log": lambda r: r.log.lines if r.log else [],
    "input sample": lambda r: [
        *r.inputs[0].header,
        r.inputs[0].problems[0].message,
        r.inputs[0].problems[0].excerpt or "",
    ],
    "notes and extras": lambda r: [
        *r.notes,
        *r.extra.values(),
        *r.environment.values(),
        *r.tags,
        *r.capture_problems,
        r.run_url or "",
    ],
    "evidence": lambda r: [e.text for e in r.classification.evidence] if r.classification else [],
}


def test_corpus_is_big_enough():
    kinds = {s.kind for s in SECRETS}
    assert len(SECRETS) >= 150
    assert len(kinds) >= 40
    assert len(benign()) >= BENIGN_COUNT_MIN


def test_no_secret_leaks_from_any_slot_or_notation():
    scrubber = Scrubber()
    checks = 0
    leaks: list[str] = []
    per_slot = dict.fromkeys([*SLOTS, "title"], 0)
    for secret in SECRETS:
        for notation, text in contexts(secret).items():
            out = scrubber.record(_record_with(text))
            for slot, get in SLOTS.items():
                checks += 1
                shown = "\n".join(get(out))
                if _leaked(secret, shown):
                    per_slot[slot] += 1
                    leaks.append(f"{secret.kind} / {notation} / {slot}: {shown[:160]!r}")
            for name, title in slot_texts(text).items():
                checks += 1
                if _leaked(secret, scrub_text(title)):
                    per_slot[name] += 1
                    leaks.append(f"{secret.kind} / {notation} / {name}")
            # Whatever field we did not think of: the whole serialised record.
            everything = "\n".join(_strings(out))
            if _leaked(secret, everything):
                leaks.append(f"{secret.kind} / {notation} / some field: {everything[:160]!r}")
    rate = len(leaks) / checks
    print(
        f"\nsecret corpus (seed {SEED}): {len(SECRETS)} secrets of {len({s.kind for s in SECRETS})}"
        f" kinds, {checks} slot checks, leaks {len(leaks)} -> leak rate {rate:.4%}"
    )
    print("  leaks per slot:", per_slot)
    assert leaks == [], "\n".join(leaks[:20])


def test_benign_look_alikes_stay_as_they_are():
    scrubber = Scrubber()
    items = benign()
    changed = [(t, scrubber.text(t)) for t in items if scrubber.text(t) != t]
    rate = len(changed) / len(items)
    print(
        f"\nbenign look-alikes: {len(items)}, changed {len(changed)}"
        f" -> false-redaction rate {rate:.2%}"
    )
    for before, after in changed:
        print(f"  {before[:100]!r} -> {after[:100]!r}")
    assert rate <= 0.02


def test_markers_keep_the_kind():
    s = Scrubber()
    gh = next(x.value for x in SECRETS if x.kind == "github-classic")
    akid = next(x.value for x in SECRETS if x.kind == "aws-access-key-id")
    assert s.text(f"GITHUB_TOKEN={gh}") == "GITHUB_TOKEN=[redacted github-token]"
    assert s.text(f"using {akid}") == "using [redacted aws-access-key-id]"
    assert s.text("password=hunter2!") == "password=[redacted password]"
    assert (
        s.text('{"password": "hunter2!", "user": "etl"}')
        == '{"password": "[redacted password]", "user": "etl"}'
    )
    assert (
        s.text("postgresql://etl:s3cr%40t@db:5432/sales")
        == "postgresql://etl:[redacted password]@db:5432/sales"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("export DB_PASSWORD=two words here", "export DB_PASSWORD=[redacted password]"),
        (
            "[2024-05-01] INFO - export DB_PASSWORD=two words",
            "[2024-05-01] INFO - export DB_PASSWORD=[redacted password]",
        ),
        ("level=info password=abc123 user=etl", "level=info password=[redacted password] user=etl"),
        ("password: correct horse", "password: [redacted password]"),
        ("  api_key: 'abc123def'", "  api_key: '[redacted api-key]'"),
        (
            "{'Authorization': 'Bearer abc.def.ghi123'}",
            "{'Authorization': 'Bearer [redacted bearer-token]'}",
        ),
        (
            "Authorization: token 0123456789abcdef0123456789abcdef01234567",
            "Authorization: token [redacted authorization]",
        ),
        (
            "Proxy-Authorization: Basic ZXRsOnMzY3JldA==",
            "Proxy-Authorization: Basic [redacted basic-auth]",
        ),
        ("Cookie: theme=dark; sessionid=abc123", "Cookie: [redacted cookie]"),
        (
            'curl -H "X-Api-Key: k3y-value" https://api',
            'curl -H "X-Api-Key: [redacted api-key]" https://api',
        ),
        (
            "mysql --user etl --password s3cret! db",
            "mysql --user etl --password [redacted password] db",
        ),
        (
            '{"error_detail": "{\\"token\\": \\"abc123\\"}"}',
            '{"error_detail": "{\\"token\\": \\"[redacted token]\\"}"}',
        ),
        ("<password>hunter2</password>", "<password>[redacted password]</password>"),
        (
            "next=https%3A%2F%2Fetl%3As3cret%40db.internal%2Fx",
            "next=https%3A%2F%2Fetl%3A[redacted password]%40db.internal%2Fx",
        ),
        ("redis://:p4ss@cache:6379/0", "redis://:[redacted password]@cache:6379/0"),
        (
            "https://x-access-token:abc123@github.com/o/r.git",
            "https://x-access-token:[redacted password]@github.com/o/r.git",
        ),
        (
            "Server=db;Database=x;User Id=etl;Password=s3cret;",
            "Server=db;Database=x;User Id=etl;Password=[redacted password];",
        ),
        (
            "password: |\n  line one\n  line two\nhost: db",
            "password: |\n  [redacted password]\nhost: db",
        ),
        (
            "AIRFLOW__CORE__FERNET_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",
            "AIRFLOW__CORE__FERNET_KEY=[redacted fernet-key]",
        ),
    ],
)
def test_notations(text, expected):
    assert Scrubber().text(text) == expected


@pytest.mark.parametrize(
    "key, kind",
    [
        ("password", "password"),
        ("PGPASSWORD", "password"),
        ("db.password", "password"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-access-key"),
        ("clientSecret", "client-secret"),
        ("X-Api-Key", "api-key"),
        ("DD_APP_KEY", "app-key"),
        ("AccountKey", "account-key"),
        ("SharedAccessKey", "shared-access-key"),
        ("access_token", "token"),
        ("Set-Cookie", "cookie"),
        ("sessionid", "session"),
        ("session_id", "session"),
        ("AIRFLOW_CONN_DB", "connection-string"),
        ("sql_alchemy_conn", "connection-string"),
        ("Authorization", "authorization"),
        ("private_key", "private-key"),
        ("secret_id", "secret"),
        # names that describe a secret instead of holding one
        ("token_count", None),
        ("max_tokens", None),
        ("password_policy", None),
        ("secret_name", None),
        ("token_type", None),
        ("auth_method", None),
        ("credentials_file", None),
        ("author", None),
        ("key", None),
        ("primary_key", None),
        ("tokenizer", None),
        ("passenger_count", None),
        ("public_key", None),
        ("access_key_id", None),
        ("token_url", None),
        ("connection", None),
    ],
)
def test_key_names(key, kind):
    assert key_kind(key) == kind


def test_registered_secrets_in_plain_url_encoded_and_base64_forms():
    value = "Zq8!hv pw/ä@9"
    register_secret(value, kind="airflow-connection-password")
    register_secret("short", kind="x")  # ignored: too short to redact safely
    forms = dict(registered_secrets())
    assert value in forms and quote(value, safe="") in forms
    assert "short" not in forms
    basic = base64.b64encode(f"etl:{value}".encode()).decode()
    texts = [
        f"connecting with {value} now",
        f"dsn=postgres://etl:{quote(value, safe='')}@db/x",
        f"Authorization: Basic {basic}",
        f"blob {basic} in a config",
        f"b64 {base64.b64encode(value.encode()).decode()}",
        f"query pw={quote(value, safe='')}&x=1",
    ]
    s = Scrubber()
    for text in texts:
        out = s.text(text)
        assert value not in out and quote(value, safe="") not in out and basic not in out, out
        assert "[redacted " in out
    assert s.text(f"plain {value}") == "plain [redacted airflow-connection-password]"


def test_extra_secrets_and_extra_key_names():
    s = Scrubber(extra_secrets=["a-host-only-value-42"], extra_key_names=["blob_sas"])
    assert s.text("x a-host-only-value-42 y") == "x [redacted host-secret] y"
    assert (
        s.text("https://x/y?blob_sas=abc&def=1") == "https://x/y?blob_sas=[redacted secret]&def=1"
    )
    # another scrubber does not know them
    assert Scrubber().text("x a-host-only-value-42 y") == "x a-host-only-value-42 y"


def test_registry_is_process_wide_and_seen_by_existing_scrubbers():
    s = Scrubber()
    assert s.text("value 9f8e7d6c5b4a") == "value 9f8e7d6c5b4a"
    register_secret("9f8e7d6c5b4a", "prefect-secret-block")
    assert s.text("value 9f8e7d6c5b4a") == "value [redacted prefect-secret-block]"
    clear_registry()
    assert s.text("value 9f8e7d6c5b4a") == "value 9f8e7d6c5b4a"


def test_private_key_split_over_prefixed_log_lines_keeps_line_count():
    key = next(x for x in SECRETS if x.kind == "rsa-private-key").value
    lines = ["[2024-05-01T10:00:00] {ssh.py:10} INFO - " + ln for ln in key.splitlines()]
    lines = ["start", *lines, "after"]
    out = Scrubber().lines(lines)
    assert len(out) == len(lines)
    assert out[0] == "start" and out[-1] == "after"
    assert all(
        ln.startswith("[2024-05-01T10:00:00] {ssh.py:10} INFO - [redacted private-key]")
        for ln in out[1:-1]
    )
    body = key.splitlines()[1]
    assert not any(body[:16] in ln for ln in out)


def test_record_is_a_scrubbed_copy_with_identities_kept():
    gh = next(x.value for x in SECRETS if x.kind == "github-classic")
    rec = _record_with(f"token={gh}")
    rec.run_id = "manual__2024-05-01T00:00:00+00:00"
    before = to_json(rec)
    out = Scrubber().record(rec)
    assert to_json(rec) == before, "the input record must not change"
    assert out is not rec
    assert (out.pipeline, out.task, out.run_id, out.occurrence_key) == (
        rec.pipeline,
        rec.task,
        rec.run_id,
        rec.occurrence_key,
    )
    assert out.exceptions[0].message == "token=[redacted github-token]"
    assert out.extra == {"detail": "token=[redacted github-token]"}
    assert out.log is not None and len(out.log.lines) == len(rec.log.lines)  # type: ignore[union-attr]
    # still a valid record
    assert from_json(FailureRecord, to_json(out)) == out


def test_mapping_values_under_sensitive_keys_are_redacted_whole():
    env = {
        "DB_PASSWORD": "plain words here",
        "HOME": "/home/airflow",
        "PWD": "/opt/airflow",
        "AIRFLOW_CONN_DB": "postgresql://etl:s3cret@db/x",
        "API_KEY": "None",
        "GH_TOKEN": "***",
    }
    out = Scrubber().mapping(env)
    assert out == {
        "DB_PASSWORD": "[redacted password]",
        "HOME": "/home/airflow",
        "PWD": "/opt/airflow",
        "AIRFLOW_CONN_DB": "postgresql://etl:[redacted password]@db/x",
        "API_KEY": "None",
        "GH_TOKEN": "***",
    }


def test_idempotent_on_the_whole_corpus():
    s = Scrubber()
    for secret in SECRETS:
        for text in contexts(secret).values():
            once = s.text(text)
            assert s.text(once) == once, (text, once)
    for text in benign():
        once = s.text(text)
        assert s.text(once) == once


def test_odd_input_never_raises():
    s = Scrubber(extra_secrets=[None, 5, "", "ok-value-123"], extra_key_names=[None, ""])  # type: ignore[list-item]
    assert s.text(None) is None
    assert s.text("") == ""
    assert s.text(b"password=abc123") == "password=[redacted password]"  # type: ignore[arg-type]
    assert (
        s.text("\udcff lone surrogate ok-value-123")
        == "\udcff lone surrogate [redacted host-secret]"
    )
    assert scrub_text("x" * 100_000) == "x" * 100_000
    # pathological inputs finish (bounded quantifiers, no catastrophic backtracking)
    for evil in [
        "a" * 50_000 + "@",
        "=" * 50_000,
        "://" * 20_000,
        "-----BEGIN PRIVATE KEY-----\n" * 2000,
        ("password=" * 10_000),
        "eyJ" + "a" * 60_000 + ".",
        "%3A%2F%2F" * 5000,
    ]:
        assert isinstance(s.text(evil), str)
    register_secret(None)  # type: ignore[arg-type]
    register_secret(12345678)  # type: ignore[arg-type]


def test_record_with_odd_field_values_is_still_scrubbed():
    rec = _record_with("password=abc123")
    rec.extra = {"n": 3, "password": "abc123"}  # type: ignore[dict-item]
    rec.tags = ["a", None]  # type: ignore[list-item]
    out = Scrubber().record(rec)
    assert out.extra["password"] == "[redacted password]"
    assert out.exceptions[0].message == "password=[redacted password]"


def test_every_text_field_of_the_record_is_visited():
    """A field added to the records later is scrubbed too: the walk is generic."""
    marker_value = "pnu_" + "A1b2C3d4E5" * 3 + "A1b2C3"
    rec = _record_with("x")
    for obj in [
        rec,
        rec.log,
        rec.inputs[0],
        rec.inputs[0].problems[0],
        rec.exceptions[0],
        rec.exceptions[0].frames[0],
        rec.classification,
        rec.classification.evidence[0],
    ]:  # type: ignore[union-attr]
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            if isinstance(getattr(obj, f.name), str) and f.name not in (
                "pipeline",
                "task",
                "orchestrator",
                "occurrence_key",
                "run_id",
                "state",
                "relation",
                "rule",
                "source",
                "category",
                "code",
                "format",
                "encoding",
                "compression",
                "detected_by",
            ):
                setattr(obj, f.name, f"v {marker_value}")
    out = Scrubber().record(rec)
    assert marker_value not in json.dumps(to_dict(out))
