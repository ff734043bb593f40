"""Sessions on the team's weekly cadence: planned ahead, started (live), closed."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retros.models import RetroSession, SessionStatus
from retros.selectors import follow_state, retro_agenda
from retros.services import (
    kudos_add,
    retro_action_add,
    retro_attend,
    retro_note_add,
    retro_section_move,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
)
from slos.models import OutboxMessage
from slos.registry.services import slo_review_record
from tests.conftest import utc
from tests.factories import HandFedSLOFactory, hourly_buckets, hours_from

MONDAY = date(2025, 3, 10)
AT = utc(2025, 3, 11, 1)  # Tuesday 10:00 in Tokyo


def retro_follow_state(session_id: int) -> tuple[int, int]:
    """(version, section) as the meeting screen's poll reads them."""
    state, _team_id = follow_state(session_id, at=AT)
    return state.version, state.section


@pytest.fixture
def cadence(team):
    team.retro_weekday, team.retro_time, team.retro_minutes = 2, time(10, 0), 45
    team.save()
    return team


def test_plan_makes_the_next_session_once(cadence):
    session = retro_session_plan(team=cadence, at=AT)

    assert session.status == SessionStatus.PLANNED
    assert session.week_of == MONDAY
    # Wednesday 10:00 in Tokyo is 01:00 UTC.
    assert session.scheduled_at == utc(2025, 3, 12, 1)
    assert session.length_minutes == 45
    assert retro_session_plan(team=cadence, at=AT + timedelta(hours=5)) == session
    assert RetroSession.objects.count() == 1


def test_after_the_close_the_next_week_is_planned(cadence, owner):
    session = retro_session_plan(team=cadence, at=AT)
    retro_session_start(session=session, user=owner, at=AT)
    assert retro_session_plan(team=cadence, at=AT) == session  # live: still this week's

    retro_session_close(session=session, user=owner, at=AT + timedelta(minutes=30))
    following = retro_session_plan(team=cadence, at=AT + timedelta(hours=1))

    assert following != session
    assert following.week_of == MONDAY + timedelta(days=7)
    assert following.status == SessionStatus.PLANNED


def test_start_freezes_and_records_who(team, owner, teammate):
    session = retro_session_plan(team=team, at=AT)
    retro_session_start(session=session, user=teammate, at=AT)

    session.refresh_from_db()
    assert session.status == SessionStatus.LIVE
    assert session.started_at == AT
    assert session.facilitator == teammate
    assert list(session.attendees.all()) == [teammate]
    assert (session.current_section, session.section_started_at) == (0, AT)
    with pytest.raises(ValueError):
        retro_session_start(session=session, user=owner, at=AT)


def test_moving_makes_the_mover_facilitator_and_bumps_the_version(team, owner, teammate):
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    version, _section = retro_follow_state(session.pk)
    later = AT + timedelta(minutes=3)

    retro_section_move(session=session, user=teammate, index=3, at=later)

    assert retro_follow_state(session.pk) == (version + 1, 3)
    session.refresh_from_db()
    assert (session.facilitator, session.section_started_at) == (teammate, later)
    with pytest.raises(ValueError):
        retro_section_move(session=session, user=owner, index=8, at=later)


def test_follow_state_is_one_query(team, owner):
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    with CaptureQueriesContext(connection) as captured:
        retro_follow_state(session.pk)
    assert len(captured) == 1


def test_writes_bump_the_version_and_attending_is_idempotent(team, owner, teammate):
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    before, _section = retro_follow_state(session.pk)

    retro_note_add(session=session, user=teammate, section="budgets", text="Why 5xx?", at=AT)
    retro_action_add(session=session, user=owner, text="Fix it", owner=teammate, due_on=None, at=AT)
    kudos_add(
        team=team,
        user=owner,
        person=teammate,
        person_name="",
        what="Wrote the runbook",
        practice="incident_response",
        at=AT,
    )
    retro_attend(session=session, user=teammate)
    retro_attend(session=session, user=teammate)

    assert retro_follow_state(session.pk)[0] == before + 3
    assert session.attendees.count() == 2
    agenda = retro_agenda(session, at=AT)
    assert [note.text for note in agenda.notes_for("budgets")] == ["Why 5xx?"]
    assert [action.text for action in agenda.new_actions] == ["Fix it"]
    assert [kudos.person_name for kudos in agenda.kudos] == ["teammate"]


def test_writes_to_a_closed_session_are_refused(team, owner, teammate):
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    retro_session_close(session=session, user=owner, at=AT + timedelta(minutes=30))
    later = AT + timedelta(hours=1)

    for write in (
        lambda: retro_note_add(session=session, user=owner, section="kudos", text="x", at=later),
        lambda: retro_section_move(session=session, user=owner, index=2, at=later),
        lambda: retro_action_add(
            session=session, user=owner, text="x", owner=None, due_on=None, at=later
        ),
        lambda: retro_session_close(session=session, user=owner, at=later),
        lambda: retro_session_start(session=session, user=owner, at=later),
        lambda: retro_attend(session=session, user=teammate),
    ):
        with pytest.raises(ValueError, match="closed"):
            write()
    assert session.session_notes.count() == 0


def test_a_planned_session_takes_no_notes(team, owner):
    session = retro_session_plan(team=team, at=AT)
    with pytest.raises(ValueError):
        retro_note_add(session=session, user=owner, section="kudos", text="x", at=AT)


def test_close_writes_the_summary_and_queues_it_to_slack(team, owner, service):
    team.slack_webhook_url = "https://hooks.slack.com/services/T/B/x"
    team.save()
    slo = HandFedSLOFactory(service=service, name="Clock-in availability")
    hourly_buckets(slo, hours_from(AT - timedelta(days=1), 24), good=999, valid=1000)
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    retro_action_add(
        session=session, user=owner, text="Add a canary", owner=owner, due_on=None, at=AT
    )

    retro_session_close(session=session, user=owner, at=AT + timedelta(minutes=30))

    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED
    assert session.closed_at == AT + timedelta(minutes=30)
    assert "Clock-in availability" in session.summary
    assert "Add a canary" in session.summary
    assert OutboxMessage.objects.filter(team=team, kind="summary").count() == 1


def test_close_without_a_webhook_queues_nothing(team, owner):
    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)
    retro_session_close(session=session, user=owner, at=AT + timedelta(minutes=30))
    assert OutboxMessage.objects.count() == 0


def test_retired_slos_are_not_snapshotted(team, owner, service):
    kept = HandFedSLOFactory(service=service, name="Kept")
    retired = HandFedSLOFactory(service=service, name="Retired")
    slo_review_record(
        slo=retired, user=owner, decision="retire", note="gone", new_target=None, at=AT
    )

    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)

    assert [snapshot.slo_id for snapshot in session.snapshots.all()] == [kept.pk]
    assert [review.slo_id for review in session.reviews.all()] == [kept.pk]


def test_calendar_window_slos_snapshot_their_period(team, owner, service):
    HandFedSLOFactory(service=service, name="Monthly", window_kind="calendar")
    HandFedSLOFactory(
        service=service, name="Quarterly", window_kind="calendar", calendar_period="quarter"
    )
    HandFedSLOFactory(service=service, name="Rolling", window_days=7)

    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)

    windows = {
        snapshot.slo_name: (snapshot.window_kind, snapshot.window_days, snapshot.calendar_period)
        for snapshot in session.snapshots.all()
    }
    assert windows == {
        "Monthly": ("calendar", None, "month"),
        "Quarterly": ("calendar", None, "quarter"),
        "Rolling": ("rolling", 7, ""),
    }
    labels = {row.slo_name: row.window_label for row in retro_agenda(session, at=AT).budgets}
    assert labels == {"Monthly": "Month", "Quarterly": "Quarter", "Rolling": "7 days"}


def test_a_monthly_slo_counts_from_the_first_of_the_month(team, owner, service):
    monthly = HandFedSLOFactory(service=service, name="Monthly", window_kind="calendar")
    # February's bad hours are outside March's window; March's ten days are all good.
    hourly_buckets(monthly, hours_from(utc(2025, 2, 20), 24 * 5), good=900, valid=1000)
    march = utc(2025, 2, 28, 15)  # 1 March 00:00 in Tokyo
    hourly_buckets(monthly, hours_from(march, 24 * 10 - 1), good=1000, valid=1000)

    session = retro_session_start(session=retro_session_plan(team=team, at=AT), user=owner, at=AT)

    snapshot = session.snapshots.get()
    assert snapshot.bad_events == 0
    assert snapshot.error_budget_remaining == pytest.approx(1)
    assert snapshot.days[0][0] == "2025-03-01"
    assert snapshot.target == Decimal("99.5")
