"""The error-budget engine. Pure: plain values in, frozen dataclasses out, no ORM and
no clock. See DESIGN.md for the formulas; the names here follow it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

HOUR = timedelta(hours=1)


class BudgetStatus(StrEnum):
    HEALTHY = "healthy"
    AT_RISK = "at_risk"
    EXHAUSTED = "exhausted"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class WindowTotals:
    good: float
    valid: float
    hours_with_data: int
    hours_in_window: int


@dataclass(frozen=True)
class Budget:
    target: float
    window: timedelta
    good: float
    valid: float
    sli: float | None
    error_budget: float
    allowed_bad_events: float
    bad_events: float
    bad_events_left: float
    burn_rate: float | None
    error_budget_remaining: float | None
    minutes_left: float | None
    coverage: float
    data_error: bool
    status: BudgetStatus

    @property
    def error_budget_remaining_percent(self) -> float | None:
        if self.error_budget_remaining is None:
            return None
        return self.error_budget_remaining * 100

    @property
    def sli_percent(self) -> float | None:
        return None if self.sli is None else self.sli * 100


def align_to_hour(moment: datetime) -> datetime:
    """The start of the hour containing `moment` (aware datetimes only)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    return moment.replace(minute=0, second=0, microsecond=0)


def window_hours(end: datetime, window: timedelta) -> list[datetime]:
    """The hour starts of the window [end − window, end); `end` must be hour-aligned."""
    if end != align_to_hour(end):
        raise ValueError("window end must be on an hour boundary")
    count = int(window / HOUR)
    start = end - window
    return [start + HOUR * index for index in range(count)]


def burn_rate(*, good: float, valid: float, target: float) -> float | None:
    """(1 − SLI) / (1 − T); None when there were no valid events."""
    if valid <= 0:
        return None
    return (1 - good / valid) / (1 - target)


def compute_budget(
    totals: WindowTotals,
    *,
    target: float,
    window: timedelta,
    at_risk_below: float = 0.25,
) -> Budget:
    if not 0 < target < 1:
        raise ValueError("target must be a fraction strictly between 0 and 1")
    error_budget = 1 - target
    good, valid = totals.good, totals.valid
    coverage = totals.hours_with_data / totals.hours_in_window if totals.hours_in_window else 0.0
    data_error = good > valid
    allowed_bad = error_budget * valid
    bad = valid - good
    if valid <= 0:
        return Budget(
            target=target,
            window=window,
            good=good,
            valid=valid,
            sli=None,
            error_budget=error_budget,
            allowed_bad_events=0.0,
            bad_events=0.0,
            bad_events_left=0.0,
            burn_rate=None,
            error_budget_remaining=None,
            minutes_left=None,
            coverage=coverage,
            data_error=data_error,
            status=BudgetStatus.NO_DATA,
        )
    sli = good / valid
    rate = (1 - sli) / error_budget
    remaining = 1 - rate
    if remaining <= 0:
        status = BudgetStatus.EXHAUSTED
    elif remaining < at_risk_below:
        status = BudgetStatus.AT_RISK
    else:
        status = BudgetStatus.HEALTHY
    return Budget(
        target=target,
        window=window,
        good=good,
        valid=valid,
        sli=sli,
        error_budget=error_budget,
        allowed_bad_events=allowed_bad,
        bad_events=bad,
        bad_events_left=allowed_bad - bad,
        burn_rate=rate,
        error_budget_remaining=remaining,
        minutes_left=window.total_seconds() * (sli - target) / 60,
        coverage=coverage,
        data_error=data_error,
        status=status,
    )


def time_to_exhaustion(
    *, error_budget_remaining: float, window: timedelta, current_burn_rate: float
) -> timedelta | None:
    """remaining × window / burn; None when nothing is burning or nothing is left."""
    if current_burn_rate <= 0 or error_budget_remaining <= 0:
        return None
    if math.isinf(current_burn_rate):
        return timedelta(0)
    return window * (error_budget_remaining / current_burn_rate)


@dataclass(frozen=True)
class HourRow:
    hour: datetime
    good: float
    valid: float


@dataclass(frozen=True)
class BurndownPoint:
    hour: datetime
    error_budget_remaining: float


def budget_burndown(rows: Iterable[HourRow], *, target: float) -> list[BurndownPoint]:
    """Remaining budget at the end of each hour with data, against the budget that the
    whole window's valid events allow; the last point equals the window's remaining."""
    ordered: Sequence[HourRow] = sorted(rows, key=lambda row: row.hour)
    total_valid = sum(row.valid for row in ordered)
    allowed_bad = (1 - target) * total_valid
    if allowed_bad <= 0:
        return []
    points = []
    spent = 0.0
    for row in ordered:
        spent += row.valid - row.good
        points.append(BurndownPoint(row.hour + HOUR, 1 - spent / allowed_bad))
    return points
