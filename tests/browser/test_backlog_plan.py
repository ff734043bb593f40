"""In a real Chromium, the PM's plan: a weight is changed, the preview shows the moves,
saving re-orders the ranking; an item is pinned with a reason; the capacity chart is
drawn."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from tests.factories import PASSWORD, BacklogItemFactory, MembershipFactory
from toil import services
from toil.models import BacklogItem, BacklogSettingsChange

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def ranking(page) -> list[str]:
    return page.locator(
        "#plan tbody tr[data-item] td[data-factor='title'] strong"
    ).all_inner_texts()


def test_a_pm_tunes_the_weights_pins_an_item_and_sees_the_capacity(page, transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    pm = MembershipFactory(team=team, user__username="pm", role=Role.ADMIN).user
    now = timezone.now()
    services.backlog_settings_update(team=team, by=pm, at=now, reserved_hours=Decimal(10))
    BacklogItemFactory(team=team, title="Fix the flaky export", impact=2, likelihood=2)
    old = BacklogItemFactory(team=team, title="Rotate the old keys", impact=1, likelihood=3)
    BacklogItem.objects.filter(pk=old.pk).update(created_at=now - timedelta(weeks=40))
    BacklogItemFactory(team=team, title="Tidy the dashboards", impact=1, likelihood=1)

    log_in(page, "pm")
    page.goto("/backlog/kintai/plan/")
    # 3/3 × 2 for the old item beats 4/3 for the fresh one; without age, 1 does not.
    assert ranking(page) == ["Rotate the old keys", "Fix the flaky export", "Tidy the dashboards"]
    expect(page.locator("#capacity-chart .main-svg").first).to_be_visible()

    page.get_by_label("Weight of age").fill("0")
    page.get_by_role("button", name="Preview").click()
    moves = page.locator("#preview-moves")
    expect(moves).to_contain_text("Rotate the old keys")
    expect(moves).to_contain_text("#1 → #2")
    assert not BacklogSettingsChange.objects.filter(after__has_key="weight_age").exists()

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message, [role=status], .messages").first).to_contain_text(
        "2 items moved"
    )
    assert ranking(page) == ["Fix the flaky export", "Rotate the old keys", "Tidy the dashboards"]
    assert BacklogSettingsChange.objects.filter(after__has_key="weight_age").count() == 1

    row = page.locator("#plan tr[data-item]", has_text="Tidy the dashboards")
    row.locator("summary", has_text="Pin to the top").click()
    row.get_by_label("Why pin it above the ranking?").fill("The auditors look at them on Friday")
    row.get_by_role("button", name="Pin", exact=True).click()
    assert ranking(page)[0] == "Tidy the dashboards"
    expect(page.locator("#plan [data-pin-reason]").first).to_contain_text(
        "The auditors look at them on Friday"
    )


def test_hours_logged_move_the_capacity_chart(page, transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    dev = MembershipFactory(team=team, user__username="dev", role=Role.MEMBER).user
    services.backlog_settings_update(
        team=team, by=dev, at=timezone.now(), reserved_hours=Decimal(10)
    )
    BacklogItemFactory(team=team, title="Retry the uploads", impact=3, likelihood=3)

    def this_week_bar() -> float:
        figure = page.locator("#capacity-figure").text_content()
        return json.loads(figure)["data"][0]["y"][-1]

    log_in(page, "dev")
    page.goto("/backlog/kintai/plan/")
    assert this_week_bar() == 0
    expect(page.locator("[data-stat='left']")).to_have_text("10 h")

    page.goto("/backlog/kintai/log/")
    page.get_by_label("Hours", exact=True).fill("3.5")
    page.get_by_label("Backlog item").select_option(label="Retry the uploads")
    page.get_by_label("Note").fill("Paired on the retry loop")
    page.get_by_role("button", name="Log it").click()
    expect(page.locator("#entries")).to_contain_text("Paired on the retry loop")

    page.goto("/backlog/kintai/plan/")
    assert this_week_bar() == 3.5
    expect(page.locator("[data-stat='left']")).to_have_text("6.5 h")
    expect(page.locator("#capacity-chart .main-svg").first).to_be_visible()
