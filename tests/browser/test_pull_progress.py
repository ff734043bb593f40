"""In a real Chromium, on the embedded default (no broker): "Pull now" answers at once;
the message at the top of the page shows the pull's progress while Prometheus is slow
to answer, then how it ended, at that outcome's level. No inline script (the CSP holds)."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.ingestion.views import pull_outcome
from slos.models import PullRun, PullStatus
from slos.registry import services
from tests.browser.csp import csp_violations
from tests.browser.test_safeguards import log_in
from tests.factories import MembershipFactory
from tests.prom import GOOD_QUERY, VALID_QUERY
from tests.slos.ingestion.fake_http import ScriptedServer

pytestmark = [pytest.mark.browser, pytest.mark.prometheus]


@pytest.fixture
def held_slo(transactional_db, prometheus):
    """An SLO whose Prometheus (the suite's real one, behind a stand-in) answers only
    once `gate` opens (10 s at most), and the gate."""
    gate = threading.Event()
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        passing = server.answer

        def held(behaviour, path, form=b""):
            gate.wait(10)
            return passing(behaviour, path, form)

        server.answer = held
        team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
        MembershipFactory(team=team, user__username="dev", role=Role.MEMBER)
        slo = services.slo_create(
            service=services.service_create(team=team, name="Clock-in API"),
            data_source=services.data_source_create(
                team=team, name="Prometheus", url=server.url, timeout_seconds=30
            ),
            name="Clock-ins succeed",
            good_query=GOOD_QUERY,
            valid_query=VALID_QUERY,
            target=Decimal("99.9"),
            backfill=False,
        )
        yield slo, gate
        gate.set()


def test_pull_now_shows_its_progress_at_the_top_then_its_outcome(page, held_slo):
    slo, gate = held_slo
    violations = csp_violations(page)
    log_in(page, "dev")
    page.goto(f"/slos/{slo.pk}/")
    page.locator("#pull-now").click()

    # Back on the page at once, while Prometheus holds its answers.
    expect(page).to_have_url(re.compile(rf"/slos/{slo.pk}/$"))
    message = page.locator(".messages .message").first
    expect(message).to_contain_text(re.compile(r"Pull now running: 0 of [1-9]\d* hours fetched"))
    expect(message.locator("progress")).to_be_visible()
    assert PullRun.objects.get().status == PullStatus.RUNNING

    gate.set()
    outcome = page.locator(".messages .message-success, .messages .message-warning")
    expect(outcome).to_contain_text(re.compile(r"Pulled: [1-9]\d* (of \d+ missing )?hour"))
    expect(outcome.locator("progress")).to_have_count(0)
    run = PullRun.objects.get()
    assert run.status == PullStatus.OK
    expect(outcome).to_contain_text(pull_outcome(run)[1])
    # The link in the outcome shows the page again, with the new numbers.
    outcome.get_by_role("link").click()
    expect(page.locator("#pull-progress")).to_contain_text("Pull now finished")
    assert violations == []
