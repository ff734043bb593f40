"""In a real Chromium: a member opens the team's reliability hierarchy, assesses a
service (checklist, enablement level, note), sees it recorded and the radar chart drawn
with the round, then records a second round and sees the first as a fainter trace; no
inline script runs."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from portal.hierarchy.levels import LEVELS
from portal.hierarchy.rules import LevelAnswer
from portal.hierarchy.services import hierarchy_assessment_record
from portal.models import HierarchyAssessment, Role, Team
from slos.models import Service
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
    MembershipFactory(team=team, user__username="dev", role=Role.MEMBER)
    Service.objects.create(team=team, name="Clock-in API")
    return team


def test_a_member_assesses_a_service_and_the_radar_chart_draws(page, team):
    violations = csp_violations(page)
    log_in(page, "dev")
    page.goto("/teams/kintai/")
    page.locator("#hierarchy-link").click()
    expect(page.get_by_role("heading", name="Reliability hierarchy: Kintai")).to_be_visible()
    expect(page.locator("#team-focus")).to_contain_text("No service assessed yet")
    page.get_by_role("link", name="Assess it").click()
    expect(page.locator("#no-assessment")).to_be_visible()

    form = page.locator("#assessment-form")
    monitoring = form.locator("#assess-monitoring")
    monitoring.get_by_label("Every feature that matters to users has an SLO").check()
    monitoring.get_by_label("Each SLO's data arrives every hour").check()
    monitoring.get_by_label("2 · Done by developers with the SRE's support").check()
    monitoring.get_by_label("Note").fill("We wrote the burn-rate rules ourselves.")
    for level in LEVELS[1:]:
        form.locator(f"#assess-{level.key}").get_by_label("1 · Done by the SRE").check()
    page.get_by_role("button", name="Record the assessment").click()

    expect(page.get_by_text("Assessment recorded.")).to_be_visible()
    level = page.locator("#level-monitoring")
    expect(level).to_contain_text("Done by developers with the SRE's support")
    expect(level).to_contain_text("We wrote the burn-rate rules ourselves.")
    expect(page.locator("#next-focus")).to_contain_text("Monitoring")
    expect(page.locator("#next-focus")).to_contain_text(
        "Not done yet: Pages fire on a burning error budget"
    )
    expect(page.locator("#hierarchy-radar .main-svg").first).to_be_visible()
    expect(page.locator("#hierarchy-radar .polarlayer g.trace")).to_have_count(1)
    expect(page.locator("#hierarchy-radar")).to_contain_text("Postmortems")  # a level's label

    # A second round: the first stays, drawn fainter beside it.
    page.locator("#assess-monitoring").get_by_label(
        "Pages fire on a burning error budget, not on causes such as CPU"
    ).check()
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.get_by_text("Assessment recorded.")).to_be_visible()
    expect(page.locator("#hierarchy-radar .polarlayer g.trace")).to_have_count(2)
    expect(page.locator("#history .hierarchy-round")).to_have_count(2)
    assert HierarchyAssessment.objects.filter(service__team=team).count() == 2
    assert violations == []


def test_a_round_missing_a_level_is_refused_in_the_browser(page, team):
    service = Service.objects.get(team=team)
    log_in(page, "dev")
    page.goto(f"/teams/kintai/hierarchy/{service.pk}/")
    page.locator("#assess-monitoring").get_by_label("0 · Not done").check()
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.locator("#assessment-errors")).to_contain_text("Nothing was saved")
    expect(page.locator("#assess-incident_response")).to_contain_text(
        "Choose an enablement level, 0 to 3 (0: not done)."
    )
    assert not HierarchyAssessment.objects.exists()


def test_the_team_page_draws_the_team_radar_and_the_trend(page, team):
    service = Service.objects.get(team=team)
    for day, value in ((date(2026, 9, 1), 1), (date(2026, 10, 1), 2)):
        hierarchy_assessment_record(
            service=service,
            by=None,
            at=team.created_at,
            assessed_on=day,
            answers=[LevelAnswer(level.key, value, frozenset()) for level in LEVELS],
        )
    violations = csp_violations(page)
    log_in(page, "dev")
    page.goto("/teams/kintai/hierarchy/")
    # The minimum before, the mean and the minimum now.
    expect(page.locator("#team-radar .polarlayer g.trace")).to_have_count(3)
    expect(page.locator("#team-trend .main-svg").first).to_be_visible()
    expect(page.locator("#team-trend")).to_contain_text("1 Oct 2026")
    assert violations == []
