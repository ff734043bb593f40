"""The home overview: where each of a person's teams stands and what comes next, read
through each app's selectors for all of their teams at once.

A fixed number of queries whatever the number of SLOs, services, notifications, items,
retros or kudos, and whatever the number of teams: each read below asks for every team
together. What a team's members see on home, a member of another team never does: every
read starts from the person's own memberships."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.formats import date_format

from portal.hierarchy.rules import WeakestLevel
from portal.hierarchy.selectors import weakest_levels
from portal.models import Membership, Team
from portal.weeks import recent_mondays, week_monday
from retros.models import Kudos
from retros.selectors import NextRetro, next_retros, recent_kudos
from slos.budget import BURN_ALERTS, BudgetStatus, align_to_hour
from slos.burn_spell import LOOK_BACK, BurnSpell, burning_since, first_hour_read
from slos.charts import WeekCount, alerts_per_week_figure
from slos.models import SLO, Service
from slos.notifications.noise import DayCounts, WeekAlerts, alerts_per_week, days_between
from slos.notifications.selectors import alerts_per_day
from slos.registry.selectors import (
    SLOWithBudget,
    slo_hourly_counts,
    slos_budgeted,
    slos_for_list,
    teams_slos_due_for_review,
)
from toil.models import BacklogItem
from toil.selectors import RankedItem, ReservedTime, ranked_backlog, reserved_time_this_week

DUE_SHOWN = 5  # SLOs due for review listed a team; the rest are counted
BACKLOG_SHOWN = 3  # the top of each team's ranking
KUDOS_SHOWN = 3  # each team's latest kudos
NOISE_WEEKS = 12  # the trend: this week and the eleven before
# Burning and running low list this many SLOs each, the most urgent first; the rest are
# counted, with a link to the SLO list filtered to them (a thousand SLOs at risk made a
# list nobody reads, and a page that took a second to render).
URGENT_SHOWN = 10


@dataclass
class BudgetCounts:
    """How many SLOs of a service (or a team) meet their objective, are at risk, have
    spent their budget, or have no data in their window; how many burn now; and the
    least budget left among those with data (a fraction; negative once exhausted)."""

    healthy: int = 0
    at_risk: int = 0
    exhausted: int = 0
    no_data: int = 0
    burning: int = 0
    worst: float | None = None

    @property
    def total(self) -> int:
        return self.healthy + self.at_risk + self.exhausted + self.no_data

    @property
    def worst_percent(self) -> float | None:
        return None if self.worst is None else self.worst * 100

    @property
    def worst_status(self) -> str:
        if self.exhausted:
            return BudgetStatus.EXHAUSTED
        if self.at_risk:
            return BudgetStatus.AT_RISK
        return BudgetStatus.HEALTHY if self.worst is not None else BudgetStatus.NO_DATA

    def add(self, row: SLOWithBudget) -> None:
        budget = row.budget
        if budget.status == BudgetStatus.HEALTHY:
            self.healthy += 1
        elif budget.status == BudgetStatus.AT_RISK:
            self.at_risk += 1
        elif budget.status == BudgetStatus.EXHAUSTED:
            self.exhausted += 1
        else:
            self.no_data += 1
        if budget.burning is not None:
            self.burning += 1
        left = budget.error_budget_remaining
        if left is not None and (self.worst is None or left < self.worst):
            self.worst = left


@dataclass(frozen=True)
class ServiceBudgets:
    service: Service
    counts: BudgetCounts


@dataclass(frozen=True)
class BurningSLO:
    """A burning SLO and since when (None: the walk found the row not firing, which the
    budget's own test rules out unless the rows changed between the two reads)."""

    row: SLOWithBudget
    spell: BurnSpell | None


@dataclass(frozen=True)
class Noise:
    weeks: list[WeekAlerts]  # oldest first, this week last
    figure: dict
    heard: bool = True  # any notification came in over the trend's weeks

    @property
    def this_week(self) -> WeekAlerts:
        return self.weeks[-1]

    @property
    def last_week(self) -> WeekAlerts | None:
        return self.weeks[-2] if len(self.weeks) > 1 else None

    @property
    def weeks_before(self) -> int:
        return len(self.weeks) - 1

    @property
    def weeks_over(self) -> int:
        """Whole weeks of the trend (this one left out) with more alerts than the target."""
        return sum(1 for week in self.weeks[:-1] if week.over)


@dataclass(frozen=True)
class TeamOverview:
    team: Team
    membership: Membership
    budgets: BudgetCounts
    services: list[ServiceBudgets]
    due: list[SLO]
    due_count: int
    noise: Noise
    backlog: list[RankedItem]  # the top of the ranking
    open_items: int
    reserved: ReservedTime
    next_retro: NextRetro
    kudos: list[Kudos]
    # The team's weakest level of the reliability hierarchy (its next focus), or None
    # when no service of the team has been assessed.
    weakest_level: WeakestLevel | None = None


@dataclass(frozen=True)
class HomePage:
    teams: list[TeamOverview]
    burning: list[BurningSLO]
    low: list[SLOWithBudget]
    at: datetime
    burning_count: int = 0  # all that burn; `burning` lists the first URGENT_SHOWN
    low_count: int = 0
    look_back_days: int = LOOK_BACK.days

    @property
    def burning_more(self) -> int:
        return self.burning_count - len(self.burning)

    @property
    def low_more(self) -> int:
        return self.low_count - len(self.low)


def _burn_order(row: SLOWithBudget) -> tuple:
    # Pages before tickets, then the fastest burn over the last day.
    return (BURN_ALERTS.index(row.budget.burning), -(row.budget.burn_rate_1d or 0))


def burning_with_spells(
    rows: list[SLOWithBudget], *, at: datetime, shown: int = URGENT_SHOWN
) -> tuple[list[BurningSLO], int]:
    """The first `shown` burning SLOs of `rows` (pages first, then the fastest burn over
    the last day), each with since when it has burned, and how many burn in all. One
    read of the hourly rows of the shown ones together (two queries; none if none burn)."""
    burning = sorted((row for row in rows if row.budget.burning is not None), key=_burn_order)
    listed = burning[:shown]
    end = align_to_hour(at)
    hours = slo_hourly_counts([row.slo for row in listed], start=first_hour_read(end=end), end=end)
    spells = [
        BurningSLO(
            row=row,
            spell=burning_since(
                hours[row.slo.pk],
                end=end,
                target=row.slo.target_fraction,
                alert=row.budget.burning,
                window=row.window.length,
            ),
        )
        for row in listed
    ]
    return spells, len(burning)


def running_low(
    rows: list[SLOWithBudget], *, shown: int = URGENT_SHOWN
) -> tuple[list[SLOWithBudget], int]:
    """The first `shown` SLOs with little budget left (at risk or exhausted) that do not
    burn now, least left first, and how many there are in all."""
    low = [
        row
        for row in rows
        if row.budget.burning is None
        and row.budget.status in {BudgetStatus.AT_RISK, BudgetStatus.EXHAUSTED}
    ]
    low.sort(key=lambda row: row.budget.error_budget_remaining or 0)
    return low[:shown], len(low)


def budgets_by_service(
    rows: list[SLOWithBudget],
) -> tuple[dict[int, BudgetCounts], dict[int, list[ServiceBudgets]]]:
    """Per team id: its counts over every SLO, and its services' counts, by name."""
    teams: dict[int, BudgetCounts] = defaultdict(BudgetCounts)
    services: dict[int, dict[int, ServiceBudgets]] = defaultdict(dict)
    for row in rows:
        service = row.slo.service
        teams[service.team_id].add(row)
        found = services[service.team_id].get(service.pk)
        if found is None:
            found = services[service.team_id][service.pk] = ServiceBudgets(service, BudgetCounts())
        found.counts.add(row)
    return teams, {
        team_id: sorted(found.values(), key=lambda each: each.service.name.casefold())
        for team_id, found in services.items()
    }


def noise_trend(team: Team, per_day: dict[date, int], *, at: datetime) -> Noise:
    """Alerts per week (weeks from Monday, in the team's zone, this one last and still
    going) against the team's target, with its chart: the last NOISE_WEEKS weeks, from
    the first week the team's sources were heard from (a week before any notification
    came in is no data, not a quiet week). `per_day`: alerts on each day that had any
    notification."""
    mondays = recent_mondays(week_monday(at, team.time_zone), NOISE_WEEKS)
    if per_day:
        first = min(per_day)
        mondays = [monday for monday in mondays if monday + timedelta(days=6) >= first]
    else:
        mondays = mondays[-1:]
    days = days_between(mondays[0], mondays[-1] + timedelta(days=6))
    weeks = alerts_per_week(
        [DayCounts(day=day, counts={"alert": per_day.get(day, 0)}) for day in days],
        target=team.alerts_per_week_target,
    )
    figure = alerts_per_week_figure(
        [
            WeekCount(
                label=date_format(week.week_start, "MONTH_DAY_FORMAT"),
                alerts=week.alerts,
                this_week=index == len(weeks) - 1,
            )
            for index, week in enumerate(weeks)
        ],
        target=team.alerts_per_week_target,
    )
    return Noise(weeks=weeks, figure=figure.to_plotly_json(), heard=bool(per_day))


def noise_since(teams: list[Team], *, at: datetime) -> datetime:
    """The earliest moment any team's trend counts from: its first Monday's midnight."""
    return min(
        datetime.combine(
            recent_mondays(week_monday(at, team.time_zone), NOISE_WEEKS)[0],
            time(0),
            tzinfo=ZoneInfo(team.time_zone),
        )
        for team in teams
    )


def home_page(user, *, at: datetime) -> HomePage:
    """Everything home shows for `user` as of `at`."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("team").order_by("team__name")
    )
    teams = [membership.team for membership in memberships]
    if not teams:
        return HomePage(teams=[], burning=[], low=[], at=at)
    # The teams' SLOs in force (a retired one is no objective any more), with only what
    # home shows of them and what their budgets need, each service and team built once.
    rows = slos_budgeted(slos_for_list(SLO.objects.filter(service__team__in=teams).active()), at=at)
    team_budgets, services = budgets_by_service(rows)
    due = teams_slos_due_for_review(teams, at=at, first=DUE_SHOWN)
    alerts = alerts_per_day(teams, since=noise_since(teams, at=at))
    ranked = ranked_backlog(BacklogItem.objects.filter(team__in=teams), at=at)
    backlog: dict[int, list[RankedItem]] = defaultdict(list)
    for item in ranked:
        backlog[item.item.team_id].append(item)
    reserved = reserved_time_this_week(teams, at=at)
    retros = next_retros(teams, at=at)
    kudos = recent_kudos(teams, per_team=KUDOS_SHOWN)
    weakest = weakest_levels(teams)
    overviews = []
    for membership in memberships:
        team = membership.team
        due_slos, due_count = due.get(team.pk, ([], 0))
        overviews.append(
            TeamOverview(
                team=team,
                membership=membership,
                budgets=team_budgets.get(team.pk, BudgetCounts()),
                services=services.get(team.pk, []),
                due=due_slos,
                due_count=due_count,
                noise=noise_trend(team, alerts[team.pk], at=at),
                backlog=backlog[team.pk][:BACKLOG_SHOWN],
                open_items=len(backlog[team.pk]),
                reserved=reserved[team.pk],
                next_retro=retros[team.pk],
                kudos=kudos[team.pk],
                weakest_level=weakest[team.pk],
            )
        )
    burning, burning_count = burning_with_spells(rows, at=at)
    low, low_count = running_low(rows)
    return HomePage(
        teams=overviews,
        burning=burning,
        low=low,
        at=at,
        burning_count=burning_count,
        low_count=low_count,
    )
