"""Property tests: any text in any slot stays inside its slot, within limits, without errors."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_markdown_safe import (
    _ACTIVE_IN_TEXT,
    MD,
    _text_runs,
    assert_inert_inline,
    expected_inline_text,
    parse_title,
)

from postmortem_scribe.render.markdown_safe import (
    code_block,
    details,
    inline,
    title,
    truncate_utf16,
    utf16_len,
    visible_controls,
)

# Markdown's and GitHub's special characters, often, plus anything Unicode has (surrogates too).
_SPECIAL = list("`*_[]()<>!#@\\-+=|~$&:;/.\"'{}^%?\n\t \r0123456789abcdefABCDEF") + [
    "\u202e",
    "\u200b",
    "\x00",
    "\x1b[31m",
    "```",
    "<!--",
    "-->",
    "www.",
    "https://",
    "@org/team",
    "#12",
    "GH-3",
    "a1b2c3d4",
    "\U0001f642",
    "\udc80",
    "<details>",
    "</details>",
    "    ",
    "\n\n",
    "1. ",
    "- ",
    "> ",
    "# ",
    "|---|",
    "&#64;",
    "\\`",
]
TEXT = st.lists(
    st.one_of(st.sampled_from(_SPECIAL), st.characters(exclude_categories=())), max_size=60
).map("".join)
# In CI the examples are derived from the test itself, so a run is repeatable; locally each run
# explores new ones (and hypothesis keeps any failure it finds for the next run).
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(TEXT)
def test_inline_stays_one_inert_paragraph_that_reads_as_the_text(text):
    out = inline(text)
    assert "\n" not in out and "\r" not in out
    tokens = MD.parse(f"Before {out} after.\n\n## After\n")
    assert [t.type for t in tokens] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "heading_open",
        "inline",
        "heading_close",
    ]
    children = tokens[1].children or []
    assert_inert_inline(children, "paragraph")
    shown = "".join(t.content for t in children)
    assert shown == f"Before {expected_inline_text(text)} after."


@SETTINGS
@given(TEXT, st.sampled_from(["", "- ", "- **Note:** ", "> ", "1. "]))
def test_inline_cannot_forge_blocks(text, prefix):
    doc = f"{prefix}{inline(text)}\n\n## After\n"
    tokens = MD.parse(doc)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["After"]
    forged = [
        t.type
        for t in tokens
        if t.type in ("fence", "code_block", "html_block", "hr", "table_open")
    ]
    assert not forged
    assert sum(t.type.endswith("list_open") or t.type == "blockquote_open" for t in tokens) == (
        1 if prefix.strip() else 0
    )


@SETTINGS
@given(TEXT)
def test_inline_in_a_table_cell_keeps_two_columns(text):
    tokens = MD.parse(f"| a | b |\n| --- | --- |\n| {inline(text)} | z |\n")
    assert [t.type for t in tokens].count("td_open") == 2
    cell = [t for t in tokens if t.type == "inline"][2]
    assert "".join(t.content for t in cell.children or []) == expected_inline_text(text)


@SETTINGS
@given(TEXT, st.integers(min_value=0, max_value=120))
def test_inline_max_len(text, limit):
    out = inline(text, max_len=limit)
    assert utf16_len(out) <= limit
    tokens = MD.parseInline(f"a {out} b")
    assert_inert_inline(tokens[0].children or [], "cut")


@SETTINGS
@given(TEXT, st.sampled_from(["", "python", "text", "py`x"]))
def test_code_block_holds_anything(text, info):
    tokens = MD.parse(f"Before.\n\n{code_block(text, info)}\nafter\n")
    assert [t.type for t in tokens] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "fence",
        "paragraph_open",
        "inline",
        "paragraph_close",
    ]
    content = visible_controls(text)
    if content and not content.endswith("\n"):
        content += "\n"
    assert tokens[3].content == content
    assert tokens[5].content == "after"


@SETTINGS
@given(TEXT, st.integers(min_value=20, max_value=400))
def test_code_block_max_len_holds(text, limit):
    block = code_block(text * 5, max_len=limit)
    assert utf16_len(block) <= limit
    tokens = MD.parse(f"{block}\nafter\n")
    if block:  # empty only when not even an empty block fits
        assert [t.type for t in tokens][0] == "fence"
    assert tokens[-2].content == "after"


@SETTINGS
@given(TEXT, TEXT)
def test_details_holds_anything(summary, body):
    doc = "Intro.\n\n" + details(summary, code_block(body)) + "\n## After\n"
    tokens = MD.parse(doc)
    assert [t.type for t in tokens] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "html_block",
        "fence",
        "html_block",
        "heading_open",
        "inline",
        "heading_close",
    ]
    opening = tokens[3].content
    assert set(re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", opening)) <= {"details", "summary", "code"}
    plain = re.sub(r"<code>.*?</code>|</?(?:details|summary)>", " ", opening)
    for _, pattern in _ACTIVE_IN_TEXT:
        assert not pattern.search(plain)


@SETTINGS
@given(TEXT, st.integers(min_value=1, max_value=300))
def test_title_one_line_within_limit(text, limit):
    t = title(text, max_len=limit)
    assert "\n" not in t and utf16_len(t) <= limit
    tokens = parse_title(t)
    for run in _text_runs(tokens[0].children or []):
        for _, pattern in _ACTIVE_IN_TEXT:
            assert not pattern.search(run), t


@SETTINGS
@given(
    st.text(alphabet=st.characters(exclude_categories=())),
    st.integers(-2, 50),
    st.sampled_from(["…", "", "[cut]"]),
)
def test_truncate_utf16(text, limit, marker):
    out = truncate_utf16(text, limit, marker)
    assert utf16_len(out) <= max(0, limit)
    if utf16_len(text) <= limit:
        assert out == text
    elif limit > 0:
        kept = out[: len(out) - len(marker)] if marker and out.endswith(marker) else out
        assert text.startswith(kept) or utf16_len(marker) > limit
