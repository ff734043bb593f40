"""Reserved reliability time, the hours logged against it, what fits this week, and the
share of the team's time that is toil. Pure: plain values in and out, no ORM, no clock."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from toil.scoring import effort_points

# The SRE books' cap: at most half of an engineer's time on toil.
TOIL_CAP = Decimal("0.5")
WEEKS_SHOWN = 8  # the last 8 weeks beside this one
HOURS_PER_POINT_DEFAULT = Decimal(4)
# A single entry is at most a day; a week of a team at most 10,000 hours (200 people).
ENTRY_HOURS_MAX = Decimal(24)
TEAM_HOURS_MAX = Decimal(10_000)


class ReservedMode:
    HOURS = "hours"
    SHARE = "share"


def reserved_hours(
    *, mode: str, hours: Decimal, share_percent: Decimal, team_hours: Decimal
) -> Decimal:
    """The reliability hours a team reserves each week: a number of hours, or a share of
    the team's hours."""
    if mode == ReservedMode.SHARE:
        return (team_hours * share_percent / 100).quantize(Decimal("0.1"))
    return hours


def size_hours(size: str, hours_per_point: Decimal) -> Decimal:
    """The hours an item of `size` is expected to take."""
    return effort_points(size) * hours_per_point


@dataclass(frozen=True)
class Fit:
    """Working down the ranking: the items that fit the hours left, and the first that
    does not (where the line is drawn)."""

    fitting: list[Hashable]
    cut_at: Hashable | None
    hours_planned: Decimal
    hours_left: Decimal


def fits_this_week(ranked: Sequence[tuple[Hashable, Decimal]], hours_left: Decimal) -> Fit:
    """`ranked` is (key, hours) in ranking order. The ranking is worked down in order and
    stops at the first item that does not fit: a smaller item further down does not jump
    the queue."""
    fitting: list[Hashable] = []
    planned = Decimal(0)
    left = max(hours_left, Decimal(0))
    for key, hours in ranked:
        if planned + hours > left:
            return Fit(fitting, key, planned, left)
        fitting.append(key)
        planned += hours
    return Fit(fitting, None, planned, left)


@dataclass(frozen=True)
class LoggedHours:
    """One work-log entry, as the sums need it."""

    on: date
    hours: Decimal
    toil: bool
    on_backlog: bool


@dataclass(frozen=True)
class WeekSums:
    monday: date
    backlog_hours: Decimal  # logged on backlog items: what the reserved time is for
    toil_hours: Decimal
    all_hours: Decimal

    @property
    def toil_share(self) -> Decimal | None:
        """The share of the logged time that was toil; None for a week with nothing logged."""
        if not self.all_hours:
            return None
        return self.toil_hours / self.all_hours

    @property
    def over_toil_cap(self) -> bool:
        share = self.toil_share
        return share is not None and share > TOIL_CAP


def week_sums(entries: Iterable[LoggedHours], mondays: Sequence[date]) -> list[WeekSums]:
    """The hours of each week starting on one of `mondays`; entries outside them are
    ignored."""
    totals = {monday: [Decimal(0), Decimal(0), Decimal(0)] for monday in mondays}
    for entry in entries:
        monday = entry.on - timedelta(days=entry.on.weekday())
        week = totals.get(monday)
        if week is None:
            continue
        if entry.on_backlog:
            week[0] += entry.hours
        if entry.toil:
            week[1] += entry.hours
        week[2] += entry.hours
    return [WeekSums(monday, *totals[monday]) for monday in mondays]
