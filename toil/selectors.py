"""Reads: the backlog ranked by priority score (pins first) with each item's breakdown,
the team's weights and reserved time, what fits this week, and the weekly sums of the
work log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from portal.models import Team
from portal.weeks import recent_mondays, week_monday
from slos.budget import Budget
from slos.models import SLO, BudgetPolicyStep
from slos.registry.selectors import slo_budgets
from toil.capacity import (
    WEEKS_SHOWN,
    Fit,
    LoggedHours,
    WeekSums,
    fits_this_week,
    size_hours,
    week_sums,
)
from toil.models import (
    SLO_RISK_AT_MOST,
    BacklogItem,
    BacklogItemQuerySet,
    BacklogSettings,
    WorkLogEntry,
    score_expression,
    sql_float,
)
from toil.scoring import (
    DEFAULT_WEIGHTS,
    Rankable,
    ScoreBreakdown,
    ScoreFactors,
    Weights,
    age_weeks,
    compute_score,
    effort_points,
    rank,
    rank_moves,
    slo_risk_from_budget,
    toil_relief_from_hours,
)


@dataclass(frozen=True)
class RankedItem:
    item: BacklogItem
    breakdown: ScoreBreakdown
    slo_budget: Budget | None
    place: int  # 1-based, in the ranking it was read in
    # The linked SLO's budget policy is in a step that freezes releases.
    frozen: bool = False
    logged_hours: Decimal = Decimal(0)
    size_hours: Decimal = Decimal(0)


def backlog_settings(team: Team) -> BacklogSettings:
    """The team's settings, or the defaults (unsaved) for a team that never set any."""
    found = BacklogSettings.objects.filter(team=team).first()
    return found if found is not None else BacklogSettings(team=team)


def _settings_by_team(team_ids: Iterable[int]) -> dict[int, BacklogSettings]:
    return {row.team_id: row for row in BacklogSettings.objects.filter(team_id__in=list(team_ids))}


def item_factors(item: BacklogItem, *, slo_budget: Budget | None, at: datetime) -> ScoreFactors:
    remaining = slo_budget.error_budget_remaining if slo_budget is not None else None
    return ScoreFactors(
        impact=item.impact,
        likelihood=item.likelihood,
        toil_relief=item.toil_relief,
        slo_risk=slo_risk_from_budget(remaining),
        effort_points=effort_points(item.effort),
        age_weeks=age_weeks(item.created_at, at),
    )


def item_breakdown(
    item: BacklogItem,
    *,
    slo_budget: Budget | None,
    at: datetime,
    weights: Weights = DEFAULT_WEIGHTS,
) -> ScoreBreakdown:
    return compute_score(item_factors(item, slo_budget=slo_budget, at=at), weights)


def _frozen_slos(budgets: dict[int, Budget]) -> set[int]:
    """The SLOs whose remaining budget is below a policy step that freezes releases."""
    frozen = set()
    steps = BudgetPolicyStep.objects.filter(slo_id__in=list(budgets), freezes_releases=True)
    for slo_id, below in steps.values_list("slo_id", "below_percent"):
        left = budgets[slo_id].error_budget_remaining_percent
        if left is not None and left < float(below):
            frozen.add(slo_id)
    return frozen


def _in_order(rows: list[RankedItem]) -> list[RankedItem]:
    by_key = {row.item.pk: row for row in rows}
    order = rank(
        [
            Rankable(
                key=row.item.pk,
                score=row.breakdown.score,
                created_at=row.item.created_at,
                pinned_at=row.item.pinned_at,
            )
            for row in rows
        ]
    )
    # Built anew rather than dataclasses.replace(), which costs a ranking of thousands a
    # tenth of a second.
    return [
        RankedItem(
            item=row.item,
            breakdown=row.breakdown,
            slo_budget=row.slo_budget,
            place=place,
            frozen=row.frozen,
            logged_hours=row.logged_hours,
            size_hours=row.size_hours,
        )
        for place, row in enumerate((by_key[key] for key in order), start=1)
    ]


def _with_related(items: list[BacklogItem]) -> list[BacklogItem]:
    """Set each item's team, owner, pinner and SLO (with its service), read once each:
    thousands of items share a few of them, and Django's prefetch spends longer matching
    them to the items than reading them. Three queries at most."""
    meta = BacklogItem._meta
    users = {item.owner_id for item in items} | {item.pinned_by_id for item in items}
    users.discard(None)
    slos = {item.slo_id for item in items}
    slos.discard(None)
    # in_bulk of no ids sends no query.
    found = {
        "team": Team.objects.in_bulk({item.team_id for item in items}),
        "owner": get_user_model().objects.in_bulk(users),
        "slo": SLO.objects.select_related("service").in_bulk(slos),
    }
    found["pinned_by"] = found["owner"]
    for name, objects in found.items():
        field = meta.get_field(name)
        attname = field.attname
        for item in items:
            key = getattr(item, attname)
            field.set_cached_value(item, objects.get(key) if key is not None else None)
    return items


def ranked_backlog(
    items: BacklogItemQuerySet, *, at: datetime, with_hours: bool = False
) -> list[RankedItem]:
    """Open items in ranking order: pinned first, then highest score (older first on a
    tie), each scored with its team's weights. A fixed number of queries for any number
    of items and teams."""
    open_items = _with_related(list(items.open().for_ranking()))
    settings = _settings_by_team({item.team_id for item in open_items})
    budgets = slo_budgets({item.slo_id for item in open_items if item.slo_id is not None}, at=at)
    frozen = _frozen_slos(budgets)
    logged: dict[int, Decimal] = {}
    if with_hours and open_items:
        logged = dict(
            WorkLogEntry.objects.filter(item__in=[item.pk for item in open_items])
            .values("item")
            .annotate(total=Sum("hours"))
            .values_list("item", "total")
        )
    defaults = BacklogSettings()
    rows = []
    for item in open_items:
        budget = budgets.get(item.slo_id)
        team_settings = settings.get(item.team_id, defaults)
        rows.append(
            RankedItem(
                item=item,
                breakdown=item_breakdown(
                    item,
                    slo_budget=budget,
                    at=at,
                    weights=team_settings.weights(),
                ),
                slo_budget=budget,
                place=0,
                frozen=item.slo_id in frozen,
                logged_hours=logged.get(item.pk, Decimal(0)),
                size_hours=size_hours(item.effort, team_settings.hours_per_point),
            )
        )
    return _in_order(rows)


# The database's sums of floats may differ from Python's in the last bits: a candidate is
# kept when its best score is within this of the threshold (scores are below 500).
SCORE_SLACK = 1e-6


@dataclass(frozen=True)
class RankingTop:
    """The top of a team's ranking, exact: every pinned item, then the first `count`
    others by score, each at its place in the whole ranking."""

    rows: list[RankedItem]
    open_items: int  # in the whole ranking

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.open_items


def ranking_top(
    team: Team, *, at: datetime, count: int, settings: BacklogSettings | None = None
) -> RankingTop:
    """The pinned items and the `count` best others of the team's open items, as
    ranked_backlog(…, with_hours=True) ranks them, reading the budgets of only the SLOs
    that can matter there. A linked item's score lies between its score with no SLO risk
    and with the most: the `count`-th best lower bound is a floor no item of the top can
    be under, so only items whose upper bound reaches it are candidates (the database
    scores and selects them; DESIGN.md's formula in SQL, toil.models.score_expression).
    The candidates are then scored by the pure function with their SLOs' live budgets
    and ranked by toil.scoring.rank, as the whole ranking is. Seven queries at most."""
    if count < 1:
        raise ValueError("the top of a ranking holds at least one item")
    settings = settings if settings is not None else backlog_settings(team)
    weights = settings.weights()
    open_items = BacklogItem.objects.filter(team=team).open()
    floor = (
        open_items.filter(pinned_at__isnull=True)
        .annotate(lowest=score_expression(weights=weights, at=at, slo_risk=sql_float(0)))
        .order_by("-lowest")
        .values("lowest")[count - 1 : count]
    )
    candidates = list(
        open_items.annotate(
            highest=score_expression(weights=weights, at=at, slo_risk=SLO_RISK_AT_MOST),
            floor=Coalesce(Subquery(floor), sql_float(-1)),
            # Beside each candidate, how many open items there are (no query of its own).
            open_items=Subquery(
                open_items.order_by().values("team").annotate(total=Count("pk")).values("total")
            ),
        )
        .filter(Q(pinned_at__isnull=False) | Q(highest__gte=F("floor") - sql_float(SCORE_SLACK)))
        .order_by()
        .values_list(
            "pk",
            "impact",
            "likelihood",
            "toil_hours_per_month",
            "effort",
            "created_at",
            "pinned_at",
            "slo_id",
            "open_items",
            named=True,
        )
    )
    budgets = slo_budgets({row.slo_id for row in candidates if row.slo_id is not None}, at=at)
    breakdowns = {}
    for row in candidates:
        budget = budgets.get(row.slo_id)
        factors = ScoreFactors(
            impact=row.impact,
            likelihood=row.likelihood,
            toil_relief=toil_relief_from_hours(row.toil_hours_per_month),
            slo_risk=slo_risk_from_budget(
                budget.error_budget_remaining if budget is not None else None
            ),
            effort_points=effort_points(row.effort),
            age_weeks=age_weeks(row.created_at, at),
        )
        breakdowns[row.pk] = compute_score(factors, weights)
    order = rank(
        [
            Rankable(
                key=row.pk,
                score=breakdowns[row.pk].score,
                created_at=row.created_at,
                pinned_at=row.pinned_at,
            )
            for row in candidates
        ]
    )
    pinned = sum(1 for row in candidates if row.pinned_at is not None)
    # Each row's hours logged beside it (no query of their own); its team is `team`.
    logged = (
        WorkLogEntry.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    items = (
        BacklogItem.objects.filter(pk__in=order[: pinned + count])
        .for_ranking()
        .select_related("owner", "pinned_by", "slo")
        .annotate(logged=Coalesce(Subquery(logged), Value(Decimal(0))))
    )
    team_field = BacklogItem._meta.get_field("team")
    by_pk = {}
    for item in items:
        team_field.set_cached_value(item, team)
        by_pk[item.pk] = item
    # An item deleted since the candidates were read is left out.
    shown = [pk for pk in order[: pinned + count] if pk in by_pk]
    frozen = _frozen_slos(
        {by_pk[pk].slo_id: budgets[by_pk[pk].slo_id] for pk in shown if by_pk[pk].slo_id}
    )
    rows = [
        RankedItem(
            item=by_pk[pk],
            breakdown=breakdowns[pk],
            slo_budget=budgets.get(by_pk[pk].slo_id),
            place=place,
            frozen=by_pk[pk].slo_id in frozen,
            logged_hours=by_pk[pk].logged,
            size_hours=size_hours(by_pk[pk].effort, settings.hours_per_point),
        )
        for place, pk in enumerate(shown, start=1)
    ]
    return RankingTop(rows=rows, open_items=candidates[0].open_items if candidates else 0)


def rescored(rows: list[RankedItem], weights: Weights) -> list[RankedItem]:
    """The same items ranked with other weights (for a team's preview): no queries."""
    return _in_order(
        [replace(row, breakdown=compute_score(row.breakdown.factors, weights)) for row in rows]
    )


@dataclass(frozen=True)
class Move:
    row: RankedItem  # as ranked with the new weights
    old_place: int
    places: int  # positive: up the ranking


def weights_preview(rows: list[RankedItem], weights: Weights) -> list[Move]:
    """Which items would move, and by how many places, if the team's weights became
    `weights`; the biggest moves first."""
    after = rescored(rows, weights)
    moves = rank_moves([row.item.pk for row in rows], [row.item.pk for row in after])
    old_place = {row.item.pk: row.place for row in rows}
    found = [
        Move(row=row, old_place=old_place[row.item.pk], places=moves[row.item.pk])
        for row in after
        if row.item.pk in moves
    ]
    return sorted(found, key=lambda move: (-abs(move.places), move.row.place))


@dataclass(frozen=True)
class Capacity:
    reserved_hours: Decimal  # a week
    this_week: WeekSums
    weeks: list[WeekSums]  # the last WEEKS_SHOWN weeks and this one, oldest first
    fit: Fit

    @property
    def hours_left(self) -> Decimal:
        return max(self.reserved_hours - self.this_week.backlog_hours, Decimal(0))

    @property
    def used_share(self) -> float | None:
        if not self.reserved_hours:
            return None
        return float(self.this_week.backlog_hours / self.reserved_hours)


def team_week_sums(team: Team, *, at: datetime, weeks: int = WEEKS_SHOWN + 1) -> list[WeekSums]:
    """The work log's hours of the last `weeks` weeks (this one last), in one query."""
    mondays = recent_mondays(week_monday(at, team.time_zone), weeks)
    grouped = (
        WorkLogEntry.objects.filter(team=team, on__gte=mondays[0])
        .values("on", "toil", on_backlog=Q(item__isnull=False))
        .annotate(total=Sum("hours"))
        .values_list("on", "toil", "on_backlog", "total")
    )
    return week_sums(
        (
            LoggedHours(on=day, hours=total, toil=toil, on_backlog=on_backlog)
            for day, toil, on_backlog, total in grouped
        ),
        mondays,
    )


def capacity(
    team: Team,
    ranked: list[RankedItem],
    *,
    at: datetime,
    settings: BacklogSettings | None = None,
) -> Capacity:
    """Reserved time against hours logged, and the items of `ranked` (a team's ranking)
    that fit the hours left this week. `settings`, when the caller holds them, saves a
    query."""
    settings = settings if settings is not None else backlog_settings(team)
    weeks = team_week_sums(team, at=at)
    reserved = settings.reserved_hours_per_week()
    this_week = weeks[-1]
    left = max(reserved - this_week.backlog_hours, Decimal(0))
    fit = fits_this_week([(row.item.pk, row.size_hours) for row in ranked], left)
    return Capacity(reserved_hours=reserved, this_week=this_week, weeks=weeks, fit=fit)


def this_monday(team: Team, *, at: datetime) -> date:
    return week_monday(at, team.time_zone)


@dataclass(frozen=True)
class ReservedTime:
    """A team's reserved reliability time this week against the hours logged on
    backlog items (what `capacity` shows as this week's), for the home overview."""

    reserved_hours: Decimal
    this_week: WeekSums

    @property
    def used_share(self) -> float | None:
        if not self.reserved_hours:
            return None
        return float(self.this_week.backlog_hours / self.reserved_hours)

    @property
    def used_percent(self) -> float | None:
        share = self.used_share
        return None if share is None else share * 100


def reserved_time_this_week(teams: list[Team], *, at: datetime) -> dict[int, ReservedTime]:
    """Per team id: its reserved hours a week and this week's logged hours (its week, in
    its zone), as `capacity` counts them. Two queries for any number of teams (the
    settings, the work log's sums); none for no teams."""
    if not teams:
        return {}
    mondays = {team.pk: week_monday(at, team.time_zone) for team in teams}
    this_week = Q()
    for team in teams:
        this_week |= Q(team=team, on__gte=mondays[team.pk])
    grouped = (
        WorkLogEntry.objects.filter(this_week)
        .values("team_id", "on", "toil", on_backlog=Q(item__isnull=False))
        .annotate(total=Sum("hours"))
        .values_list("team_id", "on", "toil", "on_backlog", "total")
        .order_by()
    )
    logged: dict[int, list[LoggedHours]] = {team.pk: [] for team in teams}
    for team_id, day, toil, on_backlog, total in grouped:
        logged[team_id].append(LoggedHours(on=day, hours=total, toil=toil, on_backlog=on_backlog))
    settings = _settings_by_team(mondays)
    defaults = BacklogSettings()
    return {
        team.pk: ReservedTime(
            reserved_hours=settings.get(team.pk, defaults).reserved_hours_per_week(),
            this_week=week_sums(logged[team.pk], [mondays[team.pk]])[0],
        )
        for team in teams
    }
