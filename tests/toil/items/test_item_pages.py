"""An item's page, its edit and status change: what they show, what they record, and
who may do what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from retros.services import (
    retro_action_add,
    retro_session_plan,
    retro_session_start,
    retro_ticket_decide,
)
from tests.conftest import client_for, utc
from tests.factories import (
    BacklogItemFactory,
    IntakeSourceFactory,
    NotificationFactory,
    SLOFactory,
    WorkLogEntryFactory,
)
from toil import services
from toil.models import BacklogItem, BacklogItemChange, Status

NOW = utc(2026, 12, 2, 3)

EDIT = {
    "title": "Retry uploads",
    "description": "",
    "kind": "reliability",
    "status": "ready",
    "impact": "3",
    "likelihood": "2",
    "effort": "S",
    "toil_hours_per_month": "4",
    "tracker_url": "https://tracker.example/KIN-12",
}


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def item(team, now):
    return BacklogItemFactory(
        team=team, title="Retry uploads", impact=2, likelihood=2, effort="M", kind="reliability"
    )


def test_the_page_shows_the_breakdown_under_the_teams_weights(client, team, owner, viewer, item):
    services.backlog_settings_update(team=team, by=owner, at=NOW, weight_impact_likelihood=2)
    html = client_for(client, viewer).get(f"/backlog/item/{item.pk}/").content.decode()
    assert 'data-factor="cost_of_delay">8.00<' in html  # 2 × 2 × 2
    assert 'data-factor="score"><strong>2.67<' in html  # 8 / 3 points
    assert "2.0 × impact × likelihood" in html


def test_an_edit_is_saved_and_kept_in_the_history(client, team, owner, teammate, item):
    response = client_for(client, teammate).post(f"/backlog/item/{item.pk}/edit/", EDIT)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.impact, item.effort, item.tracker_url) == (
        3,
        "S",
        "https://tracker.example/KIN-12",
    )
    change = BacklogItemChange.objects.get(item=item)
    assert change.changed_by == teammate
    assert change.changes["impact"] == ["Some users", "Many users"]
    html = client.get(f"/backlog/item/{item.pk}/").content.decode()
    assert "Impact “Some users” → “Many users”" in html
    assert "teammate" in html


def test_done_records_who_and_when(client, team, teammate, item):
    client_for(client, teammate).post(f"/backlog/item/{item.pk}/status/", {"status": "done"})
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.closed_at) == (Status.DONE, teammate, NOW)
    assert "by teammate" in client.get(f"/backlog/item/{item.pk}/").content.decode()


def test_the_page_shows_the_retro_action_that_tracks_it(client, team, owner, item):
    session = retro_session_start(session=retro_session_plan(team=team, at=NOW), user=owner, at=NOW)
    action = retro_action_add(
        session=session,
        user=owner,
        text="Pair on the retries",
        owner=None,
        due_on=None,
        backlog_item=item,
        at=NOW,
    )
    html = client_for(client, owner).get(f"/backlog/item/{item.pk}/").content.decode()
    assert f'data-retro-action="{action.pk}"' in html
    assert f"/retros/{session.pk}/" in html


def test_the_page_totals_the_work_logged(client, team, owner, item):
    WorkLogEntryFactory(
        team=team, person=owner, item=item, on=date(2026, 12, 1), hours=Decimal("1.5"), at=NOW
    )
    WorkLogEntryFactory(
        team=team, person=owner, item=item, on=date(2026, 12, 2), hours=Decimal(2), at=NOW
    )
    html = client_for(client, owner).get(f"/backlog/item/{item.pk}/").content.decode()
    assert 'data-stat="logged">3.5 h<' in html


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"title": "a\x00b"},
        {"tracker_url": "javascript:alert(1)"},
        {"impact": "7"},
        {"toil_hours_per_month": "1e9"},
        {"toil_hours_per_month": "-1"},
        {"status": "finished"},
        {"effort": "XXL"},
    ],
)
def test_bad_input_changes_nothing(client, team, owner, item, bad):
    response = client_for(client, owner).post(f"/backlog/item/{item.pk}/edit/", {**EDIT, **bad})
    assert response.status_code == 400
    item.refresh_from_db()
    assert (item.title, item.impact, item.tracker_url) == ("Retry uploads", 2, "")
    assert not BacklogItemChange.objects.exists()


def test_links_to_another_teams_things_are_refused(client, team, other_team, owner, outsider, item):
    theirs = SLOFactory(service__team=other_team)
    client_for(client, owner)
    for bad in ({"slo": theirs.pk}, {"owner": outsider.pk}):
        response = client.post(f"/backlog/item/{item.pk}/edit/", {**EDIT, **bad})
        assert response.status_code == 400
    assert not BacklogItemChange.objects.exists()


def test_a_new_item_starts_as_proposed_and_opens_its_page(client, team, teammate, now):
    response = client_for(client, teammate).post(
        f"/backlog/new/{team.slug}/", {**EDIT, "status": "proposed", "owner": teammate.pk}
    )
    item = BacklogItem.objects.get()
    assert response.status_code == 302 and response.url == f"/backlog/item/{item.pk}/"
    assert (item.status, item.owner, item.created_by, item.toil_relief) == (
        Status.PROPOSED,
        teammate,
        teammate,
        2,
    )


def test_roles(client, team, owner, viewer, outsider, item):
    client_for(client, viewer)
    assert client.get(f"/backlog/item/{item.pk}/").status_code == 200
    assert client.get(f"/backlog/item/{item.pk}/edit/").status_code == 403
    assert client.post(f"/backlog/item/{item.pk}/edit/", EDIT).status_code == 403
    assert client.post(f"/backlog/item/{item.pk}/status/", {"status": "done"}).status_code == 403
    assert client.post(f"/backlog/new/{team.slug}/", EDIT).status_code == 403
    client_for(client, outsider)
    for path in ("", "edit/", "status/"):
        assert client.get(f"/backlog/item/{item.pk}/{path}").status_code in (404, 405)
        assert client.post(f"/backlog/item/{item.pk}/{path}", EDIT).status_code in (404, 405)
    assert client.post(f"/backlog/new/{team.slug}/", EDIT).status_code == 404
    item.refresh_from_db()
    assert item.status == Status.READY
    assert not BacklogItemChange.objects.exists()


@pytest.mark.parametrize("bad", [{}, {"status": "done", "back_to": "elsewhere"}])
def test_a_status_change_without_a_status_or_with_a_bad_return_is_refused(
    client, team, owner, item, bad
):
    response = client_for(client, owner).post(f"/backlog/item/{item.pk}/status/", bad)
    assert response.status_code == 400
    assert "The status was not changed" in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.closed_at) == (Status.READY, None)
    assert not BacklogItemChange.objects.exists()


def test_the_list_changes_a_status_and_comes_back(client, team, teammate, viewer, item):
    client_for(client, teammate)
    html = client.get("/backlog/").content.decode()
    assert f'action="/backlog/item/{item.pk}/status/"' in html
    response = client.post(
        f"/backlog/item/{item.pk}/status/", {"status": "wont_do", "back_to": "list"}
    )
    assert response.status_code == 302 and response.url == f"/backlog/#item-{item.pk}"
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.closed_at) == (Status.WONT_DO, teammate, NOW)
    change = BacklogItemChange.objects.get(item=item)
    assert (change.changed_by, change.changes) == (teammate, {"status": ["Ready", "Won’t do"]})
    html = client.get(f"/backlog/item/{item.pk}/").content.decode()
    assert "Status “Ready” → “Won’t do”" in html
    # A viewer reads the status but is offered no change.
    other = BacklogItemFactory(team=team, title="Still open")
    html = client_for(client, viewer).get("/backlog/").content.decode()
    assert f'action="/backlog/item/{other.pk}/status/"' not in html


def test_the_list_shows_status_owner_and_the_links(client, team, owner, teammate, item):
    services.backlog_item_update(
        item=item, by=owner, at=NOW, owner=teammate, status=Status.IN_PROGRESS
    )
    html = client_for(client, owner).get("/backlog/").content.decode()
    assert f'href="/backlog/item/{item.pk}/"' in html
    assert '<option value="in_progress" selected>In progress</option>' in html
    assert 'data-factor="owner">teammate<' in html
    assert f'href="/backlog/{team.slug}/log/"' in html
    assert f'href="/backlog/{team.slug}/plan/"' in html


def test_the_page_shows_its_slo_budget_and_pin(client, team, owner, slo, item):
    services.backlog_item_update(item=item, by=owner, at=NOW, slo=slo)
    services.backlog_item_pin(item=item, reason="The bank asked", by=owner, at=NOW)
    html = client_for(client, owner).get(f"/backlog/item/{item.pk}/").content.decode()
    assert f'href="/slos/{slo.pk}/"' in html and "Clock-in availability" in html
    assert "no data" in html  # no hourly data yet: the budget is unknown
    assert "Pinned above the ranking: “The bank asked”" in html


def test_the_retro_decision_and_the_retro_link_to_each_other(client, team, owner, now):
    source = IntakeSourceFactory(team=team, kind="sentry")
    ticket = NotificationFactory(
        source=source, title="Clock-in 5xx", notification_class="ticket", first_seen_at=NOW
    )
    session = retro_session_start(session=retro_session_plan(team=team, at=NOW), user=owner, at=NOW)
    decision = retro_ticket_decide(
        item=session.ticket_decisions.get(notification=ticket),
        user=owner,
        decision="backlog",
        note="",
        at=NOW,
    )
    item = decision.backlog_item
    client_for(client, owner)
    html = client.get(f"/backlog/item/{item.pk}/").content.decode()
    assert f'data-retro-decision="{decision.pk}"' in html
    assert f'href="/retros/{session.pk}/"' in html
    retro = client.get(f"/retros/{session.pk}/?section=tickets").content.decode()
    assert f'href="/backlog/item/{item.pk}/" data-backlog-link' in retro
