"""The demo data is believable and a rerun duplicates nothing: SLOs with 90 days of
data, error tickets taken in by the real intake, last week's closed retro with its
decisions, actions and kudos, and this week's planned one."""

from django.core.management import call_command
from django.utils import timezone

from portal.models import Membership, Team
from portal.weeks import week_monday
from retros.models import (
    ActionOutcome,
    ActionReview,
    ActionStatus,
    BudgetSnapshot,
    Kudos,
    RetroAction,
    RetroSession,
    SessionStatus,
    TicketDecision,
)
from slos.budget import BudgetStatus
from slos.models import SLO, HourlyBucket, Notification, Service
from slos.registry.selectors import slos_with_budgets
from toil.models import (
    BacklogItem,
    BacklogItemChange,
    BacklogSettingsChange,
    WorkLogEntry,
)
from toil.selectors import capacity, ranked_backlog


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in [
            Team,
            Membership,
            Service,
            SLO,
            HourlyBucket,
            RetroSession,
            BudgetSnapshot,
            BacklogItem,
            BacklogItemChange,
            BacklogSettingsChange,
            WorkLogEntry,
            Notification,
            TicketDecision,
            RetroAction,
            ActionReview,
            Kudos,
        ]
    }


def test_seed_demo_twice(db, capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")

    assert counts() == first
    assert first["Service"] == 3 and first["SLO"] == 4
    assert first["HourlyBucket"] == 4 * 90 * 24
    # Two closed retros (four SLOs frozen in each) and this week's planned one.
    assert first["RetroSession"] == 3 and first["BudgetSnapshot"] == 8
    assert first["Notification"] == 5 and first["Kudos"] == 4
    # Eleven backlog items and the one a retro sent there; seven status changes, an edit
    # and a pin in their history; two changes of the team's settings.
    assert first["BacklogItem"] == 12 and first["BacklogItemChange"] == 9
    assert first["BacklogSettingsChange"] == 2
    # Eight full weeks of work logged (41 entries) and this week's up to today.
    assert 42 <= first["WorkLogEntry"] <= 47
    assert "demo / reliability-demo" in capsys.readouterr().out
    statuses = {row.budget.status for row in slos_with_budgets(SLO.objects, at=timezone.now())}
    # The incidents leave at least one SLO in trouble and at least one healthy.
    assert BudgetStatus.HEALTHY in statuses
    assert statuses & {BudgetStatus.AT_RISK, BudgetStatus.EXHAUSTED}


def test_seed_demo_gives_the_pm_a_plan_to_read(db):
    call_command("seed_demo")
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


def test_seed_demo_holds_last_weeks_retro_and_plans_this_weeks(db):
    call_command("seed_demo")
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
    assert decisions["Payroll export retried 3 times"].decision == "dismiss"
    assert decisions["Admin monthly report timed out"].decision == ""
    outcomes = sorted(last.action_reviews.values_list("outcome", flat=True))
    assert outcomes == [ActionOutcome.CARRIED, ActionOutcome.DONE]
    assert last.kudos.count() == 2 and last.session_notes.count() == 1
    assert RetroAction.objects.filter(team=team, status=ActionStatus.OPEN).count() == 2

    planned = RetroSession.objects.get(team=team, status=SessionStatus.PLANNED)
    assert planned.week_of == this_monday
