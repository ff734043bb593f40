"""The SLO list and home: "burning" by burn rate (the burn table the alerting uses), not by
how little budget is left; exhausted and no data told apart; filters and order kept in
the URL, with the same queries whatever is asked."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Role
from tests.conftest import client_for, utc
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    hourly_buckets,
    hours_before,
)

NOW = utc(2026, 11, 2, 9, 30)
END = utc(2026, 11, 2, 9)
WINDOW_HOURS = 28 * 24


@pytest.fixture
def slos(service, data_source, owner):
    """Four SLOs at 99.9% over 28 days:
    - fast: a calm window, then the last hour at 5% errors (a burn of 50: the first page);
    - spent: 0.2% errors all window (exhausted) but a calm last three days;
    - calm: 0.01% errors all along;
    - silent: no data."""
    made = {
        name: SLOFactory(service=service, data_source=data_source, name=name, target="99.9")
        for name in ["fast", "spent", "calm", "silent"]
    }
    hours = hours_before(END, WINDOW_HOURS)
    hourly_buckets(made["fast"], hours[1:], good=100_000, valid=100_000)
    hourly_buckets(made["fast"], hours[:1], good=95_000, valid=100_000)
    hourly_buckets(made["spent"], hours[72:], good=99_800, valid=100_000)
    hourly_buckets(made["spent"], hours[:72], good=100_000, valid=100_000)
    hourly_buckets(made["calm"], hours, good=99_990, valid=100_000)
    made["calm"].provisional = False
    made["calm"].save()
    return made


def budget_rows(page: str) -> list[str]:
    return re.findall(r'<a href="/slos/\d+/">([^<]+)</a>', page)


@time_machine.travel(NOW, tick=False)
def test_burning_is_how_fast_not_how_little_is_left(client, owner, slos):
    client_for(client, owner)
    page = client.get(reverse("slos:list"), {"state": "burning"}).content.decode()
    assert budget_rows(page) == ["fast"]
    assert 'data-burning="page"' in page
    assert "empty in" in page  # time to exhaustion at this pace

    home = client.get(reverse("home")).content.decode()
    burning = home[home.index("burning-list") : home.index("Running low")]
    assert f'data-burning-slo="{slos["fast"].pk}"' in burning
    assert f'data-burning-slo="{slos["spent"].pk}"' not in burning
    assert f'data-low-slo="{slos["spent"].pk}"' in home  # exhausted, but not burning now
    assert "of the budget spent" in home


@time_machine.travel(NOW, tick=False)
def test_exhausted_and_no_data_look_different(client, owner, slos):
    client_for(client, owner)
    page = client.get(reverse("slos:list")).content.decode()
    assert page.count("data-exhausted") == 1
    assert page.count("data-no-data") == 1
    exhausted = client.get(reverse("slos:list"), {"state": "exhausted"}).content.decode()
    assert budget_rows(exhausted) == ["spent"]
    silent = client.get(reverse("slos:list"), {"state": "no_data"}).content.decode()
    assert budget_rows(silent) == ["silent"]


@time_machine.travel(NOW, tick=False)
def test_sorted_by_budget_left_by_default_and_by_burn_rate_when_asked(client, owner, slos):
    client_for(client, owner)
    by_budget = budget_rows(client.get(reverse("slos:list")).content.decode())
    assert by_budget == ["spent", "calm", "fast", "silent"]  # no data last
    by_burn = budget_rows(client.get(reverse("slos:list"), {"sort": "burn"}).content.decode())
    assert by_burn == ["fast", "calm", "spent", "silent"]
    by_name = budget_rows(client.get(reverse("slos:list"), {"sort": "name"}).content.decode())
    assert by_name == ["calm", "fast", "silent", "spent"]


@time_machine.travel(NOW, tick=False)
def test_filters_by_team_service_and_provisional(client, owner, slos, data_source):
    other = TeamFactory(name="Payroll", slug="payroll")
    MembershipFactory(team=other, user=owner, role=Role.MEMBER)
    elsewhere = SLOFactory(
        service=ServiceFactory(team=other, name="Payslips"), data_source=None, name="payslips"
    )
    client_for(client, owner)
    team_only = client.get(reverse("slos:list"), {"team": "payroll"}).content.decode()
    assert budget_rows(team_only) == ["payslips"]
    service = client.get(reverse("slos:list"), {"service": elsewhere.service_id})
    assert budget_rows(service.content.decode()) == ["payslips"]
    agreed = client.get(reverse("slos:list"), {"provisional": "no"}).content.decode()
    assert budget_rows(agreed) == ["calm"]
    assert "1 SLO of 5 matches." in agreed


@time_machine.travel(NOW, tick=False)
def test_a_filter_not_understood_is_said_and_changes_nothing(client, owner, slos, other_team):
    client_for(client, owner)
    response = client.get(reverse("slos:list"), {"state": "on-fire", "team": other_team.slug})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A filter was not understood" in page
    assert len(budget_rows(page)) == 4  # another team's slug is no choice either


@time_machine.travel(NOW, tick=False)
def test_filters_and_order_cost_no_queries(client, owner, slos):
    client_for(client, owner)
    client.get(reverse("slos:list"))
    with CaptureQueriesContext(connection) as plain:
        client.get(reverse("slos:list"))
    with CaptureQueriesContext(connection) as filtered:
        client.get(reverse("slos:list"), {"state": "burning", "sort": "burn", "provisional": "yes"})
    assert len(filtered.captured_queries) == len(plain.captured_queries)
