"""In a real Chromium: an admin builds the routing policy (add, refuse a bad regex, move,
edit), replays a draft, decides a ticket, and sees the noise charts against the team's
target; the intake the pages show came in through the real webhook."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from portal.models import Role, Team
from slos.models import Notification, RoutingRule
from slos.notifications.intake import intake_source_create
from slos.registry import services
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.browser
PAYLOADS = Path(__file__).parent.parent / "slos" / "notifications" / "intake_payloads"


def rule_names() -> list[str]:
    return list(RoutingRule.objects.order_by("position").values_list("name", flat=True))


def test_admin_shapes_the_policy_and_triages_in_the_browser(page, transactional_db):
    team = Team.objects.create(name="Kintai", slug="kintai", alerts_per_week_target=3)
    MembershipFactory(team=team, user__username="sre", role=Role.ADMIN)
    service = services.service_create(team=team, name="Clock-in API")
    slo = services.slo_create(
        service=service,
        data_source=None,
        name="Clock-in availability",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target=Decimal("99.9"),
    )
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    source = intake_source_create(team=team, name="Alertmanager", kind="alertmanager")
    answer = Client().post(
        reverse("api:intake_alertmanager", args=[source.token]),
        data=(PAYLOADS / "alertmanager_firing.json").read_bytes(),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("sre")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The policy: two rules added, a bad regular expression refused with its reason.
    page.goto(f"/slos/routing/{team.slug}/")
    for name, conditions, outcome in [
        ("Staging is a log", "env = staging", "log"),
        ("Disk alerts are tickets", "alertname ~ Disk.*", "ticket"),
    ]:
        page.get_by_label("Name").fill(name)
        page.get_by_label("Conditions").fill(conditions)
        page.get_by_label("Class").select_option(outcome)
        page.get_by_role("button", name="Add the rule").click()
        expect(page.locator("#routing-rules")).to_contain_text(name)
    page.get_by_label("Name").fill("Broken")
    page.get_by_label("Conditions").fill("alertname ~ (")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.get_by_text("bad regular expression")).to_be_visible()
    assert rule_names() == ["Staging is a log", "Disk alerts are tickets"]

    page.get_by_role("button", name="Move “Disk alerts are tickets” up").click()
    expect(page.locator("#routing-rules tbody tr").first).to_contain_text("Disk alerts")
    assert rule_names() == ["Disk alerts are tickets", "Staging is a log"]

    page.locator("#routing-rules tbody tr").first.get_by_role("link", name="Edit").click()
    page.get_by_label("Name").fill("Disk and inode alerts are tickets")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#routing-rules")).to_contain_text("Disk and inode alerts are tickets")
    assert rule_names() == ["Disk and inode alerts are tickets", "Staging is a log"]

    # A draft that makes every SLO burn a log: the replay says what would change.
    page.goto(f"/slos/noise/{team.slug}/replay/")
    page.get_by_label("Draft rules").fill("log: everything is a log")
    page.get_by_role("button", name="Replay").click()
    expect(page.locator("#replay-summary")).to_contain_text("0 alerts, 0 tickets, 2 logs")
    expect(page.locator("#replay-summary")).to_contain_text("1 alerts, 1 tickets, 0 logs")
    assert rule_names() == ["Disk and inode alerts are tickets", "Staging is a log"]

    # The ticket the burn made is decided, and the queue says by whom.
    page.goto(f"/slos/tickets/{team.slug}/")
    page.get_by_label("Decision").select_option("dismissed")
    page.get_by_label("Note").fill("Known: the deploy at 09:00")
    page.get_by_role("button", name="Decide").click()
    # Off the open queue; on the dismissed one, with who decided and why.
    expect(page.get_by_role("button", name="Decide")).to_have_count(0)
    page.goto(f"/slos/tickets/{team.slug}/?status=dismissed")
    expect(page.get_by_text("Dismissed by sre")).to_be_visible()
    expect(page.get_by_text("Known: the deploy at 09:00").first).to_be_visible()
    ticket = Notification.objects.get(notification_class="ticket")
    assert (ticket.ticket_status, ticket.ticket_note) == ("dismissed", "Known: the deploy at 09:00")

    # The noise page draws its charts with plotly and measures against the team's target.
    page.goto(f"/slos/noise/{team.slug}/")
    expect(page.locator("#noise-class-chart .main-svg").first).to_be_visible()
    expect(page.locator("#noise-source-chart .main-svg").first).to_be_visible()
    expect(page.locator("#noise-weeks")).to_contain_text("against the team's target of 3")
