"""One way to swap a fragment (portal/htmx.py): htmx gets the page's named partial, a
history restore and a plain GET get the whole page, and every answer varies on
HX-Request so no cache mixes them up."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for, utc

NOW = utc(2026, 11, 20, 3, 0)
HTMX = {"HX-Request": "true"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def noise_url(client, viewer, team):
    client_for(client, viewer)
    return reverse("slos:noise", args=[team.slug])


@pytest.fixture
def what_if_url(client, viewer, slo):
    client_for(client, viewer)
    return reverse("slos:what_if", args=[slo.pk])


def varies_on_htmx(response) -> bool:
    return "HX-Request" in [part.strip() for part in response.get("Vary", "").split(",")]


def test_a_partial_request_gets_the_fragment_and_vary(client, noise_url):
    response = client.get(noise_url, {"days": 14}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="noise-window">')
    assert "<html" not in body
    assert varies_on_htmx(response)


def test_a_history_restore_gets_the_whole_page(client, noise_url):
    response = client.get(noise_url, {"days": 14}, headers=HISTORY_RESTORE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and '<div id="noise-window">' in body
    assert varies_on_htmx(response)


def test_a_plain_get_gets_the_whole_page_and_vary(client, noise_url):
    response = client.get(noise_url)
    assert "<html" in response.content.decode()
    assert varies_on_htmx(response)


def test_the_what_if_region_alone_for_htmx(client, what_if_url):
    response = client.get(what_if_url, {"target": "99.5"}, headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="what-if-result"')
    assert "<html" not in body
    assert varies_on_htmx(response)


def test_the_what_if_history_restore_gets_the_whole_page(client, what_if_url):
    response = client.get(what_if_url, {"target": "99.5"}, headers=HISTORY_RESTORE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and '<section id="what-if-result"' in body
    assert varies_on_htmx(response)


def test_a_bad_target_restored_from_history_is_the_whole_page_with_400(client, what_if_url):
    response = client.get(what_if_url, {"target": "abc"}, headers=HISTORY_RESTORE)
    assert response.status_code == 400
    assert "<html" in response.content.decode()
