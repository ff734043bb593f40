"""Home: where each of the person's teams stands and what comes next. Budgets per
service (not a row per SLO), what burns and since when, SLOs due for review, alert noise
against the team's target over twelve weeks, backlog health, the next retro and kudos;
only the person's own teams; a fixed number of queries whatever the number of SLOs and
teams."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.hierarchy.levels import LEVELS
from portal.hierarchy.rules import LevelAnswer
from portal.hierarchy.services import hierarchy_assessment_record
from portal.models import Role
from portal.overview import DUE_SHOWN, URGENT_SHOWN, home_page
from retros.models import RetroSession, SessionStatus
from retros.services import kudos_add
from slos.budget import BURN_ALERTS
from slos.charts import BAD_COLOUR, LINE_COLOUR, WeekCount, alerts_per_week_figure
from slos.models import SLO, HourlyBucket
from slos.registry.budget_sums import kept_sums_forget
from slos.registry.selectors import budgets_read_ahead, slo_hourly_counts
from tests.conftest import NOTHING_KEPT, client_for, utc
from tests.factories import (
    AnnotationFactory,
    BacklogItemFactory,
    DataSourceFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    WorkLogEntryFactory,
    hourly_buckets,
    hours_before,
)
from toil.selectors import capacity, ranked_backlog, reserved_time_this_week
from toil.services import backlog_settings_update

# Tuesday 3 November 2026, 12:30 in Tokyo (the `team` fixture's zone).
NOW = utc(2026, 11, 3, 3, 30)
END = utc(2026, 11, 3, 3)
WINDOW_HOURS = 28 * 24


def page_of(client, user) -> str:
    return client_for(client, user).get(reverse("home")).content.decode()


def section(page: str, team_slug: str) -> str:
    start = page.index(f'data-team="{team_slug}"')
    end = page.find('class="team-overview"', start)
    return page[start : end if end != -1 else len(page)]


def service_row(page: str, service_pk: int) -> str:
    start = page.index(f'data-service="{service_pk}"')
    return page[start : page.index("</tr>", start)]


def cell(row: str, state: str) -> str:
    match = re.search(rf'data-count="{state}">(.*?)</td>', row)
    assert match, (state, row)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def calm(slo, hours=WINDOW_HOURS):
    hourly_buckets(slo, hours_before(END, hours), good=100_000, valid=100_000)


# --- Budgets per service --------------------------------------------------------------


@pytest.fixture
def budgets(team, data_source, owner):
    """Two services: Clock-in API with a healthy, an at-risk, an exhausted and a silent
    SLO; Payroll with one healthy SLO. 99.9% over 28 days (1,000 bad of a million
    events is the whole budget)."""
    clockin = ServiceFactory(team=team, name="Clock-in API")
    payroll = ServiceFactory(team=team, name="Payroll")
    made = {
        name: SLOFactory(service=clockin, data_source=data_source, name=name)
        for name in ["healthy", "at risk", "exhausted", "silent"]
    }
    made["exports"] = SLOFactory(service=payroll, data_source=data_source, name="exports")
    hours = hours_before(END, WINDOW_HOURS)
    calm(made["healthy"])
    # 0.09% bad: 90% of the budget spent, 10% left (at risk under 25%); a burn of 0.9,
    # under the slowest ticket's 0.93 for a 28-day window.
    hourly_buckets(made["at risk"], hours, good=99_910, valid=100_000)
    # 0.2% bad but for a calm last three days (so no burn alert fires): 600 hours × 200
    # bad = 120,000 of the 67,200 allowed, 1 − 120,000 / 67,200 = −78.6% left.
    hourly_buckets(made["exhausted"], hours[72:], good=99_800, valid=100_000)
    hourly_buckets(made["exhausted"], hours[:72], good=100_000, valid=100_000)
    # 0.05% bad: half the budget left.
    hourly_buckets(made["exports"], hours, good=99_950, valid=100_000)
    return {"clockin": clockin, "payroll": payroll, **made}


@time_machine.travel(NOW, tick=False)
def test_budgets_are_counted_per_service_with_the_least_left(client, owner, budgets, team):
    page = page_of(client, owner)
    clockin = service_row(page, budgets["clockin"].pk)
    assert [cell(clockin, state) for state in ("healthy", "at_risk", "exhausted", "no_data")] == [
        "1",
        "1",
        "1",
        "1",
    ]
    assert 'data-worst="-78.6"' in clockin
    payroll = service_row(page, budgets["payroll"].pk)
    assert [cell(payroll, state) for state in ("healthy", "at_risk", "exhausted", "no_data")] == [
        "1",
        "0",
        "0",
        "0",
    ]
    assert 'data-worst="50.0"' in payroll
    # Not a row per SLO: no SLO's name is on the page (none burns, is low or is due)…
    assert "healthy</a>" not in page and "exports</a>" not in page
    # …but the team's total and each count link to the SLO list, filtered in its URL.
    list_url = reverse("slos:list")
    assert f'href="{list_url}?team=kintai"' in page
    assert f'href="{list_url}?team=kintai&amp;service={budgets["clockin"].pk}"' in clockin
    assert (
        f'href="{list_url}?team=kintai&amp;service={budgets["clockin"].pk}&amp;state=at_risk"'
        in clockin
    )
    assert "&amp;state=at_risk" not in payroll  # no link on a zero
    # The link's filters are the list's own: it shows the one at-risk SLO of the service.
    listed = client.get(
        list_url, {"team": "kintai", "service": budgets["clockin"].pk, "state": "at_risk"}
    ).content.decode()
    assert re.findall(r'<a href="/slos/\d+/">([^<]+)</a>', listed) == ["at risk"]


@time_machine.travel(NOW, tick=False)
def test_running_low_is_kept(client, owner, budgets):
    page = page_of(client, owner)
    assert f'data-low-slo="{budgets["exhausted"].pk}"' in page
    assert f'data-low-slo="{budgets["at risk"].pk}"' in page
    assert f'data-low-slo="{budgets["healthy"].pk}"' not in page


@time_machine.travel(NOW, tick=False)
def test_a_retired_slo_is_not_counted(client, owner, budgets):
    budgets["exhausted"].retired_at = NOW - timedelta(days=1)
    budgets["exhausted"].save()
    clockin = service_row(page_of(client, owner), budgets["clockin"].pk)
    assert cell(clockin, "exhausted") == "0"


# --- Burning, and since when -----------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_burning_slo_says_since_when(client, owner, service, data_source):
    """5% errors for the last three hours: a burn of 50, the fast page (1h/5m) fired at
    the end of each of them; before that, calm. Since: the start of the first of them,
    three hours before the last complete hour's end: 09:00 in Tokyo."""
    slo = SLOFactory(service=service, data_source=data_source, name="Clock-ins succeed")
    hours = hours_before(END, WINDOW_HOURS)
    hourly_buckets(slo, hours[3:], good=100_000, valid=100_000)
    hourly_buckets(slo, hours[:3], good=95_000, valid=100_000)
    page = page_of(client, owner)
    burning = page[page.index(f'data-burning-slo="{slo.pk}"') :]
    burning = burning[: burning.index("</li>")]
    assert f'data-burning-since="{(END - timedelta(hours=3)).isoformat()}"' in burning
    assert "since 3 Nov 2026 09:00 JST (3 hours 30 minutes)" in burning
    assert "burning fast" in burning


@time_machine.travel(NOW, tick=False)
def test_burning_beyond_the_look_back_says_more_than_a_week(client, owner, service, data_source):
    # 0.5% errors all window: a burn of 5, the 3d/6h ticket (9.3 for 28 days: no; the
    # 1d/2h ticket needs 2.8: yes) every hour for 28 days.
    slo = SLOFactory(service=service, data_source=data_source, name="Slow leak")
    hourly_buckets(slo, hours_before(END, WINDOW_HOURS), good=99_500, valid=100_000)
    page = page_of(client, owner)
    burning = page[page.index(f'data-burning-slo="{slo.pk}"') :]
    assert "for more than 7 days" in burning[: burning.index("</li>")]


@time_machine.travel(NOW, tick=False)
def test_the_spell_is_walked_for_the_row_that_fires(owner, service, data_source):
    """The selector hands the walk the row the budget found firing: a slow burn (1d/2h
    ticket at 3) over the last 10 hours after calm, at 0.5% bad (burn 5): the day window
    holds 10 × 5 / 24 = 2.1 < 2.8 → not yet; at 20 hours, 20 × 5 / 24 = 4.2 ≥ 2.8 and
    it fired first when the day window reached 2.8 × 24 / 5 = 13.4, so at 14 hours."""
    slo = SLOFactory(service=service, data_source=data_source, name="Slow")
    hours = hours_before(END, WINDOW_HOURS)
    hourly_buckets(slo, hours[20:], good=100_000, valid=100_000)
    hourly_buckets(slo, hours[:20], good=99_500, valid=100_000)
    page = home_page(owner, at=NOW)
    [burning] = page.burning
    assert burning.row.budget.burning == BURN_ALERTS[2]
    # The day window ending k hours back holds 20 − k burning hours: ≥ 13.44 while
    # k ≤ 6; at k = 7 it holds 13 (2.7 < 2.8). The first hour: 7 hours back.
    assert burning.spell.since == END - timedelta(hours=7)
    assert not burning.spell.longer


@time_machine.travel(NOW, tick=False)
def test_the_burning_and_low_lists_show_the_first_few_and_count_the_rest(
    client, owner, service, data_source
):
    hours = hours_before(END, WINDOW_HOURS)
    burning, low = [], []
    for index in range(URGENT_SHOWN + 2):
        slo = SLOFactory(service=service, data_source=data_source, name=f"burns {index}")
        # The last hour at 2% … 13% bad (a burn of 20 to 130, the fast page): a faster
        # burn for a later index.
        hourly_buckets(slo, hours[1:], good=100_000, valid=100_000)
        hourly_buckets(slo, hours[:1], good=98_000 - 1_000 * index, valid=100_000)
        burning.append(slo)
    for index in range(URGENT_SHOWN + 3):
        slo = SLOFactory(service=service, data_source=data_source, name=f"low {index}")
        # Spent long ago, calm for three days: more spent for a later index.
        hourly_buckets(slo, hours[:72], good=100_000, valid=100_000)
        hourly_buckets(slo, hours[72:], good=99_880 - 5 * index, valid=100_000)
        low.append(slo)
    page = page_of(client, owner)
    shown = [int(pk) for pk in re.findall(r'data-burning-slo="(\d+)"', page)]
    assert shown == [slo.pk for slo in reversed(burning)][:URGENT_SHOWN]  # fastest first
    assert page.count("data-burning-since=") == URGENT_SHOWN
    assert "2 more SLOs burn: see them all in the SLO list" in page
    assert f'href="{reverse("slos:list")}?state=burning&amp;sort=burn"' in page
    shown = [int(pk) for pk in re.findall(r'data-low-slo="(\d+)"', page)]
    assert shown == [slo.pk for slo in reversed(low)][:URGENT_SHOWN]  # least left first
    assert "3 more SLOs run low" in page


def test_the_hours_the_walk_reads_leave_maintenance_out(team, service, data_source):
    """slo_hourly_counts: each SLO's (good, valid) an hour, an excluded maintenance hour
    left out (no data, as the budget counts it), a Timeslices SLO by its slices."""
    events = SLOFactory(service=service, data_source=data_source, name="events")
    hours = hours_before(END, 4)
    hourly_buckets(events, hours, good=90, valid=100)
    AnnotationFactory(
        team=team,
        service=service,
        kind="maintenance",
        excluded=True,
        starts_at=hours[1],
        ends_at=hours[1] + timedelta(hours=1),
    )
    slices = SLOFactory(service=service, data_source=data_source, name="slices")
    SLO.objects.filter(pk=slices.pk).update(
        budgeting_method="timeslices", timeslice_target=Decimal("99"), timeslice_minutes=5
    )
    slices.refresh_from_db()
    HourlyBucket.objects.bulk_create(
        [
            HourlyBucket(
                slo=slices,
                hour=END - timedelta(hours=1),
                good=1,
                valid=2,
                good_slices=11,
                total_slices=12,
            )
        ]
    )
    found = slo_hourly_counts([events, slices], start=END - timedelta(hours=4), end=END)
    assert found[events.pk] == {hour: (90.0, 100.0) for hour in hours if hour != hours[1]}
    assert found[slices.pk] == {END - timedelta(hours=1): (11.0, 12.0)}
    assert slo_hourly_counts([], start=END, end=END) == {}


def test_the_noise_chart_marks_the_weeks_over_the_target():
    figure = alerts_per_week_figure(
        [WeekCount("5 Oct", 3), WeekCount("12 Oct", 7), WeekCount("19 Oct", 1, this_week=True)],
        target=5,
    ).to_plotly_json()
    bars, line = figure["data"]
    assert list(bars["y"]) == [3, 7, 1]
    assert list(bars["marker"]["color"]) == [LINE_COLOUR, BAD_COLOUR, LINE_COLOUR]
    assert list(bars["marker"]["opacity"]) == [1, 1, 0.55]  # this week is still going
    assert list(line["y"]) == [5, 5, 5] and line["line"]["dash"] == "dash"


@time_machine.travel(NOW, tick=False)
def test_nothing_burning_says_so(client, owner, budgets):
    assert "data-nothing-burning" in page_of(client, owner)


# --- Reviews due -----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_first_slos_due_for_review_with_a_link_to_all(client, owner, team, service, other_team):
    today = date(2026, 11, 3)
    due = []
    for index in range(DUE_SHOWN + 2):
        slo = SLOFactory(service=service, name=f"Due {index}")
        slo.next_review_on = today - timedelta(days=10 - index)
        slo.save()
        due.append(slo)
    later = SLOFactory(service=service, name="Later")
    later.next_review_on = today + timedelta(days=1)
    later.save()
    theirs = SLOFactory(service=ServiceFactory(team=other_team), name="Theirs")
    theirs.next_review_on = today - timedelta(days=30)
    theirs.save()
    page = page_of(client, owner)
    shown = re.findall(r'data-due-slo="(\d+)"', page)
    assert shown == [str(slo.pk) for slo in due[:DUE_SHOWN]]  # most overdue first
    assert f'href="{reverse("slos:due", args=["kintai"])}">See all 7 SLOs due' in page
    assert f'data-due-slo="{later.pk}"' not in page
    assert "Theirs" not in page


@time_machine.travel(NOW, tick=False)
def test_due_today_is_the_team_s_today(owner, team, service):
    # 3 Nov in Tokyo (12:30); an SLO due on 3 Nov is due, one due on 4 Nov is not.
    due, tomorrow = SLOFactory(service=service), SLOFactory(service=service)
    due.next_review_on, tomorrow.next_review_on = date(2026, 11, 3), date(2026, 11, 4)
    due.save(), tomorrow.save()
    [overview] = home_page(owner, at=NOW).teams
    assert [slo.pk for slo in overview.due] == [due.pk] and overview.due_count == 1


# --- Noise -----------------------------------------------------------------------------


def alert(team, source, at, notification_class="alert"):
    return NotificationFactory(
        source=source, team=team, first_seen_at=at, notification_class=notification_class
    )


@time_machine.travel(NOW, tick=False)
def test_alerts_this_week_against_the_target_with_the_trend(client, owner, team):
    team.alerts_per_week_target = 2
    team.save()
    source = IntakeSourceFactory(team=team)
    # This week in Tokyo began Monday 2 Nov 00:00 JST = Sunday 1 Nov 15:00 UTC.
    alert(team, source, utc(2026, 11, 1, 15, 30))  # Monday 00:30 JST: this week
    alert(team, source, utc(2026, 11, 2, 1))
    alert(team, source, utc(2026, 11, 3, 2))
    alert(team, source, utc(2026, 11, 1, 14, 30))  # Sunday 23:30 JST: last week
    alert(team, source, utc(2026, 11, 3, 2), notification_class="ticket")  # not an alert
    # Ten weeks ago: four alerts; the first week the sources were heard from.
    for hour in range(4):
        alert(team, source, utc(2026, 8, 26, hour))
    page = page_of(client, owner)
    noise = section(page, "kintai")
    assert 'data-alerts-this-week="3"' in noise
    assert "3 alerts this week" in noise
    assert "Target: at most 2 a week. Last week: 1." in noise
    figure = json.loads(
        re.search(
            r'<script id="noise-trend-kintai" type="application/json">(.*?)</script>',
            noise,
            re.S,
        ).group(1)
    )
    bars = figure["data"][0]
    # From the week of 24 Aug (ten weeks before this one) to this week: 11 weeks.
    assert bars["y"] == [4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3]
    assert figure["data"][1]["y"] == [2] * 11  # the target line
    assert "Over the target in 1 week of the 10 before." in noise


@time_machine.travel(NOW, tick=False)
def test_the_trend_is_twelve_weeks_at_most(owner, team):
    source = IntakeSourceFactory(team=team)
    alert(team, source, NOW - timedelta(weeks=20))
    alert(team, source, NOW - timedelta(weeks=11, days=1))
    [overview] = home_page(owner, at=NOW).teams
    assert len(overview.noise.weeks) == 12
    assert overview.noise.weeks[0].alerts == 1


@time_machine.travel(NOW, tick=False)
def test_a_team_never_heard_from_is_told_how_to_connect(client, owner, team):
    noise = section(page_of(client, owner), "kintai")
    assert "data-no-notifications" in noise
    assert reverse("slos:intake_sources", args=["kintai"]) in noise


# --- Backlog health --------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_top_three_and_the_reserved_time_used(client, owner, team, teammate):
    items = [
        BacklogItemFactory(team=team, title=f"Item {index}", impact=index, likelihood=3)
        for index in range(4)
    ]
    backlog_settings_update(team=team, by=owner, at=NOW, reserved_hours=Decimal(10))
    # This week (from Monday 2 Nov in Tokyo): 4 hours on items, 1 not; last week 3.
    WorkLogEntryFactory(team=team, person=teammate, item=items[0], on=date(2026, 11, 2), hours=3)
    WorkLogEntryFactory(team=team, person=owner, item=items[1], on=date(2026, 11, 3), hours=1)
    WorkLogEntryFactory(team=team, person=owner, on=date(2026, 11, 3), hours=1)
    WorkLogEntryFactory(team=team, person=owner, item=items[1], on=date(2026, 11, 1), hours=3)
    page = section(page_of(client, owner), "kintai")
    top = re.findall(r'data-backlog-item="(\d+)"', page)
    assert top == [str(items[3].pk), str(items[2].pk), str(items[1].pk)]  # highest impact first
    assert "The top of the ranking (4 open items)" in page
    assert "4 h of the 10 h reserved this week logged on backlog items" in page
    assert "(40%)" in page


@time_machine.travel(NOW, tick=False)
def test_the_reserved_time_is_what_the_plan_page_counts(owner, teammate, team, other_team):
    item = BacklogItemFactory(team=team)
    backlog_settings_update(team=team, by=owner, at=NOW, reserved_share_percent=Decimal(20))
    backlog_settings_update(team=team, by=owner, at=NOW, reserved_mode="share")
    WorkLogEntryFactory(team=team, person=teammate, item=item, on=date(2026, 11, 2), hours=5)
    WorkLogEntryFactory(team=team, person=teammate, on=date(2026, 11, 2), hours=2, toil=True)
    found = reserved_time_this_week([team, other_team], at=NOW)
    plan = capacity(team, ranked_backlog(team.backlog_items.all(), at=NOW), at=NOW)
    assert found[team.pk].reserved_hours == plan.reserved_hours
    assert found[team.pk].this_week == plan.this_week
    other = capacity(other_team, [], at=NOW)
    assert found[other_team.pk].this_week == other.this_week
    assert found[other_team.pk].reserved_hours == other.reserved_hours


# --- Next retro and kudos --------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_next_retro_by_the_team_s_cadence(client, owner, team):
    # Wednesdays at 10:00 in Tokyo (the defaults), none planned yet: 4 Nov, on the list.
    page = section(page_of(client, owner), "kintai")
    assert f'<a href="{reverse("retros:list")}" data-next-retro="">4 Nov 2026 10:00 JST' in page
    assert not RetroSession.objects.exists()  # home plans nothing: it only reads


@time_machine.travel(NOW, tick=False)
def test_the_next_retro_is_the_planned_session_after_a_closed_one(client, owner, team):
    monday = date(2026, 11, 2)
    RetroSession.objects.create(team=team, week_of=monday, status=SessionStatus.CLOSED)
    planned = RetroSession.objects.create(
        team=team,
        week_of=monday + timedelta(days=7),
        scheduled_at=utc(2026, 11, 11, 1),
        status=SessionStatus.PLANNED,
    )
    page = section(page_of(client, owner), "kintai")
    link = f'href="{reverse("retros:detail", args=[planned.pk])}" data-next-retro="{planned.pk}"'
    assert link in page
    assert "11 Nov 2026 10:00 JST" in page


@time_machine.travel(NOW, tick=False)
def test_a_live_retro_is_joined(client, owner, team):
    live = RetroSession.objects.create(
        team=team, week_of=date(2026, 11, 2), status=SessionStatus.LIVE, started_at=NOW
    )
    page = section(page_of(client, owner), "kintai")
    assert reverse("retros:present", args=[live.pk]) in page and "live now" in page


@time_machine.travel(NOW, tick=False)
def test_the_latest_kudos(client, owner, team, teammate):
    for index in range(4):
        kudos_add(
            team=team,
            user=owner,
            person=teammate,
            person_name="",
            what=f"Kudos number {index}",
            practice="monitoring",
            at=NOW - timedelta(days=4 - index),
        )
    page = section(page_of(client, owner), "kintai")
    assert [int(n) for n in re.findall(r"Kudos number (\d)", page)] == [3, 2, 1]


# --- Who sees what ---------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_only_the_person_s_teams_appear(client, owner, outsider, other_team, budgets):
    theirs = SLOFactory(
        service=ServiceFactory(team=other_team, name="Their service"),
        data_source=DataSourceFactory(team=other_team),
        name="Their SLO",
    )
    hourly_buckets(theirs, hours_before(END, WINDOW_HOURS), good=95_000, valid=100_000)
    kudos_add(
        team=other_team,
        user=outsider,
        person=outsider,
        person_name="",
        what="Their secret kudos",
        practice="monitoring",
        at=NOW,
    )
    mine = page_of(client, owner)
    assert 'data-team="kintai"' in mine and 'data-team="other"' not in mine
    assert "Their service" not in mine and "Their SLO" not in mine
    assert "Their secret kudos" not in mine
    client.logout()
    theirs_page = page_of(client, outsider)
    assert 'data-team="other"' in theirs_page and 'data-team="kintai"' not in theirs_page
    assert f'data-burning-slo="{theirs.pk}"' in theirs_page
    assert "Clock-in API" not in theirs_page


@time_machine.travel(NOW, tick=False)
def test_every_role_sees_its_team(client, team, teammate, viewer, budgets):
    for user in (teammate, viewer):
        client.logout()
        assert f'data-service="{budgets["clockin"].pk}"' in page_of(client, user)


@time_machine.travel(NOW, tick=False)
def test_a_person_in_two_teams_sees_both(client, owner, other_team, budgets):
    MembershipFactory(team=other_team, user=owner, role=Role.VIEWER)
    page = page_of(client, owner)
    assert page.index('data-team="kintai"') < page.index('data-team="other"')  # by name


def test_no_team_yet(client, db):
    user = MembershipFactory(team=TeamFactory()).user
    user.memberships.all().delete()
    page = page_of(client, user)
    assert "You are not in any team yet" in page


def test_signed_out_goes_to_the_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- A fixed number of queries -----------------------------------------------------------


def fill_team(team, owner, *, slos: int, burning: int = 1) -> None:
    """`slos` SLOs over two services, each with a day of calm rows, `burning` of them
    burning; a review due, alerts, backlog items on an SLO, work logged, a planned retro
    and kudos: every part of home has something to read."""
    source = DataSourceFactory(team=team)
    services = [ServiceFactory(team=team, name=f"{team.slug} service {i}") for i in range(2)]
    made = [
        SLOFactory(service=services[index % 2], data_source=source, name=f"{team.slug} {index}")
        for index in range(slos)
    ]
    for index, slo in enumerate(made):
        hours = hours_before(END, 24)
        if index < burning:
            hourly_buckets(slo, hours, good=95_000, valid=100_000)
        else:
            hourly_buckets(slo, hours, good=100_000, valid=100_000)
    made[0].next_review_on = date(2026, 11, 1)
    made[0].save()
    intake = IntakeSourceFactory(team=team)
    alert(team, intake, NOW - timedelta(days=1))
    alert(team, intake, NOW - timedelta(days=9))
    item = BacklogItemFactory(team=team, slo=made[0], created_by=owner, owner=owner)
    BacklogItemFactory(team=team)
    WorkLogEntryFactory(team=team, person=owner, item=item, on=date(2026, 11, 2), hours=2)
    RetroSession.objects.create(
        team=team,
        week_of=date(2026, 11, 2),
        scheduled_at=utc(2026, 11, 4, 1),
        status=SessionStatus.PLANNED,
    )
    kudos_add(
        team=team,
        user=owner,
        person=owner,
        person_name="",
        what="Did it",
        practice="monitoring",
        at=NOW,
    )
    for service in services:
        assess(service, owner, monitoring=2)


def assess(service, by, *, on: date = date(2026, 10, 30), **enablement_by_level: int) -> None:
    """A hierarchy round: every level at 3 with its checklist complete, unless given."""
    answers = [
        LevelAnswer(level.key, enablement_by_level.get(level.key, 3), frozenset(level.item_keys))
        for level in LEVELS
    ]
    hierarchy_assessment_record(service=service, by=by, at=NOW, assessed_on=on, answers=answers)


def home_queries(client, user, *, kept: bool = False) -> list[str]:
    """The statements of one request of home; with nothing kept from an earlier read of
    the budgets, unless `kept`."""
    client_for(client, user)
    if not kept:
        kept_sums_forget()
    with CaptureQueriesContext(connection) as sent:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return [query["sql"] for query in sent.captured_queries]


# The session and the user (2); the memberships with their teams (1); the SLOs, their
# exclusions and their sums (3: day rows and hours in one query on PostgreSQL, the hours
# on SQLite); reviews due (1); notifications per day (1); the backlog (9: items, their
# teams, people and SLOs, the teams' settings, the linked SLOs' budgets as three, and
# freeze steps); the work log and the reserved-time settings (2); retros (1); kudos (1);
# the burning SLOs' exclusions and hours (2); the hierarchy's latest rounds (1). With
# the budgets' sums not kept from an earlier read, on PostgreSQL: NOTHING_KEPT more.
HOME_QUERIES = 24 + NOTHING_KEPT
HOME_QUERIES_KEPT = 24


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("slos", [1, 200])
def test_home_runs_the_same_queries_whatever_the_number_of_slos(
    client, owner, team, slos, django_assert_num_queries
):
    fill_team(team, owner, slos=slos)
    client_for(client, owner)
    kept_sums_forget()
    with django_assert_num_queries(HOME_QUERIES):
        page = client.get(reverse("home")).content.decode()
    assert page.count("data-burning-slo=") == 1
    assert 'data-alerts-this-week="1"' in page
    budgets_read_ahead(at=NOW)  # as the beat does when the hour begins
    with django_assert_num_queries(HOME_QUERIES_KEPT):
        again = client.get(reverse("home")).content.decode()
    assert again.count("data-burning-slo=") == 1


@time_machine.travel(NOW, tick=False)
def test_home_runs_the_same_queries_whatever_the_number_of_teams(client, owner, team):
    fill_team(team, owner, slos=3)
    one_team = home_queries(client, owner)
    for index in range(2):
        other = TeamFactory(name=f"Team {index}", slug=f"team-{index}", time_zone="Europe/Paris")
        MembershipFactory(team=other, user=owner, role=Role.MEMBER)
        fill_team(other, owner, slos=5, burning=2)
    three_teams = home_queries(client, owner)
    assert len(three_teams) == len(one_team) == HOME_QUERIES
    budgets_read_ahead(at=NOW)
    assert len(home_queries(client, owner, kept=True)) == HOME_QUERIES_KEPT
    page = client.get(reverse("home")).content.decode()
    assert page.count('class="team-overview"') == 3
    assert page.count("data-burning-slo=") == 5


@time_machine.travel(NOW, tick=False)
def test_a_team_with_nothing_yet_reads_less_not_more(client, owner, team):
    assert len(home_queries(client, owner)) <= HOME_QUERIES


# Made once: the team's Monday in Tokyo and the cadence the tests above rely on.
def test_the_fixture_team_meets_on_wednesdays_at_ten(team):
    assert (team.retro_weekday, team.retro_time) == (2, time(10, 0))


@time_machine.travel(NOW, tick=False)
def test_each_team_s_weakest_hierarchy_level_is_its_next_focus(
    client, owner, team, other_team, service
):
    MembershipFactory(team=other_team, user=owner, role=Role.VIEWER)
    page = page_of(client, owner)
    assert "No service has been assessed yet." in section(page, team.slug)

    # Monitoring met (enablement 2), incident response still done by the SRE: the lowest
    # level not met is the next focus, whatever comes above it.
    assess(service, owner, monitoring=2, incident_response=1, capacity_planning=0)
    page = page_of(client, owner)
    mine = section(page, team.slug)
    assert 'data-weakest-level="incident_response"' in mine
    assert "Next focus: Incident response" in mine
    assert "No service has been assessed yet." in section(page, other_team.slug)

    # A later round that meets every level names the least enabled one instead.
    assess(service, owner, on=date(2026, 11, 1), monitoring=2)
    mine = section(page_of(client, owner), team.slug)
    assert 'data-weakest-level="monitoring"' in mine
    assert "Every level is met; the least enabled is Monitoring." in mine
