"""One SLO's budget as a plain, JSON-ready dict: the single shape shared by the JSON API
(`/api/v1/slos`) and `manage.py slo_report --json`, so the two always agree.

Units: `target` is a percentage (99.9), as it is typed in the portal; every other ratio
(`sli`, `error_budget_remaining`, `coverage`) is a fraction (0.9995, 0.4, 1.0). Times are
UTC ISO 8601 strings ending in `Z`. A value that cannot be known without data is null."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from slos.models import SLO, WindowKind
from slos.registry.selectors import SLOWithBudget

UNENCODED_PLUS = re.compile(r"(?<=\d) (\d{2}(?::?\d{2})?)$")
# Far enough from datetime's limits that a window (a quarter at most) still fits.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def parse_at(value: str) -> datetime:
    """An ISO 8601 time with a zone (`2026-11-02T09:00Z`, `…T18:00+09:00`), in UTC, so a
    window ends on a UTC hour whatever offset was given (+05:30 included).

    A time without a zone is refused rather than guessed: the portal's users span time
    zones, and a report for the wrong hour looks as plausible as the right one. A `+`
    left unencoded in a URL arrives as a space; it is put back."""
    text = UNENCODED_PLUS.sub(r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("“%(value)s” is not an ISO 8601 time; write it like 2026-11-02T09:00Z.")
            % {"value": value}
        ) from None
    if moment.tzinfo is None:
        raise ValueError(
            _(
                "“%(value)s” has no time zone; add one, like 2026-11-02T09:00Z "
                "or 2026-11-02T18:00+09:00."
            )
            % {"value": value}
        )
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValueError(_("“%(value)s” is outside the years 1970 to 9998.") % {"value": value})
    return moment


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def window_label(slo: SLO) -> str:
    """`28d rolling` or `month calendar`: length first, then kind, as in OpenSLO."""
    if slo.window_kind == WindowKind.CALENDAR:
        return f"{slo.calendar_period} calendar"
    return f"{slo.window_days}d rolling"


def slo_budget_report(row: SLOWithBudget) -> dict[str, object]:
    slo, budget, window = row.slo, row.budget, row.window
    calendar = slo.window_kind == WindowKind.CALENDAR
    return {
        "id": slo.pk,
        "name": slo.name,
        "service": slo.service.name,
        "team": slo.service.team.slug,
        "target": float(slo.target),
        "window": window_label(slo),
        "window_kind": str(slo.window_kind),
        "window_days": None if calendar else slo.window_days,
        "window_period": str(slo.calendar_period) if calendar else None,
        "window_start": utc_iso(window.start),
        "window_end": utc_iso(window.end),
        "good": budget.good,
        "valid": budget.valid,
        "sli": budget.sli,
        "error_budget_remaining": budget.error_budget_remaining,
        "bad_events_left": budget.bad_events_left,
        "burn_rate": budget.burn_rate,
        "burn_rate_1d": budget.burn_rate_1d,
        "burn_rate_7d": budget.burn_rate_7d,
        "coverage": budget.coverage,
        "status": str(budget.status),
        "minutes_left": budget.minutes_left,
        "time_to_exhaustion_seconds": (
            None if budget.time_to_exhaustion is None else budget.time_to_exhaustion.total_seconds()
        ),
        "data_error": budget.data_error,
    }
