"""In a real Chromium: a delete asks first, in the browser's own dialog with htmx and
on a page of its own without JavaScript, and nothing goes until the person says yes; a
slow post (pull now) shows that it is working and cannot be sent twice. No inline
script anywhere (the CSP holds)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.registry import services
from tests.browser.csp import csp_violations
from tests.factories import PASSWORD, DataSourceFactory, MembershipFactory, WorkLogEntryFactory
from toil.models import WorkLogEntry

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def entry(transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    dev = MembershipFactory(team=team, user__username="dev", role=Role.MEMBER).user
    return WorkLogEntryFactory(
        team=team, person=dev, on=date(2026, 11, 30), hours=Decimal(2), note="Runbook"
    )


def test_a_delete_asks_in_the_browser_and_only_yes_deletes(page, entry):
    violations = csp_violations(page)
    log_in(page, "dev")
    page.goto("/backlog/kintai/log/")
    row = page.locator(f"tr[data-entry='{entry.pk}']")
    questions: list[str] = []

    def say_no(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()
    assert questions == ["Delete the entry of 2 h on 30 Nov 2026?"]
    assert WorkLogEntry.objects.filter(pk=entry.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("The entry is deleted.")).to_be_visible()
    expect(page.locator(f"tr[data-entry='{entry.pk}']")).to_have_count(0)
    assert not WorkLogEntry.objects.filter(pk=entry.pk).exists()
    assert violations == []


def test_without_javascript_a_page_asks(browser, live_server, entry):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "dev")
        page.goto("/backlog/kintai/log/")
        delete = page.locator(f"tr[data-entry='{entry.pk}']").get_by_role("button", name="Delete")
        question = page.get_by_role("heading", name="Delete the entry of 2 h on 30 Nov 2026?")

        delete.click()
        expect(question).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        expect(delete).to_be_visible()
        assert WorkLogEntry.objects.filter(pk=entry.pk).exists()

        delete.click()
        expect(question).to_be_visible()
        page.get_by_role("button", name="Delete the entry").click()
        expect(page.get_by_text("The entry is deleted.")).to_be_visible()
        assert not WorkLogEntry.objects.filter(pk=entry.pk).exists()
    finally:
        context.close()


def test_pull_now_shows_it_is_working_and_cannot_be_sent_twice(page, transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai")
    MembershipFactory(team=team, user__username="dev", role=Role.MEMBER)
    slo = services.slo_create(
        service=services.service_create(team=team, name="Clock-in API"),
        data_source=DataSourceFactory(team=team),
        name="Clock-ins succeed",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=Decimal("99.9"),
    )
    violations = csp_violations(page)
    log_in(page, "dev")
    page.goto(f"/slos/{slo.pk}/")

    button = page.locator("#pull-now")
    indicator = page.locator("form:has(#pull-now) .htmx-indicator")
    expect(indicator).to_be_hidden()
    # The page is kept from leaving, so what it shows meanwhile can be read: a listener
    # after the page's own records whether each submit was let through, then stops it.
    page.evaluate(
        """() => {
          window.submits = [];
          window.addEventListener("submit", (event) => {
            window.submits.push(event.defaultPrevented ? "refused" : "sent");
            event.preventDefault();
          });
        }"""
    )
    button.click()
    expect(indicator).to_be_visible()
    expect(indicator).to_have_text("working…")
    expect(button).to_be_disabled()
    # Sent again (Enter in a field would do it): refused while the first is on its way.
    page.evaluate("() => document.getElementById('pull-now').form.requestSubmit()")
    assert page.evaluate("() => window.submits") == ["sent", "refused"]
    assert violations == []
