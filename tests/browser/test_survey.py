"""In a real Chromium: a member opens the survey from the team page, answers every
statement of the open round, and sees the answers recorded (and kept when the page is
opened again); once an admin closes the round, the results show. No inline script runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from portal.models import Role, SurveyAnswer, SurveyParticipation, SurveySettings, Team
from portal.survey.results import AGREE, DISAGREE
from portal.survey.services import round_answer, round_close, round_open, statement_add
from tests.browser.csp import csp_violations
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser

OPENED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def team(transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    lead = MembershipFactory(team=team, user__username="lead", role=Role.ADMIN).user
    MembershipFactory(team=team, user__username="member", role=Role.MEMBER)
    SurveySettings.objects.create(team=team, seeded_at=OPENED)
    statement_add(
        team=team, at=OPENED, text="The SRE is on call for our services.", expected=DISAGREE
    )
    statement_add(team=team, at=OPENED, text="An SLO of 100% is the goal.", expected=DISAGREE)
    survey_round = round_open(team=team, by=lead, at=OPENED, anonymous=False)
    # Two others answered already: the member's answers make three.
    for name, choice in (("aiko", AGREE), ("botan", DISAGREE)):
        user = MembershipFactory(team=team, user__username=name, role=Role.MEMBER).user
        round_answer(
            survey_round=survey_round,
            user=user,
            answers={s.pk: choice for s in survey_round.statements.all()},
        )
    return team


def test_a_member_answers_the_survey_and_sees_it_recorded(page, team):
    violations = csp_violations(page)
    log_in(page, "member")
    page.goto("/teams/kintai/")
    page.locator("#survey-link").click()
    expect(page.get_by_role("heading", name="Expectations survey: Kintai")).to_be_visible()
    page.locator("#answer-link").click()
    expect(page.locator("#anonymity-note")).to_contain_text("This round is named")

    # Sending with a statement left out saves nothing and says why.
    first = page.locator("fieldset").filter(has_text="The SRE is on call for our services.")
    first.get_by_label("Disagree").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Nothing was saved: answer every statement.")).to_be_visible()
    assert not SurveyParticipation.objects.filter(user__username="member").exists()

    first = page.locator("fieldset").filter(has_text="The SRE is on call for our services.")
    first.get_by_label("Disagree").check()
    second = page.locator("fieldset").filter(has_text="An SLO of 100% is the goal.")
    second.get_by_label("Unsure").check()
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("Your answers are recorded.")).to_be_visible()
    expect(page.locator("#answered-note")).to_be_visible()
    page.reload()
    first = page.locator("fieldset").filter(has_text="The SRE is on call for our services.")
    expect(first.get_by_label("Disagree")).to_be_checked()
    second = page.locator("fieldset").filter(has_text="An SLO of 100% is the goal.")
    expect(second.get_by_label("Unsure")).to_be_checked()
    assert SurveyAnswer.objects.filter(respondent__username="member").count() == 2
    # The results wait for the round to close.
    expect(page.locator("#results")).to_have_count(0)

    survey_round = team.survey_rounds.get()
    round_close(survey_round=survey_round, at=OPENED)
    page.reload()
    results = page.locator("#results")
    expect(results).to_contain_text("3 people answered.")
    expect(results).to_contain_text("Disagree: botan, member")
    expect(results.locator(".survey-bar").first).to_be_visible()
    assert violations == []


def test_an_admin_closes_the_round_once_the_browser_asked(page, team):
    violations = csp_violations(page)
    log_in(page, "lead")
    page.goto("/teams/kintai/survey/rounds/1/")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    # Said no: nothing changes.
    page.once("dialog", dismiss)
    page.locator("#close-round").click()
    expect(page.locator("#live-count")).to_be_visible()
    assert questions == [
        "Close round 1? People can no longer answer or change their answers; the team sees "
        "each answer with the name of the person who gave it. 2 people answered so far."
    ]
    assert team.survey_rounds.get().is_open

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#close-round").click()
    expect(page.get_by_text("Round 1 is closed: here are its results.")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("2 people answered.")
    assert not team.survey_rounds.get().is_open
    assert violations == []
