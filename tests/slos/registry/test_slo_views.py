"""The SLO slice through its pages: forms that reject bad values, roles, outsiders."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slos.models import SLO, HourlyBucket, Service
from tests.conftest import client_for, utc
from tests.factories import DataSourceFactory, ServiceFactory, hourly_buckets, hours_before

NOW = utc(2026, 11, 2, 9, 30)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$window]))'
VALID = "sum(increase(http_requests_total[$window]))"


def slo_form(service, data_source, **overrides):
    data = {
        "service": service.pk,
        "data_source": data_source.pk,
        "name": "Payroll export success",
        "why": "Payroll must reach the bank on the 25th.",
        "good_query": GOOD,
        "valid_query": VALID,
        "target": "99.5",
        "window_days": "28",
        "provisional": "on",
        "sli_kind": "ratio",
        "ratio_of": "good",
        "budgeting_method": "occurrences",
        "timeslice_minutes": "5",
        "window_kind": "rolling",
        "calendar_period": "month",
        "review_interval_days": "90",
    }
    data.update(overrides)
    return data


def test_every_page_needs_a_login(client, slo):
    for url in ["/", reverse("slos:list"), reverse("slos:detail", args=[slo.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_member_creates_an_slo(client, teammate, team, service, data_source):
    client_for(client, teammate)
    response = client.post(reverse("slos:create", args=[team.slug]), slo_form(service, data_source))
    slo = SLO.objects.get(name="Payroll export success")
    assert response.status_code == 302
    assert response["Location"] == reverse("slos:detail", args=[slo.pk])
    assert slo.target_fraction == pytest.approx(0.995)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"good_query": "sum(http_requests_total)"}, "must contain $window"),
        ({"target": "100"}, "not including, 100"),
        ({"target": "99.9999999"}, "no more than 5 decimal places"),
        ({"target": "abc"}, "Enter a number"),
        ({"target": "12"}, "from 50 up to"),
        ({"name": ""}, "This field is required"),
        ({"window_days": "91"}, "less than or equal to 90"),
        ({"valid_query": ""}, "needs a query for valid events"),
        ({"ratio_of": "bad"}, "needs a query for bad events"),
        ({"sli_kind": "histogram"}, "Name the histogram"),
        ({"sli_kind": "histogram", "histogram_metric": "x_bucket{"}, "metric name has"),
        ({"sli_kind": "gauge"}, "choose the Timeslices method"),
        ({"budgeting_method": "timeslices"}, "need a timeslice target"),
    ],
)
def test_bad_slo_values_are_refused_with_a_message(
    client, teammate, team, service, data_source, override, message
):
    client_for(client, teammate)
    response = client.post(
        reverse("slos:create", args=[team.slug]), slo_form(service, data_source, **override)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SLO.objects.exists()


def test_another_teams_service_or_source_cannot_be_used(
    client, teammate, team, service, data_source, other_team
):
    foreign_source = DataSourceFactory(team=other_team, name="Theirs")
    foreign_service = ServiceFactory(team=other_team, name="Theirs")
    client_for(client, teammate)
    for data in [
        slo_form(service, foreign_source),
        slo_form(foreign_service, data_source),
    ]:
        response = client.post(reverse("slos:create", args=[team.slug]), data)
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    assert not SLO.objects.exists()


def test_a_viewer_reads_but_cannot_edit(client, viewer, team, slo):
    client_for(client, viewer)
    assert client.get(reverse("slos:detail", args=[slo.pk])).status_code == 200
    assert client.get(reverse("slos:create", args=[team.slug])).status_code == 403
    assert (
        client.post(reverse("slos:service_create", args=[team.slug]), {"name": "X"}).status_code
        == 403
    )
    assert client.post(reverse("slos:pull", args=[slo.pk])).status_code == 403
    assert not Service.objects.filter(name="X").exists()


def test_an_outsider_gets_404_for_another_teams_slo(client, outsider, team, slo):
    client_for(client, outsider)
    assert client.get(reverse("slos:detail", args=[slo.pk])).status_code == 404
    assert client.post(reverse("slos:pull", args=[slo.pk])).status_code == 404
    assert client.get(reverse("slos:create", args=[team.slug])).status_code == 404
    assert client.get(reverse("team_detail", args=[team.slug])).status_code == 404
    assert slo.name not in client.get(reverse("slos:list")).content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_slo_page_shows_the_budget_and_a_chart(client, viewer, slo):
    end = utc(2026, 11, 2, 9)
    hourly_buckets(slo, hours_before(end, 100), good=9_995, valid=10_000)
    client_for(client, viewer)
    page = client.get(reverse("slos:detail", args=[slo.pk])).content.decode()
    # 1,000,000 valid, 500 bad at 99.9%: half the budget left.
    assert 'id="budget-remaining">50.0%' in page
    assert 'data-plotly="budget-figure"' in page
    assert 'id="budget-figure"' in page


@time_machine.travel(NOW, tick=False)
def test_the_slo_list_runs_a_fixed_number_of_queries(
    client, viewer, service, data_source, django_assert_max_num_queries
):
    from slos.registry import services

    def add(count: int) -> None:
        for index in range(count):
            slo = services.slo_create(
                service=service,
                data_source=data_source,
                name=f"SLO {SLO.objects.count()} {index}",
                good_query=GOOD,
                valid_query=VALID,
                target="99.9",
            )
            HourlyBucket.objects.create(slo=slo, hour=utc(2026, 11, 1), good=1, valid=1)

    client_for(client, viewer)
    add(2)
    client.get(reverse("slos:list"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from slos.registry.budget_sums import kept_sums_forget

    # Each with nothing kept from an earlier read of the budgets: the most it sends.
    kept_sums_forget()
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("slos:list")).status_code == 200
    add(20)
    kept_sums_forget()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("slos:list")).content.decode().count("<tr>") == 23
