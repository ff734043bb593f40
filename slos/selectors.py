"""Reads: SLOs with their budgets, computed from sums of hourly rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slos.budget import Budget, HourRow, WindowTotals, align_to_hour, compute_budget
from slos.models import SLO, HourlyBucket, SLOQuerySet


@dataclass(frozen=True)
class SLOWithBudget:
    slo: SLO
    budget: Budget


def budget_window_end(at: datetime) -> datetime:
    """Windows end at the last complete hour: the current hour is still filling."""
    return align_to_hour(at)


def budget_for_annotated(slo: SLO) -> Budget:
    window = timedelta(days=slo.window_days)
    totals = WindowTotals(
        good=slo.window_good or 0.0,
        valid=slo.window_valid or 0.0,
        hours_with_data=slo.window_hours_with_data or 0,
        hours_in_window=int(window.total_seconds() // 3600),
    )
    return compute_budget(totals, target=slo.target_fraction, window=window)


def slos_with_budgets(slos: SLOQuerySet, *, at: datetime) -> list[SLOWithBudget]:
    """One query for any number of SLOs."""
    annotated = (
        slos.with_window_totals(budget_window_end(at))
        .select_related("service__team", "data_source")
        .order_by("service__team__name", "service__name", "name")
    )
    return [SLOWithBudget(slo, budget_for_annotated(slo)) for slo in annotated]


def slo_with_budget(slo_id: int, *, at: datetime) -> SLOWithBudget:
    return slos_with_budgets(SLO.objects.filter(pk=slo_id), at=at)[0]


def slo_window_rows(slo: SLO, *, at: datetime) -> list[HourRow]:
    end = budget_window_end(at)
    rows = HourlyBucket.objects.filter(
        slo=slo, hour__gte=end - timedelta(days=slo.window_days), hour__lt=end
    ).order_by("hour")
    return [HourRow(row.hour, row.good, row.valid) for row in rows.only("hour", "good", "valid")]
