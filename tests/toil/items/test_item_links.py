"""An item's links (ticket, tracker, pin), its history order, the quick status change's
bad input, the create form's bad input, and the page's fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from retros.services import retro_action_add, retro_session_plan, retro_session_start
from tests.conftest import client_for, utc
from tests.factories import (
    BacklogItemFactory,
    IntakeSourceFactory,
    MembershipFactory,
    NotificationFactory,
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
    "impact": "2",
    "likelihood": "2",
    "effort": "M",
    "toil_hours_per_month": "0",
    "tracker_url": "",
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


def ticket_of(team, title: str, notification_class: str = "ticket"):
    return NotificationFactory(
        source=IntakeSourceFactory(team=team),
        title=title,
        notification_class=notification_class,
    )


def test_a_ticket_of_the_team_is_linked_and_its_title_shown(client, team, owner, item):
    ticket = ticket_of(team, "Disk full on uploads-3")
    client_for(client, owner)
    assert "Disk full on uploads-3" in client.get(f"/backlog/item/{item.pk}/edit/").content.decode()
    response = client.post(f"/backlog/item/{item.pk}/edit/", {**EDIT, "ticket": ticket.pk})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.ticket == ticket
    html = client.get(f"/backlog/item/{item.pk}/").content.decode()
    assert "Disk full on uploads-3" in html


def test_another_teams_ticket_and_a_non_ticket_are_refused(client, team, other_team, owner, item):
    theirs = ticket_of(other_team, "Their ticket")
    log_line = ticket_of(team, "Only a log line", notification_class="log")
    client_for(client, owner)
    for bad in (theirs, log_line):
        response = client.post(f"/backlog/item/{item.pk}/edit/", {**EDIT, "ticket": bad.pk})
        assert response.status_code == 400
        assert "Choose one of your team&#x27;s recent tickets, or none." in (
            response.content.decode()
        )
    item.refresh_from_db()
    assert item.ticket is None
    assert not BacklogItemChange.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"description": "line\x00"},
        {"tracker_url": "ftp://tracker.example/KIN-12"},
        {"tracker_url": "javascript://%0aalert(1)"},
        {"tracker_url": "https://tracker.example/\x00"},
        {"owner": "abc"},
        {"slo": "999999999999"},
    ],
)
def test_more_bad_edits_are_refused(client, team, owner, item, bad):
    response = client_for(client, owner).post(f"/backlog/item/{item.pk}/edit/", {**EDIT, **bad})
    assert response.status_code == 400
    assert "The item was not saved" in response.content.decode()
    item.refresh_from_db()
    assert (item.description, item.tracker_url, item.owner, item.slo) == ("", "", None, None)
    assert not BacklogItemChange.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "a\x00b"},
        {"tracker_url": "javascript:alert(1)"},
        {"toil_hours_per_month": "NaN"},
    ],
)
def test_the_create_form_refuses_bad_input(client, team, owner, now, bad):
    response = client_for(client, owner).post(f"/backlog/new/{team.slug}/", {**EDIT, **bad})
    assert response.status_code == 400
    assert not BacklogItem.objects.exists()


def test_the_create_form_refuses_another_teams_owner_and_ticket(
    client, team, other_team, owner, outsider, now
):
    theirs = ticket_of(other_team, "Their ticket")
    client_for(client, owner)
    for bad in ({"owner": outsider.pk}, {"ticket": theirs.pk}):
        response = client.post(f"/backlog/new/{team.slug}/", {**EDIT, **bad})
        assert response.status_code == 400
    assert not BacklogItem.objects.exists()


def test_a_bad_status_is_refused_with_the_page(client, team, owner, item):
    response = client_for(client, owner).post(
        f"/backlog/item/{item.pk}/status/", {"status": "finished"}
    )
    assert response.status_code == 400
    assert "The status was not changed" in response.content.decode()
    item.refresh_from_db()
    assert item.status == Status.READY
    assert not BacklogItemChange.objects.exists()


def test_the_page_shows_the_pin_reason_tracker_link_and_log_work_link(client, team, owner, item):
    services.backlog_item_pin(item=item, reason="Audit in January", by=owner, at=NOW)
    services.backlog_item_update(
        item=item, by=owner, at=NOW, tracker_url="https://tracker.example/KIN-12"
    )
    html = client_for(client, owner).get(f"/backlog/item/{item.pk}/").content.decode()
    assert "Audit in January" in html
    assert 'href="https://tracker.example/KIN-12" rel="noopener noreferrer"' in html
    assert f'href="/backlog/{team.slug}/log/?item={item.pk}"' in html
    assert f'href="/backlog/{team.slug}/plan/"' in html
    assert f'href="/backlog/item/{item.pk}/edit/"' in html


def test_the_log_work_link_preselects_the_item(client, team, owner, item):
    html = client_for(client, owner).get(f"/backlog/{team.slug}/log/?item={item.pk}")
    assert f'<option value="{item.pk}" selected>' in html.content.decode()


def test_the_history_is_newest_first(client, team, owner, teammate, item, time_machine):
    services.backlog_item_update(item=item, by=owner, at=NOW, impact=3)
    services.backlog_item_update(item=item, by=teammate, at=NOW + timedelta(hours=1), effort="S")
    html = client_for(client, owner).get(f"/backlog/item/{item.pk}/").content.decode()
    assert html.index("Effort") < html.index("Impact “Some users”")


def test_a_viewer_sees_no_edit_or_status_controls(client, team, viewer, item):
    html = client_for(client, viewer).get(f"/backlog/item/{item.pk}/").content.decode()
    assert f"/backlog/item/{item.pk}/edit/" not in html
    assert f"/backlog/item/{item.pk}/status/" not in html


@pytest.mark.parametrize("count", [1, 30])
def test_the_page_runs_a_fixed_number_of_queries(
    client, team, owner, item, slo, django_assert_num_queries, count
):
    services.backlog_item_update(item=item, by=owner, at=NOW, slo=slo)
    session = retro_session_start(session=retro_session_plan(team=team, at=NOW), user=owner, at=NOW)
    for index in range(count):
        member = MembershipFactory(team=team).user
        WorkLogEntryFactory(
            team=team, person=member, item=item, on=date(2026, 12, 1), hours=Decimal(1), at=NOW
        )
        services.backlog_item_update(item=item, by=member, at=NOW, impact=1 + index % 2)
        retro_action_add(
            session=session,
            user=owner,
            text=f"Action {index}",
            owner=None,
            due_on=None,
            backlog_item=item,
            at=NOW,
        )
    client_for(client, owner)
    with django_assert_num_queries(QUERIES):
        response = client.get(f"/backlog/item/{item.pk}/")
    assert response.content.decode().count("data-retro-action=") == count


# session, user; the item with its links, membership; the SLO's budget (SLO, annotations,
# buckets); the team's weights; history, work log and its total; retro actions, decisions
QUERIES = 13
