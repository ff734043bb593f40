"""Reads of an item's page: the item with its score breakdown under the team's weights,
its linked SLO's budget and freeze state, its history, its work log and the retro
actions and decisions that point at it. A fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from slos.budget import Budget
from slos.models import SLO
from slos.registry.selectors import slos_with_budgets
from toil.models import BacklogItem, BacklogItemChange, WorkLogEntry
from toil.scoring import ScoreBreakdown, Weights
from toil.selectors import backlog_settings, item_breakdown

WORK_LOG_SHOWN = 50


@dataclass(frozen=True)
class ItemPage:
    item: BacklogItem
    breakdown: ScoreBreakdown
    weights: Weights
    slo_budget: Budget | None
    changes: list[BacklogItemChange]
    work_log: list[WorkLogEntry]
    logged_hours: Decimal
    retro_actions: list
    retro_decisions: list


def item_page(item: BacklogItem, *, at: datetime) -> ItemPage:
    budget = None
    if item.slo_id is not None:
        rows = slos_with_budgets(SLO.objects.filter(pk=item.slo_id), at=at)
        budget = rows[0].budget if rows else None
    weights = backlog_settings(item.team).weights()
    entries = item.work_log.select_related("person")
    return ItemPage(
        item=item,
        breakdown=item_breakdown(item, slo_budget=budget, at=at, weights=weights),
        weights=weights,
        slo_budget=budget,
        changes=list(item.changes.select_related("changed_by")),
        work_log=list(entries[:WORK_LOG_SHOWN]),
        logged_hours=entries.aggregate(total=Sum("hours"))["total"] or Decimal(0),
        # Held on the retro side (toil never imports retros): read through the reverse
        # relations, by name.
        retro_actions=list(item.retro_actions.select_related("opened_in", "owner")),
        retro_decisions=list(item.retro_decisions.select_related("session", "notification")),
    )
