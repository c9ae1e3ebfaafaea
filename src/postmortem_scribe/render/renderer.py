"""Render a failure into a GitHub issue draft: title, Markdown body, labels.

Every value a template prints is made inert by default (``finalize`` runs
:func:`~postmortem_scribe.render.markdown_safe.inline` on it): captured text cannot mention
people, reference issues, inject HTML or break the layout.  Only the ``code``, ``details`` and
``md`` filters produce Markdown structure, and they make their own content safe.  So a user's
template override cannot forget to escape.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from ..capture.frames import PLACEHOLDER_FILENAME
from ..config import Config
from ..publish.base import RECURRENCE_END, RECURRENCE_START
from ..publish.marker import incident_marker
from ..records import Correlation, Draft, FailureRecord, Route
from ..taxonomy import MEANINGS, title_case
from . import markdown_safe as ms

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TITLE_LIMIT = 256
BODY_LIMIT = 65536
# GitHub counts characters in ways it does not document; keep a margin under the hard limit.
BODY_BUDGET = BODY_LIMIT - 512
COMMENT_BUDGET = BODY_LIMIT - 512


class Safe(str):
    """Text that is already valid, inert Markdown produced by our own filters."""


@dataclass
class Shrink:
    """How much of the bulky sections a rendering keeps; later levels keep less."""

    log_lines: int
    frames: int
    problems: int
    text_chars: int


SHRINK_LEVELS = [
    Shrink(log_lines=400, frames=60, problems=20, text_chars=4000),
    Shrink(log_lines=120, frames=30, problems=10, text_chars=2000),
    Shrink(log_lines=40, frames=12, problems=5, text_chars=800),
    Shrink(log_lines=0, frames=0, problems=3, text_chars=300),
]


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Safe):
        return value
    return ms.inline(str(value))


def _code(text: Any, info: str = "", limit: int | None = None) -> Safe:
    return Safe(ms.code_block("" if text is None else str(text), info, max_len=limit))


def code_span(value: Any) -> str:
    """Captured text as one inline code span: nothing inside a code span is active Markdown."""
    text = " ".join(ms.visible_controls(str(value or "")).split())
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _details(body: Any, summary: Any) -> Safe:
    return Safe(ms.details(str(summary), str(body)))


def _md(value: Any) -> Safe:
    """Mark template-author text (never captured text) as Markdown."""
    return Safe(str(value))


_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _urlsafe(value: Any) -> Safe:
    """A link target we built (run URL, issue URL): http(s) only, no characters that end it."""
    url = str(value or "")
    if not url.lower().startswith(("http://", "https://")):
        return Safe("#")
    return Safe(quote(url, safe=":/?#[]@!$&'*+,;=%~-._"))


def _mention(login: Any) -> Safe:
    """Leads and stakeholders come from the config, so mentioning them is intended."""
    text = str(login or "").lstrip("@")
    return Safe("@" + text) if _LOGIN.match(text) else Safe(ms.inline(text))


def packaged_templates_dir() -> Path:
    """Templates shipped inside the wheel; from a source checkout, the top-level ``templates/``."""
    shipped = resources.files("postmortem_scribe") / "templates"
    if shipped.is_dir():
        return Path(str(shipped))
    return Path(__file__).resolve().parents[3] / "templates"


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.FileSystemLoader(str(packaged_templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters["code"] = _code
    env.filters["details"] = _details
    env.filters["md"] = _md
    env.filters["urlsafe"] = _urlsafe
    env.filters["mention"] = _mention
    env.filters["inline"] = lambda v: Safe(ms.inline(str(v)))
    env.filters["code_span"] = lambda v: Safe(code_span(v))
    env.filters["category_title"] = title_case
    return env


@functools.lru_cache(maxsize=1)
def action_items() -> dict[str, dict[str, list[str]]]:
    text = (resources.files("postmortem_scribe.render") / "actions.toml").read_text("utf-8")
    return tomllib.loads(text)


def render_title(record: FailureRecord, *, prefix: str = "Post-mortem draft") -> str:
    """``Post-mortem draft: sales_daily.load_csv failed: ParserError: Expected 4 fields …``."""
    where = record.pipeline + (f".{record.task}" if record.task else "")
    exc = record.final_exception
    if exc is not None:
        root = record.exceptions[0]
        shown = root if root.type != exc.type and _is_wrapper(exc.type) else exc
        what = f"{_short_type(shown.type)}: {shown.message}".strip().rstrip(":")
    elif record.error_text:
        what = record.error_text.strip().splitlines()[-1]
    else:
        what = f"state {record.state}"
    text = f"{prefix}: {where} failed: {what}"
    return ms.title(text, TITLE_LIMIT)


def _short_type(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1]


def _is_wrapper(type_name: str) -> bool:
    # Orchestrators wrap the real error; the title should name what actually went wrong.
    return _short_type(type_name) in {"AirflowException", "TaskFailure", "FailedRun", "RuntimeError"}


def _view(record: FailureRecord, correlation: Correlation, route: Route, config: Config,
          shrink: Shrink) -> dict[str, Any]:
    exc = record.final_exception
    cls = record.classification
    category = cls.category if cls else "code_bug"
    items = action_items().get(category, {})
    first_input = next((i.path for i in record.inputs), "the input file")
    fill = {
        "pipeline": code_span(record.pipeline), "task": code_span(record.task or record.pipeline),
        "input": code_span(first_input) if record.inputs else first_input,
        "exception": code_span(_short_type(exc.type)) if exc else "the error",
    }

    def filled(template: str) -> Safe:
        # The template text is ours (Markdown); the values are captured, so each is a code span.
        try:
            return Safe(template.format(**fill))
        except (KeyError, IndexError, ValueError):
            return Safe(template)

    log_lines: list[str] = []
    if record.log and shrink.log_lines:
        log_lines = record.log.lines[-shrink.log_lines:]
    frames_cap = shrink.frames
    exceptions = []
    for info in record.exceptions:
        frames = info.frames
        if frames_cap and len(frames) > frames_cap:
            frames = frames[: frames_cap // 3] + frames[-(frames_cap - frames_cap // 3):]
        exceptions.append({"info": info, "frames": frames if frames_cap else [],
                           "cut": len(info.frames) - (len(frames) if frames_cap else 0)})
    return {
        "r": record,
        "exc": exc,
        "root": record.exceptions[0] if record.exceptions else None,
        "exceptions": exceptions,
        "traceback_text": _traceback_text(record, shrink) if shrink.frames else "",
        "cls": cls,
        "evidence": _unique_evidence(cls.evidence if cls else []),
        "category": category,
        "meaning": MEANINGS.get(category, ""),
        "correlation": correlation,
        "route": route,
        "config": config,
        "marker": Safe(incident_marker(correlation.incident)),
        "recurrence_start": Safe(RECURRENCE_START),
        "recurrence_end": Safe(RECURRENCE_END),
        "recurrence_line": recurrence_text(correlation.occurrences, correlation.first_seen,
                                           record.detected_at),
        "log_lines": log_lines,
        "log_cut": (len(record.log.lines) - len(log_lines)) if record.log else 0,
        "shrink": shrink,
        "factors": [filled(f) for f in items.get("factors", [])],
        "actions": [filled(a) for a in items.get("actions", [])],
        "date": (record.detected_at or "")[:10],
        "input_lines": {i.path: _input_lines(i, shrink) for i in record.inputs},
    }


def _unique_evidence(evidence: list[Any]) -> list[Any]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for ev in evidence:
        if (ev.source, ev.text) not in seen:
            seen.add((ev.source, ev.text))
            unique.append(ev)
    return unique


def _traceback_text(record: FailureRecord, shrink: Shrink) -> str:
    """The chain printed the way Python prints it, so people recognise it."""
    parts: list[str] = []
    for i, info in enumerate(record.exceptions):
        if i:
            # ``relation`` of an entry says how it links to the next one (the raised one is last).
            parts.append(
                "\nThe above exception was the direct cause of the following exception:\n"
                if record.exceptions[i - 1].relation == "cause"
                else "\nDuring handling of the above exception, another exception occurred:\n"
            )
        if info.frames:
            parts.append("Traceback (most recent call last):")
            frames = info.frames
            cap = shrink.frames
            shown = frames if len(frames) <= cap else frames[: cap // 3] + frames[-(cap - cap // 3):]
            for n, frame in enumerate(shown):
                if len(frames) > cap and n == cap // 3:
                    parts.append(f"  ... {len(frames) - cap} frames not shown ...")
                if frame.filename == PLACEHOLDER_FILENAME:  # capture cut recursion or a long stack
                    parts.append(f"  {frame.line or '...'}")
                    continue
                parts.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.function}')
                if frame.line:
                    parts.append(f"    {frame.line}")
        message = info.message[: shrink.text_chars]
        parts.append(f"{info.type}: {message}" if message else info.type)
    return "\n".join(parts)


_EXCERPT_LINE = re.compile(r"^(Line \d+): (.*)$", re.S)


def _input_lines(report: Any, shrink: Shrink) -> list[Safe]:
    """The inputs stage's plain-text summary, made inert; row excerpts shown as code."""
    try:
        from ..inputs import summarize_for_draft

        lines = list(summarize_for_draft(report))
    except Exception:  # noqa: BLE001 - a summary bug must not lose the draft
        lines = [p.message for p in report.problems]
    out = []
    for line in lines[: shrink.problems + 12]:
        excerpt = _EXCERPT_LINE.match(line)
        if excerpt:
            out.append(Safe(f"{excerpt.group(1)}: {code_span(excerpt.group(2))}"))
        else:
            out.append(Safe(ms.inline(line)))
    return out


def recurrence_text(occurrences: int, first_seen: str | None, last_seen: str | None) -> str:
    if occurrences <= 1:
        return f"First occurrence of this failure ({first_seen or last_seen or 'now'})."
    return (f"Seen {occurrences} times: first {first_seen or '?'}, "
            f"last {last_seen or '?'}.")


def render_draft(record: FailureRecord, correlation: Correlation, route: Route,
                 config: Config) -> Draft:
    """The issue for a new incident or a regression, within GitHub's limits."""
    env = environment(config.templates_dir)
    template = env.get_template("postmortem.md.j2")
    body = ""
    for shrink in SHRINK_LEVELS:
        body = template.render(**_view(record, correlation, route, config, shrink))
        if ms.utf16_len(body) <= BODY_BUDGET:
            break
    body = _fit(body, BODY_BUDGET, correlation.incident)
    return Draft(
        title=render_title(record),
        body=body,
        labels=draft_labels(record, correlation, route, config),
        assignees=[route.lead] if route.lead else [],
    )


def render_comment(record: FailureRecord, correlation: Correlation, route: Route,
                   config: Config) -> str:
    env = environment(config.templates_dir)
    body = env.get_template("comment.md.j2").render(
        **_view(record, correlation, route, config, SHRINK_LEVELS[2]))
    return _fit(body, COMMENT_BUDGET, correlation.incident)


def render_digest(incident: str, occurrences: int, entries: list[Any], config: Config, *,
                  flaky: bool = False) -> str:
    env = environment(config.templates_dir)
    body = env.get_template("digest.md.j2").render(
        incident=incident, occurrences=occurrences, entries=entries[-50:], flaky=flaky,
        hidden=max(0, len(entries) - 50), count=len(entries),
        first=entries[0].at if entries else None, last=entries[-1].at if entries else None,
    )
    return _fit(body, COMMENT_BUDGET, incident)


def draft_labels(record: FailureRecord, correlation: Correlation, route: Route,
                 config: Config) -> list[str]:
    labels = list(config.labels)
    if record.classification:
        labels.append(record.classification.category)
    if correlation.kind == "regression":
        labels.append("regression")
    if correlation.similar:
        labels.append("possible-repeat")
    if correlation.flaky:
        labels.append("flaky")
    labels.extend(route.labels)
    seen: set[str] = set()
    out = []
    for label in labels:
        label = label[:50]
        if label and label not in seen:
            seen.add(label)
            out.append(label)
    return out


def _fit(body: str, limit: int, incident: str) -> str:
    """Last resort: cut the body to the limit but keep the marker and say what was cut."""
    if ms.utf16_len(body) <= limit:
        return body
    marker = incident_marker(incident)
    note = "\n\n… (the rest of this draft was cut to fit GitHub's size limit; `scribe show " + incident + "` has it all)\n"
    kept = ms.truncate_utf16(body, limit - ms.utf16_len(note) - ms.utf16_len(marker) - 40, marker="")
    # Cut at a line end: a cut inside a code span would leave its text (a mention) active.
    kept = kept[: kept.rfind("\n") + 1] or kept
    kept = _close_open_fence(kept)
    if marker not in kept:
        kept = marker + "\n" + kept
    return kept + note


def _close_open_fence(text: str) -> str:
    """If the cut landed inside a fenced block, close it so the note is not swallowed."""
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```") or stripped.startswith("~~~"):
                fence = stripped[: len(stripped) - len(stripped.lstrip(stripped[0]))]
        elif stripped.startswith(fence) and stripped.strip(fence[0]) == "":
            fence = None
    if "<details>" in text and text.count("<details>") > text.count("</details>"):
        text += ("\n" + fence if fence else "") + "\n</details>"
        return text
    return text + ("\n" + fence if fence else "")
