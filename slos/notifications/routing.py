"""A team's routing policy: which notifications are alerts, tickets or logs. Pure: plain
values in, a Decision out; no ORM, no clock.

Rules are tried in order; the first whose source kind, SLO and conditions all hold
decides, and the decision names it. When none matches, the default policy decides:

- an SLO burn of severity "page" is an alert (a human must act now);
- an SLO burn of severity "ticket" is a ticket (act within days, at the retro);
- an error tied to a known service is a ticket;
- everything else is a log (kept, nobody needs to look)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from django.utils.translation import gettext as _


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

    def holds(self, fields: Mapping[str, str]) -> bool:
        actual = fields.get(self.field)
        if actual is None:
            return False
        if self.op == Op.EQUALS:
            return actual == self.value
        pattern = compiled(self.value)
        return pattern is not None and pattern.fullmatch(actual) is not None


@dataclass(frozen=True)
class Rule:
    name: str
    outcome: Outcome
    conditions: tuple[Condition, ...] = ()
    source_kind: str = ""
    slo_id: int | None = None
    rule_id: int | None = None

    def matches(self, candidate: Candidate) -> bool:
        if self.source_kind and self.source_kind != candidate.source_kind:
            return False
        if self.slo_id is not None and self.slo_id != candidate.slo_id:
            return False
        return all(condition.holds(candidate.fields) for condition in self.conditions)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    rule_id: int | None = None
    rule_name: str = DEFAULT_POLICY


@lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def regex_problem(pattern: str) -> str | None:
    """Why a rule's regular expression cannot be used, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


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
        if op == Op.REGEX and (problem := regex_problem(str(item["value"]))):
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


def route(candidate: Candidate, rules: Iterable[Rule]) -> Decision:
    """The first matching rule decides; without one, the default policy does."""
    for rule in rules:
        if rule.matches(candidate):
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
