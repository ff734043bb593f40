"""How noisy a team's notifications are, and what a draft routing policy would have made
of them. Pure: plain values in, plain values out; no ORM, no clock.

Counting: a notification counts once, on the day (in the team's time zone) it was
first seen; repeats of the same fingerprint only add to its deliveries, which is what
"noisiest fingerprints" ranks by.

Replay: each stored notification's routing inputs are rebuilt into a
`routing.Candidate` and handed to `routing.route`, the function live intake uses, so a
draft that equals the live policy gives the live answer by construction. Two inputs are
not stored and are rebuilt:

- whether it was an error: exact for Alertmanager (never) and Sentry (level error or
  fatal, kept as the severity); for generic JSON it is read back from the default
  policy's decision when that decided (a ticket for a known service means an error),
  and otherwise taken as "not an error" and counted in `ReplayResult.guessed`;
- its first delivery's state and title: the state is "resolved" only if the
  notification was resolved the moment it was first seen; the title is the latest one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from slos.notifications import routing

CLASSES = ("alert", "ticket", "log")
SOURCE_KINDS = ("alertmanager", "sentry", "generic")
NOISIEST = 10
MAX_REPLAY_DAYS = 90


@dataclass(frozen=True)
class Seen:
    """One notification as the noise page sees it."""

    first_seen_at: datetime
    notification_class: str
    source_kind: str
    fingerprint: str
    title: str
    deliveries: int
    source_name: str = ""


@dataclass(frozen=True)
class DayCounts:
    day: date
    counts: Mapping[str, int]

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)


def days_between(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def per_day(
    seen: Iterable[Seen], *, start: date, end: date, time_zone: str, by: str
) -> list[DayCounts]:
    """New notifications per local day, keyed by `by`: "class" or "source_kind". Days
    without any are there, with zeros."""
    zone = ZoneInfo(time_zone)
    tallies: dict[date, Counter[str]] = {day: Counter() for day in days_between(start, end)}
    for item in seen:
        day = item.first_seen_at.astimezone(zone).date()
        if day in tallies:
            key = item.notification_class if by == "class" else item.source_kind
            tallies[day][key] += 1
    return [DayCounts(day=day, counts=dict(counts)) for day, counts in tallies.items()]


@dataclass(frozen=True)
class Fingerprint:
    source_name: str
    fingerprint: str
    title: str
    notification_class: str
    deliveries: int


def noisiest(seen: Iterable[Seen], *, limit: int = NOISIEST) -> list[Fingerprint]:
    """The notifications delivered most often, most first; ties by title, then
    fingerprint, so the order is stable."""
    ranked = sorted(seen, key=lambda item: (-item.deliveries, item.title, item.fingerprint))
    return [
        Fingerprint(
            source_name=item.source_name,
            fingerprint=item.fingerprint,
            title=item.title,
            notification_class=item.notification_class,
            deliveries=item.deliveries,
        )
        for item in ranked[:limit]
    ]


@dataclass(frozen=True)
class WeekAlerts:
    week_start: date
    alerts: int
    target: int

    @property
    def over(self) -> bool:
        return self.alerts > self.target


def alerts_per_week(days: Sequence[DayCounts], *, target: int) -> list[WeekAlerts]:
    """Alerts per week (weeks start on Monday), from per-day class counts, against the
    team's target (Team.alerts_per_week_target)."""
    weeks: dict[date, int] = {}
    for day in days:
        monday = day.day - timedelta(days=day.day.weekday())
        weeks[monday] = weeks.get(monday, 0) + day.get("alert")
    return [WeekAlerts(week_start=monday, alerts=n, target=target) for monday, n in weeks.items()]


@dataclass(frozen=True)
class Segment:
    """A stretch of time under one routing policy, with what it produced."""

    start: datetime
    end: datetime
    counts: Mapping[str, int]
    change: str = ""

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def per_day(self, key: str) -> float:
        return self.counts.get(key, 0) / self.days if self.days > 0 else 0.0


def segments(
    seen: Iterable[Seen],
    *,
    start: datetime,
    end: datetime,
    changes: Sequence[tuple[datetime, str]],
) -> list[Segment]:
    """Split start..end at each policy change inside it; each segment counts the new
    notifications of each class in it. A segment names the change that began it."""
    cuts = sorted((at, summary) for at, summary in changes if start < at < end)
    bounds = [(start, "")] + cuts
    tallies = [Counter[str]() for _bound in bounds]
    for item in seen:
        if not start <= item.first_seen_at <= end:
            continue
        index = 0
        for position, (at, _summary) in enumerate(bounds):
            if item.first_seen_at >= at:
                index = position
        tallies[index][item.notification_class] += 1
    return [
        Segment(
            start=at,
            end=bounds[position + 1][0] if position + 1 < len(bounds) else end,
            counts=dict(tallies[position]),
            change=summary,
        )
        for position, (at, summary) in enumerate(bounds)
    ]


# --- Replay --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRouting:
    """What routing saw of a stored notification, as far as the row keeps it."""

    source_kind: str
    labels: Mapping[str, str]
    title: str
    severity: str
    resolved_when_first_seen: bool
    slo_id: int | None
    service_id: int | None
    notification_class: str
    decided_by_default: bool


def candidate_from_stored(stored: StoredRouting) -> tuple[routing.Candidate, bool]:
    """The candidate live intake built for this notification, and whether its error
    flag had to be guessed (see the module's docstring)."""
    fields = routing.candidate_fields(
        {str(key): str(value) for key, value in stored.labels.items()},
        title=stored.title,
        severity=stored.severity,
        state="resolved" if stored.resolved_when_first_seen else "firing",
    )
    guessed = False
    if stored.source_kind == "sentry":
        is_error = stored.severity.lower() in {"error", "fatal"}
    elif stored.source_kind == "generic":
        is_error, guessed = _generic_error(stored)
    else:
        is_error = False
    candidate = routing.Candidate(
        source_kind=stored.source_kind,
        fields=fields,
        severity=stored.severity,
        is_error=is_error,
        slo_id=stored.slo_id,
        service_id=stored.service_id,
    )
    return candidate, guessed


def _generic_error(stored: StoredRouting) -> tuple[bool, bool]:
    """(is_error, guessed). The flag changes a decision only through the default policy
    for a known service and no SLO burn; there, that policy's own answer tells it."""
    severity = stored.severity.lower()
    slo_burn = stored.slo_id is not None and severity in {"page", "ticket"}
    if stored.service_id is None or slo_burn:
        return False, False  # the flag cannot change any outcome
    if stored.decided_by_default:
        return stored.notification_class == "ticket", False
    return False, True


@dataclass(frozen=True)
class ReplayResult:
    draft: Mapping[str, int]
    live: Mapping[str, int]
    changed: int
    total: int
    guessed: int = 0
    moves: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def difference(self, key: str) -> int:
        return self.draft.get(key, 0) - self.live.get(key, 0)


REPLAY_TIME_LIMIT = 10.0
"""Seconds a whole replay may take: patterns each just under routing's per-match limit,
over thousands of notifications, would otherwise hold the worker for minutes."""


class ReplayTooSlow(Exception):
    """The replay ran past `REPLAY_TIME_LIMIT`; `done` notifications were replayed."""

    def __init__(self, done: int):
        super().__init__(done)
        self.done = done


def replay(
    stored: Iterable[StoredRouting],
    rules: Sequence[routing.Rule],
    *,
    time_limit: float | None = None,
) -> ReplayResult:
    """What the draft rules would have made of these notifications, beside what live
    routing made of them; `moves` counts (live class, draft class) pairs that differ.
    A pattern cut off at routing's time limit counts as no match for the rest of the
    replay, so a slow draft costs one time limit per pattern, not one per notification;
    past `time_limit` seconds in all (REPLAY_TIME_LIMIT), ReplayTooSlow is raised."""
    deadline = time.monotonic() + (REPLAY_TIME_LIMIT if time_limit is None else time_limit)
    cut_off: set[str] = set()
    draft: Counter[str] = Counter()
    live: Counter[str] = Counter()
    moves: Counter[tuple[str, str]] = Counter()
    guessed = total = 0
    for item in stored:
        if time.monotonic() > deadline:
            raise ReplayTooSlow(total)
        candidate, was_guessed = candidate_from_stored(item)
        outcome = str(routing.route(candidate, rules, cut_off=cut_off).outcome)
        draft[outcome] += 1
        live[item.notification_class] += 1
        if outcome != item.notification_class:
            moves[(item.notification_class, outcome)] += 1
        guessed += was_guessed
        total += 1
    return ReplayResult(
        draft=dict(draft),
        live=dict(live),
        changed=sum(moves.values()),
        total=total,
        guessed=guessed,
        moves=dict(moves),
    )


# --- The draft policy as text ----------------------------------------------------------
#
# Rules are separated by blank lines and tried in the order written. Each starts with
# `class: name`; the lines below are conditions exactly as on the routing page
# (`field = value`, `field ~ pattern`), plus `@source = <kind>` and `@slo = <SLO>`.
#
#     log: staging is noise
#     env = staging
#
#     ticket: backups
#     @source = generic
#     title ~ .*backup.*

SOURCE_MARK = "@source"
SLO_MARK = "@slo"


def policy_as_text(rules: Iterable[routing.Rule], *, slo_names: Mapping[int, str]) -> str:
    """The live policy in the draft format, so a draft starts as the live policy."""
    blocks = []
    for rule in rules:
        lines = [f"{rule.outcome}: {rule.name}"]
        if rule.source_kind:
            lines.append(f"{SOURCE_MARK} = {rule.source_kind}")
        if rule.slo_id is not None:
            lines.append(f"{SLO_MARK} = {slo_names.get(rule.slo_id, rule.slo_id)}")
        if rule.conditions:
            lines.append(routing.conditions_as_text(rule.conditions))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def rules_from_text(text: str, *, slos: Mapping[str, int]) -> list[routing.Rule]:
    """Parse a draft; `slos` maps each way of naming an SLO (id, OpenSLO name, name;
    casefolded) to its id. Raises ValueError naming the line at fault."""
    lines = text.splitlines()
    blocks: list[list[int]] = []
    current: list[int] = []
    for index, line in enumerate(lines):
        if line.strip():
            current.append(index)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [_rule_from_block(lines, block, slos=slos) for block in blocks]


def _rule_from_block(
    lines: list[str], block: list[int], *, slos: Mapping[str, int]
) -> routing.Rule:
    head_index, *rest = block
    head = lines[head_index].strip()
    outcome_text, colon, name = head.partition(":")
    outcome_text, name = outcome_text.strip().lower(), name.strip()
    if not colon or outcome_text not in CLASSES or not name:
        raise ValueError(
            _("Line %(line)d: start a rule with alert: name, ticket: name or log: name.")
            % {"line": head_index + 1}
        )
    source_kind = ""
    slo_id = None
    kept = [""] * len(lines)
    for index in rest:
        line = lines[index].strip()
        mark, _equals, value = (part.strip() for part in line.partition("="))
        if mark == SOURCE_MARK:
            if value not in SOURCE_KINDS:
                raise ValueError(
                    _("Line %(line)d: the source kind is one of %(kinds)s.")
                    % {"line": index + 1, "kinds": ", ".join(SOURCE_KINDS)}
                )
            source_kind = value
        elif mark == SLO_MARK:
            slo_id = slos.get(value.casefold())
            if slo_id is None:
                raise ValueError(
                    _("Line %(line)d: this team has no SLO “%(slo)s”.")
                    % {"line": index + 1, "slo": value}
                )
        elif line.startswith("@"):
            raise ValueError(
                _("Line %(line)d: write @source = kind or @slo = SLO.") % {"line": index + 1}
            )
        else:
            kept[index] = lines[index]
    # Blank lines keep conditions_from_text's line numbers those of the whole draft.
    conditions = routing.conditions_from_text("\n".join(kept))
    return routing.Rule(
        name=name[:120],
        outcome=routing.Outcome(outcome_text),
        conditions=conditions,
        source_kind=source_kind,
        slo_id=slo_id,
    )
