"""The installed distribution carries what it needs: templates, rules, data files, typing."""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

import pytest

import postmortem_scribe

PACKAGE = Path(postmortem_scribe.__file__).parent
EDITABLE = "site-packages" not in PACKAGE.parts and "dist-packages" not in PACKAGE.parts


def test_data_files_ship_inside_the_package() -> None:
    root = resources.files("postmortem_scribe")
    for name in ("py.typed", "classify/rules.toml", "render/actions.toml"):
        assert (root / name).is_file(), name


@pytest.mark.skipif(EDITABLE, reason="an editable install reads templates/ from the checkout")
def test_templates_ship_inside_the_wheel() -> None:
    shipped = resources.files("postmortem_scribe") / "templates"
    names = {p.name for p in shipped.iterdir()}
    assert {"postmortem.md.j2", "comment.md.j2", "digest.md.j2"} <= names
    from postmortem_scribe.render import renderer

    assert renderer.packaged_templates_dir() == Path(str(shipped))


def test_console_script_and_extras_are_declared() -> None:
    dist = metadata.distribution("postmortem-scribe")
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts["scribe"] == "postmortem_scribe.cli.main:main"
    extras = set(dist.metadata.get_all("Provides-Extra") or [])
    assert {"airflow", "prefect", "postgres"} <= extras


def test_records_round_trip_through_json() -> None:
    from postmortem_scribe.records import (SCHEMA_VERSION, Classification, Evidence, ExceptionInfo,
                                           FailureRecord, Frame, InputReport, LogExcerpt, Problem,
                                           from_json, to_json)

    record = FailureRecord(
        pipeline="p", task="t", orchestrator="airflow", occurrence_key="k", try_number=2,
        exceptions=[ExceptionInfo("ValueError", "bad", [Frame("/x.py", 3, "f", "x", "raise", True)],
                                  relation="cause")],
        log=LogExcerpt(source="/l.log", lines=["a", "b"], error_lines=[1]),
        inputs=[InputReport(path="/d.csv", problems=[Problem("m", line=2, record=1, column="c")],
                            notes=["scanned all"])],
        classification=Classification("data_format", 0.9, [Evidence("r", "log", "b")],
                                      alternatives=[("code_bug", 0.2)]),
    )
    text = to_json(record)
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert from_json(FailureRecord, text) == record
