"""Who may see and start retros: members and admins start, viewers look, outsiders
learn nothing."""

from __future__ import annotations

import time_machine
from django.urls import reverse

from retros.models import RetroSession, SessionStatus
from retros.services import retro_session_plan, retro_session_start
from tests.conftest import client_for, utc

AT = utc(2025, 3, 12, 9, 30)


def start_url(session: RetroSession) -> str:
    return reverse("retros:start", args=[session.pk])


def started(team, user) -> RetroSession:
    return retro_session_start(session=retro_session_plan(team=team, at=AT), user=user, at=AT)


@time_machine.travel(AT, tick=False)
def test_member_and_admin_see_the_start_button(client, owner, teammate, team):
    session = retro_session_plan(team=team, at=AT)
    for user in (owner, teammate):
        page = client_for(client, user).get(reverse("retros:detail", args=[session.pk]))
        assert start_url(session) in page.content.decode()


@time_machine.travel(AT, tick=False)
def test_viewer_sees_sessions_but_cannot_start_one(client, viewer, team):
    planned = retro_session_plan(team=team, at=AT)
    client = client_for(client, viewer)

    page = client.get(reverse("retros:list")).content.decode()
    assert reverse("retros:detail", args=[planned.pk]) in page
    detail = client.get(reverse("retros:detail", args=[planned.pk]))
    assert detail.status_code == 200
    assert start_url(planned) not in detail.content.decode()

    assert client.post(start_url(planned)).status_code == 403
    planned.refresh_from_db()
    assert planned.status == SessionStatus.PLANNED


def test_outsider_learns_nothing_of_another_team(client, owner, outsider, team, other_team):
    session = started(team, owner)
    own = started(other_team, outsider)
    client = client_for(client, outsider)

    page = client.get(reverse("retros:list")).content.decode()
    assert reverse("retros:detail", args=[own.pk]) in page
    assert reverse("retros:detail", args=[session.pk]) not in page
    assert "Kintai" not in page

    assert client.get(reverse("retros:detail", args=[session.pk])).status_code == 404
    assert client.post(start_url(session)).status_code == 404
    assert client.post(reverse("retros:start", args=[own.pk + session.pk + 1])).status_code == 404
    assert RetroSession.objects.filter(team=team).count() == 1


def test_start_only_by_post(client, owner, team):
    session = retro_session_plan(team=team, at=AT)
    assert client_for(client, owner).get(start_url(session)).status_code == 405


def test_anonymous_is_sent_to_log_in(client, owner, team):
    session = retro_session_plan(team=team, at=AT)
    for response in (
        client.get(reverse("retros:list")),
        client.get(reverse("retros:detail", args=[session.pk])),
        client.post(start_url(session)),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
