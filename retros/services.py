"""Writes for retros. Keyword-only, typed; views and commands call these."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from portal.models import Team
from retros.models import BudgetSnapshot, RetroSession
from slos.models import SLO
from slos.registry.selectors import SLOWithBudget, slos_with_budgets


def week_of(moment: datetime, time_zone: str) -> date:
    """The Monday of the week containing `moment`, as the team's calendar sees it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    local_day = moment.astimezone(ZoneInfo(time_zone)).date()
    return local_day - timedelta(days=local_day.weekday())


def _snapshot(session: RetroSession, row: SLOWithBudget) -> BudgetSnapshot:
    slo, budget = row.slo, row.budget
    return BudgetSnapshot(
        session=session,
        slo=slo,
        team_name=slo.service.team.name,
        service_name=slo.service.name,
        slo_name=slo.name,
        target=slo.target,
        window_days=slo.window_days,
        good=budget.good,
        valid=budget.valid,
        sli=budget.sli,
        error_budget_remaining=budget.error_budget_remaining,
        bad_events_left=budget.bad_events_left,
        burn_rate=budget.burn_rate,
        coverage=budget.coverage,
        status=budget.status.value,
    )


@transaction.atomic
def retro_start(*, team: Team, user: AbstractBaseUser | None, at: datetime) -> RetroSession:
    """Open a session and freeze every SLO budget of the team as it stands at `at`."""
    session = RetroSession.objects.create(
        team=team, started_at=at, started_by=user, week_of=week_of(at, team.time_zone)
    )
    rows = slos_with_budgets(SLO.objects.filter(service__team=team), at=at)
    BudgetSnapshot.objects.bulk_create([_snapshot(session, row) for row in rows])
    return session
