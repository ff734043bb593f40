"""Kudos: anyone in the team reads them, members add them (a teammate or any name, what
they did, the practice), bad input is refused with a message and writes nothing,
outsiders get 404; the team page shows the latest, and the next retro reads them out."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from retros.models import HierarchyPractice, Kudos
from retros.services import kudos_add, retro_session_plan, retro_session_start
from tests.conftest import client_for, utc

NOW = utc(2026, 12, 7, 3, 0)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _url(team) -> str:
    return reverse("retros:kudos", args=[team.slug])


def _post(client, team, **data):
    values = {"person": "", "person_name": "", "what": "", "practice": "monitoring"}
    values.update(data)
    return client.post(_url(team), values)


def test_a_member_praises_a_teammate(client, team, teammate, owner):
    response = _post(
        client_for(client, teammate),
        team,
        person=str(owner.pk),
        what="Wrote the disk-full runbook",
        practice=HierarchyPractice.INCIDENT_RESPONSE,
    )
    assert response.status_code == 302
    kudos = Kudos.objects.get()
    assert (kudos.team, kudos.person, kudos.person_name) == (team, owner, "owner")
    assert kudos.noted_by == teammate and kudos.noted_at == NOW
    assert kudos.practice == HierarchyPractice.INCIDENT_RESPONSE
    page = client.get(_url(team)).content.decode()
    assert "Wrote the disk-full runbook" in page and "Incident response" in page


def test_a_free_name_for_someone_outside_the_team(client, team, owner):
    _post(client_for(client, owner), team, person_name="  The DBA team ", what="Failover drill")
    kudos = Kudos.objects.get()
    assert kudos.person is None and kudos.person_name == "The DBA team"


def test_a_viewer_reads_but_cannot_add(client, team, viewer, owner):
    kudos_add(
        team=team,
        user=owner,
        person=None,
        person_name="Ana",
        what="Fixed alerts",
        practice="monitoring",
        at=NOW,
    )
    client_for(client, viewer)
    page = client.get(_url(team))
    assert page.status_code == 200
    assert "Fixed alerts" in page.content.decode()
    assert 'id="kudos-add"' not in page.content.decode()
    assert _post(client, team, person_name="Me", what="Self-praise").status_code == 403
    assert Kudos.objects.count() == 1


def test_outsiders_get_404(client, team, outsider):
    client_for(client, outsider)
    assert client.get(_url(team)).status_code == 404
    assert _post(client, team, person_name="X", what="Y").status_code == 404
    assert client.get(reverse("retros:kudos", args=["no-such-team"])).status_code == 404
    assert not Kudos.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"what": "Good work"}, "Say who did it: a teammate, or a name."),
        ({"person_name": "Ana", "what": "   "}, "Say what they did."),
        ({"person_name": "Ana", "what": "Good", "practice": "astrology"}, "Choose a practice"),
        ({"person_name": "Ana", "what": "Good", "practice": ""}, "Choose a practice"),
        ({"person_name": "A" * 151, "what": "Good"}, "at most 150 characters"),
    ],
)
def test_bad_input_is_refused_with_a_message(client, team, teammate, data, message):
    response = _post(client_for(client, teammate), team, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Kudos.objects.exists()


def test_a_person_from_another_team_is_refused(client, team, teammate, outsider):
    response = _post(client_for(client, teammate), team, person=str(outsider.pk), what="Good")
    assert response.status_code == 400
    assert "Choose someone in the team" in response.content.decode()
    assert not Kudos.objects.exists()


def test_the_team_page_shows_the_latest_kudos(client, team, viewer, owner):
    for index in range(7):
        kudos_add(
            team=team,
            user=owner,
            person=None,
            person_name=f"Person {index}",
            what=f"Deed {index}",
            practice="monitoring",
            at=utc(2026, 12, 1, index),
        )
    page = client_for(client, viewer).get(reverse("team_detail", args=[team.slug]))
    text = page.content.decode()
    assert text.count('class="kudos-item"') == 5
    assert "Deed 6" in text and "Deed 1" not in text
    assert reverse("retros:kudos", args=[team.slug]) in text


def test_kudos_are_read_out_at_the_next_retro(client, team, teammate):
    kudos_add(
        team=team,
        user=teammate,
        person=None,
        person_name="Ana",
        what="Capacity review",
        practice="capacity_planning",
        at=NOW,
    )
    session = retro_session_start(
        session=retro_session_plan(team=team, at=NOW), user=teammate, at=NOW
    )
    assert Kudos.objects.get().session == session
    page = client_for(client, teammate).get(_url(team)).content.decode()
    assert reverse("retros:detail", args=[session.pk]) in page
