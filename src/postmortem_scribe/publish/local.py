"""The embedded default publisher: drafts as Markdown files, one per incident.

With no GitHub repository configured, the whole flow still works offline: the issue is written
as it would be opened to ``<output dir>/<incident>.md`` and repeats are appended as comments.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..render.markdown_safe import inline
from .base import Delivery, OutboxMessage, replace_recurrence
from .marker import find_messages, message_marker

COMMENT_RULE = "\n\n---\n\n"


class LocalPublisher:
    """Writes issues and comments as Markdown files in ``output_dir``."""

    name = "local"

    def __init__(self, output_dir: str | os.PathLike[str]) -> None:
        self.output_dir = Path(output_dir)

    def path_for(self, incident: str) -> Path:
        return self.output_dir / f"{incident}.md"

    def deliver(self, message: OutboxMessage, *, deadline: float | None = None) -> Delivery:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            path = self.path_for(message.incident)
            if message.kind == "open":
                self._write(path, self._issue_text(message))
            else:
                self._append(path, message)
            return Delivery(status="sent", issue_url=str(path.resolve()))
        except OSError as exc:
            return Delivery(
                status="retry",
                error=f"could not write the draft under {self.output_dir} ({exc.strerror or exc}); "
                "expected a writable directory (SCRIBE_OUTPUT_DIR)",
            )

    def _issue_text(self, message: OutboxMessage) -> str:
        meta = [f"Labels: {', '.join(message.labels) or '(none)'}"]
        if message.assignees:
            meta.append(f"Assignees: {', '.join(message.assignees)}")
        # Titles are plain text on GitHub but a heading here: make them inert Markdown.
        title = inline(message.title or message.incident)
        comment = " | ".join(meta).replace("--", "- -")
        header = f"# {title}\n\n<!-- {comment} -->\n\n"
        return header + message.body.rstrip() + "\n"

    def _append(self, path: Path, message: OutboxMessage) -> None:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if message.kind == "update" and not message.body.strip():
            self._write(path, _add_labels(text, message.labels))  # labels only: the header line
            return
        if message.id in find_messages(text):
            return  # delivered before a crash; the marker makes the retry a no-op
        if message.recurrence:
            text = replace_recurrence(text, message.recurrence)
        title = {"comment": "Comment", "reopen": "Reopened", "update": "Update"}.get(message.kind, message.kind)
        when = message.created_at or ""
        text = (
            text.rstrip()
            + COMMENT_RULE
            + f"### {title} · {when}\n{message_marker(message.id)}\n\n"
            + message.body.rstrip()
            + "\n"
        )
        self._write(path, text)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        # Write-then-rename so a reader (or a crash) never sees half a draft.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def _add_labels(text: str, labels: list[str]) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("<!-- Labels: "):
            inner = line[len("<!-- "):-len(" -->")]
            parts = inner.split(" | ")
            current = [x for x in parts[0][len("Labels: "):].split(", ") if x and x != "(none)"]
            parts[0] = "Labels: " + ", ".join(dict.fromkeys([*current, *labels]))
            lines[i] = "<!-- " + " | ".join(parts) + " -->"
            break
    return "\n".join(lines)
