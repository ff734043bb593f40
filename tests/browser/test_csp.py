"""In a real Chromium, under the portal's Content-Security-Policy: the main pages of a team
(home, SLOs, an SLO page with its what-if chart recomputed by htmx, the retro list and a
started retro, the backlog plan) report no violation, and their plotly charts are drawn."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from retros.models import RetroSession
from tests.browser.csp import csp_violations
from tests.factories import (
    PASSWORD,
    BacklogItemFactory,
    HandFedSLOFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    ServiceFactory,
    hourly_buckets,
    hours_from,
)
from toil import services as toil_services

pytestmark = pytest.mark.browser


def test_the_main_pages_run_under_the_policy(page, live_server, transactional_db):
    now = timezone.now()
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    lead = MembershipFactory(team=team, user__username="lead", role=Role.ADMIN).user
    slo = HandFedSLOFactory(
        service=ServiceFactory(team=team, name="Clock-in API"), name="Clock-in availability"
    )
    hourly_buckets(slo, hours_from(now - timedelta(days=3), 48), good=995, valid=1000)
    NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry"),
        title="Timeout talking to the cache",
        notification_class="ticket",
        first_seen_at=now - timedelta(hours=5),
    )
    toil_services.backlog_settings_update(team=team, by=lead, at=now, reserved_hours=Decimal(10))
    BacklogItemFactory(team=team, title="Retry the uploads", impact=3, likelihood=3)

    violations = csp_violations(page)

    def visit(path: str) -> None:
        response = page.goto(path)
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    visit("/accounts/login/")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out lead")).to_be_visible()

    visit("/")
    visit("/slos/")
    expect(page.get_by_text("Clock-in availability").first).to_be_visible()

    visit(f"/slos/{slo.pk}/")
    expect(page.locator("#budget-chart .main-svg").first).to_be_visible()
    page.locator("#what-if-target").fill("99")
    page.get_by_role("button", name="Recompute").click()
    expect(page.locator("#what-if-remaining")).to_have_text("50.0%")
    expect(page.locator("#what-if-chart .main-svg").first).to_be_visible()

    visit("/retros/")
    page.get_by_role("button", name="The agenda").click()
    expect(page.locator("#section-budgets")).to_contain_text("Clock-in availability")
    page.get_by_role("button", name="Start the retro").click()
    expect(page).to_have_url(f"{live_server.url}/retros/{RetroSession.objects.get().pk}/present/")
    page.wait_for_load_state("networkidle")
    visit(f"/retros/{RetroSession.objects.get().pk}/")
    expect(page.locator(".retro-chart .main-svg").first).to_be_visible()

    visit("/backlog/kintai/plan/")
    expect(page.locator("#capacity-chart .main-svg").first).to_be_visible()

    assert violations == []
