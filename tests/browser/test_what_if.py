"""In a real Chromium: the what-if target is recomputed in place by htmx, bad input
gets its message in the region, and nothing is saved."""

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
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser


def test_what_if_recomputes_in_place(page, transactional_db):
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

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("pm")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/slos/{slo.pk}/")
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
