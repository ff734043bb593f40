"""The SLO list's queries do not grow with the number of SLOs: 1,000 SLOs, same count."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from slos.models import SLO, HourlyBucket
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 2, 9, 30)


def make_slos(service, data_source, count: int, offset: int = 0) -> list[SLO]:
    slos = SLO.objects.bulk_create(
        SLO(
            service=service,
            data_source=data_source,
            name=f"SLO {offset + index}",
            good_query="sum(increase(ok[$window]))",
            valid_query="sum(increase(all[$window]))",
            target="99.9",
            window_kind="calendar" if index % 3 == 0 else "rolling",
            window_days=7 if index % 2 else 28,
        )
        for index in range(count)
    )
    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=utc(2026, 11, 2) - timedelta(hours=hour), good=99, valid=100)
        for slo in slos
        for hour in range(1, 4)
    )
    return slos


@time_machine.travel(NOW, tick=False)
def test_the_list_of_1000_slos_runs_as_many_queries_as_the_list_of_one(
    client, viewer, service, data_source
):
    client_for(client, viewer)
    make_slos(service, data_source, 1)
    client.get(reverse("slos:list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("slos:list"))

    make_slos(service, data_source, 999, offset=1)
    with CaptureQueriesContext(connection) as thousand:
        page = client.get(reverse("slos:list")).content.decode()

    assert page.count("data-budget-remaining") == 1000
    assert len(thousand.captured_queries) == len(one.captured_queries)
    # session, user, the SLOs, exclusions, one query of sums (day rows and the hours
    # around them side by side)
    assert len(one.captured_queries) == 5
