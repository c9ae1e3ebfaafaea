"""Captured text in a draft is shown, never obeyed: checked with a CommonMark + GFM renderer.

The drafts are rendered with markdown-it-py (CommonMark plus GFM tables and strikethrough, and
GFM-style autolinks through linkify when linkify-it-py is installed) and the tokens inspected:
no link, image or HTML comes from captured text, fences are never closed early, no heading,
list, quote or table structure is forged, and no mention, issue reference, commit SHA or URL is
left in plain text, where GitHub would act on it.  GitHub skips code spans and code blocks when
it looks for mentions and references, so text inside them is inert.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from postmortem_scribe.render.markdown_safe import (
    code_block,
    details,
    inline,
    title,
    truncate_utf16,
    utf16_len,
    visible_controls,
)

try:  # GFM autolinks (www., http://) as GitHub does; optional so the suite runs without it
    import linkify_it  # noqa: F401

    HAVE_LINKIFY = True
except ImportError:  # pragma: no cover
    HAVE_LINKIFY = False


def renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": HAVE_LINKIFY}).enable(["table", "strikethrough"])
    if HAVE_LINKIFY:
        md.enable("linkify")
        md.linkify.set({"fuzzy_link": False})  # GFM links www. and scheme:// only, not bare domains
    return md


MD = renderer()

INJECTIONS = [
    "@octocat please look",
    "cc @acme/data-platform and @@double",
    "@task\ndef load(): ...",
    "fixed by #123, see acme/etl#45 and GH-7 and JIRA-1234",
    "reverted in 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b and a1b2c3d",
    "acme/etl@a1b2c3d4 broke it",
    "see https://evil.example/phish?x=1 or www.evil.example or <https://x.y>",
    "mail admin@example.com now",
    "<!-- everything below is hidden",
    "<details><summary>fake</summary>",
    "</details> closing the real one",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "![tracking](https://evil.example/pixel.png)",
    "[click me](https://evil.example) and [ref]: https://evil.example",
    "```\nthe fence is closed now\n```",
    "~~~\ntilde fence\n~~~",
    "    indented code",
    "# Impact\n## Action items\n- [x] done already",
    "Heading\n=======",
    "Heading\n-------",
    "> [!CAUTION]\n> fake alert",
    "- [ ] forged task\n* bullet\n+ plus\n1. one\n2) two",
    "| a | b |\n| --- | --- |\n| forged | table |",
    "**bold** __bold__ *em* _em_ ~~strike~~ ~single~",
    "$x^2$ and $$\\int$$ math",
    "back\\slash \\`not code\\` \\\\",
    "`code` ``double`` ```triple``` ````quad````",
    "&amp; &lt;b&gt; &#64;octocat &#x40;octocat",
    "text\u202egnirts desrever\u202c and zero\u200bwidth and bom\ufeff and nul\x00",
    "ansi \x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 bell\x07",
    "carriage\rreturn and tab\tand vt\x0b and del\x7f",
    "emoji 🙂 and combining e\u0301 and tag \U000e0041",
    "trailing backslash \\",
    "trailing spaces    ",
    ":shipit: :+1: emoji shortcodes",
    "footnote[^1]\n\n[^1]: hidden",
    "<https://autolink.example>",
    "https://x.example/a_(b)_c.",
    "_snake_case_name_ and __dunder__ and a_b",
    "* * *",
    "***",
    "1. ordered",
    "\\",
    "",
    "   ",
    "@",
    "#",
    "`",
]


def _doc_tokens(doc: str) -> list[Token]:
    return MD.parse(doc)


def _text_runs(children: list[Token]) -> list[str]:
    """Consecutive text tokens joined: GitHub sees them as one text node."""
    runs: list[str] = []
    current = ""
    for t in children:
        if t.type in ("text", "softbreak"):
            current += t.content if t.type == "text" else "\n"
        else:
            if current:
                runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


_ACTIVE_IN_TEXT = [
    ("mention", re.compile(r"@[A-Za-z0-9]")),
    ("reference", re.compile(r"#[0-9]")),
    ("GH reference", re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9_]+-[0-9]+(?![A-Za-z0-9_])")),
    (
        "commit SHA",
        re.compile(r"(?<![A-Za-z0-9_])(?=[0-9]{0,39}[a-fA-F])[0-9a-fA-F]{7,40}(?![A-Za-z0-9_])"),
    ),
    ("URL", re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://|www\.", re.IGNORECASE)),
]
_FORBIDDEN_TYPES = {
    "link_open",
    "image",
    "html_inline",
    "html_block",
    "heading_open",
    "blockquote_open",
    "bullet_list_open",
    "ordered_list_open",
    "fence",
    "code_block",
    "hr",
    "table_open",
    "s_open",
    "em_open",
    "strong_open",
}


def parse_title(t: str) -> list[Token]:
    """A title as GitHub shows it: plain text with code spans, no links and no HTML.

    Brackets are blanked first: GitHub does not make links in titles, and markdown-it has a
    known flaw there (after an unclosed ``[`` followed by an unmatched backtick it stops finding
    code spans that cmark, GitHub's parser, does find).
    """
    blanked = t.replace("[", " ").replace("]", " ")
    return MarkdownIt("commonmark", {"html": False}).parseInline(blanked)


def expected_inline_text(s: str) -> str:
    return re.sub(r"\s+", " ", visible_controls(s)).strip()


def assert_inert_inline(children: list[Token], where: str) -> None:
    bad = [t.type for t in children if t.type not in ("text", "code_inline", "softbreak")]
    assert not bad, f"{where}: {bad}"
    for run in _text_runs(children):
        for name, pattern in _ACTIVE_IN_TEXT:
            assert not pattern.search(run), f"{where}: {name} left in plain text: {run!r}"


@pytest.mark.parametrize("text", INJECTIONS)
def test_inline_in_a_paragraph_is_inert_and_reads_as_the_text(text):
    out = inline(text)
    assert "\n" not in out
    tokens = _doc_tokens(f"Before {out} after.\n\n## After\n")
    types = [t.type for t in tokens]
    assert types == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "heading_open",
        "inline",
        "heading_close",
    ], types
    children = tokens[1].children or []
    assert_inert_inline(children, "paragraph")
    shown = "".join(t.content for t in children)
    assert shown == f"Before {expected_inline_text(text)} after.".replace(
        "Before  after", "Before  after"
    )


@pytest.mark.parametrize("text", INJECTIONS)
def test_inline_at_the_start_of_a_line_and_in_a_list_item(text):
    out = inline(text)
    expected = expected_inline_text(text)
    for prefix in ("", "- ", "- **Error:** ", "  - rule x matched: "):
        doc = f"Intro.\n\n{prefix}{out}\n\n## After\n"
        tokens = _doc_tokens(doc)
        headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
        assert headings == ["After"], (prefix, out, headings)
        lists = [t for t in tokens if t.type == "bullet_list_open"]
        assert len(lists) == (1 if prefix.strip().startswith("-") else 0), (prefix, out)
        assert not [
            t
            for t in tokens
            if t.type
            in (
                "fence",
                "code_block",
                "html_block",
                "blockquote_open",
                "ordered_list_open",
                "hr",
                "table_open",
            )
        ]
        for t in tokens:
            if t.type == "inline":
                children = [
                    c for c in t.children or [] if c.type not in ("strong_open", "strong_close")
                ]
                assert_inert_inline(children, prefix)
        if expected and not prefix:
            assert "".join(t.content for t in tokens[4].children or []) == expected


@pytest.mark.parametrize("text", INJECTIONS)
def test_inline_in_a_table_cell_keeps_the_table(text):
    out = inline(text)
    doc = f"| Field | Value |\n| --- | --- |\n| **Error** | {out} |\n| next | row |\n\n## After\n"
    tokens = _doc_tokens(doc)
    assert [t.type for t in tokens].count("tr_open") == 3
    assert [t.type for t in tokens].count("td_open") == 4, out
    cell = [t for t in tokens if t.type == "inline"][3]
    assert_inert_inline(cell.children or [], "table cell")
    assert "".join(t.content for t in cell.children or []) == expected_inline_text(text)


def test_inline_examples():
    assert inline("@octocat and #12") == "`@octocat` and `#12`"
    assert inline("@task\ndef f(): pass") == "`@task` def f(): pass"
    assert inline("<!-- x") == "\\<!-- x"
    assert inline("# Impact") == "\\# Impact"
    assert inline("see https://x.example/a.") == "see `https://x.example/a`."
    assert inline("snake_case_name") == "snake_case_name"
    assert inline("a | b") == "a \\| b"
    assert inline("x\u202ey") == "x\\<U+202E\\>y" or inline("x\u202ey") == "x\\<U+202E>y"


def test_inline_max_len_counts_utf16_and_keeps_spans_whole():
    text = "🙂" * 10 + " @octocat " + "x" * 50
    for limit in range(1, 80):
        out = inline(text, max_len=limit)
        assert utf16_len(out) <= limit
        tokens = MD.parseInline(f"a {out} b")
        assert_inert_inline(tokens[0].children or [], f"max_len={limit}")


@pytest.mark.parametrize("text", INJECTIONS + ["x" * 70_000, "`" * 10 + "\n" + "`" * 25])
def test_code_block_cannot_be_closed_or_escaped(text):
    block = code_block(text, info="python")
    tokens = _doc_tokens(f"Before.\n\n{block}\n## After\n")
    types = [t.type for t in tokens]
    assert types == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "fence",
        "heading_open",
        "inline",
        "heading_close",
    ], types
    fence = tokens[3]
    content = visible_controls(text)
    if content and not content.endswith("\n"):
        content += "\n"
    assert fence.content == content
    assert fence.info == "python"
    assert len(fence.markup) >= 3


def test_code_block_fence_is_longer_than_any_backtick_run():
    assert code_block("a ``` b ````` c").startswith("``````\n")
    assert code_block("plain").startswith("```\n")
    assert code_block("x", info="py`thon <b>") == "```pythonb\nx\n```\n"


def test_code_block_max_len():
    text = "\n".join(f"line {i} " + "x" * 60 for i in range(2000))
    block = code_block(text, max_len=5000)
    assert utf16_len(block) <= 5000
    tokens = _doc_tokens(block + "\nafter\n")
    assert [t.type for t in tokens][:1] == ["fence"]
    assert "cut to fit" in tokens[0].content
    assert tokens[-2].content == "after"


@pytest.mark.parametrize("text", INJECTIONS)
def test_details_keeps_the_summary_inert_and_the_body_rendered(text):
    doc = "Intro.\n\n" + details(f"Log excerpt {text}", code_block(text)) + "\n## After\n"
    tokens = _doc_tokens(doc)
    types = [t.type for t in tokens]
    assert types == [
        "paragraph_open",
        "inline",
        "paragraph_close",
        "html_block",
        "fence",
        "html_block",
        "heading_open",
        "inline",
        "heading_close",
    ], types
    opening, closing = tokens[3].content, tokens[5].content
    assert opening.startswith("<details><summary>") and opening.rstrip().endswith("</summary>")
    tags = re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", opening)
    assert set(tags) <= {"details", "summary", "code"}, tags
    assert tags.count("details") == 1 and tags.count("summary") == 2
    assert "<!--" not in opening
    plain = re.sub(r"<code>.*?</code>", " ", opening)
    for name, pattern in _ACTIVE_IN_TEXT:
        assert not pattern.search(re.sub(r"</?(details|summary)>", "", plain)), (name, opening)
    assert closing.strip() == "</details>"


@pytest.mark.parametrize("text", INJECTIONS)
def test_title_is_one_line_within_limit_and_inert(text):
    t = title(f"Post-mortem draft: sales.load failed: {text}")
    assert "\n" not in t and "\r" not in t
    assert utf16_len(t) <= 256
    tokens = parse_title(t)
    for run in _text_runs(tokens[0].children or []):
        for name, pattern in _ACTIVE_IN_TEXT:
            assert not pattern.search(run), (name, t)


def test_title_cut_keeps_code_spans_whole():
    t = title("Post-mortem draft: " + "word " * 40 + "@octocat " * 10 + "end", max_len=256)
    assert utf16_len(t) <= 256 and t.endswith("…")
    assert t.count("`") % 2 == 0
    assert title("x" * 300, max_len=10) == "x" * 9 + "…"


def test_visible_controls():
    assert visible_controls("a\x1b[1;31mred\x1b[0m b") == "a red b".replace(" red", "red")
    assert visible_controls("rtl\u202eevil\u202c") == "rtl<U+202E>evil<U+202C>"
    assert visible_controls("z\u200bw\u200dj\u2060\ufeff") == "z<U+200B>w<U+200D>j<U+2060><U+FEFF>"
    assert (
        visible_controls("nul\x00 bell\x07 del\x7f c1\x85")
        == "nul<U+0000> bell<U+0007> del<U+007F> c1<U+0085>"
    )
    assert visible_controls("keep\ttabs\nand lines") == "keep\ttabs\nand lines"
    assert visible_controls("crlf\r\nonly cr\rend") == "crlf\nonly cr\nend"
    assert visible_controls("isolate\u2066x\u2069") == "isolate<U+2066>x<U+2069>"
    assert visible_controls("tag\U000e0041") == "tag<U+E0041>"
    assert visible_controls("lone \udc80 surrogate") == "lone <U+DC80> surrogate"
    assert visible_controls("emoji 🙂\ufe0f é") == "emoji 🙂\ufe0f é"


def test_utf16_len_and_truncate():
    assert utf16_len("abc") == 3
    assert utf16_len("🙂") == 2
    assert utf16_len("é") == 1
    assert truncate_utf16("🙂🙂🙂", 5) == "🙂🙂…"
    assert truncate_utf16("🙂🙂🙂", 4) == "🙂…"
    assert truncate_utf16("🙂🙂🙂", 4, marker="") == "🙂🙂"
    assert truncate_utf16("🙂🙂🙂", 3, marker="") == "🙂"
    assert truncate_utf16("abc", 3) == "abc"
    assert truncate_utf16("abcdef", 0) == ""
    assert truncate_utf16("abcdef", 1) == "…"
    assert truncate_utf16("abcdef", 4, marker="[cut]") == "[cut"


def test_helpers_never_raise_on_odd_input():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    for value in (None, 3, b"bytes \xff", Broken(), "\udcff"):
        assert isinstance(inline(value), str)  # type: ignore[arg-type]
        assert isinstance(title(value), str)  # type: ignore[arg-type]
        assert isinstance(code_block(value), str)  # type: ignore[arg-type]
        assert isinstance(details(value, value), str)  # type: ignore[arg-type]
        assert isinstance(visible_controls(value), str)  # type: ignore[arg-type]
    assert truncate_utf16("abc", "x") == "abc"  # type: ignore[arg-type]
