"""Reads: the backlog ranked by priority score, with each item's breakdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slos.budget import Budget
from slos.models import SLO
from slos.registry.selectors import slos_with_budgets
from toil.models import BacklogItem, BacklogItemQuerySet
from toil.scoring import (
    ScoreBreakdown,
    ScoreFactors,
    age_weeks,
    compute_score,
    effort_points,
    slo_risk_from_budget,
)


@dataclass(frozen=True)
class RankedItem:
    item: BacklogItem
    breakdown: ScoreBreakdown
    slo_budget: Budget | None


def item_breakdown(item: BacklogItem, *, slo_budget: Budget | None, at: datetime) -> ScoreBreakdown:
    remaining = slo_budget.error_budget_remaining if slo_budget is not None else None
    return compute_score(
        ScoreFactors(
            impact=item.impact,
            likelihood=item.likelihood,
            toil_relief=item.toil_relief,
            slo_risk=slo_risk_from_budget(remaining),
            effort_points=effort_points(item.effort),
            age_weeks=age_weeks(item.created_at, at),
        )
    )


def ranked_backlog(items: BacklogItemQuerySet, *, at: datetime) -> list[RankedItem]:
    """Open items, highest score first (older first on a tie). Two queries for any
    number of items: the items, then the budgets of every SLO they link to."""
    open_items = list(items.open().select_related("team", "slo"))
    slo_ids = {item.slo_id for item in open_items if item.slo_id is not None}
    budgets = {
        row.slo.pk: row.budget
        for row in slos_with_budgets(SLO.objects.filter(pk__in=slo_ids), at=at)
    }
    ranked = []
    for item in open_items:
        budget = budgets.get(item.slo_id)
        ranked.append(RankedItem(item, item_breakdown(item, slo_budget=budget, at=at), budget))
    ranked.sort(key=lambda row: (-row.breakdown.score, row.item.created_at, row.item.pk))
    return ranked
