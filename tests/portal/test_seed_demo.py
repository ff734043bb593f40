"""The demo fills every page, its history is relative to now, and a rerun rebuilds it
without duplicating anything: SLOs with 90 days of data and the pulls that stored it,
eight weeks of notifications taken in by the real intake and routed by a policy that
changed, failed Slack deliveries, past retros with their decisions and actions, and a
backlog with work logged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.demo.survey import SURVEY_PEOPLE
from portal.hierarchy.selectors import weakest_levels
from portal.models import HierarchyAnswer, HierarchyAssessment, SurveyAnswer, SurveyRound, Team
from portal.overview import BACKLOG_SHOWN, home_page
from portal.weeks import week_monday
from retros.models import (
    ActionOutcome,
    ActionStatus,
    RetroAction,
    RetroSession,
    SessionStatus,
    TicketDecisionKind,
)
from slos.budget import HOUR, BudgetStatus, align_to_hour
from slos.models import (
    SLO,
    DataSource,
    HourlyBucket,
    IntakeStatus,
    Notification,
    NotificationClass,
    OutboxStatus,
    PullRun,
    PullStatus,
    PullTrigger,
    RoutingPolicyChange,
    Service,
    TicketStatus,
)
from slos.registry.selectors import slos_with_budgets
from toil.models import BacklogItem, BacklogItemChange
from toil.selectors import capacity, ranked_backlog

APPS = ("portal", "slos", "toil", "retros")


def counts() -> dict[str, int]:
    """Rows of every model of the portal's apps, many-to-many tables included."""
    return {
        model._meta.label: model.objects.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


# A Monday just after midnight in Tokyo (this week's retro still ahead, last week's
# four days back) and a Sunday night (the outage almost two weeks back).
MOMENTS = [
    datetime(2026, 3, 1, 15, 30, tzinfo=UTC),
    datetime(2026, 3, 8, 14, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=["monday", "sunday"])
def test_seed_demo_twice_leaves_the_same_rows(db, capsys, time_machine, moment):
    time_machine.move_to(moment, tick=False)
    call_command("seed_demo")
    first = counts()
    slo_ids = sorted(SLO.objects.values_list("pk", flat=True))
    call_command("seed_demo")

    assert counts() == first
    # Found again by name, not made anew: their pages keep their addresses.
    assert sorted(SLO.objects.values_list("pk", flat=True)) == slo_ids
    assert "demo / reliability-demo" in capsys.readouterr().out
    # Every part of the demo is there.
    empty = {
        label
        for label, rows in first.items()
        if rows == 0
        and label not in {"portal.ApiToken", "slos.DailyBucket", "portal.UserPreference"}
    }
    assert not empty, f"the demo leaves these empty: {sorted(empty)}"
    assert first["slos.Service"] == 3 and first["slos.SLO"] == 4
    assert first["slos.HourlyBucket"] == 4 * 90 * 24
    # Two closed retros (four SLOs frozen in each) and this week's planned one.
    assert first["retros.RetroSession"] == 3 and first["retros.BudgetSnapshot"] == 8

    # Every time is relative to now.
    team = Team.objects.get(slug="kintai")
    end = align_to_hour(moment)

    hours = HourlyBucket.objects.filter(slo__service__team=team)
    assert hours.latest("hour").hour == end - HOUR
    assert hours.earliest("hour").hour == end - 90 * 24 * HOUR
    # The data source's last success is a moment ago, and every pull is in the past.
    source = DataSource.objects.get(team=team)
    assert moment - timedelta(hours=1) <= source.last_success_at <= moment
    assert source.last_error == ""
    assert not PullRun.objects.filter(finished_at__gt=moment).exists()
    notifications = Notification.objects.filter(team=team)
    assert notifications.filter(first_seen_at__gte=moment - timedelta(days=1)).exists()
    assert not notifications.filter(last_seen_at__gt=moment).exists()
    assert not RoutingPolicyChange.objects.filter(changed_at__gt=moment).exists()

    budgets = {row.slo.name: row.budget for row in slos_with_budgets(SLO.objects, at=moment)}
    statuses = {budget.status for budget in budgets.values()}
    # The outage leaves at least one SLO in trouble and at least one healthy.
    assert BudgetStatus.HEALTHY in statuses
    assert statuses & {BudgetStatus.AT_RISK, BudgetStatus.EXHAUSTED}
    # The admin console's regression burns now (the burn table's slow ticket), and
    # nothing else does: the home page has one burning SLO to show.
    burning = {name for name, budget in budgets.items() if budget.burning is not None}
    assert burning == {"Admin pages load"}
    assert budgets["Admin pages load"].time_to_exhaustion is not None


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo as of now, built once for the tests below (each runs in a transaction
    rolled back after it) and removed after them."""
    with django_db_blocker.unblock():
        before = counts()
        call_command("seed_demo")
        yield
        # The SLOs first: their data source is protected while they use it.
        SLO.objects.filter(service__team__slug="kintai").delete()
        Team.objects.filter(slug="kintai").delete()
        get_user_model().objects.filter(username__in=["demo", "dev", "pm", *SURVEY_PEOPLE]).delete()
        assert counts() == before, "the demo left rows behind for the tests after these"


def test_seed_demo_pulls_match_the_stored_hours(seeded, db):
    team = Team.objects.get(slug="kintai")
    runs = list(PullRun.objects.filter(data_source__team=team).order_by("started_at"))
    assert {run.status for run in runs} == {PullStatus.OK, PullStatus.PARTIAL, PullStatus.FAILED}
    partial = next(run for run in runs if run.status == PullStatus.PARTIAL)
    assert [outcome["slo_name"] for outcome in partial.outcomes] == ["Payroll exports complete"]
    assert "timed out" in partial.outcomes[0]["message"]
    failed = next(run for run in runs if run.status == PullStatus.FAILED)
    assert failed.hours_stored == 0 and failed.count_failed == 4
    # Each run fetched the hours since the one before; the night after a failure caught
    # up, so every hour the runs covered was stored once, as the data shows. (A pull now
    # seeded in the hour after the nightly run finds no hour new: the same `until`.)
    for before, after in zip(runs, runs[1:], strict=False):
        assert before.until <= after.until
    assert runs[-1].trigger == PullTrigger.MANUAL
    stored = sum(run.hours_stored for run in runs)
    covered = 4 * int((runs[-1].until - runs[0].until) / HOUR) + 4 * 24
    assert stored == covered


def test_seed_demo_notifications_went_through_intake_and_routing(seeded, db):
    team = Team.objects.get(slug="kintai")
    notifications = Notification.objects.filter(team=team)
    kinds = set(notifications.values_list("source__kind", flat=True))
    assert kinds == {"alertmanager", "sentry", "generic"}
    classes = set(notifications.values_list("notification_class", flat=True))
    assert classes == {NotificationClass.ALERT, NotificationClass.TICKET, NotificationClass.LOG}
    # Every one was classified with a reason; repeats were counted on one row.
    assert not notifications.filter(reason="").exists()
    assert notifications.filter(count__gt=5).exists()
    assert notifications.filter(rule__name="Host resource alerts are logs").exists()
    assert notifications.filter(rule__name="Critical infrastructure alerts page").exists()
    # The burn alerts name their SLO by its OpenSLO name, as the portal's rules label it.
    assert notifications.filter(slo__name="Clock-ins succeed", severity="page").exists()
    # The policy changed after last week's retro; the retro escalated a ticket, which
    # added a rule too.
    changes = RoutingPolicyChange.objects.filter(team=team)
    assert changes.count() >= 4
    assert changes.filter(summary__contains="Alert: OperationalError").exists()
    # Tickets in every state the retros leave them in, some open for this week.
    statuses = set(notifications.tickets().values_list("ticket_status", flat=True))
    assert statuses >= {
        TicketStatus.OPEN,
        TicketStatus.DISMISSED,
        TicketStatus.BACKLOGGED,
        TicketStatus.ESCALATED,
    }
    requests = {row.status for row in team.intake_sources.get(kind="sentry").requests.all()}
    assert requests == {IntakeStatus.PROCESSED, IntakeStatus.REJECTED}
    # The page alerts of the outage failed to reach Slack, every attempt logged.
    failed = team.outbox_messages.get(notification__slo__name="Clock-ins succeed")
    assert failed.status == OutboxStatus.FAILED and failed.delivery_attempts.count() == 8
    assert "404" in failed.last_error
    assert team.slack_webhook_url == ""


def test_seed_demo_gives_the_pm_a_plan_to_read(seeded, db):
    team = Team.objects.get(slug="kintai")
    now = timezone.now()
    ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=now, with_hours=True)
    # A pin with its reason on top, an item flagged by a release freeze, and statuses
    # beyond "ready"; a done and a won't-do item off the ranking.
    assert ranked[0].item.pinned_reason
    assert any(row.frozen for row in ranked)
    assert {row.item.status for row in ranked} >= {"proposed", "ready", "in_progress"}
    assert BacklogItem.objects.filter(team=team, status__in=["done", "wont_do"]).count() == 2
    found = capacity(team, ranked, at=now)
    assert found.reserved_hours == 12
    # Nine weeks of work, two of them over the toil cap.
    assert all(week.all_hours for week in found.weeks[:-1])
    assert sum(week.over_toil_cap for week in found.weeks) >= 2
    assert BacklogItemChange.objects.filter(item__team=team).exists()


def test_seed_demo_holds_last_weeks_retro_and_plans_this_weeks(seeded, db):
    team = Team.objects.get(slug="kintai")
    closed = list(
        RetroSession.objects.filter(team=team, status=SessionStatus.CLOSED).order_by("week_of")
    )
    assert len(closed) == 2
    last = closed[-1]
    this_monday = week_monday(timezone.now(), team.time_zone)
    assert (this_monday - last.week_of).days == 7
    assert last.facilitator is not None and last.summary.startswith("# Retro of Kintai Cloud")

    assert last.snapshots.exclude(release_decision="").count() == 1
    assert all(snapshot.previous_remaining is not None for snapshot in last.snapshots.all())
    decisions = {item.title: item for item in last.ticket_decisions.all()}
    assert decisions["Clock-in 5xx from old tablet firmware"].backlog_item is not None
    assert decisions["Payroll export retried 3 times"].decision == TicketDecisionKind.DISMISS
    assert decisions["Admin monthly report timed out"].decision == TicketDecisionKind.UNDECIDED
    # The outage happened between the two retros, whatever the weekday today.
    assert any(title.startswith("OperationalError: QueuePool") for title in decisions)
    outcomes = sorted(last.action_reviews.values_list("outcome", flat=True))
    assert outcomes == [ActionOutcome.CARRIED, ActionOutcome.DONE]
    assert last.kudos.count() == 2 and last.session_notes.count() == 1
    assert RetroAction.objects.filter(team=team, status=ActionStatus.OPEN).count() == 3

    planned = RetroSession.objects.get(team=team, status=SessionStatus.PLANNED)
    assert planned.week_of == this_monday


def test_seed_demo_survey_shows_a_misreading_that_improved(seeded, db):
    from portal.survey.selectors import round_results

    team = Team.objects.get(slug="kintai")
    first, second = SurveyRound.objects.filter(team=team, closed_at__isnull=False).order_by(
        "number"
    )
    assert first.anonymous and not second.anonymous
    on_call = "The SRE is on call for our services."
    before = {r.text: r for r in round_results(first)}[on_call]
    after = {r.text: r for r in round_results(second)}[on_call]
    assert before.misread and not after.misread
    assert not SurveyAnswer.objects.filter(statement__round=first, respondent__isnull=False)
    assert SurveyRound.objects.get(team=team, closed_at__isnull=True).number == 3


def _text(response) -> str:
    """The page's visible words, tags and extra whitespace removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def test_every_page_of_the_demo_has_something_on_it(seeded, client):
    client.force_login(get_user_model().objects.get(username="demo"))
    team = Team.objects.get(slug="kintai")
    slo = SLO.objects.get(name="Clock-ins succeed")
    source = DataSource.objects.get(team=team)
    last_retro = RetroSession.objects.filter(status=SessionStatus.CLOSED).latest("week_of")
    planned = RetroSession.objects.get(status=SessionStatus.PLANNED)
    item = BacklogItem.objects.get(title="Retry payroll export uploads to the bank's SFTP")
    clockin = Service.objects.get(team=team, name="Clock-in API")
    pages = {
        reverse("home"): [
            "Admin pages load",  # burning, and due for review
            "Clock-ins succeed",  # running low
            "Payroll export",  # a service's budgets
            "data-burning-since",
            f'data-next-retro="{planned.pk}"',
            "Rotate the payroll bank API credentials",  # the top of the backlog
            "Sized the connection pool",  # a kudos
            "noise-trend-kintai",
        ],
        reverse("team_detail", args=["kintai"]): ["Rolled back v4.12", "Clock-in API"],
        reverse("slos:list"): ["Clock-ins answer within 500 ms", "Admin pages load"],
        reverse("slos:detail", args=[slo.pk]): [
            "Clock-in outage at the 9:00 rush",
            "Freeze feature releases",
            "data-plotly",
        ],
        reverse("slos:source_detail", args=[source.pk]): ["partial", "failed", "pull now"],
        reverse("slos:ingestion"): ["Prometheus (demo)", "nightly"],
        reverse("slos:due", args=["kintai"]): ["Admin pages load"],
        reverse("slos:intake_sources", args=["kintai"]): [
            "Alertmanager (production)",
            "Sentry: clock-in app",
            "Sentry-Hook-Signature",
        ],
        reverse("slos:routing_policy", args=["kintai"]): [
            "Host resource alerts are logs",
            "High(CPU|Memory)Usage",
        ],
        reverse("slos:slack_deliveries", args=["kintai"]): ["HTTP 404", "is burning its error"],
        reverse("slos:noise", args=["kintai"]): [
            "Added rule “Host resource alerts are logs”",
            "Memory above 85% on payroll-worker-1",
            "over the target",
        ],
        reverse("slos:ticket_queue", args=["kintai"]): [
            "ZeroDivisionError: division by zero",
            "Admin monthly report timed out",
        ],
        reverse("slos:ticket_queue", args=["kintai"]) + "?status=escalated": [
            "OperationalError: QueuePool limit"
        ],
        reverse("retros:list"): [
            f'href="{reverse("retros:detail", args=[last_retro.pk])}"',
            f'href="{reverse("retros:detail", args=[planned.pk])}"',
        ],
        reverse("retros:detail", args=[last_retro.pk]): [
            "Load-test the clock-in pool at twice the 9:00 rush",
            "The retries worked as designed",
        ],
        reverse("retros:detail", args=[planned.pk]): [
            "Move host CPU and memory alerts off the pager",
            "TLS certificate of the admin console expires in 20 days",
        ],
        reverse("retros:kudos", args=["kintai"]): ["Sized the connection pool"],
        reverse("retros:trends", args=["kintai"]): ["data-plotly"],
        reverse("toil:list"): ["Rotate the payroll bank API credentials"],
        reverse("toil:item", args=[item.pk]): ["Retry payroll export uploads"],
        reverse("toil:plan", args=["kintai"]): ["The bank's audit on the 15th"],
        reverse("toil:worklog", args=["kintai"]): ["Scripted part of the bump"],
        reverse("survey:home", args=["kintai"]): ["Round 3 is open", "Compare two rounds"],
        reverse("survey:round", args=["kintai", 1]): [
            "8 people answered.",
            "The SRE is on call for our services.",
            "misread",
        ],
        reverse("survey:round", args=["kintai", 2]): ["7 people answered.", "Agree: sota"],
        reverse("survey:round", args=["kintai", 3]): ["3 people answered so far."],
        reverse("survey:compare", args=["kintai"]) + "?before=1&after=2": [
            "Developers fix the reliability problems the SRE helps them find.",
            "The SRE decides alone whether a release goes out.",
            "Not asked in this round.",
        ],
        reverse("hierarchy:team", args=["kintai"]): [
            'data-plotly="team-radar-figure"',
            'data-plotly="team-trend-figure"',
            "Not met for Admin console.",
        ],
        reverse("hierarchy:service", args=["kintai", clockin.pk]): [
            'data-plotly="hierarchy-radar-figure"',
            "the pool-exhaustion one was written after the outage",
            "Not done yet: Each paging alert links to a runbook",
        ],
    }
    for url, markers in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        html, text = response.content.decode(), _text(response)
        missing = [marker for marker in markers if marker not in text and marker not in html]
        assert not missing, f"{url} lacks {missing}"
    # The data source has been pulled: its last success is not "never".
    detail = client.get(reverse("slos:source_detail", args=[source.pk])).content.decode()
    # (in the team's zone, labelled: "6 Dec 2026 09:00 JST")
    assert re.search(r'id="last-success">\d{1,2} \w{3} \d{4} \d\d:\d\d JST<', detail)
    assert Service.objects.filter(team=team).count() == 3


def test_seed_demo_assesses_each_service_twice_so_the_trend_shows(seeded, db):
    team = Team.objects.get(slug="kintai")
    rounds = HierarchyAssessment.objects.filter(service__team=team)
    assert sorted(rounds.values_list("service__name", flat=True)) == sorted(
        ["Admin console", "Clock-in API", "Payroll export"] * 2
    )
    assert HierarchyAnswer.objects.filter(assessment__in=rounds).count() == 6 * 7
    first, second = sorted({found.assessed_on for found in rounds})
    assert (second - first).days > 30
    # Developers took the clock-in API's monitoring over between the two rounds.
    clockin = rounds.filter(service__name="Clock-in API").order_by("assessed_on")
    levels = [found.answers.get(level="monitoring").enablement for found in clockin]
    assert levels == [1, 2]
    assert weakest_levels([team])[team.pk].level == "monitoring"


def test_the_demo_fills_every_part_of_home(seeded, db):
    """A new member opening home on the demo sees each part with something in it: a burn
    that began hours ago (not a week), an SLO due for review, weeks of alerts against the
    target, the top of the backlog with reserved time used, the planned retro, kudos."""
    now = timezone.now()
    page = home_page(get_user_model().objects.get(username="dev"), at=now)
    [kintai] = [overview for overview in page.teams if overview.team.slug == "kintai"]
    [burning] = page.burning
    assert burning.row.slo.name == "Admin pages load"
    assert burning.spell is not None and not burning.spell.longer
    assert timedelta(hours=2) <= now - burning.spell.since <= timedelta(days=6)
    assert page.low
    assert (
        sum(each.counts.total for each in kintai.services)
        == SLO.objects.filter(service__team=kintai.team).count()
    )
    assert [slo.name for slo in kintai.due] == ["Admin pages load"]
    weeks = kintai.noise.weeks
    assert len(weeks) >= 8
    assert sum(1 for week in weeks[:-1] if week.alerts) >= 6  # weeks of alerts before this one
    assert kintai.noise.weeks_over >= 1
    assert len(kintai.backlog) == BACKLOG_SHOWN
    assert kintai.reserved.reserved_hours > 0 and kintai.reserved.this_week.all_hours >= 0
    assert kintai.next_retro.session is not None
    assert kintai.next_retro.session.status == SessionStatus.PLANNED
    assert kintai.kudos
