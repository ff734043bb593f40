"""The error-budget engine. Pure: plain values in, frozen dataclasses out, no ORM and
no clock. See DESIGN.md for the formulas; the names here follow it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)

# An SLO's target, as a percentage, both ends allowed (Decimal: the float 99.999 is just
# below 99.999, so a float bound refused 99.999 itself). Below 50 it is no objective;
# five nines (26 seconds a month) is as close to 100% as hourly counts can tell, and 100%
# leaves no error budget at all. The model, its forms, the what-if slider, OpenSLO and
# the API take these bounds from here.
TARGET_PERCENT_MIN = Decimal("50")
TARGET_PERCENT_MAX = Decimal("99.999")

# The most events one SLO may count in one hour (a trillion: 280 million a second).
# Doubles count whole events exactly up to 2**53 (about 9e15), so a quarter's hours
# (2,208) of such counts still sum exactly; a count near the float's limit (1e308) would
# instead overflow a window's sum and fail every page that shows the team's budgets.
MAX_EVENTS_PER_HOUR = 10**12


@dataclass(frozen=True)
class BurnAlert:
    """One row of the SRE Workbook's multi-window, multi-burn-rate table (for a 30-day
    window): fire when `budget_fraction` of the budget is spent within `long_window`,
    and is still being spent over `short_window`."""

    severity: str  # "page" (an alert) or "ticket"
    budget_fraction: Fraction
    long_window: str  # Prometheus durations: 5m, 1h, 1d
    short_window: str

    @property
    def long_window_span(self) -> timedelta:
        return duration_span(self.long_window)


# The one table of burn thresholds: the generated alerting rules and the charts' lines
# both read it.
BURN_ALERTS = (
    BurnAlert("page", Fraction(2, 100), "1h", "5m"),
    BurnAlert("page", Fraction(5, 100), "6h", "30m"),
    BurnAlert("ticket", Fraction(10, 100), "1d", "2h"),
    BurnAlert("ticket", Fraction(10, 100), "3d", "6h"),
)
# The slow-burn ticket: 10% of the budget spent in one day.
DAY_TICKET = BURN_ALERTS[2]

_DURATION_UNITS = {"m": timedelta(minutes=1), "h": HOUR, "d": timedelta(days=1)}


def duration_span(duration: str) -> timedelta:
    """A Prometheus duration of one unit (5m, 6h, 3d) as a timedelta."""
    return int(duration[:-1]) * _DURATION_UNITS[duration[-1]]


def burn_threshold(alert: BurnAlert, *, window: timedelta) -> float:
    """The burn rate at which `alert` fires for an SLO whose window is `window` long:
    its share of the budget, spent within its long window."""
    return float(alert.budget_fraction) * (window / alert.long_window_span)


def hourly_span(duration: str) -> timedelta:
    """A burn window as hourly rows can tell it: one under an hour (5m, 30m) is read as
    the last complete hour."""
    return max(duration_span(duration), HOUR)


# Every window the burn table reads, as hourly rows tell it: 1h, 2h, 6h, 1d and 3d.
BURN_SPANS = tuple(
    sorted(
        {hourly_span(alert.long_window) for alert in BURN_ALERTS}
        | {hourly_span(alert.short_window) for alert in BURN_ALERTS}
    )
)


def burning_alert(
    burn_rates: dict[timedelta, float | None], *, window: timedelta
) -> BurnAlert | None:
    """The first row of the burn table (the same rule the generated alerting rules
    follow) whose long and short windows both burn at or above its threshold for an SLO
    whose window is `window` long: the SLO is burning, and this says how fast. None when
    no row fires, or the rates are not known."""
    for alert, long_span, short_span, threshold in _burn_thresholds(window):
        long, short = burn_rates.get(long_span), burn_rates.get(short_span)
        if long is not None and short is not None and long >= threshold and short >= threshold:
            return alert
    return None


@lru_cache(maxsize=64)
def _burn_thresholds(
    window: timedelta,
) -> tuple[tuple[BurnAlert, timedelta, timedelta, float], ...]:
    """Each row of the burn table with its windows as hourly rows tell them and its
    threshold for a window this long: a list of 1,000 SLOs asks 1,000 times, for a few
    window lengths."""
    return tuple(
        (
            alert,
            alert.long_window_span,
            hourly_span(alert.short_window),
            burn_threshold(alert, window=window),
        )
        for alert in BURN_ALERTS
    )


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
    burn_rate_1d: float | None = None
    burn_rate_7d: float | None = None
    time_to_exhaustion: timedelta | None = None
    excluded_hours: int = 0
    # The burn table's row that fires now (burning_alert), None when nothing burns fast
    # enough to alert on.
    burning: BurnAlert | None = None

    @property
    def error_budget_remaining_percent(self) -> float | None:
        if self.error_budget_remaining is None:
            return None
        return self.error_budget_remaining * 100

    @property
    def error_budget_spent_percent(self) -> float | None:
        """How much of the budget is spent: past 100 once it is exhausted, where "−31.6%
        left" reads oddly."""
        if self.error_budget_remaining is None:
            return None
        return (1 - self.error_budget_remaining) * 100

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


def _burn(totals: WindowTotals | None, target: float) -> float | None:
    if totals is None:
        return None
    return burn_rate(good=totals.good, valid=totals.valid, target=target)


def compute_budget(
    totals: WindowTotals,
    *,
    target: float,
    window: timedelta,
    at_risk_below: float = 0.25,
    last_day: WindowTotals | None = None,
    last_week: WindowTotals | None = None,
    recent: dict[timedelta, WindowTotals] | None = None,
    excluded_hours: int = 0,
    data_error: bool = False,
    burn_rates: dict[timedelta, float | None] | None = None,
) -> Budget:
    """The budget over a window whose whole length is `window` (for a calendar window,
    the whole period: the budget is for the period, events are not extrapolated).
    `recent` holds the sums of the burn table's windows (BURN_SPANS); a caller that
    has their burn rates already (`burn_rate`) may give `burn_rates` instead."""
    if not 0 < target < 1:
        raise ValueError("target must be a fraction strictly between 0 and 1")
    error_budget = 1 - target
    good, valid = totals.good, totals.valid
    coverage = totals.hours_with_data / totals.hours_in_window if totals.hours_in_window else 0.0
    data_error = data_error or good > valid
    burn_1d = _burn(last_day, target)
    burn_7d = _burn(last_week, target)
    if burn_rates is None:
        burn_rates = {
            span: (1 - found.good / found.valid) / error_budget if found.valid > 0 else None
            for span, found in (recent or {}).items()
        }
    burning = burning_alert(burn_rates, window=window)
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
            burn_rate_1d=burn_1d,
            burn_rate_7d=burn_7d,
            excluded_hours=excluded_hours,
            burning=burning,
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
        burn_rate_1d=burn_1d,
        burn_rate_7d=burn_7d,
        time_to_exhaustion=time_to_exhaustion(
            error_budget_remaining=remaining,
            window=window,
            current_burn_rate=burn_1d if burn_1d is not None else rate,
        ),
        excluded_hours=excluded_hours,
        burning=burning,
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


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True)
class Window:
    """Hours [start, end) that hold the window's data so far; `length` is the whole
    window (for a calendar window, the whole period, which may not have ended yet)."""

    start: datetime
    end: datetime
    length: timedelta

    @property
    def hours(self) -> int:
        return max(0, int((self.end - self.start) / HOUR))


def rolling_window(at: datetime, days: int) -> Window:
    end = align_to_hour(at)
    return Window(start=end - timedelta(days=days), end=end, length=timedelta(days=days))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _period_bounds(local: datetime, period: Period) -> tuple[datetime, datetime]:
    """The local start and end of the day, week (Monday to Monday), month or quarter that
    holds `local`."""
    zone = local.tzinfo
    if period in (Period.DAY, Period.WEEK):
        day = local.date() - timedelta(days=local.weekday() if period == Period.WEEK else 0)
        after = day + timedelta(days=7 if period == Period.WEEK else 1)
        return (
            datetime(day.year, day.month, day.day, tzinfo=zone),
            datetime(after.year, after.month, after.day, tzinfo=zone),
        )
    months = 3 if period == Period.QUARTER else 1
    first_month = local.month if months == 1 else 3 * ((local.month - 1) // 3) + 1
    end_year, end_month = _add_months(local.year, first_month, months)
    return (
        datetime(local.year, first_month, 1, tzinfo=zone),
        datetime(end_year, end_month, 1, tzinfo=zone),
    )


def calendar_window(at: datetime, period: Period | str, time_zone: str) -> Window:
    """The current day, week (from Monday), month or quarter in the team's time zone.
    Boundaries are taken to the UTC hour that contains them (zones with half-hour offsets
    start half an hour early); a period that spans a daylight-saving change is an hour
    longer or shorter, as the team's clock says."""
    local = at.astimezone(ZoneInfo(time_zone))
    start_local, end_local = _period_bounds(local, Period(period))
    start = align_to_hour(start_local.astimezone(UTC))
    period_end = align_to_hour(end_local.astimezone(UTC))
    return Window(start=start, end=min(align_to_hour(at), period_end), length=period_end - start)


def excluded_hours(window: Window, intervals: Iterable[tuple[datetime, datetime]]) -> set[datetime]:
    """Hour starts in the window that overlap any excluded interval [start, end)."""
    hours: set[datetime] = set()
    for start, end in intervals:
        hour = max(align_to_hour(start), window.start)
        while hour < min(end, window.end):
            hours.add(hour)
            hour += HOUR
    return hours


@dataclass(frozen=True)
class MonthTotals:
    month: date
    good: float
    valid: float


@dataclass(frozen=True)
class MonthCompliance:
    month: date
    good: float
    valid: float
    sli: float | None
    met: bool | None
    budget_spent: float | None


def monthly_compliance(months: Iterable[MonthTotals], *, target: float) -> list[MonthCompliance]:
    """Per calendar month: the SLI, whether the target was met and the budget spent
    (1.0 = the whole month's budget; over 1 means the SLO was missed)."""
    result = []
    for item in months:
        if item.valid <= 0:
            result.append(MonthCompliance(item.month, item.good, item.valid, None, None, None))
            continue
        sli = item.good / item.valid
        result.append(
            MonthCompliance(
                month=item.month,
                good=item.good,
                valid=item.valid,
                sli=sli,
                met=sli >= target,
                budget_spent=(1 - sli) / (1 - target),
            )
        )
    return result
