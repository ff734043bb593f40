"""The list and the session page run a fixed number of queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Role
from retros.services import retro_start
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


def test_list_queries_do_not_grow_with_sessions(client, owner, team):
    client = client_for(client, owner)
    retro_start(team=team, user=owner, at=AT)
    few = queries_for(client, reverse("retros:list"))

    second = MembershipFactory(team__name="Payroll", user=owner, role=Role.VIEWER).team
    for day in range(5):
        retro_start(team=team, user=owner, at=utc(2025, 3, 13 + day, 9))
        retro_start(team=second, user=None, at=utc(2025, 3, 13 + day, 9))

    assert queries_for(client, reverse("retros:list")) == few


def test_session_page_queries_do_not_grow_with_slos(client, owner, service):
    client = client_for(client, owner)
    add_slos(service, 1)
    small = retro_start(team=service.team, user=owner, at=AT)
    add_slos(slo_services.service_create(team=service.team, name="Payroll API"), 6)
    large = retro_start(team=service.team, user=owner, at=AT)
    assert large.snapshots.count() == 7

    assert queries_for(client, reverse("retros:detail", args=[large.pk])) == queries_for(
        client, reverse("retros:detail", args=[small.pk])
    )
