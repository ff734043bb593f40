"""Deleting a work log entry asks first: a post without the confirmation deletes nothing
and answers with the page that asks; its button (or htmx, once the browser asked) posts
the confirmation, and only then is the entry gone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory, WorkLogEntryFactory
from toil.models import WorkLogEntry

NOW = utc(2026, 12, 2, 3)
MONDAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def now(time_machine):
    time_machine.move_to(NOW, tick=False)


def delete_url(entry: WorkLogEntry) -> str:
    return f"/backlog/{entry.team.slug}/log/{entry.pk}/delete/"


@pytest.fixture
def entry(team, teammate):
    item = BacklogItemFactory(team=team, title="Retry uploads")
    return WorkLogEntryFactory(
        team=team, person=teammate, on=MONDAY, hours=Decimal("1.5"), item=item, note="Retries"
    )


def test_a_post_without_the_confirmation_asks_and_deletes_nothing(client, teammate, entry):
    response = client_for(client, teammate).post(delete_url(entry))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Delete the entry of 1.5 h on 30 Nov 2026?" in page
    assert "Retry uploads" in page
    assert 'name="confirm" value="yes"' in page
    assert f'action="{delete_url(entry)}"' in page
    assert f'href="/backlog/{entry.team.slug}/log/"' in page  # Cancel
    assert WorkLogEntry.objects.filter(pk=entry.pk).exists()


def test_any_other_answer_than_yes_deletes_nothing(client, teammate, entry):
    client_for(client, teammate)
    for answer in ("", "no", "YES", "true"):
        assert client.post(delete_url(entry), {"confirm": answer}).status_code == 200
    assert WorkLogEntry.objects.filter(pk=entry.pk).exists()


def test_the_confirmed_post_deletes(client, teammate, entry):
    response = client_for(client, teammate).post(delete_url(entry), {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == f"/backlog/{entry.team.slug}/log/"
    assert not WorkLogEntry.objects.filter(pk=entry.pk).exists()


def test_htmx_is_sent_to_the_log_as_a_whole_page(client, teammate, entry):
    response = client_for(client, teammate).post(
        delete_url(entry), {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/backlog/{entry.team.slug}/log/"
    assert not WorkLogEntry.objects.exists()


def test_the_delete_button_asks_in_the_browser_too(client, teammate, entry):
    page = client_for(client, teammate).get(f"/backlog/{entry.team.slug}/log/").content.decode()
    assert f'hx-post="{delete_url(entry)}"' in page
    assert 'hx-vals=\'{"confirm": "yes"}\'' in page
    assert 'hx-confirm="Delete the entry of 1.5 h on 30 Nov 2026?"' in page


def test_someone_else_s_entry_is_not_offered_for_confirmation(client, team, viewer, entry):
    """Roles are checked before anything is asked: a viewer gets 403, with or without."""
    client_for(client, viewer)
    assert client.post(delete_url(entry)).status_code == 403
    assert client.post(delete_url(entry), {"confirm": "yes"}).status_code == 403
    assert WorkLogEntry.objects.filter(pk=entry.pk).exists()
