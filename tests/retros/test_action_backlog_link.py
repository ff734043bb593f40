"""A retro action can track a backlog item; the link is held on the retro side and
refused across teams, on the form and in the service."""

from __future__ import annotations

import pytest

from retros.models import RetroAction
from retros.services import retro_action_add, retro_session_plan, retro_session_start
from tests.conftest import client_for, utc
from tests.factories import BacklogItemFactory
from toil.models import Status

STARTED = utc(2025, 3, 12, 1, 30)  # Wednesday 10:30 in Tokyo


@pytest.fixture
def session(team, owner):
    return retro_session_start(
        session=retro_session_plan(team=team, at=STARTED), user=owner, at=STARTED
    )


def test_an_action_links_to_a_backlog_item_of_the_team(client, session, team, owner, time_machine):
    time_machine.move_to(STARTED, tick=False)
    item = BacklogItemFactory(team=team, title="Retry uploads")
    response = client_for(client, owner).post(
        f"/retros/{session.pk}/actions/",
        {"text": "Pair on the retries", "backlog_item": item.pk},
    )
    assert response.status_code in (200, 302)
    action = RetroAction.objects.get()
    assert action.backlog_item == item
    assert list(item.retro_actions.all()) == [action]
    html = client.get(f"/retros/{session.pk}/?section=actions").content.decode()
    assert f'href="/backlog/item/{item.pk}/" data-backlog-link' in html


def test_an_item_of_another_team_or_a_closed_one_is_refused(
    client, session, other_team, team, owner, time_machine
):
    time_machine.move_to(STARTED, tick=False)
    theirs = BacklogItemFactory(team=other_team)
    done = BacklogItemFactory(team=team, status=Status.DONE)
    for item in (theirs, done):
        response = client_for(client, owner).post(
            f"/retros/{session.pk}/actions/", {"text": "Pair on it", "backlog_item": item.pk}
        )
        assert response.status_code == 400
    assert not RetroAction.objects.exists()
    with pytest.raises(ValueError):
        retro_action_add(
            session=session,
            user=owner,
            text="Pair on it",
            owner=None,
            due_on=None,
            backlog_item=theirs,
            at=STARTED,
        )
