"""One retro a team and week, closed ones included (#17). Once this week's retro is
closed, the next session is next week's, and it cannot be started before its week: the
refusal says why and links to the retro held. The database holds the rule; sessions that
shared a week before it are kept, marked extra, by migration 0007."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django import forms
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from retros.models import BudgetSnapshot, RetroSession, SessionStatus
from retros.services import (
    RetroWeekRefused,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
)
from tests.conftest import client_for, utc

TUESDAY = utc(2025, 3, 11, 1)  # 10:00 in Tokyo, week of Monday 10 March
MONDAY = date(2025, 3, 10)
NEXT_MONDAY = date(2025, 3, 17)


@pytest.fixture
def held(team, owner):
    """This week's retro, started and closed on Tuesday."""
    session = retro_session_start(
        session=retro_session_plan(team=team, at=TUESDAY), user=owner, at=TUESDAY
    )
    return retro_session_close(session=session, user=owner, at=TUESDAY + timedelta(minutes=30))


@pytest.fixture
def next_week(team, held):
    return retro_session_plan(team=team, at=TUESDAY + timedelta(hours=1))


def test_the_database_refuses_a_second_retro_in_a_week_even_beside_a_closed_one(team, held):
    assert held.status == SessionStatus.CLOSED
    with pytest.raises(IntegrityError), transaction.atomic():
        RetroSession.objects.create(team=team, week_of=MONDAY)
    assert RetroSession.objects.filter(team=team, week_of=MONDAY).count() == 1


def test_a_form_says_the_week_is_taken(team, held):
    """What the admin's add form runs: the rule is checked, not left to the database."""

    class SessionForm(forms.ModelForm):
        class Meta:
            model = RetroSession
            fields = ["team", "week_of", "status"]

    form = SessionForm({"team": team.pk, "week_of": "2025-03-10", "status": "planned"})
    assert not form.is_valid()
    assert form.non_field_errors() == ["The team already has a retro in this week."]
    other_week = SessionForm({"team": team.pk, "week_of": "2025-03-24", "status": "planned"})
    assert other_week.is_valid(), other_week.errors


def test_after_the_close_the_next_session_is_next_week_s(team, held, next_week):
    assert next_week.week_of == NEXT_MONDAY
    assert retro_session_plan(team=team, at=TUESDAY + timedelta(days=2)) == next_week
    assert RetroSession.objects.filter(team=team).count() == 2


def test_next_week_s_retro_cannot_be_held_this_week(team, owner, held, next_week):
    with pytest.raises(RetroWeekRefused) as refused:
        retro_session_start(session=next_week, user=owner, at=TUESDAY + timedelta(hours=2))

    assert refused.value.week_retro == held
    assert "17 Mar 2025" in str(refused.value)
    next_week.refresh_from_db()
    assert next_week.status == SessionStatus.PLANNED
    assert not BudgetSnapshot.objects.filter(session=next_week).exists()

    # From its Monday (Tokyo) on, it starts.
    monday_morning = utc(2025, 3, 16, 15, 30)  # Monday 00:30 in Tokyo
    retro_session_start(session=next_week, user=owner, at=monday_morning)
    assert next_week.status == SessionStatus.LIVE


def test_a_session_whose_week_is_over_is_not_started_late(team, owner):
    stale = retro_session_plan(team=team, at=TUESDAY)
    a_week_later = TUESDAY + timedelta(days=7)
    this_week = retro_session_plan(team=team, at=a_week_later)

    with pytest.raises(RetroWeekRefused) as refused:
        retro_session_start(session=stale, user=owner, at=a_week_later)
    assert refused.value.week_retro == this_week
    stale.refresh_from_db()
    assert stale.status == SessionStatus.PLANNED


def test_starting_next_week_s_retro_over_http_says_why_and_links_the_held_one(
    client, teammate, held, next_week
):
    client = client_for(client, teammate)
    with time_machine.travel(TUESDAY + timedelta(hours=2), tick=False):
        page = client.get(reverse("retros:detail", args=[next_week.pk])).content.decode()
        response = client.post(reverse("retros:start", args=[next_week.pk]))

    # The page offers no start before its week, and says when and why.
    assert reverse("retros:start", args=[next_week.pk]) not in page
    assert "Its week has not begun: it can be started from Mon 17 Mar." in page
    assert f'href="{reverse("retros:detail", args=[held.pk])}" data-week-retro' in page

    assert response.status_code == 409
    refusal = response.content.decode()
    assert "This is the retro of the week of 17 Mar 2025" in refusal
    assert f'href="{reverse("retros:detail", args=[held.pk])}" data-week-retro' in refusal
    next_week.refresh_from_db()
    assert next_week.status == SessionStatus.PLANNED


def test_the_list_links_this_week_s_retro_instead_of_showing_a_second(
    client, viewer, held, next_week
):
    with time_machine.travel(TUESDAY + timedelta(hours=2), tick=False):
        page = client_for(client, viewer).get(reverse("retros:list")).content.decode()

    assert f'data-session="{next_week.pk}"' in page
    assert "week of 17 Mar" in page
    assert f'data-week-held="{held.pk}"' in page
    assert "This week's retro was held on Tue 11 Mar." in page
    assert f'<a href="{reverse("retros:detail", args=[held.pk])}">Open it</a>' in page


def test_the_list_says_nothing_of_a_held_retro_while_this_week_s_is_open(client, viewer, team):
    with time_machine.travel(TUESDAY, tick=False):
        page = client_for(client, viewer).get(reverse("retros:list")).content.decode()
    assert "data-week-held" not in page
    assert "week of 10 Mar" in page


# The migration ------------------------------------------------------------------------

BEFORE = [("retros", "0005_backlog_item_reverse_names")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_two_sessions_of_a_week_and_marks_the_extra(team):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("retros", "RetroSession")
        at = utc(2025, 3, 11, 1)

        def made(week: date, status: str, started_hours: int | None):
            started = None if started_hours is None else at + timedelta(hours=started_hours)
            return old.objects.create(
                team_id=team.pk, week_of=week, status=status, started_at=started
            ).pk

        # A week with a planned session beside two closed ones (0004 allowed it), and a
        # week with two closed ones, the later held first made.
        open_week = [made(MONDAY, "closed", 0), made(MONDAY, "planned", None)]
        open_week.append(made(MONDAY, "closed", 5))
        first_held = made(NEXT_MONDAY, "closed", 170)
        earlier_held = made(NEXT_MONDAY, "closed", 168)
        alone = made(date(2025, 3, 24), "closed", 340)

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)

    extra = dict(RetroSession.objects.values_list("pk", "extra_in_week"))
    assert extra == {
        open_week[0]: True,
        open_week[1]: False,  # the open one is its week's retro
        open_week[2]: True,
        first_held: True,
        earlier_held: False,  # else the first held
        alone: False,
    }
    assert RetroSession.objects.count() == 6  # nothing deleted
    with pytest.raises(IntegrityError), transaction.atomic():
        RetroSession.objects.create(team=team, week_of=NEXT_MONDAY)
