"""Reads: SLOs with their budgets, computed from sums of hourly rows.

Every budget is a sum of rows: one query lists the SLOs, one finds the maintenance
exclusions, one aggregates the rows of every SLO at once. The number of queries does
not depend on the number of SLOs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from slos.budget import (
    Budget,
    HourRow,
    MonthCompliance,
    MonthTotals,
    Window,
    WindowTotals,
    align_to_hour,
    calendar_window,
    compute_budget,
    excluded_hours,
    monthly_compliance,
    rolling_window,
)
from slos.models import SLO, Annotation, HourlyBucket, WindowKind

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class SLOWithBudget:
    slo: SLO
    budget: Budget
    window: Window


def slo_window(slo: SLO, *, at: datetime) -> Window:
    """The SLO's window as of `at`, ending at the last complete hour."""
    if slo.window_kind == WindowKind.CALENDAR:
        return calendar_window(at, slo.calendar_period, slo.service.team.time_zone)
    return rolling_window(at, slo.window_days)


def exclusion_intervals(
    slos: Iterable[SLO], *, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Excluded maintenance intervals overlapping [start, end), per SLO id: those on the
    SLO itself, on its service, or on its whole team. One query."""
    slos = list(slos)
    annotations = Annotation.objects.filter(
        Q(slo__in=slos)
        | Q(slo__isnull=True, service__in={slo.service_id for slo in slos})
        | Q(slo__isnull=True, service__isnull=True, team__in={slo.service.team_id for slo in slos}),
        excluded=True,
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("slo_id", "service_id", "team_id", "starts_at", "ends_at")
    by_slo: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    annotations = list(annotations)
    for slo in slos:
        for slo_id, service_id, team_id, starts_at, ends_at in annotations:
            if (
                slo_id == slo.pk
                or (slo_id is None and service_id == slo.service_id)
                or (slo_id is None and service_id is None and team_id == slo.service.team_id)
            ):
                by_slo[slo.pk].append((starts_at, ends_at))
    return by_slo


def _sums(prefix: str, condition: Q | None) -> dict:
    def agg(field: str):
        return Sum(field, filter=condition) if condition is not None else Sum(field)

    return {
        f"{prefix}_good": agg("good"),
        f"{prefix}_valid": agg("valid"),
        f"{prefix}_good_slices": agg("good_slices"),
        f"{prefix}_total_slices": agg("total_slices"),
        f"{prefix}_hours": Count("id", filter=condition),
    }


def _totals(slo: SLO, row: dict, prefix: str, hours_in_window: int) -> WindowTotals:
    if slo.uses_timeslices:
        good, valid = row.get(f"{prefix}_good_slices"), row.get(f"{prefix}_total_slices")
    else:
        good, valid = row.get(f"{prefix}_good"), row.get(f"{prefix}_valid")
    return WindowTotals(
        good=float(good or 0),
        valid=float(valid or 0),
        hours_with_data=row.get(f"{prefix}_hours") or 0,
        hours_in_window=hours_in_window,
    )


def slos_with_budgets(slos: QuerySet[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """Every SLO of the queryset with its budget as of `at`, in three queries."""
    slo_list = list(
        slos.select_related("service__team", "data_source", "owner").order_by(
            "service__team__name", "service__name", "name"
        )
    )
    if not slo_list:
        return []
    end = align_to_hour(at)
    windows = {slo.pk: slo_window(slo, at=at) for slo in slo_list}
    span_start = min([end - WEEK, *(window.start for window in windows.values())])
    intervals = exclusion_intervals(slo_list, start=span_start, end=end)
    span = Window(start=span_start, end=end, length=end - span_start)
    excluded = {pk: excluded_hours(span, found) for pk, found in intervals.items()}

    by_start: dict[datetime, list[int]] = defaultdict(list)
    for pk, window in windows.items():
        by_start[window.start].append(pk)
    if len(by_start) == 1:
        in_window = Q(hour__gte=next(iter(by_start)))
    else:
        in_window = Q()
        for start, ids in by_start.items():
            in_window |= Q(slo_id__in=ids, hour__gte=start)
    rows = HourlyBucket.objects.filter(slo_id__in=list(windows), hour__gte=span_start, hour__lt=end)
    for pk, hours in excluded.items():
        if hours:
            rows = rows.exclude(slo_id=pk, hour__in=sorted(hours))
    aggregates = {
        row["slo_id"]: row
        for row in rows.values("slo_id").annotate(
            **_sums("window", in_window),
            **_sums("day", Q(hour__gte=end - DAY)),
            **_sums("week", Q(hour__gte=end - WEEK)),
            window_errors=Count("id", filter=in_window & Q(good__gt=F("valid"))),
        )
    }

    result = []
    for slo in slo_list:
        window = windows[slo.pk]
        row = aggregates.get(slo.pk, {})
        hours_excluded = excluded.get(slo.pk, set())
        in_window_excluded = sum(1 for hour in hours_excluded if hour >= window.start)
        budget = compute_budget(
            _totals(slo, row, "window", window.hours - in_window_excluded),
            target=slo.target_fraction,
            window=window.length,
            at_risk_below=float(slo.service.team.budget_at_risk_below) / 100,
            last_day=_totals(slo, row, "day", 24),
            last_week=_totals(slo, row, "week", 24 * 7),
            excluded_hours=in_window_excluded,
            data_error=bool(row.get("window_errors")),
        )
        result.append(SLOWithBudget(slo, budget, window))
    return result


def slo_with_budget(slo_id: int, *, at: datetime) -> SLOWithBudget:
    return slos_with_budgets(SLO.objects.filter(pk=slo_id), at=at)[0]


def _hour_rows(slo: SLO, rows: QuerySet[HourlyBucket]) -> list[HourRow]:
    if slo.uses_timeslices:
        values = rows.values_list("hour", "good_slices", "total_slices")
    else:
        values = rows.values_list("hour", "good", "valid")
    return [HourRow(hour, float(good), float(valid)) for hour, good, valid in values]


def slo_window_rows(slo: SLO, *, at: datetime) -> list[HourRow]:
    """The SLO's hourly rows in its window, excluded hours left out, oldest first."""
    window = slo_window(slo, at=at)
    hours = excluded_hours(
        window, exclusion_intervals([slo], start=window.start, end=window.end).get(slo.pk, [])
    )
    rows = HourlyBucket.objects.filter(slo=slo, hour__gte=window.start, hour__lt=window.end)
    if hours:
        rows = rows.exclude(hour__in=sorted(hours))
    return _hour_rows(slo, rows.order_by("hour"))


def slo_monthly_history(slo: SLO, *, at: datetime, months: int = 12) -> list[MonthCompliance]:
    """Compliance per calendar month (team time zone), the current month included."""
    zone = ZoneInfo(slo.service.team.time_zone)
    local = at.astimezone(zone)
    index = local.year * 12 + local.month - 1 - (months - 1)
    start = align_to_hour(datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).astimezone(UTC))
    end = align_to_hour(at)
    window = Window(start=start, end=end, length=end - start)
    hours = excluded_hours(window, exclusion_intervals([slo], start=start, end=end).get(slo.pk, []))
    rows = HourlyBucket.objects.filter(slo=slo, hour__gte=start, hour__lt=end)
    if hours:
        rows = rows.exclude(hour__in=sorted(hours))
    good, valid = ("good_slices", "total_slices") if slo.uses_timeslices else ("good", "valid")
    per_month = (
        rows.annotate(month=TruncMonth("hour", tzinfo=zone))
        .values("month")
        .annotate(good=Sum(good), valid=Sum(valid))
        .order_by("month")
    )
    return monthly_compliance(
        [
            MonthTotals(
                month=row["month"].astimezone(zone).date()
                if isinstance(row["month"], datetime)
                else row["month"],
                good=float(row["good"] or 0),
                valid=float(row["valid"] or 0),
            )
            for row in per_month
        ],
        target=slo.target_fraction,
    )
