"""How numbers, durations and times read on the portal's pages and in its messages.

Pure functions: plain values in, text out, no ORM. Every app formats through here,
and `portal/templatetags/portal_format.py` exposes the same functions as filters.
One rule per kind, the same on every page, in every message and in both languages:

    target        as many decimals as the target has, never padded   99, 99.9, 99.95
    SLI           percent, three places                              99.953
    budget        percent left or spent, one place                   42.5, -120.0
    coverage      percent of hours with data, one place; 100.0 only  97.5, 100.0
                  when no hour is missing
    count         whole, thousands grouped                           14,284
    hours         of work, at most two places, never padded          7.5, 0.25
    share         of people (survey answers), whole percent           57, 100
    share change  percentage points between two shares, signed      +14, −10, 0
    duration      the two largest units                              3 days 4 hours
    time          the team's zone, DATETIME_FORMAT, zone labelled    2 Nov 2026 18:30 JST

The fixed-decimal kinds are Django's `floatformat` (half up, the active locale's
separators). Dates and times use the named formats of `portal/formats/`, never a
format string spelled out, so each language orders them its own way.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

Number = int | float | Decimal


def _fixed(
    value: Number | None,
    decimals: int,
    *,
    whole_bare: bool = False,
    grouped: bool = False,
    localized: bool = True,
) -> str:
    """`value` rounded half up to `decimals` places ("" for None), by Django's own
    floatformat. With `whole_bare`, a whole number has no decimals at all (99 → "99",
    99.9 → "99.900" at 3 places)."""
    argument = f"{'-' if whole_bare else ''}{decimals}{'g' if grouped else ''}"
    return str(floatformat(value, argument + ("" if localized else "u")))


def percent_text(fraction: float | None) -> str:
    """A fraction as a percentage with two significant digits below 1% (0.0002 →
    "0.02"), at most two decimals above, and never in scientific notation."""
    if fraction is None:
        return ""
    value = abs(fraction) * 100
    sign = "-" if fraction < 0 else ""
    if value == 0:
        return "0"
    decimals = 2 if value >= 1 else min(10, 1 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}"
    return sign + (text.rstrip("0").rstrip(".") if "." in text else text)


def _decimal(value: Number) -> Decimal | None:
    """`value` as the decimal it reads as (99.9 → Decimal("99.9"), not the binary
    float's 99.90000000000000568…); None when it is not a finite number."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _unpadded(value: Number | None, most: int, *, grouped: bool = False) -> str:
    """`value` with as many decimals as it has, at most `most` (rounded half up),
    trailing zeros dropped: 99.900 → "99.9", 100.000 → "100"."""
    if value is None:
        return ""
    number = _decimal(value)
    if number is None:
        return _fixed(value, 0, grouped=grouped)
    try:
        number = number.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP).normalize()
    except InvalidOperation:  # more digits than a decimal holds: no fraction worth showing
        return _fixed(value, 0, grouped=grouped)
    decimals = max(0, -int(number.as_tuple().exponent))
    return _fixed(number, decimals, grouped=grouped)


def target_text(percent: Number | None) -> str:
    """A target in percent, as people write it: as many decimals as it has, never
    padded (99, 99.9, 99.95, 99.999), on every page and in every message."""
    return _unpadded(percent, 10)


def sli_text(percent: Number | None) -> str:
    """An SLI in percent, to three places: 99.953."""
    return _fixed(percent, 3)


def budget_percent_text(percent: Number | None) -> str:
    """A share of the error budget (left or spent) in percent, to one place: 42.5.
    Can be negative: -120.0 once the budget is overspent."""
    return _fixed(percent, 1)


def budget_level_text(percent: Number | None) -> str:
    """A budget policy level in percent: a threshold someone chose, so written as a
    target is (25, 12.5)."""
    return _unpadded(percent, 10)


def coverage_text(fraction: Number | None) -> str:
    """The share of hours with data in percent, to one place: 0.975 → "97.5",
    100/672 → "14.9". "100.0" means no hour is missing: a window short of it reads
    99.9 at most (2015/2016 → "99.9", not "100.0")."""
    if fraction is None:
        return ""
    number = _decimal(fraction)
    if number is None:
        return _fixed(fraction, 1)
    percent = (number * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if percent >= 100 and number < 1:
        percent = Decimal("99.9")
    return _fixed(percent, 1)


def factor_text(factor: Number | None) -> str:
    """A multiplier such as a burn rate, to two places: 1.25 (the page adds the ×)."""
    return _fixed(factor, 2)


def score_text(score: Number | None) -> str:
    """A backlog score, to two places: 12.50."""
    return _fixed(score, 2)


def count_text(value: float) -> str:
    """A count as the sender wrote it: 990 for 990.0, 1204.5; no exponent below 10¹⁵."""
    return f"{value:.15g}"


def whole_count_text(value: Number | None) -> str:
    """A count of events or minutes rounded to a whole number, with the locale's
    thousands separator: 1,204 (Japanese groups the same way)."""
    return _fixed(value, 0, grouped=True)


def share_text(fraction: Number | None) -> str:
    """A share of the people who answered, in whole percent: 4/7 → "57". Whole, as a
    handful of people make no finer share."""
    return "" if fraction is None else _fixed(float(fraction) * 100, 0, localized=False)


def share_change_text(change: Number | None) -> str:
    """The change between two shares, in signed percentage points: "+14", "−10", "0"."""
    if change is None:
        return ""
    points = share_text(abs(change))
    if points == "0":
        return "0"
    return ("+" if change > 0 else "\u2212") + points


def hours_text(hours: Number | None) -> str:
    """Hours of work, at most two places and never padded, thousands grouped as
    counts are: 8, 7.5, 0.25, 1,234.5."""
    return _unpadded(hours, 2, grouped=True)


def duration_text(span: timedelta | None) -> str:
    """The two largest units of a duration: "3 days 4 hours", "5 hours 10 minutes"."""
    if span is None:
        return ""
    minutes = max(0, round(span.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        ngettext("%(count)d day", "%(count)d days", days) % {"count": days} if days else "",
        ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours} if hours else "",
        ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
        if minutes and not days
        else "",
    ]
    return " ".join([part for part in parts if part][:2]) or _("less than a minute")


def seconds_text(span: timedelta | None) -> str:
    """A short duration in seconds, to one place: 12.3 (the page adds the unit)."""
    return "" if span is None else _fixed(span.total_seconds(), 1)


def days_text(days: Number | None) -> str:
    """A number of days, to one place: 6.5."""
    return _fixed(days, 1)


def per_day_text(rate: Number | None) -> str:
    """A rate per day, to one place: 3.0."""
    return _fixed(rate, 1)


def attribute_number_text(value: Number | None, decimals: int) -> str:
    """A number for an HTML attribute (a <meter>'s value): never localized, so always
    a dot before the decimals."""
    return _fixed(value, decimals, localized=False)


def zone_of(time_zone: str | None) -> ZoneInfo:
    """The named zone, or the site's (settings.TIME_ZONE) when there is none or the
    name is unknown: a page never fails over a zone."""
    try:
        return ZoneInfo(time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def zone_label(moment: datetime) -> str:
    """The abbreviation of an aware moment's zone at that moment: JST, CET, CEST, UTC;
    "UTC+04" where the zone has no letters for it."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[:1] in "+-" else name


def _local(moment: datetime, time_zone: str | None) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone_of(time_zone))


def time_text(moment: datetime | None, time_zone: str | None) -> str:
    """A moment in the team's zone by the language's DATETIME_FORMAT, labelled with
    the zone: "2 Nov 2026 18:30 JST", "2026年11月2日 18:30 JST". Without a zone, the
    site's (UTC), still labelled."""
    if moment is None:
        return ""
    local = _local(moment, time_zone)
    return f"{date_format(local, 'DATETIME_FORMAT')} {zone_label(local)}"


def time_span_text(start: datetime | None, end: datetime | None, time_zone: str | None) -> str:
    """From one moment to another in the team's zone, the day written once when both
    fall on it: "2 Nov 2026 18:30–20:30 JST", else "2 Nov 2026 22:00 – 3 Nov 2026 02:00
    JST"; the zone once, after the end, unless the two differ (a change of summer time)."""
    if start is None or end is None:
        return time_text(start or end, time_zone)
    first, last = _local(start, time_zone), _local(end, time_zone)
    if zone_label(first) != zone_label(last):
        return f"{time_text(start, time_zone)} – {time_text(end, time_zone)}"
    if first.date() == last.date():
        until = date_format(last, "TIME_FORMAT")
        return f"{date_format(first, 'DATETIME_FORMAT')}–{until} {zone_label(last)}"
    return (
        f"{date_format(first, 'DATETIME_FORMAT')} – "
        f"{date_format(last, 'DATETIME_FORMAT')} {zone_label(last)}"
    )


def day_text(day: datetime | date | None, time_zone: str | None = None) -> str:
    """A day by the language's DATE_FORMAT: "2 Nov 2026", "2026年11月2日". A moment
    is first put in the team's zone, so its day is the team's."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = _local(day, time_zone)
    return date_format(day, "DATE_FORMAT")
