"""A team's routing policy: which notifications are alerts, tickets or logs. Pure: plain
values in, a Decision out; no ORM, no clock.

Rules are tried in order; the first whose source kind, SLO and conditions all hold
decides, and the decision names it. When none matches, the default policy decides:

- an SLO burn of severity "page" is an alert (a human must act now);
- an SLO burn of severity "ticket" is a ticket (act within days, at the retro);
- an error tied to a known service is a ticket;
- everything else is a log (kept, nobody needs to look).

Regular expressions are people's input, run on senders' input, so every match has a time
limit (`REGEX_TIME_LIMIT`): a match cut off counts as no match and is logged, and a
pattern that is slow on the probe inputs is refused when a rule or a draft is written
(`regex_problem`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

# Why `regex` and not `re` or RE2: `re` has no time limit, and a pattern such as
# `(.|.|.)*Z` backtracks for minutes on a 40-character title. RE2 (through a binding)
# runs in linear time but refuses backreferences and lookarounds and differs in details,
# so rules people already saved would stop compiling or change meaning. `regex` in its
# VERSION0 mode keeps Python's syntax and meaning and stops a match after `timeout=`.
import regex
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

REGEX_TIME_LIMIT = 0.1
"""Seconds one rule's regular expression may spend: on one value at intake or in a
replay, and on all the probe inputs together when it is written. A plain pattern needs
microseconds on a title and about a millisecond for all the probes; one that needs the
limit is backtracking through more ways than it will ever finish."""

REGEX_PROBE_LENGTH = 256
"""How long a probe input's run of one character is: about as long as a title."""

_PROBE_ALPHABET = 16
_PROBE_ENDINGS = "!~§¤"


class Outcome(StrEnum):
    ALERT = "alert"
    TICKET = "ticket"
    LOG = "log"


class Op(StrEnum):
    EQUALS = "equals"
    REGEX = "regex"


DEFAULT_POLICY = "default"


@dataclass(frozen=True)
class Candidate:
    """What the policy sees of a notification. `fields` holds its labels (Alertmanager),
    tags (Sentry) or labels (generic), plus the parsed fields (title, severity, …)."""

    source_kind: str
    fields: Mapping[str, str]
    severity: str = ""
    is_error: bool = False
    slo_id: int | None = None
    service_id: int | None = None


def candidate_fields(
    labels: Mapping[str, str], *, title: str, severity: str, state: str
) -> dict[str, str]:
    """A notification's labels plus its parsed fields, as rules see them: live intake and
    the noise page's replay both build a candidate's fields here."""
    fields = dict(labels)
    fields.setdefault("title", title)
    fields.setdefault("severity", severity)
    fields.setdefault("state", state)
    return fields


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: str

    def holds(self, fields: Mapping[str, str], cut_off: set[str] | None = None) -> bool:
        """Whether the field's value equals the value or fully matches the pattern.
        Raises RegexCutOff when the pattern runs past `REGEX_TIME_LIMIT`, and adds it to
        `cut_off`; a pattern already in `cut_off` does not match, without being run."""
        actual = fields.get(self.field)
        if actual is None:
            return False
        if self.op == Op.EQUALS:
            return actual == self.value
        if cut_off is not None and self.value in cut_off:
            return False
        pattern = compiled(self.value)
        if pattern is None:
            return False
        try:
            return pattern.fullmatch(actual, timeout=REGEX_TIME_LIMIT) is not None
        except TimeoutError:
            if cut_off is not None:
                cut_off.add(self.value)
            raise RegexCutOff(self) from None


class RegexCutOff(Exception):
    """A condition's pattern ran past `REGEX_TIME_LIMIT` on a value."""

    def __init__(self, condition: Condition):
        super().__init__(condition.value)
        self.condition = condition


@dataclass(frozen=True)
class Rule:
    name: str
    outcome: Outcome
    conditions: tuple[Condition, ...] = ()
    source_kind: str = ""
    slo_id: int | None = None
    rule_id: int | None = None

    def matches(self, candidate: Candidate, cut_off: set[str] | None = None) -> bool:
        """Whether the rule decides this candidate. A regular expression cut off at
        `REGEX_TIME_LIMIT` counts as no match (the rule does not decide; later rules or
        the default policy do), and a warning names the rule."""
        if self.source_kind and self.source_kind != candidate.source_kind:
            return False
        if self.slo_id is not None and self.slo_id != candidate.slo_id:
            return False
        try:
            return all(condition.holds(candidate.fields, cut_off) for condition in self.conditions)
        except RegexCutOff as slow:
            logger.warning(
                "Routing rule %s (%r): the pattern %r on field %r was cut off after %s s "
                "and counts as no match.",
                self.rule_id,
                self.name,
                slow.condition.value,
                slow.condition.field,
                REGEX_TIME_LIMIT,
            )
            return False


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    rule_id: int | None = None
    rule_name: str = DEFAULT_POLICY


@lru_cache(maxsize=512)
def compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern, regex.VERSION0)
    except regex.error:
        return None


def regex_syntax_problem(pattern: str) -> str | None:
    """Why a rule's regular expression does not compile, or None."""
    try:
        regex.compile(pattern, regex.VERSION0)
    except regex.error as exc:
        return str(exc)
    return None


def regex_problem(pattern: str) -> str | None:
    """Why a rule's regular expression cannot be used, or None: it does not compile, or
    it cannot answer all the probe inputs (`regex_probes`) within `REGEX_TIME_LIMIT`.
    Such a pattern would be cut off on values of that kind anyway; a slow pattern that
    no probe reveals is still cut off at intake and in a replay."""
    if problem := regex_syntax_problem(pattern):
        return problem
    if regex_too_slow(pattern):
        return _(
            "it takes too long to match (more than %(seconds)s s on values of about "
            "%(length)d characters), so it could hold up intake. Avoid repeats of "
            "overlapping choices or nested repeats, such as (a|aa)+ or (.|.)*."
        ) % {"seconds": REGEX_TIME_LIMIT, "length": REGEX_PROBE_LENGTH}
    return None


def regex_too_slow(pattern: str) -> bool:
    """Whether the pattern runs past `REGEX_TIME_LIMIT` on its probe inputs, all of them
    sharing the one limit."""
    pattern_compiled = compiled(pattern)
    if pattern_compiled is None:
        return False
    deadline = time.monotonic() + REGEX_TIME_LIMIT
    for probe in regex_probes(pattern):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        try:
            pattern_compiled.fullmatch(probe, timeout=remaining)
        except TimeoutError:
            return True
    return False


def regex_probes(pattern: str) -> list[str]:
    """The inputs a new pattern is tried on, of the kind that makes backtracking explode.
    For each character the pattern names (its first `_PROBE_ALPHABET` distinct ones) and
    for a letter, a digit and a space: a run of `REGEX_PROBE_LENGTH` of it, then either a
    character the pattern does not name, or every one of those characters and then that
    one; plus all those characters in turn, then that one. The unexpected last character
    makes a full match fail only at the end, after every way of splitting the run."""
    named = dict.fromkeys(char for char in pattern if char.isprintable() and char != "\\")
    alphabet = list(dict.fromkeys([*list(named)[:_PROBE_ALPHABET], "a", "0", " "]))
    ending = next((char for char in _PROBE_ENDINGS if char not in alphabet), "\n")
    everything = "".join(alphabet) + ending
    probes = []
    for char in alphabet:
        run = char * REGEX_PROBE_LENGTH
        probes += [run + ending, run + everything]
    probes.append((everything * REGEX_PROBE_LENGTH)[:REGEX_PROBE_LENGTH] + ending)
    return probes


def conditions_from_json(raw: object) -> tuple[Condition, ...]:
    """Conditions as stored on a RoutingRule; raises ValueError on a malformed list."""
    if not isinstance(raw, list):
        raise ValueError(_("Conditions must be a list."))
    conditions = []
    for item in raw:
        if not isinstance(item, dict) or not {"field", "op", "value"} <= item.keys():
            raise ValueError(_('Each condition needs "field", "op" and "value".'))
        try:
            op = Op(item["op"])
        except ValueError:
            raise ValueError(_('"op" must be "equals" or "regex".')) from None
        if op == Op.REGEX and (problem := regex_syntax_problem(str(item["value"]))):
            raise ValueError(_("Bad regular expression: %(problem)s") % {"problem": problem})
        conditions.append(Condition(field=str(item["field"]), op=op, value=str(item["value"])))
    return tuple(conditions)


def conditions_from_text(text: str) -> tuple[Condition, ...]:
    """Conditions as people type them, one a line: `field = value` (equals) or
    `field ~ pattern` (a regular expression the whole value must match)."""
    conditions = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        equals, tilde = line.find("="), line.find("~")
        marks = [index for index in (equals, tilde) if index > 0]
        if not marks:
            raise ValueError(
                _("Line %(line)d: write field = value or field ~ pattern.") % {"line": number}
            )
        at = min(marks)
        op = Op.EQUALS if at == equals else Op.REGEX
        name, value = line[:at].strip(), line[at + 1 :].strip()
        if op == Op.REGEX and (problem := regex_problem(value)):
            raise ValueError(
                _("Line %(line)d: bad regular expression: %(problem)s")
                % {"line": number, "problem": problem}
            )
        conditions.append(Condition(field=name, op=op, value=value))
    return tuple(conditions)


def conditions_as_text(conditions: Iterable[Condition]) -> str:
    marks = {Op.EQUALS: "=", Op.REGEX: "~"}
    return "\n".join(f"{c.field} {marks[c.op]} {c.value}" for c in conditions)


def route(
    candidate: Candidate, rules: Iterable[Rule], *, cut_off: set[str] | None = None
) -> Decision:
    """The first matching rule decides; without one, the default policy does.

    A rule whose regular expression runs past `REGEX_TIME_LIMIT` does not match (and is
    logged). `cut_off` collects such patterns: pass one set for a whole delivery or a
    whole replay, and a pattern cut off once counts as no match for the rest of it
    without being run again, so a slow pattern costs one time limit, not one per
    notification."""
    if cut_off is None:
        cut_off = set()
    for rule in rules:
        if rule.matches(candidate, cut_off):
            return Decision(
                outcome=rule.outcome,
                reason=_("Rule “%(rule)s” matched.") % {"rule": rule.name},
                rule_id=rule.rule_id,
                rule_name=rule.name,
            )
    return default_decision(candidate)


def default_decision(candidate: Candidate) -> Decision:
    severity = candidate.severity.lower()
    if candidate.slo_id is not None and severity == "page":
        return Decision(
            Outcome.ALERT,
            _("Default policy: a page-severity burn of an SLO's error budget is an alert."),
        )
    if candidate.slo_id is not None and severity == "ticket":
        return Decision(
            Outcome.TICKET,
            _("Default policy: a ticket-severity burn of an SLO's error budget is a ticket."),
        )
    if candidate.is_error and candidate.service_id is not None:
        return Decision(
            Outcome.TICKET, _("Default policy: an error in a known service is a ticket.")
        )
    if candidate.slo_id is None and severity in {"page", "ticket"}:
        reason = _("Default policy: not tied to a known SLO, so it is a log.")
    elif candidate.is_error:
        reason = _("Default policy: an error tied to no known service is a log.")
    else:
        reason = _("Default policy: no rule matched and it is no SLO burn, so it is a log.")
    return Decision(Outcome.LOG, reason)
