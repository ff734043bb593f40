"""The team's work log: logging, the feed and its filters, hours by person, toil share
against the cap, toil logged against toil removed; roles and bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, MembershipFactory, WorkLogEntryFactory
from toil import services
from toil.models import Status, WorkLogEntry

NOW = utc(2026, 12, 2, 3)  # Wednesday noon in Tokyo; the week began on Monday 2026-11-30
MONDAY = date(2026, 11, 30)


class Cells(HTMLParser):
    """Text of the cells of rows carrying `attribute`, by its value."""

    def __init__(self, html: str, attribute: str):
        super().__init__()
        self.attribute = attribute
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and self.attribute in attributes:
            self._row = attributes[self.attribute]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self.rows[self._row].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def url(team, suffix: str = "") -> str:
    return f"/backlog/{team.slug}/log/{suffix}"


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def log(team, person, day, hours, **extra):
    return WorkLogEntryFactory(
        team=team, person=person, on=day, hours=Decimal(hours), at=NOW, **extra
    )


def test_a_member_logs_hours_and_everyone_sees_them(client, team, teammate, viewer, now):
    item = BacklogItemFactory(team=team, title="Retry uploads")
    response = client_for(client, teammate).post(
        url(team, "add/"),
        {"on": "2026-12-01", "hours": "1.5", "item": item.pk, "note": "Paired with Aiko"},
    )
    assert response.status_code == 302
    entry = WorkLogEntry.objects.get()
    assert (entry.person, entry.item, entry.hours, entry.toil) == (
        teammate,
        item,
        Decimal("1.5"),
        False,
    )
    html = client_for(client, viewer).get(url(team)).content.decode()
    assert "Paired with Aiko" in html and "Retry uploads" in html


def test_the_form_proposes_today_in_the_teams_zone(client, team, owner, time_machine):
    time_machine.move_to(utc(2026, 11, 30, 20), tick=False)  # already Tuesday in Tokyo
    html = client_for(client, owner).get(url(team)).content.decode()
    assert 'value="2026-12-01"' in html


def test_the_feed_filters_by_person_and_item(client, team, owner, teammate, now):
    item = BacklogItemFactory(team=team)
    mine = log(team, owner, MONDAY, 1, item=item, note="mine on the item")
    log(team, owner, MONDAY, 1, note="mine elsewhere")
    log(team, teammate, MONDAY, 1, item=item, note="theirs on the item")
    client_for(client, owner)
    entries = Cells(client.get(url(team) + f"?person={teammate.pk}").content.decode(), "data-entry")
    assert [row[-2] for row in entries.rows.values()] == ["theirs on the item"]
    entries = Cells(
        client.get(url(team) + f"?person={owner.pk}&item={item.pk}").content.decode(), "data-entry"
    )
    assert list(entries.rows) == [str(mine.pk)]


def test_a_bad_filter_is_ignored_with_a_message(client, team, owner, now):
    log(team, owner, MONDAY, 1)
    response = client_for(client, owner).get(url(team) + "?person=abc&item=%00")
    assert response.status_code == 400
    assert "was not understood" in response.content.decode()
    assert len(Cells(response.content.decode(), "data-entry").rows) == 1


def test_hours_by_person_this_week_and_the_eight_before(client, team, owner, teammate, now):
    log(team, owner, MONDAY, 2)
    log(team, owner, date(2026, 11, 29), 3, toil=True)  # last week's Sunday
    log(team, owner, date(2026, 10, 5), 4)  # 8 weeks before this Monday
    log(team, owner, date(2026, 9, 28), 9)  # too old
    log(team, teammate, date(2026, 12, 2), 1)
    html = client_for(client, owner).get(url(team)).content.decode()
    people = Cells(html, "data-person").rows
    assert people[str(owner.pk)][1:] == ["2", "7", "3"]
    assert people[str(teammate.pk)][1:] == ["1", "0", "0"]


def test_the_toil_share_is_shown_week_by_week_against_the_cap(client, team, owner, now):
    log(team, owner, MONDAY, 3, toil=True)
    log(team, owner, MONDAY, 1)
    log(team, owner, date(2026, 11, 23), 2, toil=True)
    log(team, owner, date(2026, 11, 24), 2)
    html = client_for(client, owner).get(url(team)).content.decode()
    weeks = Cells(html, "data-week").rows
    assert len(weeks) == 9
    assert weeks["2026-11-30"][1:] == ["3", "4", "75%"]
    assert weeks["2026-11-23"][1:] == ["2", "4", "50%"]  # at the cap, not over it
    assert weeks["2026-11-16"][-1] == "—"
    assert "1 of the last nine weeks went over the 50% toil cap" in html
    assert 'id="toil-chart"' in html and 'id="toil-figure"' in html


def test_toil_logged_against_toil_removed(client, team, owner, now):
    log(team, owner, MONDAY, 3, toil=True)
    log(team, owner, date(2026, 10, 26), 5, toil=True)  # more than four weeks ago
    early = BacklogItemFactory(team=team, toil_hours_per_month=Decimal(6))
    services.backlog_item_update(item=early, by=owner, at=utc(2026, 10, 1), status=Status.DONE)
    recent = BacklogItemFactory(team=team, toil_hours_per_month=Decimal("2.5"))
    services.backlog_item_update(item=recent, by=owner, at=NOW, status=Status.DONE)
    BacklogItemFactory(team=team, toil_hours_per_month=Decimal(40))  # not done
    html = client_for(client, owner).get(url(team)).content.decode()
    assert "Toil logged in the last four weeks: <strong>3 h</strong>" in html
    assert "remove <strong>8.5 h</strong> of toil a month (2.5 h" in html


@pytest.mark.parametrize(
    "bad",
    [
        {"hours": "0"},
        {"hours": "25"},
        {"hours": "1e9"},
        {"hours": "abc"},
        {"on": "2026-13-01"},
        {"on": ""},
        {"note": "a\x00b"},
        {"item": "999999"},
    ],
)
def test_bad_entries_change_nothing(client, team, owner, now, bad):
    response = client_for(client, owner).post(
        url(team, "add/"), {"on": "2026-12-01", "hours": "1", **bad}
    )
    assert response.status_code == 400
    assert "Nothing was logged" in response.content.decode()
    assert not WorkLogEntry.objects.exists()


def test_an_item_of_another_team_cannot_be_logged_on(client, team, other_team, owner, now):
    theirs = BacklogItemFactory(team=other_team)
    response = client_for(client, owner).post(
        url(team, "add/"), {"on": "2026-12-01", "hours": "1", "item": theirs.pk}
    )
    assert response.status_code == 400
    assert not WorkLogEntry.objects.exists()


def test_members_delete_their_own_entries_and_admins_any(client, team, owner, teammate, now):
    own = log(team, teammate, MONDAY, 1)
    others = log(team, owner, MONDAY, 1)
    client_for(client, teammate)
    client.post(url(team, f"{others.pk}/delete/"), {"confirm": "yes"})
    client.post(url(team, f"{own.pk}/delete/"), {"confirm": "yes"})
    assert list(WorkLogEntry.objects.all()) == [others]
    client_for(client, owner).post(url(team, f"{others.pk}/delete/"), {"confirm": "yes"})
    assert not WorkLogEntry.objects.exists()


def test_roles(client, team, owner, viewer, outsider, now):
    entry = log(team, owner, MONDAY, 1)
    client_for(client, viewer)
    html = client.get(url(team)).content.decode()
    assert 'id="log-button"' not in html
    assert client.post(url(team, "add/"), {"on": "2026-12-01", "hours": "1"}).status_code == 403
    assert client.post(url(team, f"{entry.pk}/delete/"), {"confirm": "yes"}).status_code == 403
    client_for(client, outsider)
    assert client.get(url(team)).status_code == 404
    assert client.post(url(team, "add/"), {"on": "2026-12-01", "hours": "1"}).status_code == 404
    assert client.post(url(team, f"{entry.pk}/delete/"), {"confirm": "yes"}).status_code == 404
    assert list(WorkLogEntry.objects.all()) == [entry]


@pytest.mark.parametrize("count", [3, 60])
def test_the_page_runs_a_fixed_number_of_queries(
    client, team, owner, now, django_assert_num_queries, count
):
    for index in range(count):
        member = MembershipFactory(team=team).user
        item = BacklogItemFactory(team=team) if index % 2 else None
        log(team, member, MONDAY, 1, item=item, toil=bool(index % 3))
    client_for(client, owner)
    # session, user, team, membership; feed count and page; people; weeks; toil removed;
    # members; the form's items
    with django_assert_num_queries(QUERIES):
        response = client.get(url(team))
    assert len(Cells(response.content.decode(), "data-entry").rows) == min(count, 50)


QUERIES = 11
