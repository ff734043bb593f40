"""The list and the session page run a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Role
from retros.services import retro_session_close, retro_session_plan, retro_session_start
from slos.registry import services as slo_services
from tests.conftest import client_for, utc
from tests.factories import HandFedSLOFactory, MembershipFactory

AT = utc(2025, 3, 12, 9, 30)


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_slos(service, count: int) -> None:
    for index in range(count):
        HandFedSLOFactory(service=service, name=f"SLO {index}")


def held(team, user, at):
    """A session started and closed at `at`; the next week's is then planned."""
    session = retro_session_start(session=retro_session_plan(team=team, at=at), user=user, at=at)
    return retro_session_close(session=session, user=user, at=at + timedelta(minutes=30))


def test_list_queries_do_not_grow_with_sessions(client, owner, team):
    client = client_for(client, owner)
    second = MembershipFactory(team__name="Payroll", user=owner, role=Role.VIEWER).team
    held(team, owner, AT)
    held(second, None, AT)
    queries_for(client, reverse("retros:list"))  # plans this week's sessions
    few = queries_for(client, reverse("retros:list"))

    for week in range(1, 6):
        held(team, owner, AT + timedelta(days=7 * week))
        held(second, None, AT + timedelta(days=7 * week))

    assert queries_for(client, reverse("retros:list")) == few


def test_session_page_queries_do_not_grow_with_slos(client, owner, service):
    client = client_for(client, owner)
    add_slos(service, 1)
    small = held(service.team, owner, AT)
    add_slos(slo_services.service_create(team=service.team, name="Payroll API"), 6)
    large = held(service.team, owner, AT + timedelta(days=7))
    assert large.snapshots.count() == 7

    assert queries_for(client, reverse("retros:detail", args=[large.pk])) == queries_for(
        client, reverse("retros:detail", args=[small.pk])
    )


def test_planned_session_page_queries_do_not_grow_with_slos(client, owner, service, other_team):
    add_slos(service, 1)
    small = retro_session_plan(team=service.team, at=AT)
    MembershipFactory(team=other_team, user=owner, role=Role.MEMBER)
    add_slos(slo_services.service_create(team=other_team, name="Payroll API"), 6)
    large = retro_session_plan(team=other_team, at=AT)
    client = client_for(client, owner)

    assert queries_for(client, reverse("retros:detail", args=[large.pk])) == queries_for(
        client, reverse("retros:detail", args=[small.pk])
    )
