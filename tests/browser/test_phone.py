"""In a real Chromium on a 390 × 844 phone (#17): the SLO list and the home page keep the
error budget on screen, no page scrolls sideways, and the navigation is a menu that opens
and closes (by touch and by keyboard) and takes you where its links say. On wide screens
the navigation is a row with no menu to open."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from retros import services as retro_services
from retros.models import RetroSession
from slos.models import SLO
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
    hours_before,
)
from toil import services as toil_services

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Long names, as teams write them: they must wrap, not push the budget off the screen.
SERVICE = "Attendance and payroll export API"
SLO_NAME = "Monthly payroll exports reach the bank before its cut-off"


@pytest.fixture
def team(transactional_db) -> Team:
    now = timezone.now()
    team = Team.objects.create(name="Kintai Cloud", slug="kintai", time_zone="Asia/Tokyo")
    lead = MembershipFactory(team=team, user__username="lead", role=Role.ADMIN).user
    slo = HandFedSLOFactory(service=ServiceFactory(team=team, name=SERVICE), name=SLO_NAME)
    # 1 bad event in 1,000 against a 99.5% target: 80% of the budget left.
    hourly_buckets(
        slo, hours_before(now.replace(minute=0, second=0, microsecond=0), 72), good=999, valid=1000
    )
    NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry", name="App errors"),
        title="Timeout talking to the cache while exporting the monthly payroll file",
        notification_class="ticket",
        first_seen_at=now - timedelta(hours=5),
    )
    toil_services.backlog_settings_update(team=team, by=lead, at=now, reserved_hours=Decimal(10))
    BacklogItemFactory(
        team=team, title="Retry the payroll uploads to the bank", impact=3, likelihood=3
    )
    retro_services.retro_session_plan(team=team, at=now)
    return team


def log_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("lead")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Where we stand")).to_be_visible()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_on_screen(locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None, "not laid out"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_the_budget_column_stays_on_a_phone_screen(page, team):
    page.set_viewport_size(PHONE)
    log_in(page)
    page.goto("/slos/")

    header = page.get_by_role("columnheader", name="Error budget remaining")
    expect(header).to_be_visible()
    assert_on_screen(header, PHONE["width"])
    budget = page.locator("[data-budget-remaining]").first
    expect(budget).to_have_text("80.0%")
    assert_on_screen(budget, PHONE["width"])
    # The SLO's name stays too (it is the link to its page); the team column gives way.
    assert_on_screen(page.get_by_role("link", name=SLO_NAME), PHONE["width"])
    expect(page.get_by_role("columnheader", name="Team")).to_be_hidden()
    assert page_width(page) <= PHONE["width"]


def test_home_keeps_each_service_s_least_budget_on_a_phone_screen(page, team):
    """Home counts budgets per service: on a phone the least budget left, the at-risk
    and exhausted counts and the service (its link to the list) stay on screen; the
    meter and the "meet" and "no data" counts give way."""
    page.set_viewport_size(PHONE)
    log_in(page)
    page.goto("/")

    for name in ("Least budget left", "At risk", "Exhausted"):
        header = page.get_by_role("columnheader", name=name)
        expect(header).to_be_visible()
        assert_on_screen(header, PHONE["width"])
    least = page.locator("[data-worst]").first
    expect(least).to_have_text("80.0%")
    assert_on_screen(least, PHONE["width"])
    assert_on_screen(page.get_by_role("link", name=SERVICE), PHONE["width"])
    expect(page.get_by_role("columnheader", name="Meet")).to_be_hidden()
    # The noise trend is drawn, inside the screen.
    chart = page.locator(".noise-trend .main-svg").first
    expect(chart).to_be_visible()
    assert_on_screen(chart, PHONE["width"])
    assert page_width(page) <= PHONE["width"]


def test_no_page_scrolls_sideways_on_a_phone(page, team, live_server):
    page.set_viewport_size(PHONE)
    violations = csp_violations(page)
    log_in(page)
    slo = SLO.objects.get(service__team=team)
    session = RetroSession.objects.get(team=team)
    paths = [
        "/",
        "/slos/",
        f"/slos/{slo.pk}/",
        "/retros/",
        f"/retros/{session.pk}/",
        "/backlog/",
        "/backlog/kintai/plan/",
        "/backlog/kintai/log/",
        "/slos/tickets/kintai/",
        "/slos/noise/kintai/",
        "/teams/kintai/",
    ]
    widths = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        widths[path] = page_width(page)

    assert {path: width for path, width in widths.items() if width > PHONE["width"]} == {}
    assert violations == []


def test_the_menu_opens_closes_and_its_links_work_on_a_phone(page, team, live_server):
    page.set_viewport_size(PHONE)
    violations = csp_violations(page)
    log_in(page)

    menu = page.locator("#site-menu > summary")
    slos_link = page.get_by_role("link", name="SLOs", exact=True)
    logout = page.get_by_role("button", name="Log out lead")
    expect(menu).to_be_visible()
    expect(menu).to_have_text("Menu")
    expect(slos_link).to_be_hidden()
    expect(logout).to_be_hidden()

    # By keyboard: Enter opens it, Tab walks into its links, Escape closes it and gives
    # the focus back to "Menu".
    menu.focus()
    page.keyboard.press("Enter")
    expect(slos_link).to_be_visible()
    assert_on_screen(slos_link, PHONE["width"])
    assert_on_screen(logout, PHONE["width"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Home", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(slos_link).to_be_hidden()
    expect(menu).to_be_focused()

    # By touch: a tap opens it, a tap outside closes it, a tap on a link goes there.
    menu.click()
    expect(slos_link).to_be_visible()
    page.mouse.click(4, PHONE["height"] - 10)  # the page's margin, below the open menu
    expect(slos_link).to_be_hidden()
    menu.click()
    slos_link.click()
    expect(page).to_have_url(f"{live_server.url}/slos/")
    expect(page.get_by_role("heading", name="SLOs", exact=True)).to_be_visible()
    # The new page starts with the menu closed, and marks where you are inside it.
    expect(page.get_by_role("link", name="SLOs", exact=True)).to_be_hidden()
    menu.click()
    expect(page.get_by_role("link", name="SLOs", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    assert violations == []


@pytest.mark.parametrize("width, height", [(1440, 900), (1920, 1080), (2560, 1440)])
def test_a_wide_screen_shows_the_navigation_as_a_row(page, team, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page)
    page.goto("/slos/")

    expect(page.locator("#site-menu > summary")).to_be_hidden()
    links = [
        page.get_by_role("link", name=name, exact=True) for name in ("Home", "SLOs", "API tokens")
    ]
    for link in links:
        expect(link).to_be_visible()
    expect(page.get_by_role("button", name="Log out lead")).to_be_visible()
    # One row: every link on the brand's line.
    brand = page.get_by_role("link", name="Reliability Portal").bounding_box()
    for link in links:
        box = link.bounding_box()
        assert abs((box["y"] + box["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8, box
    # Every column of the SLO list is shown, and the page fits.
    expect(page.get_by_role("columnheader", name="Team")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Coverage")).to_be_visible()
    assert page_width(page) <= width
    # The type grows on a meeting-room screen: larger at 2560 px than at 1440 px.
    font = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert font == pytest.approx({1440: 20.0, 1920: 22.9, 2560: 26.0}[width], abs=0.2)
