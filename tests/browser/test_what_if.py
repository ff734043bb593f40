"""In a real Chromium: the what-if target is recomputed in place by htmx, bad input
gets its message in the region, and nothing is saved. The slider runs on a "nines"
scale, so 99.9–99.99 is a quarter of it, and preset targets are one click; all of it
without an inline script (the CSP holds)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.budget import align_to_hour
from slos.models import SLO, HourlyBucket
from slos.registry import services
from tests.browser.csp import csp_violations
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser


def slo_with_half_its_budget_left() -> SLO:
    team = Team.objects.create(name="Kintai", slug="kintai")
    MembershipFactory(team=team, user__username="pm", role=Role.VIEWER)
    slo = services.slo_create(
        service=services.service_create(team=team, name="Clock-in API"),
        data_source=None,
        name="Clock-ins succeed",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=Decimal("99.9"),
    )
    end = align_to_hour(timezone.now())
    # 1,000,000 valid and 500 bad events: half of a 99.9% budget, 90% of a 99.5% one.
    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=end - timedelta(hours=h), good=9_995, valid=10_000)
        for h in range(1, 101)
    )
    return slo


def open_as_viewer(page, slo: SLO) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("pm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/slos/{slo.pk}/")


def test_what_if_recomputes_in_place(page, transactional_db):
    slo = slo_with_half_its_budget_left()
    open_as_viewer(page, slo)
    expect(page.locator("#budget-remaining")).to_have_text("50.0%")
    page.locator("#budget-remaining").evaluate("el => el.dataset.marker = 'same-page'")

    page.locator("#what-if-target").fill("99.5")
    page.get_by_role("button", name="Recompute").click()
    expect(page.locator("#what-if-remaining")).to_have_text("90.0%")
    # Swapped in place: the element marked before the click is still there.
    expect(page.locator("#budget-remaining[data-marker='same-page']")).to_have_count(1)

    page.locator("#what-if-target").fill("100")
    page.get_by_role("button", name="Recompute").click()
    expect(page.locator("#what-if-error")).to_contain_text(re.compile("100"))
    assert SLO.objects.get(pk=slo.pk).target == Decimal("99.9")


def test_the_nines_slider_and_the_presets_reach_99_9_to_99_99(page, transactional_db):
    slo = slo_with_half_its_budget_left()
    violations = csp_violations(page)
    open_as_viewer(page, slo)
    slider = page.locator("#what-if-slider")
    box = page.locator("#what-if-target")

    # The slider starts at the SLO's 99.9% (3 nines); 99.9 to 99.99 is a quarter of it.
    assert float(slider.input_value()) == pytest.approx(3.0)
    width = slider.bounding_box()["width"]
    assert width * (4 - 3) / (5 - 1) > 100  # pixels between 99.9 and 99.99

    # Half-way between 99.9 and 99.99 on the slider is 99.97 (0.03% of budget)...
    slider.fill("3.5")
    expect(box).to_have_value("99.968")
    # ...and the region recomputes on its own: 500 bad of 1,000,000 against 320 allowed.
    expect(page.locator("#what-if-remaining")).to_have_text("-56.2%")
    expect(slider).to_have_attribute("aria-valuetext", "99.968%")

    # A preset is one click; the slider follows it.
    page.get_by_role("button", name="99.95%").click()
    expect(box).to_have_value("99.95")
    expect(page.locator("#what-if-remaining")).to_have_text("0.0%")
    assert float(slider.input_value()) == pytest.approx(3.3, abs=0.01)  # the step is 0.01
    assert page.url.endswith(f"/slos/{slo.pk}/what-if/?target=99.95")

    # Typing moves the slider too.
    box.fill("99.99")
    assert float(slider.input_value()) == pytest.approx(4.0)
    expect(page.locator("#what-if-remaining")).to_have_text("-400.0%")

    # While a recompute runs, "working…" shows and the button is disabled; both undone
    # once the answer is in.
    held = []
    page.route("**/what-if/**", lambda route: held.append(route))
    recompute = page.get_by_role("button", name="Recompute")
    page.get_by_role("button", name="99.5%").click()
    indicator = page.locator("#what-if-form .htmx-indicator")
    expect(indicator).to_be_visible()
    expect(recompute).to_be_disabled()
    page.wait_for_function("() => true")  # let the held request be seen
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#what-if-remaining")).to_have_text("90.0%")
    expect(indicator).to_be_hidden()
    expect(recompute).to_be_enabled()
    assert violations == []
    assert SLO.objects.get(pk=slo.pk).target == Decimal("99.9")


def test_the_presets_work_without_javascript(browser, live_server, transactional_db):
    slo = slo_with_half_its_budget_left()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        open_as_viewer(page, slo)
        page.get_by_role("button", name="99.5%").click()
        expect(page.locator("#what-if-remaining")).to_have_text("90.0%")
        expect(page.locator("#what-if-target")).to_have_value("99.5")
    finally:
        context.close()
