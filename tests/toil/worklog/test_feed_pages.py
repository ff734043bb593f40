"""The feed a page at a time, with its filters kept in the links; a bad filter drops
only itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, WorkLogEntryFactory

NOW = utc(2026, 12, 2, 3)
MONDAY = date(2026, 11, 30)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def test_fifty_entries_a_page_and_the_filter_kept_in_the_links(client, team, owner, teammate, now):
    for _index in range(55):
        WorkLogEntryFactory(team=team, person=teammate, on=MONDAY, hours=Decimal(1), at=NOW)
    WorkLogEntryFactory(team=team, person=owner, on=MONDAY, hours=Decimal(1), at=NOW)
    client_for(client, owner)
    first = client.get(f"/backlog/{team.slug}/log/?person={teammate.pk}").content.decode()
    assert first.count("data-entry=") == 50
    assert f'href="?person={teammate.pk}&page=2"' in first
    second = client.get(f"/backlog/{team.slug}/log/?person={teammate.pk}&page=2")
    assert second.content.decode().count("data-entry=") == 5


def test_a_bad_filter_drops_only_itself(client, team, owner, now):
    item = BacklogItemFactory(team=team)
    WorkLogEntryFactory(team=team, person=owner, on=MONDAY, hours=Decimal(1), at=NOW, item=item)
    WorkLogEntryFactory(team=team, person=owner, on=MONDAY, hours=Decimal(2), at=NOW)
    response = client_for(client, owner).get(
        f"/backlog/{team.slug}/log/?person=abc&item={item.pk}&page=-3"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "was not understood" in html
    assert html.count("data-entry=") == 1
