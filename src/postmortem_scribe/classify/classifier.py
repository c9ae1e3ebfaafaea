"""Rule-based classification of a failure into the taxonomy of DESIGN.md.

Rules are data (``rules.toml`` shipped in the package, plus the user's rules from the config),
not code: each names a category, a weight, and matchers over the evidence in a
:class:`~postmortem_scribe.records.FailureRecord`.  See the header of ``rules.toml`` for the
rule shape.

Scoring.  A rule matches when all of its matchers hold.  The matched rules of one category
combine like independent pieces of evidence (noisy-OR: ``1 - prod(1 - weight)``), so two
moderate signals for ``resources`` beat one moderate signal for ``code_bug``.  The confidence
is the winning score minus half the runner-up's, so that two strong, conflicting signals give a
low confidence instead of a confident coin toss.  When a user rule matches, only user rules
decide the category (they are "tried first"); the shipped matches remain as alternatives.
Likewise a matching ``decisive`` rule (evidence that names the cause outright) outranks the
non-decisive ones.

Fallbacks.  No rule matched: an exception with in-app frames is most likely a defect in the
pipeline's own code (``code_bug``, low confidence); anything else is also ``code_bug`` but with
an even lower confidence, and ``low_confidence`` tells the draft to present it as a guess.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..records import CATEGORIES, Classification, Evidence, ExceptionInfo, FailureRecord

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "LOW_CONFIDENCE",
    "Rule",
    "RuleSet",
    "classify",
    "load_rules",
]

LOW_CONFIDENCE = 0.5
"""Below this confidence a classification is flagged ``low_confidence`` (the draft says it is a
guess)."""
FALLBACK_IN_APP = 0.35
FALLBACK_OTHER = 0.2
EVIDENCE_CHARS = 300
INPUT_KINDS = ("missing", "empty", "problems", "error")
KEYS = (
    "id", "category", "weight", "description", "decisive", "exception_types", "message", "log",
    "text", "notes", "state", "frames", "inputs", "unless",
)
_REGEX_KEYS = ("message", "log", "text", "notes", "unless")
_FLAGS = re.IGNORECASE | re.MULTILINE

RULE_SHAPE = (
    "a table with id (string), category (one of: " + ", ".join(CATEGORIES) + "), weight "
    "(number in (0, 1]), and at least one matcher: exception_types (list of names), message / "
    "log / text / notes / unless (regular expressions), state (list of state names), frames "
    "(list of module prefixes), inputs (one of: " + ", ".join(INPUT_KINDS) + ")"
)


@dataclass(frozen=True)
class Rule:
    """One compiled classification rule; all of its given matchers must hold."""

    id: str
    category: str
    weight: float
    exception_types: tuple[str, ...] = ()
    message: re.Pattern[str] | None = None
    log: re.Pattern[str] | None = None
    text: re.Pattern[str] | None = None
    notes: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    state: tuple[str, ...] = ()
    frames: tuple[str, ...] = ()
    inputs: str | None = None
    description: str = ""
    decisive: bool = False
    """When a decisive rule matches, only decisive rules decide the category (the evidence names
    the cause outright, e.g. a URL whose host is "https"); other matches become alternatives."""
    user: bool = False
    """True for rules from the user's config (tried first)."""


@dataclass
class RuleSet:
    """The rules in force: user rules first, then the shipped ones."""

    rules: list[Rule] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Rules that were skipped, and why, said plainly."""

    @property
    def user_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.user]


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _compile_rule(data: Mapping[str, Any], *, where: str, user: bool) -> tuple[Rule | None, str]:
    """A compiled rule, or ``None`` and the reason it was skipped."""
    if not isinstance(data, Mapping):
        return None, f"{where} is not a table; expected {RULE_SHAPE}."
    rid = data.get("id")
    if not isinstance(rid, str) or not rid.strip():
        return None, f"{where} has no 'id' (a string); expected {RULE_SHAPE}."
    where = f"{where} ({rid!r})"
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown:
        return None, (f"{where} has unknown keys {unknown}; the rule is skipped so that a typo "
                      f"cannot widen it. Known keys: {', '.join(KEYS)}.")
    category = data.get("category")
    if category not in CATEGORIES:
        return None, (f"{where} has category {category!r}, which is not in the taxonomy; "
                      f"expected one of: {', '.join(CATEGORIES)}.")
    weight = data.get("weight", 0.8 if user else None)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1:
        return None, f"{where} has weight {weight!r}; expected a number greater than 0, at most 1."
    fields: dict[str, Any] = {}
    for key in _REGEX_KEYS:
        if key not in data:
            continue
        patterns = _as_list(data[key])
        if not patterns:
            return None, f"{where}: {key} should be a regular expression (a string); got {data[key]!r}."
        source = patterns[0] if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
        try:
            fields[key] = re.compile(source, _FLAGS)
        except re.error as exc:
            return None, f"{where}: {key} {source!r} is not a valid regular expression ({exc})."
    for key in ("exception_types", "state", "frames"):
        if key not in data:
            continue
        values = _as_list(data[key])
        if not values:
            return None, f"{where}: {key} should be a list of strings; got {data[key]!r}."
        if key == "state":
            values = [_norm_state(v) for v in values]
        fields[key] = tuple(v.strip() for v in values if v.strip())
    if "inputs" in data:
        if data["inputs"] not in INPUT_KINDS:
            return None, (f"{where}: inputs {data['inputs']!r} is not known; expected one of: "
                          f"{', '.join(INPUT_KINDS)}.")
        fields["inputs"] = data["inputs"]
    if not any(k in fields for k in ("exception_types", "message", "log", "text", "notes",
                                      "state", "frames", "inputs")):
        return None, f"{where} has no matcher, so it would match every failure; expected {RULE_SHAPE}."
    description = data.get("description", "")
    decisive = data.get("decisive", False)
    if not isinstance(decisive, bool):
        return None, f"{where}: decisive should be true or false; got {decisive!r}."
    return Rule(id=rid.strip(), category=category, weight=float(weight),
                description=description if isinstance(description, str) else "",
                decisive=decisive, user=user, **fields), ""


def _compile_all(items: Iterable[Any], *, origin: str, user: bool) -> tuple[list[Rule], list[str]]:
    rules: list[Rule] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        rule, problem = _compile_rule(item, where=f"{origin} rule #{i}", user=user)
        if rule is None:
            problems.append(problem)
            continue
        if rule.id in seen:
            problems.append(f"{origin} rule #{i}: id {rule.id!r} is used twice; the later one is skipped.")
            continue
        seen.add(rule.id)
        rules.append(rule)
    return rules, problems


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    try:
        raw = resources.files("postmortem_scribe.classify").joinpath("rules.toml").read_text("utf-8")
        data = tomllib.loads(raw)
    except Exception as exc:  # a broken install must still classify (as a fallback)
        return (), (f"the shipped rules.toml could not be read ({exc}); only fallbacks are used.",)
    rules, problems = _compile_all(data.get("rules", []), origin="rules.toml", user=False)
    return tuple(rules), tuple(problems)


def load_rules(extra: Sequence[Mapping[str, Any]] = ()) -> RuleSet:
    """The shipped rules plus ``extra`` user rules (same shape, e.g. ``Config.classification_rules``).

    User rules come first and are preferred (see the module documentation).  A bad rule (unknown
    category, invalid regular expression, unknown key, no matcher) is skipped and described in
    :attr:`RuleSet.problems`; this never raises.
    """
    shipped, shipped_problems = _shipped()
    try:
        user, problems = _compile_all(list(extra or ()), origin="config", user=True)
    except Exception as exc:
        user, problems = [], [f"config rules could not be read ({exc}); expected a list of {RULE_SHAPE}."]
    return RuleSet(rules=[*user, *shipped], problems=[*problems, *shipped_problems])


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _norm_state(state: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(state or "").strip())
    return re.sub(r"[\s\-]+", "_", s).lower()


def _base(name: str) -> str:
    return name.rsplit(".", 1)[-1]


# capture names an error line or a cut-off traceback with this placeholder type; it is not a
# class, so it must not match rules for csv.Error & co. by base name.
GENERIC_TYPE = "Error"


def _type_matches(wanted: str, actual: str) -> bool:
    actual = actual[len("builtins."):] if actual.startswith("builtins.") else actual
    if wanted == actual:
        return True
    if actual == GENERIC_TYPE:
        return False
    # A bare name on either side compares base names: a rule for "ParserError" matches
    # "pandas.errors.ParserError", and a rule for "pandas.errors.ParserError" matches a
    # traceback that printed only "ParserError".
    if "." not in wanted or "." not in actual:
        return _base(wanted) == _base(actual)
    return False


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start: end if end != -1 else len(text)].strip()
    return line[:EVIDENCE_CHARS]


def _frame_module(frame: Any) -> str:
    from ..fingerprint.key import frame_module  # local: fingerprint imports nothing from here

    return frame_module(frame)


LOG_CONTEXT = 2
LOG_TAIL = 10


def _telling_lines(log: Any) -> list[str]:
    """The log lines worth classifying: each error line with a little context, and the end.

    A full excerpt is hundreds of INFO lines; running every rule over all of them cost more than
    the rest of a report together, and the evidence is in the error lines anyway.
    """
    lines = [str(x) for x in log.lines]
    keep = set(range(max(0, len(lines) - LOG_TAIL), len(lines)))
    for i in log.error_lines or []:
        keep.update(range(max(0, i - LOG_CONTEXT), min(len(lines), i + LOG_CONTEXT + 1)))
    return [lines[i] for i in sorted(keep)]


@dataclass
class _Facts:
    """The searchable text of one record, joined once."""

    exceptions: list[ExceptionInfo]
    exc_texts: list[str]
    log_text: str
    notes_text: str
    state: str
    record: FailureRecord

    @classmethod
    def of(cls, record: FailureRecord) -> _Facts:
        chain = [e for e in (record.exceptions or []) if e is not None]
        exc_texts = [
            (e.message or "") if e.type == GENERIC_TYPE else f"{e.type or ''}: {e.message or ''}"
            for e in chain
        ]
        log_parts: list[str] = []
        if record.error_text:
            log_parts.append(record.error_text)
        if record.log is not None and record.log.lines:
            log_parts.append("\n".join(_telling_lines(record.log)))
        return cls(
            exceptions=chain,
            exc_texts=exc_texts,
            log_text="\n".join(log_parts),
            notes_text="\n".join(str(n) for n in (record.notes or [])),
            state=_norm_state(record.state or "failed"),
            record=record,
        )


def _search(pattern: re.Pattern[str], texts: Iterable[tuple[str, str]]) -> Evidence | None:
    for source, text in texts:
        if not text:
            continue
        m = pattern.search(text)
        if m:
            return Evidence(rule="", source=source, text=_line_at(text, m.start()))
    return None


def _match(rule: Rule, facts: _Facts) -> Evidence | None:
    """The evidence for ``rule`` if all its matchers hold, else ``None``."""
    found: list[Evidence] = []
    exc_sources = [("exception", t) for t in facts.exc_texts]
    all_sources = [*exc_sources, ("log", facts.log_text), ("state", facts.notes_text)]

    if rule.unless is not None and _search(rule.unless, all_sources):
        return None
    if rule.state and facts.state not in rule.state:
        return None

    if rule.exception_types or rule.frames:
        # Type, message and frames must hold for one and the same exception of the chain.
        hit = None
        for exc, text in zip(facts.exceptions, facts.exc_texts):
            if rule.exception_types and not any(
                _type_matches(w, exc.type or "") for w in rule.exception_types
            ):
                continue
            if rule.frames:
                modules = [_frame_module(f) for f in exc.frames]
                if not any(m == p or m.startswith(p + ".") for m in modules for p in rule.frames):
                    continue
            if rule.message is not None:
                ev = _search(rule.message, [("exception", text)])
                if ev is None:
                    continue
                hit = ev
            else:
                hit = Evidence(rule="*", source="exception", text=_line_at(text, 0))
            break
        if hit is None:
            return None
        found.append(hit)
    elif rule.message is not None:
        ev = _search(rule.message, [*exc_sources, ("log", facts.record.error_text or "")])
        if ev is None:
            return None
        found.append(ev)

    if rule.log is not None:
        ev = _search(rule.log, [("log", facts.log_text)])
        if ev is None:
            return None
        found.append(ev)
    if rule.text is not None:
        ev = _search(rule.text, all_sources)
        if ev is None:
            return None
        found.append(ev)
    if rule.notes is not None:
        ev = _search(rule.notes, [("state", facts.notes_text)])
        if ev is None:
            return None
        found.append(ev)
    if rule.inputs is not None:
        ev = _match_inputs(rule.inputs, facts.record)
        if ev is None:
            return None
        found.append(ev)
    if rule.state:
        found.append(Evidence(rule="*", source="state", text=f"state: {facts.state}"))

    if not found:
        return None
    # The most telling line: a regular-expression hit beats a bare type match beats the state.
    regex_hits = [ev for ev in found if not ev.rule]
    best = regex_hits[0] if regex_hits else found[0]
    best.rule = rule.id
    return best


def _match_inputs(kind: str, record: FailureRecord) -> Evidence | None:
    for report in record.inputs or []:
        path = getattr(report, "path", "?")
        if kind == "missing" and not report.exists:
            return Evidence(rule="", source="input", text=f"{path}: the input file does not exist")
        if kind == "empty" and report.exists and (
            report.size_bytes == 0 or report.row_estimate == 0
        ):
            return Evidence(rule="", source="input", text=f"{path}: the input is empty")
        if kind == "problems" and report.exists and report.problems:
            p = report.problems[0]
            where = f" (line {p.line})" if p.line else ""
            return Evidence(rule="", source="input", text=f"{path}{where}: {p.message}"[:EVIDENCE_CHARS])
        if kind == "error" and report.error:
            return Evidence(rule="", source="input", text=f"{path}: {report.error}"[:EVIDENCE_CHARS])
    return None


# --------------------------------------------------------------------------------------------
# Classifying
# --------------------------------------------------------------------------------------------


def _noisy_or(weights: Iterable[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


def classify(record: FailureRecord, rules: RuleSet | None = None) -> Classification:
    """Category, confidence, evidence and alternatives for one failure record.

    Uses the whole exception chain (the root cause is often the telling one: a
    ``pandas.errors.ParserError`` wrapped in an ``AirflowException``), the error text, the log
    excerpt, the state, the adapter's notes and the input reports.  Never raises.
    """
    try:
        return _classify(record, rules if rules is not None else load_rules())
    except Exception as exc:  # the failure path must go on
        return Classification(
            category="code_bug",
            confidence=0.0,
            evidence=[Evidence(rule="internal", source="state",
                               text=f"classification failed ({type(exc).__name__}: {exc})"[:EVIDENCE_CHARS])],
            low_confidence=True,
        )


def _classify(record: FailureRecord, ruleset: RuleSet) -> Classification:
    facts = _Facts.of(record)
    matches: list[tuple[Rule, Evidence]] = []
    for rule in ruleset.rules:
        ev = _match(rule, facts)
        if ev is not None:
            matches.append((rule, ev))

    if not matches:
        return _fallback(facts)

    user = [(r, e) for r, e in matches if r.user]
    decisive = [(r, e) for r, e in matches if r.decisive]
    deciding = user or decisive or matches
    scores = _scores(deciding)
    all_scores = _scores(matches)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], CATEGORIES.index(kv[0])))
    top, top_score = ranked[0]
    # Once user or decisive rules have decided, the others only lower the confidence a little.
    damp = 0.5 if deciding is matches else 0.25
    runner_up = max((s for c, s in all_scores.items() if c != top), default=0.0)
    confidence = max(0.0, min(1.0, top_score - damp * runner_up))
    evidence = [e for r, e in sorted(deciding, key=lambda m: -m[0].weight) if r.category == top]
    alternatives = sorted(((c, round(s, 3)) for c, s in all_scores.items() if c != top),
                          key=lambda kv: -kv[1])[:3]
    return Classification(
        category=top,
        confidence=round(confidence, 3),
        evidence=_dedupe(evidence),
        low_confidence=confidence < LOW_CONFIDENCE,
        alternatives=alternatives,
    )


def _scores(matches: list[tuple[Rule, Evidence]]) -> dict[str, float]:
    by_cat: dict[str, list[float]] = {}
    for rule, _ in matches:
        by_cat.setdefault(rule.category, []).append(rule.weight)
    return {c: _noisy_or(ws) for c, ws in by_cat.items()}


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    out: list[Evidence] = []
    seen: set[tuple[str, str]] = set()
    for ev in evidence:
        key = (ev.rule, ev.text)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out


def _fallback(facts: _Facts) -> Classification:
    if facts.exceptions:
        final = facts.exceptions[-1]
        in_app = any(f.in_app for e in facts.exceptions for f in e.frames)
        confidence = FALLBACK_IN_APP if in_app else FALLBACK_OTHER
        text = _line_at(f"{final.type}: {final.message or ''}", 0)
        rule = "fallback-in-app-exception" if in_app else "fallback-exception"
        return Classification(
            category="code_bug",
            confidence=confidence,
            evidence=[Evidence(rule=rule, source="exception", text=text)],
            low_confidence=True,
        )
    text = ""
    if facts.log_text:
        lines = [ln for ln in facts.log_text.splitlines() if ln.strip()]
        text = lines[-1].strip()[:EVIDENCE_CHARS] if lines else ""
    return Classification(
        category="code_bug",
        confidence=0.1,
        evidence=[Evidence(rule="fallback-no-exception", source="log" if text else "state",
                           text=text or f"state: {facts.state}")],
        low_confidence=True,
    )
