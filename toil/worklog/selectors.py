"""Reads of the work log page: the feed (filtered, a page at a time), each person's
hours, the toil share week by week against the cap, and toil logged against toil
removed. A fixed number of queries whatever the number of entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q, Sum

from portal.models import Team
from portal.weeks import week_monday
from toil.capacity import TOIL_CAP, WEEKS_SHOWN, WeekSums
from toil.models import BacklogItem, Status, WorkLogEntry
from toil.selectors import team_week_sums

FEED_PAGE = 50
RECENT_WEEKS = 4  # "toil logged against toil removed" looks at the last four weeks


@dataclass(frozen=True)
class PersonHours:
    person_id: int
    name: str
    this_week: Decimal
    eight_weeks: Decimal  # the 8 weeks before this one
    toil: Decimal  # of all of those, toil


@dataclass(frozen=True)
class ToilBalance:
    logged_recently: Decimal  # toil hours logged in the last RECENT_WEEKS weeks
    removed_per_month: Decimal  # by every finished item
    removed_recently_per_month: Decimal  # by items finished in the last RECENT_WEEKS weeks


@dataclass(frozen=True)
class WorkLogPage:
    team: Team
    feed: Page
    weeks: list[WeekSums]
    people: list[PersonHours]
    balance: ToilBalance
    members: list[tuple[int, str]]
    item_filtered: BacklogItem | None = None  # the item the feed is filtered to

    @property
    def weeks_over_cap(self) -> list[WeekSums]:
        return [week for week in self.weeks if week.over_toil_cap]

    @property
    def cap_percent(self) -> int:
        return int(TOIL_CAP * 100)


def work_log_page(
    team: Team,
    *,
    at: datetime,
    person_id: int | None = None,
    item_id: int | None = None,
    page: int = 1,
) -> WorkLogPage:
    entries = WorkLogEntry.objects.filter(team=team).for_feed()
    if person_id is not None:
        entries = entries.filter(person_id=person_id)
    if item_id is not None:
        entries = entries.filter(item_id=item_id)
    feed = Paginator(entries, FEED_PAGE).get_page(page)

    this_monday = week_monday(at, team.time_zone)
    first_monday = this_monday - timedelta(weeks=WEEKS_SHOWN)
    recent_monday = this_monday - timedelta(weeks=RECENT_WEEKS - 1)
    people = [
        PersonHours(
            person_id=row["person"],
            name=row["person__username"],
            this_week=row["this_week"] or Decimal(0),
            eight_weeks=row["eight_weeks"] or Decimal(0),
            toil=row["toil"] or Decimal(0),
        )
        for row in WorkLogEntry.objects.filter(team=team, on__gte=first_monday)
        .values("person", "person__username")
        .annotate(
            this_week=Sum("hours", filter=Q(on__gte=this_monday)),
            eight_weeks=Sum("hours", filter=Q(on__lt=this_monday)),
            toil=Sum("hours", filter=Q(toil=True)),
        )
        .order_by("person__username")
    ]
    weeks = team_week_sums(team, at=at, weeks=WEEKS_SHOWN + 1)
    done = BacklogItem.objects.filter(team=team, status=Status.DONE).aggregate(
        all=Sum("toil_hours_per_month"),
        recent=Sum(
            "toil_hours_per_month",
            filter=Q(
                closed_at__gte=datetime.combine(recent_monday, time(0), ZoneInfo(team.time_zone))
            ),
        ),
    )
    balance = ToilBalance(
        logged_recently=sum(
            (week.toil_hours for week in weeks if week.monday >= recent_monday), Decimal(0)
        ),
        removed_per_month=done["all"] or Decimal(0),
        removed_recently_per_month=done["recent"] or Decimal(0),
    )
    members = list(
        get_user_model()
        .objects.filter(memberships__team=team)
        .order_by("username")
        .values_list("pk", "username")
    )
    item_filtered = (
        BacklogItem.objects.filter(team=team, pk=item_id).first() if item_id is not None else None
    )
    return WorkLogPage(
        team=team,
        feed=feed,
        weeks=weeks,
        people=people,
        balance=balance,
        members=members,
        item_filtered=item_filtered,
    )
