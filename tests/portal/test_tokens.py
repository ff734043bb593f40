"""Personal API tokens: the page that makes and revokes them, and how they are kept."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from portal.api_tokens import api_token_authenticate, api_token_create
from portal.models import ApiToken
from tests.conftest import client_for, utc

NOW = utc(2026, 11, 2, 9, 30)
TOKENS = "/account/tokens/"


def revoke_url(token: ApiToken) -> str:
    return reverse("api_token_revoke", args=[token.pk])


def test_the_page_needs_a_login(client, owner):
    token = api_token_create(user=owner, name="script").token
    for url in [TOKENS, revoke_url(token)]:
        response = client.post(url, {"name": "x"})

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_a_new_token_is_shown_once_and_stored_as_a_digest(client, viewer):
    client_for(client, viewer)

    response = client.post(TOKENS, {"name": "  weekly report  "})

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=viewer)
    raw = response.context["new_token"]
    assert raw.startswith(token.prefix) and raw.startswith("rpt_")
    assert raw in response.content.decode()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.name == "weekly report"

    again = client.get(TOKENS).content.decode()
    assert raw not in again
    assert token.prefix in again
    assert "weekly report" in again


def test_the_new_token_works_on_the_api(client, owner, slo):
    client_for(client, owner)
    raw = client.post(TOKENS, {"name": "script"}).context["new_token"]
    client.logout()

    response = client.get("/api/v1/slos", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [slo.pk]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_sensible_name(client, owner, name):
    client_for(client, owner)

    response = client.post(TOKENS, {"name": name})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_your_own_tokens(client, owner, teammate):
    api_token_create(user=owner, name="owner's script")
    api_token_create(user=teammate, name="teammate's script")
    client_for(client, owner)

    page = client.get(TOKENS).content.decode()

    assert "owner&#x27;s script" in page
    assert "teammate" not in page


def test_revoking_asks_first_and_changes_nothing_until_confirmed(client, owner):
    created = api_token_create(user=owner, name="old script")
    client_for(client, owner)

    response = client.post(revoke_url(created.token))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Revoke the token “old script”?" in page
    assert 'name="confirm" value="yes"' in page
    created.token.refresh_from_db()
    assert created.token.is_active


def test_revoking_a_token_stops_it(client, owner, slo):
    created = api_token_create(user=owner, name="old script")
    client_for(client, owner)

    with time_machine.travel(NOW, tick=False):
        response = client.post(revoke_url(created.token), {"confirm": "yes"}, follow=True)

    assert response.redirect_chain == [(TOKENS, 302)]
    assert "Token “old script” revoked." in response.content.decode()
    created.token.refresh_from_db()
    assert created.token.revoked_at == NOW
    assert api_token_authenticate(raw=created.raw, at=NOW).user is None
    # Revoking again keeps the first time.
    client.post(revoke_url(created.token), {"confirm": "yes"})
    created.token.refresh_from_db()
    assert created.token.revoked_at == NOW


def test_you_cannot_revoke_someone_elses_token(client, owner, outsider):
    created = api_token_create(user=owner, name="script")
    client_for(client, outsider)

    assert client.post(revoke_url(created.token), {"confirm": "yes"}).status_code == 404
    created.token.refresh_from_db()
    assert created.token.revoked_at is None
    assert api_token_authenticate(raw=created.raw, at=NOW).user == owner


def test_revoking_takes_a_post(client, owner):
    created = api_token_create(user=owner, name="script")
    client_for(client, owner)

    assert client.get(revoke_url(created.token)).status_code == 405
    created.token.refresh_from_db()
    assert created.token.is_active


def test_a_token_is_random_and_kept_only_as_a_digest(owner):
    first = api_token_create(user=owner, name="script")
    second = api_token_create(user=owner, name="script")

    assert first.raw != second.raw
    stored = ApiToken.objects.get(pk=first.token.pk)
    assert len(first.raw) > 40
    assert first.raw not in {stored.token_hash, stored.prefix, stored.name}
    assert len(stored.token_hash) == 64


def test_last_used_is_written_at_most_once_a_minute(owner):
    created = api_token_create(user=owner, name="script")

    for moment in [NOW, NOW + timedelta(seconds=59)]:
        assert api_token_authenticate(raw=created.raw, at=moment).user == owner
    created.token.refresh_from_db()
    assert created.token.last_used_at == NOW

    api_token_authenticate(raw=created.raw, at=NOW + timedelta(minutes=2))
    created.token.refresh_from_db()
    assert created.token.last_used_at == NOW + timedelta(minutes=2)
