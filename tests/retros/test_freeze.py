"""Starting a session freezes its whole agenda; a planned session's agenda is a live
preview of what starting it would freeze."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retros.models import RetroSession
from retros.selectors import retro_agenda
from retros.services import (
    kudos_add,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
)
from slos.registry import services as slo_services
from tests.conftest import utc
from tests.factories import (
    AnnotationFactory,
    BacklogItemFactory,
    BudgetPolicyStepFactory,
    HandFedSLOFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    ServiceFactory,
    hourly_buckets,
    hours_from,
)

STARTED = utc(2025, 3, 12, 1, 30)  # Wednesday 10:30 in Tokyo
DAY_BEFORE = utc(2025, 3, 11, 1)


@pytest.fixture
def slo(service):
    slo = HandFedSLOFactory(service=service, name="Clock-in availability", target=Decimal("99.9"))
    # 24 000 valid, 12 bad against 99.9%: 24 bad allowed, half the budget left.
    hourly_buckets(slo, hours_from(DAY_BEFORE, 24), good=999.5, valid=1000)
    return slo


@pytest.fixture
def source(team):
    return IntakeSourceFactory(team=team, kind="alertmanager")


def ticket(source, title: str, *, at, slo=None):
    return NotificationFactory(
        source=source,
        title=title,
        notification_class="ticket",
        first_seen_at=at,
        slo=slo,
        service=slo.service if slo else None,
    )


def what_changes(slo, source):
    """A pull that writes new hours (the day before, all bad), an edit of the SLO, and a
    ticket first seen after the start."""
    hourly_buckets(slo, hours_from(DAY_BEFORE - timedelta(days=1), 24), good=990, valid=1000)
    slo_services.slo_update(slo=slo, user=None, at=STARTED, target=Decimal("99.5"), name="Renamed")
    ticket(source, "Arrived later", at=STARTED + timedelta(minutes=5))


def shown(agenda):
    budgets = [
        (row.slo_name, row.target, row.error_budget_remaining, row.bad_events)
        for row in agenda.budgets
    ]
    days = [panel.days for panel in agenda.dashboard]
    return budgets, days, [row.title for row in agenda.tickets]


def test_a_pull_an_edit_and_a_ticket_after_the_start_change_nothing(team, owner, slo, source):
    ticket(source, "Before the start", at=STARTED - timedelta(hours=3), slo=slo)
    session = retro_session_start(
        session=retro_session_plan(team=team, at=STARTED), user=owner, at=STARTED
    )
    later = STARTED + timedelta(hours=2)
    before = shown(retro_agenda(session, at=later))
    figures = retro_agenda(session, at=later).dashboard[0].figures

    what_changes(slo, source)

    agenda = retro_agenda(session, at=later)
    assert shown(agenda) == before
    assert before[0] == [("Clock-in availability", Decimal("99.9"), pytest.approx(0.5), 12)]
    assert before[2] == ["Before the start"]
    assert agenda.dashboard[0].figures == figures


def test_a_planned_session_previews_current_data(team, owner, slo, source):
    ticket(source, "Before the start", at=STARTED - timedelta(hours=3), slo=slo)
    session = retro_session_plan(team=team, at=STARTED)
    later = STARTED + timedelta(hours=2)
    budgets, _days, titles = shown(retro_agenda(session, at=later))
    assert budgets == [("Clock-in availability", Decimal("99.9"), pytest.approx(0.5), 12)]

    what_changes(slo, source)

    agenda = retro_agenda(session, at=later)
    budgets, days, titles = shown(agenda)
    assert agenda.preview
    assert budgets == [("Renamed", Decimal("99.5"), pytest.approx(1 - 252 / 240), 252)]
    assert titles == ["Before the start", "Arrived later"]
    assert session.snapshots.count() == 0


def test_the_preview_is_what_the_start_freezes(team, owner, teammate, slo, source):
    BudgetPolicyStepFactory(slo=slo, below_percent=Decimal("75"), action="Slow down releases")
    BudgetPolicyStepFactory(slo=slo, below_percent=Decimal("25"), action="Freeze releases")
    AnnotationFactory(team=team, slo=slo, kind="deploy", starts_at=DAY_BEFORE, text="v2")
    ticket(source, "Disk filling up", at=STARTED - timedelta(hours=3), slo=slo)
    kudos_add(
        team=team,
        user=owner,
        person=teammate,
        person_name="",
        what="Tuned the alert",
        practice="monitoring",
        at=STARTED - timedelta(days=1),
    )
    BacklogItemFactory(team=team, title="Add retries", impact=3)
    session = retro_session_plan(team=team, at=STARTED)

    with time_machine.travel(STARTED, tick=False):
        preview = retro_agenda(session, at=STARTED)
        retro_session_start(session=session, user=owner, at=STARTED)
        frozen = retro_agenda(session, at=STARTED)

    def plain(agenda):
        return {
            "budgets": [{**asdict(row), "snapshot_id": None} for row in agenda.budgets],
            "days": [panel.days for panel in agenda.dashboard],
            "marks": [panel.marks for panel in agenda.dashboard],
            "burns": [panel.top_burns for panel in agenda.dashboard],
            "tickets": [(row.title, row.slo_name, row.carried) for row in agenda.tickets],
            "reviews": [(row.slo_name, row.provisional) for row in agenda.reviews],
            "kudos": [row.what for row in agenda.kudos],
            "work": agenda.work,
        }

    assert plain(preview) == plain(frozen)
    budget = frozen.budgets[0]
    assert budget.policy_step == "Slow down releases"
    assert budget.burning is False
    assert [burn.annotations for burn in frozen.dashboard[0].top_burns] == [("v2",), (), ()]
    assert [item.title for item in frozen.work.top] == ["Add retries"]
    assert set(frozen.dashboard[0].figures) == {"sli", "burndown", "burn_rate"}


def test_kudos_are_shown_once(team, owner, teammate):
    def noted(what: str, at) -> None:
        kudos_add(
            team=team,
            user=owner,
            person=teammate,
            person_name="",
            what=what,
            practice="postmortems",
            at=at,
        )

    noted("Wrote the postmortem", STARTED - timedelta(days=2))
    first = retro_session_start(
        session=retro_session_plan(team=team, at=STARTED), user=owner, at=STARTED
    )
    retro_session_close(session=first, user=owner, at=STARTED + timedelta(minutes=30))
    noted("Ran the game day", STARTED + timedelta(days=2))
    next_week = STARTED + timedelta(days=7)
    second = retro_session_plan(team=team, at=next_week)
    assert [row.what for row in retro_agenda(second, at=next_week).kudos] == ["Ran the game day"]
    retro_session_start(session=second, user=owner, at=next_week)

    assert [row.what for row in retro_agenda(first, at=next_week).kudos] == ["Wrote the postmortem"]
    assert [row.what for row in retro_agenda(second, at=next_week).kudos] == ["Ran the game day"]


def data_set(team, service, source, owner, *, slos: int, tickets: int) -> None:
    for index in range(slos):
        slo = HandFedSLOFactory(service=service, name=f"SLO {index}")
        hourly_buckets(slo, hours_from(DAY_BEFORE, 24), good=999, valid=1000)
        BudgetPolicyStepFactory(slo=slo, below_percent=Decimal("50"), action="Slow down")
        AnnotationFactory(team=team, slo=slo, starts_at=DAY_BEFORE, text=f"Deploy {index}")
    for index in range(tickets):
        ticket(source, f"Ticket {index}", at=STARTED - timedelta(hours=1 + index))
    for index in range(tickets):
        BacklogItemFactory(team=team, title=f"Item {index}")


def queries(session) -> int:
    with CaptureQueriesContext(connection) as captured:
        agenda = retro_agenda(session, at=STARTED)
        [panel.figures for panel in agenda.dashboard]
    assert len(agenda.budgets) == len(agenda.tickets) > 0
    return len(captured)


@pytest.mark.parametrize("started", [False, True], ids=["planned", "live"])
def test_the_agenda_runs_a_fixed_number_of_queries(
    django_assert_num_queries, team, other_team, owner, started
):
    sessions = []
    for this_team, size in ((team, 1), (other_team, 8)):
        member = MembershipFactory(team=this_team).user
        data_set(
            this_team,
            ServiceFactory(team=this_team),
            IntakeSourceFactory(team=this_team),
            member,
            slos=size,
            tickets=size,
        )
        session = retro_session_plan(team=this_team, at=STARTED)
        if started:
            retro_session_start(session=session, user=member, at=STARTED)
        sessions.append(RetroSession.objects.select_related("team").get(pk=session.pk))
    small, large = sessions

    with django_assert_num_queries(queries(small)):
        agenda = retro_agenda(large, at=STARTED)
        [panel.figures for panel in agenda.dashboard]
    assert len(agenda.budgets) == 8 and len(agenda.tickets) == 8
