"""In a real Chromium: log in, create a data source and an SLO, pull, see the budget."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.models import SLO, HourlyBucket
from slos.registry.selectors import slo_with_budget
from tests.factories import PASSWORD, MembershipFactory
from tests.prom import GOOD_QUERY, VALID_QUERY

pytestmark = [pytest.mark.browser, pytest.mark.prometheus]


def test_log_in_create_an_slo_pull_and_see_the_budget(page, prometheus, transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai")
    MembershipFactory(team=team, user__username="sre", role=Role.ADMIN)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("sre")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Where we stand")).to_be_visible()

    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_role("link", name="Kintai").click()
    page.get_by_role("button", name="Add a data source").click()
    page.get_by_label("Name", exact=True).fill("Prometheus")
    page.get_by_label("URL", exact=True).fill("not a url")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("http://")
    page.get_by_label("URL", exact=True).fill(prometheus.url)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Data source “Prometheus” saved.")).to_be_visible()
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_role("link", name="Kintai").click()

    page.get_by_role("button", name="Add a service").click()
    page.get_by_label("Name").fill("Clock-in API")
    page.get_by_role("button", name="Save").click()

    page.get_by_role("button", name="Add an SLO").click()
    page.get_by_label("Service").select_option(label="Clock-in API")
    page.get_by_label("Data source").select_option(label="Prometheus")
    page.get_by_label("Name").fill("Clock-in availability")
    page.get_by_label("Good events query").fill(GOOD_QUERY)
    page.get_by_label("Valid events query").fill(VALID_QUERY)
    page.get_by_label("Target", exact=True).fill("99.9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("Clock-in availability"))).to_be_visible()
    # The new SLO was backfilled over its window as soon as it was saved.
    expect(page.locator("#pull-progress")).to_contain_text(re.compile(r"finished .*hour"))

    page.get_by_role("button", name="Pull now").click()
    # What the backfill left missing is asked for again: hours the source has no data
    # for stay missing, and the outcome says so (tests/slos/ingestion/test_pull_outcome.py).
    expect(page.locator(".messages .message").first).to_contain_text(
        re.compile(
            r"Pulled: \d+ of \d+ missing hour\(s\) stored; the source had no data for the rest\."
            r"|Pulled: \d+ hour\(s\) stored\.|Nothing new to pull"
        )
    )

    slo = SLO.objects.get(name="Clock-in availability")
    assert HourlyBucket.objects.filter(slo=slo).exists()
    budget = slo_with_budget(slo.pk, at=timezone.now()).budget
    expected = f"{budget.error_budget_remaining * 100:.1f}%"
    expect(page.locator("#budget-remaining")).to_have_text(expected)
    # plotly drew the chart: an SVG with a line trace inside the chart element.
    expect(page.locator("#budget-chart .main-svg").first).to_be_visible()
    expect(page.locator("#budget-chart .scatterlayer .trace")).to_have_count(1)

    # The ingestion page lists both pulls (the backfill, then "pull now"), each with its
    # SLOs counted by outcome: one ok, none partial, none failed.
    page.get_by_role("link", name="Ingestion").click()
    runs = page.locator("#runs tbody tr")
    expect(runs).to_have_count(2)
    expect(runs.first).to_contain_text("pull now")
    for row in (runs.first, runs.last):
        expect(row.locator("td.num").nth(1)).to_have_text("1 / 0 / 0")
