"""In a real Chromium, under the portal's Content-Security-Policy: the new-SLO form shows
only the fields of the chosen SLI kind, budgeting method and window kind (CSS, no
script), and "Try the queries" puts the last day's numbers from the suite's Prometheus
into the form in place, saving nothing; saved, the backfill's outcome is the message at
the top of the SLO's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.models import SLO
from slos.registry import services
from tests.browser.csp import csp_violations
from tests.factories import PASSWORD, MembershipFactory
from tests.prom import DATA_END, GOOD_QUERY, VALID_QUERY

pytestmark = [pytest.mark.browser, pytest.mark.prometheus]


# The suite's Prometheus holds data up to DATA_END (the midnight before the run): the
# server's clock is put half a day after it, so "the last day" holds data however long
# the run takes (a run that crossed midnight found none).
@time_machine.travel(DATA_END + timedelta(hours=12), tick=True)
def test_the_kind_shows_its_fields_and_the_queries_can_be_tried(
    page, live_server, transactional_db, prometheus
):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="dev", role=Role.MEMBER)
    services.service_create(team=team, name="Clock-in API")
    services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    violations = csp_violations(page)

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("dev")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/slos/new/{team.slug}/")

    ratio, histogram = page.locator("#group-ratio"), page.locator("#group-histogram")
    gauge, threshold = page.locator("#group-gauge"), page.locator("#group-threshold")
    expect(ratio).to_be_visible()
    expect(page.get_by_label("Good events query")).to_be_visible()
    expect(page.get_by_label("Bad events query")).to_be_hidden()
    for hidden in [histogram, gauge, threshold]:
        expect(hidden).to_be_hidden()

    page.get_by_label("Threshold on a histogram").check()
    expect(histogram).to_be_visible()
    expect(threshold).to_be_visible()
    expect(ratio).to_be_hidden()
    expect(gauge).to_be_hidden()

    page.get_by_label("Threshold on a gauge").check()
    expect(gauge).to_be_visible()
    expect(threshold).to_be_visible()
    expect(histogram).to_be_hidden()

    expect(page.get_by_label("Timeslice target")).to_be_hidden()
    page.get_by_label("Timeslices (count good slices of time)").check()
    expect(page.get_by_label("Timeslice target")).to_be_visible()
    expect(page.get_by_label("Calendar period")).to_be_hidden()
    page.get_by_label("Calendar", exact=True).check()
    expect(page.get_by_label("Calendar period")).to_be_visible()
    expect(page.get_by_label("Rolling window (days)")).to_be_hidden()

    page.get_by_label("Ratio of event counts").check()
    page.get_by_label("1 − bad events / valid events").check()
    expect(page.get_by_label("Bad events query")).to_be_visible()
    expect(page.get_by_label("Good events query")).to_be_hidden()
    page.get_by_label("good events / valid events").check()
    expect(gauge).to_be_hidden()
    page.get_by_label("Occurrences (count events)").check()
    expect(page.get_by_label("Timeslice target")).to_be_hidden()

    page.get_by_label("Data source").select_option(label="Prometheus")
    page.get_by_label("Name").fill("Clock-ins succeed")
    page.get_by_label("Good events query").fill(GOOD_QUERY)
    page.get_by_label("Valid events query").fill(VALID_QUERY)
    page.get_by_label("Name").evaluate("el => el.dataset.marker = 'same-page'")
    page.get_by_role("button", name="Try the queries").click()

    expect(page.locator("#query-trial-result")).to_have_attribute("data-outcome", "numbers")
    expect(page.locator("#trial-good")).to_have_text(re.compile(r"^[1-9][\d,]*$"))
    expect(page.locator("#trial-valid")).to_have_text(re.compile(r"^[1-9][\d,]*$"))
    expect(page.locator("#trial-sli")).to_have_text(re.compile(r"^\d+\.\d{3}%$"))
    expect(page.locator("#trial-hours")).to_have_text(re.compile(r"^([1-9]|1\d|2[0-4]) of 24$"))
    # Swapped into the form in place: what was typed is still there, nothing is saved.
    expect(page.locator("#id_name[data-marker='same-page']")).to_have_value("Clock-ins succeed")
    assert not SLO.objects.exists()

    # A query Prometheus refuses: its own words, under the query's name.
    page.get_by_label("Good events query").fill(
        'sum(increase(http_requests_total{job="api"[$window]))'
    )
    page.get_by_role("button", name="Try the queries").click()
    expect(page.locator("#query-trial-result")).to_have_attribute("data-outcome", "refused")
    expect(page.locator("#query-trial-result")).to_contain_text("Good events query")
    expect(page.locator("#query-trial-result")).to_contain_text("parse error")

    # Enter in a field saves (the form's default button is Save, not the trial's), and the
    # backfill's outcome is the message at the top of the new SLO's page.
    page.get_by_label("Good events query").fill(GOOD_QUERY)
    page.get_by_label("Service").select_option(label="Clock-in API")
    page.get_by_label("Target", exact=True).fill("99.9")
    page.get_by_label("Target", exact=True).press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Clock-ins succeed"))).to_be_visible()
    expect(page.locator(".messages .message-success")).to_contain_text(
        re.compile(r"SLO “Clock-ins succeed” created\. Its backfill stored \d+ hours of data\.")
    )
    assert violations == []
