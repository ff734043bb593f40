"""The ranking's cells, worked out in Python (toil.plan.cells): each reads as the page
wrote it with template filters and translation tags, in both languages, escaped."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import client_for, utc
from tests.factories import (
    BacklogItemFactory,
    BudgetPolicyStepFactory,
    WorkLogEntryFactory,
    hourly_buckets,
    hours_before,
)
from toil import services
from toil.models import BacklogItem, Status
from toil.plan.cells import url_by_id
from toil.plan.selectors import plan_filter_options

NOW = utc(2026, 12, 2, 3)  # Wednesday noon in Tokyo


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def row_html(html: str, pk: int) -> str:
    found = re.search(rf'<tr data-item="{pk}".*?</tr>', html, re.DOTALL)
    assert found, f"no row for item {pk}"
    return re.sub(r"\s+", " ", found.group(0))


def cell(row: str, factor: str) -> str:
    found = re.search(rf'<td[^>]*data-factor="{factor}"[^>]*>(.*?)</td>', row)
    assert found, f"no {factor} cell"
    return found.group(1).strip()


@pytest.mark.parametrize("pk", [0, 7, 123456789])
def test_a_url_by_id_is_the_url_reverse_gives(pk):
    assert url_by_id("toil:item")(pk) == reverse("toil:item", args=[pk])
    assert url_by_id("toil:plan_pin", "kintai")(pk) == reverse("toil:plan_pin", args=["kintai", pk])


@pytest.fixture
def frozen_item(team, owner, teammate, slo, now):
    """Pinned by the teammate, on an SLO whose budget is overspent under a freezing step,
    removing 7.5 h of toil a month, with 3 h logged."""
    hourly_buckets(slo, hours_before(NOW.replace(minute=0), 24), good=90, valid=100)
    BudgetPolicyStepFactory(slo=slo, below_percent=Decimal(50), freezes_releases=True)
    item = BacklogItemFactory(
        team=team,
        title="Drain <the> queue & “retry”",
        impact=3,
        likelihood=2,
        effort="L",
        toil_hours_per_month=Decimal("7.5"),
        slo=slo,
        owner=owner,
    )
    BacklogItem.objects.filter(pk=item.pk).update(created_at=utc(2026, 11, 28, 23))
    services.backlog_item_pin(item=item, reason="Audit <Friday>", by=teammate, at=NOW)
    WorkLogEntryFactory(
        team=team, person=teammate, item=item, on=date(2026, 12, 1), hours=Decimal(3), at=NOW
    )
    return item


def test_a_row_writes_every_factor_escaped(client, team, owner, slo, frozen_item):
    html = client_for(client, owner).get(f"/backlog/{team.slug}/plan/").content.decode()
    row = row_html(html, frozen_item.pk)
    assert 'class="pinned frozen"' in row
    title = cell(row, "title")
    assert f'<a href="{reverse("toil:item", args=[frozen_item.pk])}">' in title
    assert "Drain &lt;the&gt; queue &amp; “retry”" in title
    assert 'data-flag="pinned">pinned<' in title and 'data-flag="frozen"' in title
    assert "“Audit &lt;Friday&gt;”" in title
    assert "by teammate, 2 Dec 2026 12:00 JST" in title
    assert cell(row, "impact") == "3" and 'title="Many users"' in row
    assert cell(row, "toil_relief").endswith('<small class="muted block">7.5 h/month</small>')
    slo_cell = cell(row, "slo_risk")
    assert f'<a href="{reverse("slos:detail", args=[slo.pk])}">Clock-in availability</a>' in (
        slo_cell
    )
    assert re.search(r"</a> -?[\d,]+\.\d% left</small>$", slo_cell)
    assert cell(row, "effort") == 'L<small class="muted block">5 points</small>'
    assert 'title="Added 3 days 4 hours ago"' in row
    assert cell(row, "hours") == "3 / 20"
    assert cell(row, "owner") == "owner"
    assert f'action="{reverse("toil:plan_unpin", args=[team.slug, frozen_item.pk])}"' in row


def test_a_row_reads_in_japanese(japanese_catalogue, client, team, owner, frozen_item):
    client_for(client, owner)
    html = client.get(f"/backlog/{team.slug}/plan/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    row = row_html(html, frozen_item.pk)
    assert "7.5時間/月" in cell(row, "toil_relief")
    assert "ポイント" in cell(row, "effort")
    assert "前に追加" in row
    assert "teammate、" in cell(row, "title")


def test_an_item_without_owner_slo_or_toil_leaves_those_cells_bare(client, team, owner, now):
    item = BacklogItemFactory(team=team, title="Plain")
    row = row_html(
        client_for(client, owner).get(f"/backlog/{team.slug}/plan/").content.decode(), item.pk
    )
    assert cell(row, "owner") == '<span class="muted">—</span>'
    assert cell(row, "slo_risk") == "0"
    assert cell(row, "toil_relief") == "0"
    assert 'class=""' in row


def next_up_html(html: str, pk: int) -> str:
    found = re.search(rf'<li data-next="{pk}".*?</li>', html, re.DOTALL)
    assert found, f"item {pk} is not next up"
    return re.sub(r"\s+", " ", found.group(0))


def test_next_up_says_why_each_item_is_there(client, team, owner, frozen_item):
    plain = BacklogItemFactory(team=team, title="Plain", impact=2, likelihood=2, effort="S")
    html = client_for(client, owner).get(f"/backlog/{team.slug}/plan/").content.decode()
    pinned = next_up_html(html, frozen_item.pk)
    assert "Pinned: “Audit &lt;Friday&gt;”" in pinned
    assert '<small class="muted" data-pinned-by>by teammate, 2 Dec 2026 12:00 JST</small>' in (
        pinned
    )
    assert "releases frozen" in pinned
    scored = next_up_html(html, plain.pk)
    assert "<span>score 2.00: cost of delay 4.00 ÷ 2 points × age 1.00</span>" in scored
    assert "status-at_risk" not in scored


def test_next_up_names_the_budget_of_an_slo_at_risk(client, team, owner, slo, now):
    hourly_buckets(slo, hours_before(NOW.replace(minute=0), 24), good=90, valid=100)
    item = BacklogItemFactory(team=team, title="On the SLO", slo=slo)
    html = client_for(client, owner).get(f"/backlog/{team.slug}/plan/").content.decode()
    assert re.search(
        r'<small class="status-at_risk">· SLO “Clock-in availability” has -?[\d,]+\.\d% of its '
        r"budget left</small>",
        next_up_html(html, item.pk),
    )


def test_the_owner_filter_lists_the_owners_of_open_items_by_name(
    team, owner, teammate, viewer, other_team, outsider, now
):
    BacklogItemFactory(team=team, owner=teammate)
    BacklogItemFactory(team=team, owner=teammate)
    BacklogItemFactory(team=team, owner=owner)
    BacklogItemFactory(team=team, owner=viewer, status=Status.DONE)
    BacklogItemFactory(team=other_team, owner=outsider)
    owners, slos = plan_filter_options(team)
    assert owners == [(owner.pk, "owner"), (teammate.pk, "teammate")]
    assert slos == []
