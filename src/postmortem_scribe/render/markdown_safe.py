"""GitHub-flavoured Markdown made inert: captured text is shown, never obeyed.

A post-mortem draft quotes exception messages, log lines and input rows, and GitHub would read
them as Markdown: ``@data-team`` notifies a team, ``#12`` and a bare commit SHA become links and
cross-references, ``<!--`` hides the rest of the issue, a stray fence swallows the sections below
it, ``# Impact`` forges a heading, and bidi or zero-width characters make text read differently
from what it is.  Every helper here turns arbitrary text into Markdown that renders as exactly
that text and nothing else.

How each danger is defused (checked against a CommonMark + GFM renderer in the tests):

- **Mentions, issue and commit references, URLs, e-mail addresses**: GitHub finds these in the
  rendered *text*, after Markdown is parsed, so backslashes and HTML entities (``\\@``, ``&#64;``)
  do not stop them; GitHub skips code, so each such token is wrapped in a code span (or
  ``<code>`` inside HTML).  A URL in a code span is shown but not clickable.
- **Markdown syntax** (emphasis, links, images, HTML, tables, math, strikethrough, headings,
  lists, block quotes): the characters that start it are backslash-escaped.
- **Invisible and control characters** (ANSI escapes, NUL, C0/C1 controls, bidi overrides and
  isolates, zero-width characters, BOM, tag characters): ANSI sequences are removed, the others
  shown as ``<U+202E>``, because the reader must see what is there.
- **Fences**: a code block's fence is longer than any backtick run inside it, so nothing inside
  can close it.
- **Limits**: GitHub counts lengths in UTF-16 code units; :func:`utf16_len` and
  :func:`truncate_utf16` count the same way and never split a surrogate pair.

No helper raises: anything that is not a string is shown through ``str()``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

__all__ = [
    "code_block",
    "details",
    "inline",
    "title",
    "truncate_utf16",
    "utf16_len",
    "visible_controls",
]

# --------------------------------------------------------------------------------------------
# Lengths as GitHub counts them
# --------------------------------------------------------------------------------------------


def utf16_len(s: str) -> int:
    """Length of ``s`` in UTF-16 code units, as GitHub counts title and body limits."""
    s = _as_text(s)
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def truncate_utf16(s: str, limit: int, marker: str = "…") -> str:
    """``s`` cut to at most ``limit`` UTF-16 code units, ``marker`` included, if it is longer.

    The cut never falls inside a surrogate pair (an emoji stays whole or goes whole).
    """
    s = _as_text(s)
    marker = _as_text(marker)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        return s
    if limit <= 0:
        return ""
    if utf16_len(s) <= limit:
        return s
    if utf16_len(marker) > limit:
        marker = truncate_utf16(marker, limit, "")
    budget = limit - utf16_len(marker)
    if s.isascii():
        return s[:budget] + marker
    data = s.encode("utf-16-le", "surrogatepass")[: 2 * budget]
    if len(data) >= 2 and 0xD800 <= int.from_bytes(data[-2:], "little") <= 0xDBFF:
        data = data[:-2]  # a high surrogate without its low half
    return data.decode("utf-16-le", "surrogatepass") + marker


# --------------------------------------------------------------------------------------------
# Invisible characters
# --------------------------------------------------------------------------------------------

_ANSI = re.compile(
    r"\x1b(?:\[[0-?]{0,64}[ -/]{0,16}[@-~]"  # CSI: colours, cursor movement
    r"|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)"  # OSC: window titles, hyperlinks
    r"|[PX^_][^\x1b]{0,4096}\x1b\\"  # DCS, SOS, PM, APC strings
    r"|[ -/]{0,4}[0-~])"  # two- and three-character escapes
    r"|\x9b[0-?]{0,64}[ -/]{0,16}[@-~]"  # 8-bit CSI
)
# Characters that are invisible, reorder text, or control a terminal.  Variation selectors
# U+FE00..FE0F stay: emoji need them and they hide nothing.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff0-\ufffb"
    "\ufffe\uffff\U0001d173-\U0001d17a\U000e0000-\U000e0fff\ud800-\udfff]"
)


def _show(m: re.Match[str]) -> str:
    return f"<U+{ord(m.group()):04X}>"


def visible_controls(s: str) -> str:
    """``s`` with ANSI escapes removed and every other invisible character made visible.

    Line feeds and tabs stay.  A carriage return ends a line, as it does on a terminal (so
    progress-bar updates each get a line instead of overwriting one another).  NUL, other
    C0/C1 controls, bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069), zero-width
    characters (U+200B..U+200D, U+2060), the BOM, soft hyphens, tag characters and lone
    surrogates become ``<U+XXXX>``.
    """
    s = _as_text(s)
    if "\x1b" in s or "\x9b" in s:
        s = _ANSI.sub("", s)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub(_show, s)


# --------------------------------------------------------------------------------------------
# Inline text and titles
# --------------------------------------------------------------------------------------------

# Tokens GitHub turns into links or notifications after Markdown is parsed; each is shown in a
# code span.  They never contain a backtick, a space or a pipe, so a single backtick delimits
# them and a table cell is not split.  A reference is defused by wrapping its distinctive part:
# ``owner/repo`#12``` no longer reads as ``owner/repo#12``.
#
# URLs are found from their "://" or "www." (and the scheme before it), the rest with one
# regular expression whose word-start alternatives begin with a look-behind, so the engine gives
# up at once everywhere but at word starts.  Right after a code span we open, a new text node
# begins for GitHub, so there the same alternatives are tried without the look-behind.
_NOT_URL = r"[^\s<>`|\"\[\]{}\\^]"
_URL_REST = re.compile(_NOT_URL + r"{0,2048}")
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")
_LB_WORD = r"(?<![A-Za-z0-9_])"
_LB_EMAIL = r"(?<![A-Za-z0-9._%+\-])"


def _active_regex(lb_word: str, lb_email: str) -> re.Pattern[str]:
    return re.compile(
        lb_word + r"(?:mailto|xmpp|tel|javascript|data|vbscript|file):" + _NOT_URL + r"{1,2048}"
        r"|" + lb_email + r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9_\-]{1,63}"  # e-mail
        r"(?:\.[A-Za-z0-9_\-]{1,63}){1,10}"
        # @user, @org/team, @decorator
        r"|@[A-Za-z0-9][A-Za-z0-9_\-]{0,38}(?:/[A-Za-z0-9][A-Za-z0-9_.\-]{0,99})?"
        r"|#[0-9]{1,20}"  # #12, owner/repo#12
        r"|" + lb_word + r"(?:"
        r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"  # UUID
        r"|[A-Z][A-Z0-9_]{1,15}-[0-9]{1,20}(?![A-Za-z0-9_])"  # GH-12 and custom autolinks
        r"|(?=[0-9]{0,127}[A-Fa-f])[0-9A-Fa-f]{7,128}(?![A-Za-z0-9_]))"  # commit SHAs
    )


_ACTIVE = _active_regex(_LB_WORD, _LB_EMAIL)
_ACTIVE_AFTER_SPAN = _active_regex("", "")
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]<|$~&]")
_ALWAYS = frozenset("`*[]<|$~")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_WS = re.compile(r"\s+")
_ORDERED = re.compile(r"[0-9]{1,9}[.)](?=\s|$)")
_URL_TRAILER = ".,:;!?'*_~"
_WWW = re.compile(r"www\.", re.IGNORECASE)


def _url_spans(s: str) -> list[tuple[int, int]]:
    """Every ``scheme://…`` and ``www.…``, scheme included, trailing punctuation given back."""
    found: list[tuple[int, int]] = []
    i = s.find("://")
    while i >= 0:
        start = i
        while start > 0 and i - start < 32 and s[start - 1] in _SCHEME_CHARS:
            start -= 1
        end = _URL_REST.match(s, i + 3).end()  # type: ignore[union-attr]
        found.append((start, end))
        i = s.find("://", max(end, i + 3))
    for m in _WWW.finditer(s):
        found.append((m.start(), _URL_REST.match(s, m.end()).end()))  # type: ignore[union-attr]
    found.sort()
    spans: list[tuple[int, int]] = []
    for start, end in found:
        end = _trim_url(s, start, end)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _trim_url(s: str, start: int, end: int) -> int:
    """GFM leaves trailing punctuation and an unbalanced ``)`` out of an autolink; so do we."""
    while end > start + 3:
        last = s[end - 1]
        if last in _URL_TRAILER:
            end -= 1
        elif last == ")" and s.count("(", start, end) < s.count(")", start, end):
            end -= 1
        else:
            break
    return end


def _tokens(s: str) -> list[tuple[int, int]]:
    """Spans of the active tokens in ``s``, in order, not overlapping."""
    urls = _url_spans(s)
    spans: list[tuple[int, int]] = []
    pos = 0
    n = len(s)
    u = 0
    while pos < n:
        while u < len(urls) and urls[u][1] <= pos:
            u += 1
        limit = urls[u][0] if u < len(urls) else n
        if limit <= pos:
            spans.append((pos, urls[u][1]))
            pos = urls[u][1]
            continue
        m = None
        if spans and spans[-1][1] == pos:
            m = _ACTIVE_AFTER_SPAN.match(s, pos, limit)
        if m is None or m.end() == m.start():
            m = _ACTIVE.search(s, pos, limit)
        if m is not None and m.end() > m.start():
            start, end = m.span()
            if "://" not in m.group() and ":" in m.group()[:11]:
                end = _trim_url(s, start, end)
            spans.append((start, end))
            pos = end
        elif u < len(urls):
            spans.append(urls[u])
            pos = urls[u][1]
        else:
            break
    return spans


def _collapse(s: str) -> str:
    return _WS.sub(" ", visible_controls(s)).strip()


def _render_inline(s: str) -> str:
    """Inert Markdown for one already-collapsed line."""
    out: list[str] = []
    n = len(s)
    pos = 0
    last_token_end = -1
    for start, end in _tokens(s):
        if start > pos:
            out.append(_escape_plain(s, pos, start))
        token = s[start:end]
        if out and start == last_token_end and out[-1].endswith("`"):
            out[-1] = out[-1][:-1] + token + "`"  # adjacent tokens share one code span
        else:
            out.append(f"`{token}`")
        pos = last_token_end = end
    if pos < n:
        out.append(_escape_plain(s, pos, n))
    text = "".join(out)
    # Block syntax only matters at the start of the output: the template may put it at the
    # start of a line, or right after "- " where a heading or a quote would still be parsed.
    if text and text[0] in "#>-+=":
        text = "\\" + text
    else:
        ordered = _ORDERED.match(text)
        if ordered:
            text = text[: ordered.end() - 1] + "\\" + text[ordered.end() - 1:]
    return text


def _escape_plain(s: str, start: int, end: int) -> str:
    parts: list[str] = []
    pos = start
    for m in _INLINE_SPECIAL.finditer(s, start, end):
        i = m.start()
        c = s[i]
        nxt = s[i + 1] if i + 1 < len(s) else ""
        escape = False
        if c in _ALWAYS:
            escape = True
        elif c == "\\":
            # Only before punctuation (or a code span we open next) does a backslash escape.
            escape = i + 1 >= end or nxt in _ASCII_PUNCT or nxt == ""
        elif c == "_":
            # An underscore between two letters or digits can neither open nor close emphasis
            # (CommonMark's flanking rules); escaping it would only clutter snake_case names.
            prev = s[i - 1] if i > start else ""
            escape = not (prev.isalnum() and i + 1 < end and nxt.isalnum())
        elif c == "&":
            escape = nxt == "#" or nxt.isalpha()
        if escape:
            parts.append(s[pos:i])
            parts.append("\\" + c)
            pos = i + 1
    parts.append(s[pos:end])
    return "".join(parts)


def inline(s: str, max_len: int | None = None) -> str:
    """``s`` as inert Markdown for running text, a list item or a table cell.

    Whitespace, newlines included, collapses to single spaces (block structure cannot start
    inside the result); mentions, references, SHAs, URLs and e-mail addresses are shown in code
    spans; Markdown punctuation is escaped; invisible characters are shown (see
    :func:`visible_controls`).  With ``max_len`` the result, an ellipsis included, has at most
    that many UTF-16 code units and never ends inside a code span or an escape.
    """
    text = _collapse(_as_text(s))
    out = _render_inline(text)
    if max_len is None or utf16_len(out) <= max_len:
        return out
    return _fit(text, _render_inline, max_len)


def _fit(text: str, render: Callable[[str], str], max_len: int) -> str:
    """The longest rendering of a prefix of ``text`` that fits with an ellipsis."""
    if max_len <= 0:
        return ""
    budget = max_len - 1
    # Rendering never shortens text (each character gives at least one), so no prefix longer
    # than the budget can fit.
    lo, hi = 0, min(len(text), budget)
    best = ""
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = render(text[:mid].rstrip())
        if utf16_len(candidate) <= budget:
            best = candidate
            lo = mid + 1
        else:
            hi = mid - 1
    return best + "…"


def title(s: str, max_len: int = 256) -> str:
    """``s`` as an issue title: one line, at most ``max_len`` UTF-16 code units.

    GitHub shows titles as plain text except for code spans, so nothing is backslash-escaped
    (the backslashes would show); mentions, references, SHAs and URLs are put in code spans,
    delimited by a backtick run that does not occur in the title so that no backtick of the
    text can pair with them.  The cut, if any, keeps code spans whole.
    """
    text = _collapse(_as_text(s))
    out = _render_title(text)
    if utf16_len(out) <= max_len:
        return out
    return _fit(text, _render_title, max_len)


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _title_tokens(s: str) -> list[tuple[int, int]]:
    """Active tokens plus character references (``&#64;`` could become ``@`` when shown)."""
    spans = _tokens(s)
    if "&" not in s:
        return spans
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans + [m.span() for m in _ENTITY.finditer(s)]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _render_title(s: str) -> str:
    fence = "`" * (_longest_run(s, "`") + 1)
    out: list[str] = []
    pos = 0
    last = -1
    for start, end in _title_tokens(s):
        chunk = s[pos:start]
        if chunk:
            if pos == last and chunk.startswith("`"):
                out.append(" ")  # a backtick right after our fence would lengthen it
            out.append(chunk)
            if chunk.endswith(("\\", "`")):
                out.append(" ")  # a backslash would escape our fence, a backtick lengthen it
        if start == last and out and out[-1].endswith(fence):
            out[-1] = out[-1][: -len(fence)] + s[start:end] + fence
        else:
            out.append(fence + s[start:end] + fence)
        pos = last = end
    rest = s[pos:]
    if rest and pos == last and rest.startswith("`"):
        out.append(" ")
    out.append(rest)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

_INFO_OK = re.compile(r"[^A-Za-z0-9_+.#\-]")


def _longest_run(s: str, ch: str) -> int:
    if ch not in s:
        return 0
    return max(len(run) for run in re.findall(re.escape(ch) + "+", s))


def code_block(s: str, info: str = "", *, max_len: int | None = None) -> str:
    """``s`` in a fenced code block that nothing inside can close or escape.

    The fence is backticks, one more than the longest backtick run in the content (at least
    three); the content goes through :func:`visible_controls`.  Mentions, references and HTML
    inside a code block are inert on GitHub.  ``info`` (the language) keeps only letters,
    digits and ``_+.#-``.  With ``max_len``, the content is cut (at a line end when one is near)
    so that the whole block fits, and the cut is said inside the block.  The block starts with
    its fence and ends with a newline; put it at the start of a line.
    """
    content = visible_controls(_as_text(s))
    if content and not content.endswith("\n"):
        content += "\n"
    lang = _INFO_OK.sub("", _as_text(info))[:32]
    fence = "`" * max(3, _longest_run(content, "`") + 1)
    block = f"{fence}{lang}\n{content}{fence}\n"
    if max_len is None or utf16_len(block) <= max_len:
        return block
    note = f"… ({utf16_len(content)} characters in all; cut to fit)\n"
    budget = max_len - utf16_len(f"{fence}{lang}\n{fence}\n") - utf16_len(note)
    if budget <= 0:
        # Not even the note fits: a bare ellipsis in a block, or nothing at all; never a broken
        # fence, which would swallow the rest of the draft.
        tiny = f"{fence}{lang}\n…\n{fence}\n"
        return tiny if utf16_len(tiny) <= max_len else ""
    kept = truncate_utf16(content, budget, "")
    cut = kept.rfind("\n")
    if cut >= len(kept) // 2:
        kept = kept[: cut + 1]
    elif kept and not kept.endswith("\n"):
        kept = truncate_utf16(kept, budget - 1, "") + "\n"
    return f"{fence}{lang}\n{kept}{note}{fence}\n"


def details(summary: str, body_markdown: str) -> str:
    """A collapsible ``<details>`` block: an inert one-line summary over ``body_markdown``.

    The summary is HTML-escaped and its mentions, references and URLs are put in ``<code>``
    (GitHub looks for them in HTML text too).  A blank line separates the HTML from the body so
    that GitHub renders the body as Markdown.  ``body_markdown`` must already be safe Markdown,
    e.g. from :func:`code_block`.
    """
    text = _collapse(_as_text(summary))
    parts: list[str] = []
    pos = 0
    for start, end in _tokens(text):
        parts.append(html.escape(text[pos:start], quote=True))
        parts.append(f"<code>{html.escape(text[start:end], quote=True)}</code>")
        pos = end
    parts.append(html.escape(text[pos:], quote=True))
    body = _as_text(body_markdown).strip("\n")
    return f"<details><summary>{''.join(parts)}</summary>\n\n{body}\n\n</details>\n"


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the draft
        return f"<{type(value).__name__} object>"
