"""Who may see and start retros: members and admins start, viewers look, outsiders
learn nothing."""

from __future__ import annotations

from django.urls import reverse

from retros.models import RetroSession
from retros.services import retro_start
from tests.conftest import client_for, utc

AT = utc(2025, 3, 12, 9, 30)
START_KINTAI = reverse("retros:start", args=["kintai"])


def test_member_and_admin_see_the_start_button(client, owner, teammate):
    for user in (owner, teammate):
        page = client_for(client, user).get(reverse("retros:list"))
        assert START_KINTAI in page.content.decode()


def test_viewer_sees_sessions_but_cannot_start_one(client, owner, viewer, team):
    session = retro_start(team=team, user=owner, at=AT)
    client = client_for(client, viewer)

    page = client.get(reverse("retros:list"))
    assert START_KINTAI not in page.content.decode()
    assert reverse("retros:detail", args=[session.pk]) in page.content.decode()
    assert client.get(reverse("retros:detail", args=[session.pk])).status_code == 200

    assert client.post(START_KINTAI).status_code == 403
    assert RetroSession.objects.count() == 1


def test_outsider_learns_nothing_of_another_team(client, owner, outsider, team, other_team):
    session = retro_start(team=team, user=owner, at=AT)
    own = retro_start(team=other_team, user=outsider, at=AT)
    client = client_for(client, outsider)

    page = client.get(reverse("retros:list")).content.decode()
    assert reverse("retros:detail", args=[own.pk]) in page
    assert reverse("retros:detail", args=[session.pk]) not in page
    assert "Kintai" not in page

    assert client.get(reverse("retros:detail", args=[session.pk])).status_code == 404
    assert client.post(START_KINTAI).status_code == 404
    assert client.post(reverse("retros:start", args=["no-such-team"])).status_code == 404
    assert RetroSession.objects.filter(team=team).count() == 1


def test_start_only_by_post(client, owner):
    assert client_for(client, owner).get(START_KINTAI).status_code == 405


def test_anonymous_is_sent_to_log_in(client, owner, team):
    session = retro_start(team=team, user=owner, at=AT)
    for response in (
        client.get(reverse("retros:list")),
        client.get(reverse("retros:detail", args=[session.pk])),
        client.post(START_KINTAI),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert RetroSession.objects.count() == 1
