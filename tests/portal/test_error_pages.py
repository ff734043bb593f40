"""403 and 404 pages in the site's layout, with its navigation and a way back (#17: a
viewer following a replay link met a bare "403 Forbidden")."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import client_for


def test_a_viewer_refused_an_action_gets_the_reason_in_the_sites_layout(client, viewer, team):
    response = client_for(client, viewer).post(
        reverse("slos:noise_replay", args=[team.slug]), {"draft": "", "days": 7}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role in this team does not allow this." in page
    assert 'href="/slos/"' in page  # the navigation
    assert "Back to the portal" in page


def test_a_missing_page_is_a_404_in_the_sites_layout(client, viewer):
    response = client_for(client, viewer).get("/slos/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing at /slos/no-such-page/" in page
    assert 'href="/slos/"' in page
    assert "Resolver404" not in page


def test_another_teams_page_is_the_same_404(client, outsider, team):
    response = client_for(client, outsider).get(reverse("slos:noise", args=[team.slug]))
    assert response.status_code == 404
    assert "or it belongs to a team you are not in" in response.content.decode()
