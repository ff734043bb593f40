"""How numbers and durations read on the portal's pages and in its messages.

Pure functions: plain values in, text out, no ORM. Every app formats through here,
and `portal/templatetags/portal_format.py` exposes the same functions as filters.

The fixed-decimal kinds are Django's `floatformat` (half up, the active locale's
separators), as the templates used it. Where two pages print the same quantity
differently, a parameter keeps both for now.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from django.template.defaultfilters import floatformat
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


def target_text(percent: Number | None, *, decimals: int | None = None) -> str:
    """A target in percent. As people write it by default (99.9, not 99.90000); with
    `decimals`, whole targets bare and the others at that many places (99.900), as
    the SLO list and the retro print it."""
    if percent is None:
        return ""
    if decimals is not None:
        return _fixed(percent, decimals, whole_bare=True)
    return format(Decimal(percent).normalize(), "f")


def sli_text(percent: Number | None) -> str:
    """An SLI in percent, to three places: 99.953."""
    return _fixed(percent, 3)


def budget_percent_text(percent: Number | None, decimals: int = 1) -> str:
    """A share of the error budget (left or spent) in percent, to one place: 42.5.
    Can be negative: -120.0 once the budget is overspent."""
    return _fixed(percent, decimals)


def budget_level_text(percent: Number | None) -> str:
    """A budget policy level in percent: whole levels bare (25), others to two places."""
    return _fixed(percent, 2, whole_bare=True)


def coverage_text(fraction: Number | None) -> str:
    """The share of hours with data, as a fraction to two places: 0.98."""
    return _fixed(fraction, 2)


def coverage_percent_text(percent: Number | None) -> str:
    """The share of hours with data in percent: whole bare (100), others to one place."""
    return _fixed(percent, 1, whole_bare=True)


def factor_text(factor: Number | None) -> str:
    """A multiplier such as a burn rate, to two places: 1.25 (the page adds the ×)."""
    return _fixed(factor, 2)


def score_text(score: Number | None) -> str:
    """A backlog score, to two places: 12.50."""
    return _fixed(score, 2)


def count_text(value: float) -> str:
    """A count as the sender wrote it: 990 for 990.0, 1204.5; no exponent below 10¹⁵."""
    return f"{value:.15g}"


def whole_count_text(value: Number | None, *, grouped: bool = True) -> str:
    """A count of events or minutes rounded to a whole number, with the locale's
    thousands separator unless `grouped` is False: 1,204 (or 1204)."""
    return _fixed(value, 0, grouped=grouped)


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
