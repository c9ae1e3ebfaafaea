"""Input-file diagnosis: say exactly what is wrong with a file and what was expected.

Used in two places: the capture stage inspects every input of a failure (within a time budget)
and the draft shows the result; ``scribe inspect`` runs the same checks on demand.  Nothing here
raises on a bad file; the report says what is wrong, in words a person learns from.
"""

from __future__ import annotations

from postmortem_scribe.inputs.cli import cli_inspect, cli_profile
from postmortem_scribe.inputs.collect import PROBLEM_CATEGORY
from postmortem_scribe.inputs.core import inspect_path
from postmortem_scribe.inputs.expected import (
    Expectation,
    expectation_from_config,
    expectation_from_profile,
    expectation_from_schema_file,
)
from postmortem_scribe.inputs.profile import compare_to_profile, profile_path
from postmortem_scribe.inputs.report_text import (
    format_report_text,
    report_to_dict,
    summarize_for_draft,
)

__all__ = [
    "PROBLEM_CATEGORY",
    "Expectation",
    "cli_inspect",
    "cli_profile",
    "compare_to_profile",
    "expectation_from_config",
    "expectation_from_profile",
    "expectation_from_schema_file",
    "format_report_text",
    "inspect_path",
    "profile_path",
    "report_to_dict",
    "summarize_for_draft",
]
