"""In a real Chromium, on a laptop and on a phone: a member uploads a spreadsheet, sees
the rows to correct, uploads the corrected file, previews it and imports it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.models import Role, Team
from tests.factories import PASSWORD, MembershipFactory
from toil.models import BacklogItem

pytestmark = pytest.mark.browser

HEADER = "Title,Kind,Impact,Likelihood,Size,Owner,Toil_hours_per_month"


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_a_member_imports_a_spreadsheet(page, transactional_db, tmp_path, width, height):
    team = Team.objects.create(name="Kintai", slug="kintai", time_zone="Asia/Tokyo")
    MembershipFactory(team=team, user__username="dev", role=Role.MEMBER)
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("dev")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/backlog/kintai/import/")
    page.screenshot(path=tmp_path / f"empty-{width}.png", full_page=True)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nRotate the keys,toil,2,3,M,dev,4\nRetire the queue,chores,9,1,L,,\n")
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_role("button", name="Check the file").click()
    errors = page.locator("#import-errors")
    expect(errors.locator("tr[data-row='3']").first).to_contain_text("kind")
    expect(errors.locator("tr[data-row='3']").nth(1)).to_contain_text("impact")
    page.screenshot(path=tmp_path / f"errors-{width}.png", full_page=True)

    good = tmp_path / "good.csv"
    good.write_text(
        f"{HEADER}\nRotate the keys,toil,2,3,M,dev,4\nRetire the queue,Tech debt,1,1,L,,\n"
    )
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#preview-title")).to_contain_text("2 items")
    assert not BacklogItem.objects.exists()
    page.screenshot(path=tmp_path / f"preview-{width}.png", full_page=True)
    # Nothing in the page is wider than the screen but the table, which scrolls.
    assert page.locator("main").evaluate("main => main.scrollWidth <= main.clientWidth")

    page.get_by_role("button", name="Import them all").click()
    expect(page).to_have_url("/backlog/kintai/plan/")
    assert set(BacklogItem.objects.values_list("title", flat=True)) == {
        "Rotate the keys",
        "Retire the queue",
    }
