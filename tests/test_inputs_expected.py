"""The expected shape, from a schema file, the config or the last good profile, and what the
report says when the file differs from it."""

from __future__ import annotations

import json
from pathlib import Path

from postmortem_scribe.config import Config, InputExpectation, load_config
from postmortem_scribe.inputs import (
    Expectation,
    compare_to_profile,
    expectation_from_config,
    expectation_from_profile,
    expectation_from_schema_file,
    inspect_path,
    profile_path,
)

GOOD = "order_id,customer,amount,currency\n" + "".join(
    f"{i},customer-{i},{i % 9}.50,EUR\n" for i in range(1, 201)
)


def test_simple_schema_file(tmp_path: Path) -> None:
    schema = tmp_path / "orders.json"
    schema.write_text(
        json.dumps(
            {
                "format": "csv",
                "delimiter": ";",
                "encoding": "UTF8",
                "columns": ["order_id", {"name": "amount", "type": "float"}, "day"],
                "types": {"order_id": "int64", "day": "date"},
            }
        )
    )
    exp = expectation_from_schema_file(schema)
    assert exp.columns == ["order_id", "amount", "day"]
    assert exp.types == {"amount": "number", "order_id": "integer", "day": "date"}
    assert (exp.delimiter, exp.encoding, exp.format) == (";", "utf-8", "csv")
    assert exp.problems == []
    assert exp.source == f"schema file {schema}"


def test_frictionless_and_json_schema(tmp_path: Path) -> None:
    table = tmp_path / "table.json"
    table.write_text(
        json.dumps(
            {
                "fields": [
                    {"name": "id", "type": "integer"},
                    {"name": "when", "type": "datetime"},
                    {"name": "tag", "type": "string"},
                ]
            }
        )
    )
    exp = expectation_from_schema_file(table)
    assert exp.columns == ["id", "when", "tag"]
    assert exp.types == {"id": "integer", "when": "datetime", "tag": "string"}
    resource = tmp_path / "resource.json"
    resource.write_text(
        json.dumps(
            {
                "schema": {"fields": [{"name": "id", "type": "integer"}]},
                "dialect": {"delimiter": "\t"},
            }
        )
    )
    exp = expectation_from_schema_file(resource)
    assert exp.columns == ["id"] and exp.delimiter == "\t"
    jschema = tmp_path / "records.schema.json"
    jschema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "day": {"type": "string", "format": "date"},
                    "note": {"type": ["string", "null"]},
                },
            }
        )
    )
    exp = expectation_from_schema_file(jschema)
    assert exp.columns == ["id", "day", "note"]
    assert exp.types == {"id": "integer", "day": "date", "note": "string"}


def test_broken_schema_files_never_raise(tmp_path: Path) -> None:
    missing = expectation_from_schema_file(tmp_path / "nope.json")
    assert missing.is_empty() and "could not be read" in missing.problems[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"columns": [')
    exp = expectation_from_schema_file(bad)
    assert exp.is_empty() and "not valid JSON (line 1" in exp.problems[0]
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"columns": [{"name": "x", "type": "complex"}, 42]}))
    exp = expectation_from_schema_file(odd)
    assert exp.columns == ["x"]
    assert any("unknown type 'complex'" in p for p in exp.problems)
    assert any("has no name" in p for p in exp.problems)


def test_expectation_from_config_matches_globs(tmp_path: Path) -> None:
    schema = tmp_path / "orders.schema.json"
    schema.write_text(json.dumps({"columns": {"order_id": "integer", "amount": "number"}}))
    config = Config(
        inputs=[
            InputExpectation(path="*/reports/*.csv", columns=["day", "total"]),
            InputExpectation(
                path="data/orders-*.csv",
                columns=["order_id", "amount", "currency"],
                delimiter=",",
                schema=str(schema),
            ),
        ]
    )
    exp = expectation_from_config(config, "/srv/data/orders-2024-03-01.csv")
    assert exp is not None
    assert exp.columns == ["order_id", "amount", "currency"]  # the config wins over the schema
    assert exp.types == {"order_id": "integer", "amount": "number"}
    assert "config [[inputs]] path = 'data/orders-*.csv'" in (exp.source or "")
    uri = expectation_from_config(config, "file:///srv/data/orders-2024-03-02.csv")
    assert uri is not None and uri.columns == exp.columns
    assert expectation_from_config(config, "/srv/other/file.csv") is None
    assert expectation_from_config(Config(), "/x.csv") is None


def test_config_file_inputs_end_to_end(tmp_path: Path) -> None:
    cfg = tmp_path / "scribe.toml"
    cfg.write_text(
        '[[inputs]]\npath = "*.csv"\ncolumns = "order_id, client_ref, amount"\n'
        '[inputs.types]\namount = "number"\n'
    )
    config = load_config(cfg, env={})
    data = tmp_path / "orders.csv"
    data.write_text(GOOD)
    report = inspect_path(str(data), expect=expectation_from_config(config, str(data)))
    missing = [p for p in report.problems if p.code == "missing_column"]
    assert [p.column for p in missing] == ["client_ref"]
    assert "config [[inputs]] path = '*.csv'" in missing[0].message
    assert "(Expected by config [[inputs]] path = '*.csv'.)" in (report.expected or "")


def test_profile_and_what_changed(tmp_path: Path) -> None:
    good = tmp_path / "orders.csv"
    good.write_text(GOOD)
    profile = profile_path(str(good))
    assert profile["header"] == ["order_id", "customer", "amount", "currency"]
    assert profile["column_types"]["amount"] == "number"
    assert profile["row_estimate"] == 200 and profile["row_estimate_exact"] is True
    json.dumps(profile)  # stored as JSON by the lead's store
    # The next upload: semicolons, cp1252, a renamed and a new column, and far fewer rows.
    bad = tmp_path / "orders-next.csv"
    bad.write_bytes(
        "order_id;customer_name;amount;currency;discount\n1;Caf\u00e9;3,50;EUR;0\n".encode("cp1252")
    )
    report = inspect_path(str(bad), expect=expectation_from_profile(profile))
    changes = compare_to_profile(report, profile)
    text = "\n".join(changes)
    assert "delimiter changed from ',' (comma) to ';' (semicolon)" in text
    assert (
        "encoding changed from UTF-8 to cp1252" in text
        or "encoding changed from UTF-8 to Latin-1" in text
    )
    assert "column 'customer' seems renamed to 'customer_name'" in text
    assert "new column 'discount'" in text
    assert "far off the usual" in text
    codes = {p.code for p in report.problems}
    assert {"delimiter", "not_utf8", "renamed_column", "extra_column"} <= codes
    assert "the last successful run's input" in " ".join(p.message for p in report.problems)


def test_profile_types_are_widened_and_text_is_not_checked() -> None:
    exp = expectation_from_profile(
        {
            "header": ["a", "b", "c"],
            "column_types": {"a": "integer", "b": "string", "c": "date"},
            "delimiter": ",",
            "encoding": "utf-8",
            "format": "csv",
        }
    )
    assert exp.types == {"a": "number", "c": "date"}
    assert isinstance(expectation_from_profile("garbage"), Expectation)  # type: ignore[arg-type]
    assert compare_to_profile(inspect_path("/nonexistent/x.csv"), {"exists": True}) == [
        "the file is missing; the last successful run's input existed"
    ]


def test_a_malformed_csv_draft_teaches_the_expected_format(tmp_path: Path) -> None:
    from postmortem_scribe.inputs import summarize_for_draft
    from postmortem_scribe.inputs.budget import fmt_bytes

    lines = ["order_id,customer,amount,currency"]
    for i in range(1, 121):
        lines.append(
            f"{1000 + i},ACME Corp,19.90,EUR,PROMO10"
            if i == 56
            else f"{1000 + i},c-{i},{10 + i % 7}.50,EUR"
        )
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    report = inspect_path(str(path), budget_seconds=3)
    draft = summarize_for_draft(report)
    size = fmt_bytes(path.stat().st_size)
    assert draft[0] == (
        f"Detected: CSV, comma-separated, UTF-8, {size}, 4 columns (order_id, customer, "
        "amount, currency), 120 data rows."
    )
    assert (
        "line 57 (record 56) has 5 fields but the header has 4: the extra value is 'PROMO10'. "
        "Quote values that contain commas."
    ) in draft
    assert "Line 57: 1056,ACME Corp,19.90,EUR,PROMO10" in draft
    assert report.expected is not None
    assert (
        "the first line a header naming the 4 columns in order: order_id, customer, amount, "
        "currency" in report.expected
    )
    assert "every line with exactly 4 values" in report.expected
    assert 'enclosed in double quotes, with quotes inside written twice ("")' in report.expected
