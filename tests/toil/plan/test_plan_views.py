"""The PM's plan page: ranking with pins and filters, capacity and what fits, the
weights with their preview, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from slos.registry.budget_sums import kept_sums_forget
from tests.conftest import NOTHING_KEPT, client_for, utc
from tests.factories import BacklogItemFactory, MembershipFactory, WorkLogEntryFactory
from toil import services
from toil.models import BacklogItem, BacklogSettings, BacklogSettingsChange, Status
from toil.plan.selectors import ROWS_PER_PAGE

NOW = utc(2026, 12, 2, 3)  # Wednesday noon in Tokyo; the week began on Monday 2026-11-30

SETTINGS = {
    "weight_impact_likelihood": "1",
    "weight_toil_relief": "1",
    "weight_slo_risk": "1",
    "weight_age": "1",
    "age_horizon_weeks": "26",
    "reserved_mode": "hours",
    "reserved_hours": "0",
    "reserved_share_percent": "20",
    "team_hours": "0",
    "hours_per_point": "4",
}


class PlanTable(HTMLParser):
    """The plan table's item rows in page order (their ids), and the cut-off row's place."""

    def __init__(self, html: str):
        super().__init__()
        self.items: list[int] = []
        self.fits: list[int] = []
        self.cut_before: int | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag != "tr":
            return
        if attributes.get("id") == "cut-off":
            self.cut_before = len(self.items)
        elif "data-item" in attributes:
            self.items.append(int(attributes["data-item"]))
            if "fits" in (attributes.get("class") or "").split():
                self.fits.append(int(attributes["data-item"]))


def url(team, suffix: str = "") -> str:
    return f"/backlog/{team.slug}/plan/{suffix}"


def plan(client, team, query: str = "") -> PlanTable:
    response = client.get(url(team) + query)
    assert response.status_code == 200
    return PlanTable(response.content.decode())


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def items(team, now):
    """Three items: scores 9/3 = 3, 4/3 ≈ 1.33 and 1/3 ≈ 0.33 (size M each)."""
    return [
        BacklogItemFactory(team=team, title="High", impact=3, likelihood=3, kind="reliability"),
        BacklogItemFactory(team=team, title="Middle", impact=2, likelihood=2, kind="toil"),
        BacklogItemFactory(team=team, title="Low", impact=1, likelihood=1, kind="toil"),
    ]


def test_a_pinned_item_tops_the_ranking_and_everyone_reads_why(client, team, owner, viewer, items):
    high, middle, low = items
    response = client_for(client, owner).post(
        url(team, f"{low.pk}/pin/"), {"reason": "Audit on Friday"}
    )
    assert response.status_code == 302
    page = client_for(client, viewer).get(url(team))
    assert PlanTable(page.content.decode()).items == [low.pk, high.pk, middle.pk]
    assert "Audit on Friday" in page.content.decode()

    client_for(client, owner).post(url(team, f"{low.pk}/unpin/"))
    assert plan(client, team).items == [high.pk, middle.pk, low.pk]


def test_a_pin_without_a_reason_changes_nothing(client, team, owner, items):
    low = items[2]
    response = client_for(client, owner).post(url(team, f"{low.pk}/pin/"), {"reason": "  "})
    assert response.status_code == 400
    assert "Write why the item is pinned" in response.content.decode()
    low.refresh_from_db()
    assert low.pinned_at is None


def test_filters_keep_each_items_place_in_the_whole_ranking(client, team, owner, items):
    high, middle, low = items
    client_for(client, owner)
    response = client.get(url(team) + "?kind=toil")
    assert PlanTable(response.content.decode()).items == [middle.pk, low.pk]
    html = response.content.decode()
    assert 'data-factor="place">2<' in html and 'data-factor="place">3<' in html
    services.backlog_item_update(item=low, by=owner, at=NOW, owner=owner)
    assert plan(client, team, f"?owner={owner.pk}").items == [low.pk]
    assert plan(client, team, "?owner=none").items == [high.pk, middle.pk]
    assert plan(client, team, "?status=ready&slo=none").items == [high.pk, middle.pk, low.pk]


def test_a_bad_filter_is_ignored_with_a_message(client, team, owner, items):
    response = client_for(client, owner).get(url(team) + "?owner=1%00&kind=nonsense")
    assert response.status_code == 400
    assert "was not understood" in response.content.decode()
    assert len(PlanTable(response.content.decode()).items) == 3


def test_the_week_is_cut_where_the_reserved_hours_run_out(client, team, owner, teammate, items):
    high, middle, low = items  # 12 h each at 4 h a point
    services.backlog_settings_update(team=team, by=owner, at=NOW, reserved_hours=Decimal(30))
    WorkLogEntryFactory(
        team=team, person=teammate, item=high, on=date(2026, 11, 30), hours=Decimal(5), at=NOW
    )
    # 25 h left: the first two items fit (24 h), the third does not.
    table = plan(client_for(client, owner), team)
    assert table.fits == [high.pk, middle.pk]
    assert table.cut_before == 2
    html = client.get(url(team)).content.decode()
    assert 'data-stat="logged">5 h<' in html
    assert 'data-stat="left">25 h<' in html
    assert "needs 12 h, 1 h left" in html


def test_the_last_eight_weeks_and_this_one_are_summed(client, team, owner, teammate, items):
    high = items[0]
    for weeks_back, hours in [(0, 2), (1, 3), (8, 4), (9, 20)]:
        WorkLogEntryFactory(
            team=team,
            person=teammate,
            item=high,
            on=date(2026, 11, 30) - timedelta(weeks=weeks_back),
            hours=Decimal(hours),
            at=NOW,
        )
    html = client_for(client, owner).get(url(team)).content.decode()
    assert html.count("data-week=") == 9
    assert 'data-week="2026-10-05"' in html  # 8 weeks before this Monday
    assert 'data-week="2026-09-28"' not in html
    assert 'id="capacity-chart"' in html and 'id="capacity-figure"' in html


def test_the_preview_lists_the_moves_and_saves_nothing(client, team, owner, items):
    high, middle, low = items
    old = BacklogItemFactory(team=team, title="Old", impact=1, likelihood=2, effort="M")
    BacklogItem.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(weeks=30))
    client_for(client, owner)
    assert plan(client, team).items == [high.pk, old.pk, middle.pk, low.pk]  # 2/3 × 2 > 4/3
    response = client.post(url(team, "settings/preview/"), {**SETTINGS, "weight_age": "0"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-move="{old.pk}"' in html and "#2 → #3" in html
    assert not BacklogSettings.objects.exists()
    assert plan(client, team).items == [high.pk, old.pk, middle.pk, low.pk]

    response = client.post(url(team, "settings/"), {**SETTINGS, "weight_age": "0"})
    assert response.status_code == 302
    assert plan(client, team).items == [high.pk, middle.pk, old.pk, low.pk]
    change = BacklogSettingsChange.objects.get()
    assert change.changed_by == owner
    assert change.after == {"weight_age": "0.0"}


@pytest.mark.parametrize(
    "bad",
    [
        {"weight_slo_risk": "9"},
        {"weight_slo_risk": "abc"},
        {"age_horizon_weeks": "0"},
        {"reserved_hours": "1e400"},
        {"reserved_mode": "forever"},
        {"team_hours": "12\x00"},
        {"hours_per_point": ""},
    ],
)
def test_bad_settings_change_nothing(client, team, owner, items, bad):
    client_for(client, owner)
    for path in ("settings/", "settings/preview/"):
        response = client.post(url(team, path), {**SETTINGS, **bad})
        assert response.status_code == 400
        assert "Nothing was saved" in response.content.decode()
    assert not BacklogSettings.objects.exists()
    assert not BacklogSettingsChange.objects.exists()


def test_roles(client, team, owner, teammate, viewer, outsider, items):
    low = items[2]
    # A viewer reads but cannot pin or change the settings.
    client_for(client, viewer)
    assert client.get(url(team)).status_code == 200
    assert client.post(url(team, f"{low.pk}/pin/"), {"reason": "x"}).status_code in (403, 404)
    assert client.post(url(team, "settings/"), SETTINGS).status_code in (403, 404)
    # A member pins, but the weights are the admins'.
    client_for(client, teammate)
    assert client.post(url(team, f"{low.pk}/pin/"), {"reason": "Launch"}).status_code == 302
    assert client.post(url(team, "settings/"), {**SETTINGS, "weight_age": "2"}).status_code in (
        403,
        404,
    )
    assert client.post(url(team, "settings/preview/"), SETTINGS).status_code in (403, 404)
    assert 'id="settings-form"' not in client.get(url(team)).content.decode()
    assert not BacklogSettings.objects.exists()
    # An outsider finds nothing, whatever the URL.
    client_for(client, outsider)
    for path in ("", f"{low.pk}/pin/", f"{low.pk}/unpin/", "settings/", "settings/preview/"):
        method = client.get if path == "" else client.post
        assert method(url(team, path), {"reason": "x", **SETTINGS}).status_code == 404
    low.refresh_from_db()
    assert low.pinned_reason == "Launch"


def test_an_item_of_another_team_cannot_be_pinned_through_this_team(
    client, team, other_team, owner, now
):
    theirs = BacklogItemFactory(team=other_team)
    response = client_for(client, owner).post(url(team, f"{theirs.pk}/pin/"), {"reason": "x"})
    assert response.status_code == 404


def test_a_closed_item_is_not_pinned(client, team, owner, now):
    done = BacklogItemFactory(team=team, status=Status.DONE)
    response = client_for(client, owner).post(url(team, f"{done.pk}/pin/"), {"reason": "Too late"})
    assert response.status_code in (404, 409)
    done.refresh_from_db()
    assert done.pinned_at is None


@pytest.mark.parametrize("count", [3, 30])
def test_the_page_runs_a_fixed_number_of_queries(
    client, team, owner, slo, now, django_assert_num_queries, count
):
    for index in range(count):
        member = MembershipFactory(team=team).user
        item = BacklogItemFactory(team=team, slo=slo if index % 2 else None, owner=member)
        WorkLogEntryFactory(team=team, person=member, item=item, on=date(2026, 12, 1), at=NOW)
        if index == 0:
            services.backlog_item_pin(item=item, reason="First", by=owner, at=NOW)
    services.backlog_settings_update(team=team, by=owner, at=NOW, reserved_hours=Decimal(10))
    client_for(client, owner)
    # Nothing kept from an earlier read of the budgets: the most it sends.
    kept_sums_forget()
    with django_assert_num_queries(QUERIES):
        response = client.get(url(team))
    assert len(PlanTable(response.content.decode()).items) == min(count, ROWS_PER_PAGE)
    kept_sums_forget()
    with django_assert_num_queries(QUERIES_WHOLE):
        response = client.get(url(team) + "?kind=toil")
    assert PlanTable(response.content.decode()).items


# session, user, team, membership; settings, changes, the filters' owners and SLOs; the
# top of the ranking (candidates, SLO budgets (3), rows with their hours, freeze steps);
# week sums
QUERIES = 15 + NOTHING_KEPT
# … the whole ranking instead of its top: items, their teams, SLOs and people, team
# settings, SLO budgets (3), freeze steps, hours
QUERIES_WHOLE = 19 + NOTHING_KEPT


def test_with_nothing_reserved_no_line_is_drawn(client, team, owner, items):
    table = plan(client_for(client, owner), team)
    assert table.fits == []
    assert table.cut_before is None
    assert "reserves no time for reliability work" in client.get(url(team)).content.decode()


def test_a_long_ranking_is_shown_a_page_at_a_time(client, team, owner, now):
    BacklogItem.objects.bulk_create(
        BacklogItem(
            team=team,
            title=f"Item {index}",
            kind="toil",
            impact=index % 4,
            likelihood=1,
            effort="M",
            created_at=NOW - timedelta(hours=index),
        )
        for index in range(120)
    )
    client_for(client, owner)
    first = client.get(url(team)).content.decode()
    assert len(PlanTable(first).items) == 25 and "Places 1–25 of 120" in first
    assert 'href="?page=2#ranking-section"' in first
    second = client.get(url(team) + "?page=2").content.decode()
    assert 'data-factor="place">26<' in second and "Places 26–50 of 120" in second
    # Read from the top of the ranking, as the whole ranking shows it (all are toil).
    assert PlanTable(second).items == plan(client, team, "?kind=toil&page=2").items
    last = client.get(url(team) + "?kind=toil&page=5").content.decode()
    assert len(PlanTable(last).items) == 20
    assert 'data-factor="place">101<' in last and "Places 101–120 of 120" in last
    assert 'href="?kind=toil&amp;page=4#ranking-section"' in last
    assert PlanTable(client.get(url(team) + "?page=abc").content.decode()).items == (
        PlanTable(first).items
    )
    assert PlanTable(client.get(url(team) + "?page=99").content.decode()).items == (
        PlanTable(last).items
    )


@pytest.mark.parametrize(("reserved", "line"), [(200, 40), (500, None)])
def test_the_first_page_reaches_down_to_the_weeks_line(client, team, owner, now, reserved, line):
    """The line shows as the page opens: the first page grows to reach it when it falls
    within a hundred places (a line further down is named above the ranking)."""
    BacklogItem.objects.bulk_create(
        BacklogItem(
            team=team,
            title=f"Item {index}",
            kind="toil",
            impact=3,
            likelihood=3,
            effort="XS",
            created_at=NOW - timedelta(hours=index),
        )
        for index in range(150)
    )
    services.backlog_settings_update(
        team=team, by=owner, at=NOW, reserved_hours=Decimal(reserved), hours_per_point=Decimal(5)
    )
    html = client_for(client, owner).get(url(team)).content.decode()
    table = PlanTable(html)
    # The same factors: older ranks higher (its age factor is larger).
    oldest = list(
        BacklogItem.objects.filter(team=team).order_by("created_at").values_list("pk", flat=True)
    )
    if line is None:  # 100 items fit: the line is below the first page
        assert table.items == oldest[:25] and table.cut_before is None
        assert len(table.fits) == 25 and "100 items fit the 500 h left" in html
        assert "The line is drawn above “Item 49”" in html
        second = PlanTable(client.get(url(team) + "?page=2").content.decode())
        assert second.items == oldest[25:50]
    else:
        assert table.items == oldest[: line + 1]
        assert table.cut_before == line and table.fits == oldest[:line]
        second = PlanTable(client.get(url(team) + "?page=2").content.decode())
        assert second.items == oldest[line + 1 : line + 26]
