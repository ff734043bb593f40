from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from slos.registry.budget_sums import kept_sums_forget
from tests.conftest import NOTHING_KEPT, client_for, utc
from tests.factories import BacklogItemFactory, HourlyBucketFactory, SLOFactory
from toil.models import BacklogItem, Status
from toil.services import backlog_item_create

NOW = utc(2025, 6, 2, 12, 30)
LIST_URL = reverse("toil:list")


def burn_budget(slo, *, remaining: float) -> None:
    """One hour of data leaving `remaining` of the SLO's error budget."""
    valid = 100_000.0
    bad = (1 - remaining) * (1 - slo.target_fraction) * valid
    HourlyBucketFactory(
        slo=slo, hour=NOW.replace(minute=0) - timedelta(hours=2), good=valid - bad, valid=valid
    )


class OtherSLOFactory(SLOFactory):
    good_query = "sum(increase(good[$window]))"
    valid_query = "sum(increase(valid[$window]))"
    target = Decimal("99.5")


class BacklogTable(HTMLParser):
    """Rows of the backlog table, in page order: {"factor": "cell text"}."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._factor: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and "data-item" in attributes:
            self.rows.append({})
        elif tag == "td" and "data-factor" in attributes and self.rows:
            self._factor = attributes["data-factor"]
            self.rows[-1][self._factor] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._factor = None

    def handle_data(self, data):
        if self._factor is not None:
            self.rows[-1][self._factor] += data

    def cell(self, row: int, factor: str) -> str:
        return " ".join(self.rows[row][factor].split())

    def titles(self) -> list[str]:
        return [self.cell(index, "title") for index in range(len(self.rows))]


def backlog_page(client) -> BacklogTable:
    response = client.get(LIST_URL)
    assert response.status_code == 200
    return BacklogTable(response.content.decode())


def test_the_list_ranks_items_by_score_and_shows_each_factor(
    client, owner, team, slo, time_machine
):
    time_machine.move_to(NOW - timedelta(weeks=13), tick=False)
    BacklogItemFactory(
        team=team,
        title="Automate cert renewal",
        impact=2,
        likelihood=3,
        toil_hours_per_month=1,
        slo=slo,
    )
    time_machine.move_to(NOW, tick=False)
    BacklogItemFactory(
        team=team,
        title="Rewrite the batch",
        impact=3,
        likelihood=3,
        toil_hours_per_month=10,
        effort="XL",
    )
    BacklogItemFactory(
        team=team,
        title="Tidy dashboards",
        impact=1,
        likelihood=1,
        toil_hours_per_month=0,
        effort="XS",
    )
    burn_budget(slo, remaining=0.1)

    table = backlog_page(client_for(client, owner))

    assert table.titles() == ["Automate cert renewal", "Rewrite the batch", "Tidy dashboards"]
    # (2×3 + 1 + 2) / 3 × (1 + 13/26) = 4.5
    assert table.cell(0, "impact") == "2"
    assert table.cell(0, "likelihood") == "3"
    assert table.cell(0, "toil_relief") == "1"
    assert table.cell(0, "slo_risk") == "2 Clock-in availability 10.0% left"
    assert table.cell(0, "effort") == "M (3)"
    assert table.cell(0, "age_factor") == "×1.50"
    assert table.cell(0, "score") == "4.50"
    # (3×3 + 3 + 0) / 8 × 1 and (1×1) / 1 × 1
    assert [table.cell(1, "score"), table.cell(2, "score")] == ["1.50", "1.00"]


def test_a_done_item_leaves_the_ranking(client, owner, team):
    BacklogItemFactory(team=team, title="Still open")
    done = BacklogItemFactory(team=team, title="Finished")
    BacklogItem.objects.filter(pk=done.pk).update(status=Status.DONE)

    assert backlog_page(client_for(client, owner)).titles() == ["Still open"]


def test_the_list_shows_only_the_users_teams(client, owner, outsider, team, other_team):
    BacklogItemFactory(team=team, title="Ours")
    BacklogItemFactory(team=other_team, title="Theirs")

    assert backlog_page(client_for(client, outsider)).titles() == ["Theirs"]
    client.logout()
    assert backlog_page(client_for(client, owner)).titles() == ["Ours"]


def test_only_members_are_offered_the_add_button(client, teammate, viewer, team):
    create_url = reverse("toil:create", args=[team.slug])
    assert create_url in client_for(client, teammate).get(LIST_URL).content.decode()
    client.logout()
    assert create_url not in client_for(client, viewer).get(LIST_URL).content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_runs_a_fixed_number_of_queries(
    client, owner, team, service, data_source, slo, django_assert_num_queries, count
):
    slos = [slo, OtherSLOFactory(service=service, data_source=data_source, name="Latency"), None]
    burn_budget(slo, remaining=0.3)
    for index in range(count):
        BacklogItemFactory(
            team=team, title=f"Item {index}", impact=index % 4, slo=slos[index % len(slos)]
        )
    client = client_for(client, owner)

    # session, user, items, their teams, SLOs (with services) and people, team settings,
    # SLO budgets (SLOs, exclusions, sums), freeze steps, the user's teams; nothing kept
    kept_sums_forget()
    with django_assert_num_queries(11 + NOTHING_KEPT):
        table = backlog_page(client)
    assert len(table.rows) == count


def valid_post(**overrides) -> dict[str, str]:
    return {
        "title": "Automate the monthly report",
        "description": "Three people lose a morning to it.",
        "kind": "toil",
        "impact": "1",
        "likelihood": "2",
        "toil_hours_per_month": "12",
        "effort": "S",
        "slo": "",
        **overrides,
    }


def test_a_member_adds_an_item(client, teammate, team, slo):
    client = client_for(client, teammate)
    url = reverse("toil:create", args=[team.slug])

    assert client.get(url).status_code == 200
    response = client.post(url, valid_post(slo=str(slo.pk)), follow=True)

    item = BacklogItem.objects.get()
    assert response.redirect_chain == [(f"/backlog/item/{item.pk}/", 302)]
    assert "Backlog item “Automate the monthly report” added." in response.content.decode()
    assert (item.team, item.created_by, item.slo, item.effort) == (team, teammate, slo, "S")
    assert backlog_page(client).titles() == ["Automate the monthly report"]


def test_bad_input_is_refused_and_nothing_is_written(client, owner, team):
    response = client_for(client, owner).post(
        reverse("toil:create", args=[team.slug]), valid_post(title="  ", impact="7", effort="")
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "The item was not saved. Please correct the fields marked below." in page
    assert "Give the item a short title." in page
    assert "Choose a size for the work, from XS to XL." in page
    assert "Select a valid choice. 7 is not one of the available choices." in page
    assert not BacklogItem.objects.exists()


def test_another_teams_slo_cannot_be_linked(client, owner, team, other_team):
    foreign_slo = OtherSLOFactory(
        service__team=other_team,
        service__name="Payroll",
        data_source__name="Prom",
        name="Payroll availability",
    )
    client = client_for(client, owner)
    url = reverse("toil:create", args=[team.slug])

    assert "Payroll availability" not in client.get(url).content.decode()
    response = client.post(url, valid_post(slo=str(foreign_slo.pk)))

    assert response.status_code == 400
    assert "Choose one of your team&#x27;s SLOs, or none." in response.content.decode()
    assert not BacklogItem.objects.exists()


def test_a_viewer_may_not_add_items(client, viewer, team):
    client = client_for(client, viewer)
    url = reverse("toil:create", args=[team.slug])

    assert client.get(url).status_code == 403
    assert client.post(url, valid_post()).status_code == 403
    assert not BacklogItem.objects.exists()


def test_an_outsider_cannot_find_another_teams_create_page(client, outsider, team):
    client = client_for(client, outsider)
    url = reverse("toil:create", args=[team.slug])

    assert client.get(url).status_code == 404
    assert client.post(url, valid_post()).status_code == 404
    assert not BacklogItem.objects.exists()


def test_the_service_refuses_another_teams_slo(team, other_team, slo):
    with pytest.raises(ValueError, match="another team"):
        backlog_item_create(
            team=other_team,
            title="Cross-team link",
            kind="toil",
            impact=1,
            likelihood=1,
            toil_hours_per_month=0,
            effort="M",
            slo=slo,
            created_by=None,
        )
