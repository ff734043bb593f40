"""Shared fixtures. Three users, as in healthchecks: the team's owner (admin), a
teammate (member), a viewer, and an outsider who belongs to another team."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from portal.models import Membership, Role, Team
from slos.registry import services as slo_services

PASSWORD = "correct-horse-battery"


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(name="Other", slug="other")


@pytest.fixture
def owner(team):
    user = make_user("owner")
    Membership.objects.create(team=team, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def teammate(team):
    user = make_user("teammate")
    Membership.objects.create(team=team, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def viewer(team):
    user = make_user("viewer")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def outsider(other_team):
    user = make_user("outsider")
    Membership.objects.create(team=other_team, user=user, role=Role.ADMIN)
    return user


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def service(team):
    return slo_services.service_create(team=team, name="Clock-in API")


@pytest.fixture
def data_source(team):
    return slo_services.data_source_create(
        team=team, name="Prometheus", url="http://127.0.0.1:9", timeout_seconds=2
    )


@pytest.fixture
def slo(service, data_source):
    return slo_services.slo_create(
        service=service,
        data_source=data_source,
        name="Clock-in availability",
        good_query='sum(increase(http_requests_total{code!~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target=Decimal("99.9"),
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory):
    """A real Prometheus holding generated request counters (see tests/prom.py)."""
    from tests.prom import PrometheusServer, generate_series
    from tests.realparts import PROMETHEUS, PROMTOOL, executable, require

    require(executable(PROMETHEUS) and executable(PROMTOOL), "Prometheus (Debian package)")
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), generate_series())
    server.load()
    server.start()
    yield server
    server.stop()
