"""In a real Chromium: a team admin edits the charter (mission, SRE shape, who does
what) and sees the change and its history on the page; no inline script runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.charter.services import responsibility_add
from portal.models import Charter, CharterChange, Role, Team
from tests.browser.csp import csp_violations
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def team(transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="lead", role=Role.ADMIN)
    return team


def test_an_admin_edits_the_charter_and_sees_it_and_its_history(page, team):
    violations = csp_violations(page)
    responsibility_add(
        team=team, by=None, at=team.created_at, description="Be on call", party="sre"
    )
    log_in(page, "lead")
    page.goto("/teams/kintai/")
    page.locator("#charter-link").click()
    expect(page.get_by_role("heading", name="Team charter: Kintai")).to_be_visible()
    expect(page.locator("#shape-unchosen")).to_be_visible()

    page.get_by_text("Edit the mission and the SRE shape").click()
    page.get_by_label("Mission").fill("Every clock-in counted, every payroll on time.")
    page.get_by_label("Enabling SRE").check()
    page.get_by_role("button", name="Save the charter").click()

    expect(page.get_by_text("Charter saved.")).to_be_visible()
    expect(page.locator("#mission-text")).to_have_text(
        "Every clock-in counted, every payroll on time."
    )
    expect(page.locator("#shape-enabling")).to_have_attribute("aria-current", "true")
    expect(page.locator("#shape-enabling")).to_contain_text("the team's choice")
    history = page.locator("#history")
    expect(history).to_contain_text("Mission changed")
    expect(history).to_contain_text("SRE shape changed")
    expect(history.locator("ins").filter(has_text="Enabling SRE")).to_be_visible()
    expect(history).to_contain_text("lead")

    # Who does what: the on-call duty moves to the developers.
    page.get_by_text("Edit who does what").click()
    row = page.locator("form.responsibility-edit").filter(
        has=page.locator("input[value='Be on call']")
    )
    row.get_by_label("Who").select_option("developers")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Responsibility saved.")).to_be_visible()
    expect(page.locator("#party-developers")).to_contain_text("Be on call")
    expect(page.locator("#party-sre")).not_to_contain_text("Be on call")
    change = page.locator("#history .charter-change").first
    expect(change).to_contain_text("Responsibility changed: Be on call")
    expect(change.locator("del")).to_have_text("SRE")
    expect(change.locator("ins")).to_have_text("Developers")

    # Bad input: a message, and nothing written.
    page.get_by_text("Edit who does what").click()
    adding = page.locator("#responsibility-add")
    adding.get_by_label("Responsibility").fill("   ")
    adding.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Say what the responsibility is.")).to_be_visible()

    charter = Charter.objects.get(team=team)
    assert charter.sre_shape == "enabling"
    assert CharterChange.objects.filter(team=team).count() == 4  # add, mission, shape, move
    assert violations == []
