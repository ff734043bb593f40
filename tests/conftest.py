"""Shared fixtures. Three users, as in healthchecks: the team's owner (admin), a
teammate (member), a viewer, and an outsider who belongs to another team."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from portal.models import Role, Team
from tests.factories import (
    DataSourceFactory,
    MembershipFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Django's default hasher spends about a third of a second on a password, on
    purpose; the suite makes hundreds of users. Signing in still checks the password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Work a test started in a background thread (slos/background.py: pulls on the
    embedded default) has ended when the test's body returns, before its database is
    torn down: no test's thread writes into the next test."""
    from slos.background import background_join

    try:
        return (yield)
    finally:
        background_join()


@pytest.fixture
def team(db) -> Team:
    return TeamFactory(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")


@pytest.fixture
def other_team(db) -> Team:
    return TeamFactory(name="Other", slug="other")


@pytest.fixture
def owner(team):
    return MembershipFactory(team=team, user__username="owner", role=Role.ADMIN).user


@pytest.fixture
def teammate(team):
    return MembershipFactory(team=team, user__username="teammate", role=Role.MEMBER).user


@pytest.fixture
def viewer(team):
    return MembershipFactory(team=team, user__username="viewer", role=Role.VIEWER).user


@pytest.fixture
def outsider(other_team):
    return MembershipFactory(team=other_team, user__username="outsider", role=Role.ADMIN).user


@pytest.fixture(autouse=True)
def slack_receivers_on_loopback(settings):
    """The suite's stand-ins for Slack listen on loopback over plain HTTP: to the portal
    they are a self-hosted relay, allowed beside Slack's own host. Tests of the allowlist
    set SLACK_WEBHOOK_ALLOWED_HOSTS themselves."""
    settings.SLACK_WEBHOOK_ALLOWED_HOSTS = ["hooks.slack.com", "http://127.0.0.1"]


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def service(team):
    return ServiceFactory(team=team, name="Clock-in API")


@pytest.fixture
def data_source(team):
    return DataSourceFactory(team=team, name="Prometheus")


@pytest.fixture
def slo(service, data_source):
    return SLOFactory(
        service=service,
        data_source=data_source,
        name="Clock-in availability",
        good_query='sum(increase(http_requests_total{code!~"5.."}[$window]))',
        valid_query="sum(increase(http_requests_total[$window]))",
        target=Decimal("99.9"),
    )


# What a read of budgets sends more on PostgreSQL when none are kept from an earlier read
# (slos/registry/budget_sums.py): the kept ones looked for, then the rows summed (as on
# SQLite) and the sums kept, in a savepoint inside a test's transaction (3).
NOTHING_KEPT = 4 if connection.vendor == "postgresql" else 0


@pytest.fixture
def japanese_catalogue(tmp_path, settings):
    """The committed Japanese catalogue compiled afresh, and the pages read it."""
    import subprocess

    from tests.realparts import executable, require

    require(executable("msgfmt"), "GNU gettext (msgfmt)")
    compiled = tmp_path / "ja" / "LC_MESSAGES"
    compiled.mkdir(parents=True)
    catalogue = settings.BASE_DIR / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    subprocess.run(["msgfmt", "-o", str(compiled / "django.mo"), str(catalogue)], check=True)
    settings.LOCALE_PATHS = [tmp_path]


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
