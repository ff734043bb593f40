"""Since when an SLO has been burning. Pure: plain values in, a frozen dataclass out, no
ORM and no clock.

An SLO burns when a row of the burn table fires (slos.budget.burning_alert): both its
long and its short window burn at or above the row's threshold. Walking back hour by
hour from the last complete hour, the same row's test is repeated with the windows
ending one hour earlier each time, until it no longer holds: the spell began with the
hour after that, the first hour at whose end the row fired. The walk is bounded (a week
by default): an SLO that fired at every step has burned for longer than that."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from slos.budget import BURN_ALERTS, HOUR, BurnAlert, align_to_hour, burn_rate, hourly_span

# How far back the walk goes; a spell older than this is "more than a week".
LOOK_BACK = timedelta(days=7)


@dataclass(frozen=True)
class BurnSpell:
    """The current spell of a burn. `since` is the start of its first hour: the hour at
    whose end the alert's windows first both burned at or above its threshold. With
    `longer`, the SLO burned at every hour of the look-back: the spell began before
    `since`, which is then the look-back's start."""

    since: datetime
    longer: bool = False


def first_hour_read(*, end: datetime, look_back: timedelta = LOOK_BACK) -> datetime:
    """The first hour whose row a walk back from `end` may read, whichever row fires:
    the burn table's longest window (three days), ending a look-back before `end`."""
    return end - look_back - max(alert.long_window_span for alert in BURN_ALERTS)


def burning_since(
    hours: Mapping[datetime, tuple[float, float]],
    *,
    end: datetime,
    target: float,
    alert: BurnAlert,
    window: timedelta,
    look_back: timedelta = LOOK_BACK,
) -> BurnSpell | None:
    """Since when `alert` (the burn-table row firing now) has fired without a break, for
    an SLO whose target is `target` (a fraction) and whose window is `window` long.

    `hours` maps the start of each hour with data to its (good, valid) counts (events,
    or timeslices for a Timeslices SLO); a missing hour is no data, as in the budget
    (an excluded maintenance hour is left out by the caller). `end` is the end of the
    last complete hour, as the budget reads it. None when the row does not fire at
    `end`: then nothing burns by it now."""
    if end != align_to_hour(end):
        raise ValueError("end must be on an hour boundary")
    threshold = float(alert.budget_fraction) * (window / alert.long_window_span)
    long_hours = int(alert.long_window_span / HOUR)
    short_hours = int(hourly_span(alert.short_window) / HOUR)
    steps = int(look_back / HOUR)
    # Prefix sums over every hour the walk reads, oldest first: the window ending at
    # step k (k hours before `end`) is a difference of two of them.
    first = end - HOUR * (steps + long_hours)
    count = steps + long_hours
    good_sums, valid_sums = [0.0], [0.0]
    for index in range(count):
        good, valid = hours.get(first + HOUR * index, (0.0, 0.0))
        good_sums.append(good_sums[-1] + good)
        valid_sums.append(valid_sums[-1] + valid)

    def burns(hours_back: int, span: int) -> bool:
        stop = count - hours_back
        start = stop - span
        rate = burn_rate(
            good=good_sums[stop] - good_sums[start],
            valid=valid_sums[stop] - valid_sums[start],
            target=target,
        )
        return rate is not None and rate >= threshold

    def fires(hours_back: int) -> bool:
        return burns(hours_back, long_hours) and burns(hours_back, short_hours)

    if not fires(0):
        return None
    for hours_back in range(1, steps + 1):
        if not fires(hours_back):
            # It fired first at the end of the hour after this step's windows.
            return BurnSpell(since=end - HOUR * hours_back)
    return BurnSpell(since=end - look_back, longer=True)
