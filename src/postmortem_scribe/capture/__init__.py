"""The capture stage: what an on-call engineer would collect by hand, as plain records.

- :func:`exception_chain` - a live exception, its chain and frames (in-app frames marked);
- :func:`exceptions_from_text` - the same from text: an Airflow 3 JSON log, a printed
  traceback, a state message or an error line (:func:`parse_traceback`,
  :func:`parse_error_detail` do one kind each);
- :func:`excerpt_from_file` / :func:`excerpt_from_lines` - a bounded log excerpt, read by seeking
  from the end;
- :func:`environment_versions` - Python, platform and the versions of the packages that matter.

Every function here accepts bad input and never raises; what it could not do it says in its
result (``LogExcerpt.problem``) or returns an empty result.
"""

from __future__ import annotations

from .airflow_log import json_line_to_text, parse_error_detail
from .environment import environment_versions
from .exceptions import exception_chain
from .frames import is_in_app, module_from_filename
from .logs import excerpt_from_file, excerpt_from_lines, read_tail_text
from .markers import ERROR_MARKERS, is_error_line
from .text import exceptions_from_text
from .traceback_text import parse_traceback

__all__ = [
    "ERROR_MARKERS",
    "environment_versions",
    "exception_chain",
    "exceptions_from_text",
    "excerpt_from_file",
    "excerpt_from_lines",
    "is_error_line",
    "is_in_app",
    "json_line_to_text",
    "module_from_filename",
    "parse_error_detail",
    "parse_traceback",
    "read_tail_text",
]
