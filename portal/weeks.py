"""Weeks as a team's calendar sees them. Pure: no ORM, no clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def week_monday(moment: datetime, time_zone: str) -> date:
    """The Monday of the week containing `moment`, as the team's calendar sees it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    local_day = moment.astimezone(ZoneInfo(time_zone)).date()
    return local_day - timedelta(days=local_day.weekday())


def recent_mondays(this_monday: date, count: int) -> list[date]:
    """The Mondays of the last `count` weeks, oldest first, ending with `this_monday`."""
    return [this_monday - timedelta(weeks=back) for back in range(count - 1, -1, -1)]
