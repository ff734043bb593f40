"""In a real Chromium: a member starts the week's retro and drives the meeting screen
from the keyboard while a teammate's browser follows; the teammate typing a note is not
moved until they send or cancel, going back holds until the facilitator moves again, and
a note added on the teammate's laptop appears on the big screen within two seconds."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from retros.models import RetroSession, SessionNote
from tests.factories import (
    PASSWORD,
    HandFedSLOFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
    ServiceFactory,
    hourly_buckets,
    hours_from,
)

pytestmark = pytest.mark.browser
WITHIN_TWO_SECONDS = 2_000
SCREENSHOTS = os.environ.get("RETRO_SCREENSHOTS")  # a folder: look at the screens


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def shot(page, name: str) -> None:
    """The page as it looks, a screen at a time from the top (at most four)."""
    if not SCREENSHOTS:
        return
    viewport = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    for part in range(min(4, -(-height // viewport["height"]))):
        page.evaluate(f"window.scrollTo(0, {part * viewport['height']})")
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{part}.png"))
    page.evaluate("window.scrollTo(0, 0)")


def on(page, slug: str, timeout: float = 5_000) -> None:
    expect(page.locator(f"#stage #section-{slug}")).to_be_visible(timeout=timeout)


def test_the_room_follows_the_facilitator(browser, live_server, transactional_db):
    now = timezone.now()
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="lead", role=Role.MEMBER)
    MembershipFactory(team=team, user__username="mate", role=Role.MEMBER)
    service = ServiceFactory(team=team, name="Clock-in API")
    slo = HandFedSLOFactory(service=service, name="Clock-in availability")
    hourly_buckets(slo, hours_from(now - timedelta(days=3), 48), good=995, valid=1000)
    NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry"),
        title="Timeout talking to the cache",
        notification_class="ticket",
        first_seen_at=now - timedelta(hours=5),
    )

    big = browser.new_context(base_url=live_server.url, viewport={"width": 1920, "height": 1080})
    laptop = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    for context in (big, laptop):
        context.set_default_timeout(15_000)
    try:
        screen = big.new_page()
        log_in(screen, "lead")
        screen.goto("/retros/")
        screen.get_by_role("button", name="The agenda").click()
        expect(screen.locator("#section-budgets")).to_contain_text("Clock-in availability")
        screen.get_by_role("button", name="Start the retro").click()
        expect(screen).to_have_url(f"{live_server.url}/retros/{_session_pk()}/present/")
        on(screen, "kudos")
        expect(screen.locator("#timer-elapsed")).not_to_have_text("—")

        follower = laptop.new_page()
        log_in(follower, "mate")
        follower.goto(f"/retros/{_session_pk()}/present/")
        on(follower, "kudos")

        # The facilitator drives from the keyboard; the follower's screen moves with it.
        screen.keyboard.press("ArrowRight")
        on(screen, "budgets")
        on(follower, "budgets", WITHIN_TWO_SECONDS + 1_000)
        screen.keyboard.press("3")
        on(screen, "dashboard")
        on(follower, "dashboard", WITHIN_TWO_SECONDS + 1_000)
        shot(screen, "present-dashboard-1920")

        # The follower types a note: the facilitator moving on does not move them...
        note = follower.locator("#section-dashboard .note-form input[name=text]")
        note.click()
        note.type("Burn on Tuesday night was the deploy")
        screen.keyboard.press("ArrowRight")
        on(screen, "tickets")
        follower.wait_for_timeout(2_500)
        on(follower, "dashboard")
        expect(note).to_have_value("Burn on Tuesday night was the deploy")
        expect(follower.locator("#follow-state")).to_have_class("follow-state held")

        # ...until they send it: then they follow to the tickets.
        note.press("Enter")
        on(follower, "tickets", WITHIN_TWO_SECONDS + 1_000)
        assert SessionNote.objects.get().section == "dashboard"

        # A note added on the laptop appears on the big screen within two seconds.
        follower.locator("#section-tickets .note-form input[name=text]").fill("Tune the cache rule")
        follower.locator("#section-tickets .note-form button").click()
        expect(screen.locator("#section-tickets .notes")).to_contain_text(
            "Tune the cache rule", timeout=WITHIN_TWO_SECONDS
        )
        shot(screen, "present-tickets-1920")
        shot(follower, "present-tickets-1440")

        # Going back is the follower's own: it holds until the facilitator moves again.
        follower.locator("body").click(position={"x": 5, "y": 300})
        follower.keyboard.press("ArrowLeft")
        on(follower, "dashboard")
        follower.wait_for_timeout(2_500)
        on(follower, "dashboard")
        expect(follower.locator("#section-dashboard .notes")).to_contain_text(
            "Burn on Tuesday night"
        )
        screen.keyboard.press("ArrowRight")
        on(screen, "reviews")
        on(follower, "reviews", WITHIN_TWO_SECONDS + 1_000)

        # Typing then cancelling (Escape) lets the follower be moved again.
        held = follower.locator("#section-reviews .note-form input[name=text]")
        held.click()
        held.type("half a thought")
        screen.keyboard.press("8")
        on(screen, "summary")
        follower.wait_for_timeout(2_000)
        on(follower, "reviews")
        held.press("Escape")
        on(follower, "summary", WITHIN_TWO_SECONDS + 1_000)
        assert SessionNote.objects.count() == 2

        session = RetroSession.objects.get()
        assert session.current_section == 7
        assert {user.username for user in session.attendees.all()} == {"lead", "mate"}
    finally:
        big.close()
        laptop.close()


def _session_pk() -> int:
    return RetroSession.objects.get().pk


def test_a_member_decides_on_the_session_page_from_a_phone(browser, live_server, transactional_db):
    now = timezone.now()
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="lead", role=Role.MEMBER)
    service = ServiceFactory(team=team, name="Clock-in API")
    slo = HandFedSLOFactory(service=service, name="Clock-in availability")
    hourly_buckets(slo, hours_from(now - timedelta(days=3), 48), good=990, valid=1000)
    HandFedSLOFactory(service=service, name="Payroll export", provisional=True)
    NotificationFactory(
        source=IntakeSourceFactory(team=team, kind="sentry"),
        title="Timeout talking to the cache",
        notification_class="ticket",
        first_seen_at=now - timedelta(hours=5),
    )
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    phone.set_default_timeout(15_000)
    try:
        page = phone.new_page()
        log_in(page, "lead")
        page.goto("/retros/")
        page.get_by_role("button", name="The agenda").click()
        shot(page, "session-planned-390")
        page.get_by_role("button", name="Start the retro").click()
        on(page, "kudos")
        page.goto(f"/retros/{_session_pk()}/")

        budgets = page.locator("#section-budgets")
        budgets.get_by_role("button", name="Slow down").click()
        expect(budgets.get_by_role("button", name="Slow down")).to_have_attribute(
            "aria-pressed", "true"
        )

        tickets = page.locator("#section-tickets")
        tickets.get_by_role("button", name="Dismiss").click()
        expect(page.locator("#section-tickets [data-error]")).to_have_text(
            "Say why the ticket is dismissed."
        )
        page.locator("#section-tickets input[name=note]").fill("A known flake in the cache")
        page.locator("#section-tickets").get_by_role("button", name="Dismiss").click()
        expect(page.locator("#section-tickets [data-decision=dismiss]")).to_contain_text(
            "A known flake"
        )

        actions = page.locator("#section-actions")
        actions.get_by_label("Action", exact=True).fill("Alert on cache timeouts")
        actions.get_by_label("Owner").select_option(label="lead")
        actions.get_by_role("button", name="Add the action").click()
        expect(page.locator("#new-actions")).to_contain_text("Alert on cache timeouts")
        shot(page, "session-live-390")
        page.set_viewport_size({"width": 1440, "height": 900})
        shot(page, "session-live-1440")
        page.goto(f"/retros/{_session_pk()}/present/?section=1")
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.keyboard.press("2")
        on(page, "budgets")
        shot(page, "present-budgets-1920")
        page.keyboard.press("7")
        on(page, "actions")
        shot(page, "present-actions-1920")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "present-actions-390")
    finally:
        phone.close()
