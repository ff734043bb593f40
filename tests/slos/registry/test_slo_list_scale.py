"""The SLO list's queries do not grow with the number of SLOs: 1,000 SLOs, same count,
whatever the order or filter; it draws them a page of 100 at a time, and by name it
computes only the shown page's budgets."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from slos.models import SLO, HourlyBucket
from slos.registry.budget_sums import kept_sums_forget
from slos.registry.selectors import budgets_read_ahead
from tests.conftest import NOTHING_KEPT, client_for, utc

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


ASKED = [{}, {"sort": "name"}, {"sort": "burn"}, {"state": "exhausted", "page": "3"}]


@time_machine.travel(NOW, tick=False)
def test_the_list_of_1000_slos_runs_as_many_queries_as_the_list_of_one(
    client, viewer, service, data_source
):
    client_for(client, viewer)
    make_slos(service, data_source, 1)
    client.get(reverse("slos:list"))

    def queries(asked, *, kept: bool) -> tuple[int, str]:
        if kept:
            budgets_read_ahead(at=NOW)  # as the beat does when the hour begins
        else:
            kept_sums_forget()
        with CaptureQueriesContext(connection) as sent:
            page = client.get(reverse("slos:list"), dict(asked)).content.decode()
        return len(sent.captured_queries), page

    one = {}
    for asked in map(tuple, (sorted(each.items()) for each in ASKED)):
        one[asked] = queries(asked, kept=False)[0]
        assert queries(asked, kept=True)[0] == 5

    make_slos(service, data_source, 999, offset=1)
    for asked, count in one.items():
        found, page = queries(asked, kept=False)
        assert page.count("data-budget-remaining") == 100, asked
        assert found == count, asked
        assert queries(asked, kept=True)[0] == 5
    # session, user, the SLOs, exclusions, one query of sums (day rows and the hours
    # around them side by side, or the sums kept from an earlier read), and on
    # PostgreSQL with nothing kept, NOTHING_KEPT more
    assert set(one.values()) == {5 + NOTHING_KEPT}


def shown_names(page: str) -> list[str]:
    return re.findall(r'<a href="/slos/\d+/">([^<]+)</a>', page)


@time_machine.travel(NOW, tick=False)
def test_the_list_is_drawn_a_page_at_a_time_with_the_filters_kept(
    client, viewer, service, data_source
):
    client_for(client, viewer)
    made = make_slos(service, data_source, 250)
    seen = []
    for number in (1, 2, 3):
        page = client.get(reverse("slos:list"), {"sort": "name", "page": number}).content.decode()
        seen.extend(shown_names(page))
        assert f"Page {number} of 3" in page
    assert len(seen) == len(set(seen)) == 250
    assert seen == sorted((slo.name for slo in made), key=str.casefold)

    first = client.get(reverse("slos:list"), {"sort": "name"}).content.decode()
    assert "SLOs 1–100 of 250" in first
    assert 'href="?sort=name&amp;page=2" rel="next"' in first
    assert "data-page-previous" not in first
    last = client.get(reverse("slos:list"), {"sort": "name", "page": "3"}).content.decode()
    assert "SLOs 201–250 of 250" in last
    assert 'href="?sort=name&amp;page=2" rel="prev"' in last
    assert "data-page-next" not in last
    # Past the last page: the last one; not a number: the first.
    assert shown_names(
        client.get(reverse("slos:list"), {"sort": "name", "page": "9"}).content.decode()
    ) == shown_names(last)
    assert shown_names(
        client.get(reverse("slos:list"), {"sort": "name", "page": "x"}).content.decode()
    ) == shown_names(first)

    # Filtered: the count and the pages are of the SLOs that match.
    calendar = client.get(reverse("slos:list"), {"sort": "name", "page": "1", "state": "exhausted"})
    page = calendar.content.decode()
    assert "250 SLOs of 250 match." in page
    assert 'href="?sort=name&amp;state=exhausted&amp;page=2"' in page


@time_machine.travel(NOW, tick=False)
def test_by_name_only_the_shown_pages_budgets_are_computed(
    client, viewer, service, data_source, monkeypatch
):
    from slos.registry import listing

    computed: list[int] = []
    budgeted = listing.slos_budgeted

    def spy(slos, *, at):
        computed.append(len(slos))
        return budgeted(slos, at=at)

    monkeypatch.setattr(listing, "slos_budgeted", spy)
    client_for(client, viewer)
    make_slos(service, data_source, 130)

    client.get(reverse("slos:list"), {"sort": "name", "page": "2"})
    client.get(reverse("slos:list"), {"sort": "name"})
    client.get(reverse("slos:list"))  # by budget left: every budget places its SLO
    client.get(reverse("slos:list"), {"sort": "name", "state": "exhausted"})  # a state: all

    assert computed == [30, 100, 130, 130]
