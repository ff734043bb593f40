"""Starting a retro freezes every SLO budget of the team."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from retros.models import BudgetSnapshot
from retros.services import retro_session_plan, retro_session_start
from slos.models import SLO
from slos.registry.selectors import slo_with_budget
from tests.conftest import client_for, utc
from tests.factories import hourly_buckets, hours_from

STARTED = utc(2025, 3, 12, 9, 30)  # a Wednesday
WINDOW_END = utc(2025, 3, 12, 9)


def retro_start(*, team, user, at):
    return retro_session_start(session=retro_session_plan(team=team, at=at), user=user, at=at)


@pytest.fixture
def one_day_of_data(slo):
    # 24 000 valid, 12 bad against a 99.9% target: 24 bad allowed, half the budget left.
    hourly_buckets(slo, hours_from(WINDOW_END - timedelta(days=1), 24), good=999.5, valid=1000)
    return slo


def test_starting_a_retro_freezes_the_budgets(client, teammate, one_day_of_data):
    slo = one_day_of_data
    client = client_for(client, teammate)
    session = retro_session_plan(team=slo.service.team, at=STARTED)
    with time_machine.travel(STARTED, tick=False):
        response = client.post(reverse("retros:start", args=[session.pk]))
    session.refresh_from_db()
    assert response.status_code == 302
    assert session.status == "live"
    assert session.started_at == STARTED

    # The nightly pull backfills the day before: 48 more bad events, budget overspent.
    hourly_buckets(slo, hours_from(WINDOW_END - timedelta(days=2), 24), good=998, valid=1000)

    later = STARTED + timedelta(hours=2)
    live = slo_with_budget(slo.pk, at=later).budget
    assert live.error_budget_remaining == pytest.approx(-0.25)
    with time_machine.travel(later, tick=False):
        slo_page = client.get(reverse("slos:detail", args=[slo.pk])).content.decode()
        retro_page = client.get(reverse("retros:detail", args=[session.pk])).content.decode()
    assert "-25.0%" in slo_page
    assert "99.875%" in slo_page

    assert "50.0%" in retro_page
    assert "-25.0%" not in retro_page
    assert "Everything below is frozen as of the start." in retro_page
    assert "facilitator teammate." in retro_page


def test_snapshot_copies_the_numbers_and_names(owner, one_day_of_data):
    session = retro_start(team=one_day_of_data.service.team, user=owner, at=STARTED)

    snapshot = session.snapshots.get()
    assert (snapshot.team_name, snapshot.service_name, snapshot.slo_name) == (
        "Kintai",
        "Clock-in API",
        "Clock-in availability",
    )
    assert snapshot.target == one_day_of_data.target
    assert snapshot.window_days == 28
    assert (snapshot.good, snapshot.valid) == (23_988, 24_000)
    assert snapshot.sli == pytest.approx(0.9995)
    assert snapshot.error_budget_remaining == pytest.approx(0.5)
    assert snapshot.bad_events_left == pytest.approx(12)
    assert snapshot.burn_rate == pytest.approx(0.5)
    assert snapshot.coverage == pytest.approx(24 / (28 * 24))
    assert snapshot.status == "healthy"
    assert session.started_at == STARTED
    assert session.started_by == owner
    assert session.facilitator == owner


def test_one_snapshot_per_slo_of_the_team_only(owner, slo, other_team):
    from slos.registry import services as slo_services

    second = slo_services.slo_create(
        service=slo.service,
        data_source=None,
        name="Clock-in latency",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=slo.target,
    )
    elsewhere = slo_services.service_create(team=other_team, name="Elsewhere")
    slo_services.slo_create(
        service=elsewhere,
        data_source=None,
        name="Not ours",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=slo.target,
    )

    session = retro_start(team=slo.service.team, user=owner, at=STARTED)

    assert {s.slo_id for s in session.snapshots.all()} == {slo.pk, second.pk}
    assert all(s.status == "no_data" and s.sli is None for s in session.snapshots.all())


def test_week_of_is_the_monday_in_the_team_time_zone(owner, team):
    # Sunday 16:00 UTC is already Monday 01:00 in Tokyo.
    session = retro_start(team=team, user=owner, at=utc(2025, 3, 9, 16))
    assert session.week_of == date(2025, 3, 10)


def test_snapshot_survives_the_slo_being_deleted(client, owner, one_day_of_data):
    session = retro_start(team=one_day_of_data.service.team, user=owner, at=STARTED)

    SLO.objects.filter(pk=one_day_of_data.pk).delete()

    snapshot = BudgetSnapshot.objects.get(session=session)
    assert snapshot.slo is None
    assert snapshot.error_budget_remaining == pytest.approx(0.5)
    page = client_for(client, owner).get(reverse("retros:detail", args=[session.pk]))
    assert page.status_code == 200
    assert "Clock-in availability" in page.content.decode()
    assert "50.0%" in page.content.decode()


def test_session_outlives_the_user_who_started_it(client, owner, teammate, team):
    session = retro_start(team=team, user=teammate, at=STARTED)
    teammate.delete()

    session.refresh_from_db()
    assert (session.started_by, session.facilitator) == (None, None)
    page = client_for(client, owner).get(reverse("retros:detail", args=[session.pk]))
    assert page.status_code == 200
    assert "facilitator —." in page.content.decode()
