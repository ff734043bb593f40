"""Deleting an annotation asks first: a post without the confirmation deletes nothing
and answers with the page that asks (it keeps where to go back to); the confirmed post
deletes. The SLO page's and the annotation list's buttons ask in the browser."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from slos.models import Annotation
from slos.registry import services
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 2, 3)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def maintenance(team, slo, owner):
    return services.annotation_create(
        team=team,
        slo=slo,
        kind="maintenance",
        starts_at=utc(2026, 11, 1, 0),
        ends_at=utc(2026, 11, 1, 2),
        text="DB failover drill",
        excluded=True,
        created_by=owner,
    )


def delete_url(annotation: Annotation) -> str:
    return reverse("slos:annotation_delete", args=[annotation.pk])


def test_a_post_without_the_confirmation_asks_and_deletes_nothing(
    client, teammate, slo, maintenance
):
    back_to = reverse("slos:annotation_create", args=[slo.pk])
    response = client_for(client, teammate).post(delete_url(maintenance), {"next": back_to})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Delete the annotation “DB failover drill”?" in page
    # In the team's zone (Tokyo): 09:00 to 11:00.
    assert "Maintenance, 1 Nov 2026 09:00 JST – 1 Nov 2026 11:00 JST (Asia/Tokyo)" in page
    assert "its hours count in the error budget again" in page
    assert f'<input type="hidden" name="next" value="{back_to}">' in page
    assert 'name="confirm" value="yes"' in page
    assert f'href="{back_to}"' in page  # Cancel goes back where the person was
    assert Annotation.objects.filter(pk=maintenance.pk).exists()


def test_the_confirmed_post_deletes_and_goes_back(client, teammate, slo, maintenance):
    back_to = reverse("slos:annotation_create", args=[slo.pk])
    response = client_for(client, teammate).post(
        delete_url(maintenance), {"next": back_to, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"] == back_to
    assert not Annotation.objects.exists()


def test_the_page_that_asks_never_sends_off_site(client, teammate, slo, maintenance):
    response = client_for(client, teammate).post(
        delete_url(maintenance), {"next": "https://evil.example/"}
    )
    page = response.content.decode()
    assert "evil.example" not in page
    assert f'href="{reverse("slos:detail", args=[slo.pk])}"' in page


def test_htmx_gets_the_page_back_as_a_whole_page(client, teammate, slo, maintenance):
    response = client_for(client, teammate).post(
        delete_url(maintenance), {"confirm": "yes"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == reverse("slos:detail", args=[slo.pk])
    assert not Annotation.objects.exists()


def test_the_delete_buttons_ask_in_the_browser(client, teammate, slo, maintenance):
    client_for(client, teammate)
    for page_url in (
        reverse("slos:detail", args=[slo.pk]),
        reverse("slos:annotation_create", args=[slo.pk]),
    ):
        html = client.get(page_url).content.decode()
        assert f'hx-post="{delete_url(maintenance)}"' in html, page_url
        assert 'hx-confirm="Delete the annotation “DB failover drill”?"' in html, page_url


def test_a_viewer_cannot_delete_either_way(client, viewer, maintenance):
    client_for(client, viewer)
    assert client.post(delete_url(maintenance)).status_code == 403
    assert client.post(delete_url(maintenance), {"confirm": "yes"}).status_code == 403
    assert Annotation.objects.filter(pk=maintenance.pk).exists()
