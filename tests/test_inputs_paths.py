"""Paths that are not plain files, and files that need optional libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from postmortem_scribe.inputs import format_report_text, inspect_path

CSV = "a,b\n1,2\n"


def test_file_uri(tmp_path: Path) -> None:
    path = tmp_path / "with space.csv"
    path.write_text(CSV)
    report = inspect_path(path.as_uri())
    assert report.exists and report.problems == [] and report.header == ["a", "b"]


def test_missing_file_suggests_similar_names(tmp_path: Path) -> None:
    (tmp_path / "orders-2024-03-01.csv").write_text(CSV)
    report = inspect_path(str(tmp_path / "orders-2024-03-02.csv"))
    assert report.exists is False
    assert "no such file" in (report.error or "")
    assert "similar names in that folder: orders-2024-03-01.csv" in (report.error or "")
    assert report.complete is False
    assert "not found:" in format_report_text(report)
    gone = inspect_path(str(tmp_path / "no-folder" / "x.csv"))
    assert "does not exist either" in (gone.error or "")


def test_remote_url_directory_and_odd_paths(tmp_path: Path) -> None:
    remote = inspect_path("s3://bucket/orders.csv")
    assert remote.exists is False and "remote s3:// URL" in (remote.error or "")
    folder = inspect_path(str(tmp_path))
    assert folder.exists and "is a directory" in (folder.error or "")
    nul = inspect_path("bad\x00name.csv")
    assert nul.exists is False and nul.error
    assert inspect_path(Path(tmp_path / "nope.csv")).exists is False  # type: ignore[arg-type]


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root reads everything; a FIFO is the unreadable case we can make instead
        fifo = tmp_path / "pipe.csv"
        os.mkfifo(fifo)
        report = inspect_path(str(fifo))
        assert "not a regular file" in (report.error or "")
        return
    path = tmp_path / "locked.csv"
    path.write_text(CSV)
    path.chmod(0)
    report = inspect_path(str(path))
    assert "cannot be read" in (report.error or "")


def test_parquet_without_pyarrow(tmp_path: Path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), buf)
    path = tmp_path / "t.parquet"
    path.write_bytes(buf.getvalue())
    # A fresh interpreter in which pyarrow cannot be imported, as on a machine without it.
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from postmortem_scribe.inputs import inspect_path, report_to_dict\n"
        f"r = inspect_path({str(path)!r})\n"
        "import json; print(json.dumps(report_to_dict(r)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    import json

    data = json.loads(out)
    assert data["format"] == "parquet" and data["problems"] == [] and data["error"] is None
    assert any("install pyarrow to read the schema" in n for n in data["notes"])


def test_core_import_does_not_need_pandas_or_pyarrow() -> None:
    code = (
        "import sys\n"
        "import postmortem_scribe.inputs\n"
        "bad = [m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_zstd_is_recognised_even_without_a_decompressor(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 4)
    report = inspect_path(str(path))
    assert report.compression == "zstd"
    wrong = [p for p in report.problems if p.code == "wrong_format"]
    assert wrong and "Zstandard-compressed" in wrong[0].message and "zstd -d" in wrong[0].message
    # Either this Python can decompress it (and finds the data corrupt) or it says why not.
    assert report.error is None or "Zstandard" in report.error


def test_zip_with_several_members_and_an_encrypted_one(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.txt", "hello\n")
        zf.writestr("data/orders.csv", "a,b\n1,2\n3\n")
    report = inspect_path(str(path))
    assert [(p.code, p.line) for p in report.problems] == [("ragged_row", 3)]
    assert any("holds 2 files; inspected 'data/orders.csv'" in n for n in report.notes)  # type: ignore[attr-defined]
    # An encrypted member (flag bit 0): no password, no inspection, and a reason.
    enc = tmp_path / "secret.zip"
    with zipfile.ZipFile(enc, "w") as zf:
        zf.writestr("orders.csv", "a,b\n1,2\n")
    raw = bytearray(enc.read_bytes())
    raw[6] |= 0x1  # local header flags
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 8] |= 0x1  # central directory flags
    enc.write_bytes(bytes(raw))
    report = inspect_path(str(enc))
    assert "encrypted" in (report.error or "")


def test_every_problem_code_has_a_category(tmp_path: Path) -> None:
    import re

    from postmortem_scribe.inputs import PROBLEM_CATEGORY

    src = Path(__file__).resolve().parents[1] / "src" / "postmortem_scribe" / "inputs"
    text = "".join(p.read_text() for p in src.glob("*.py"))
    emitted = set(re.findall(r'\.add\(\s*"([a-z_0-9]+)"', text))
    emitted |= set(re.findall(r'_problem\(\s*"([a-z_0-9]+)"', text))
    emitted |= set(re.findall(r'return "(json_[a-z_]+)"', text))
    assert emitted and emitted <= set(PROBLEM_CATEGORY), emitted - set(PROBLEM_CATEGORY)
    assert set(PROBLEM_CATEGORY.values()) <= {
        "data_format",
        "data_missing",
        "data_quality",
        "config_env",
    }
