"""Issue #18, Login: no sign-in through the company's identity provider. Signing in here
goes through a real OpenID Connect provider (django-oauth-toolkit, tests/oidc_provider/)
that the suite starts on loopback in a process of its own: the portal's back end fetches
the token, checks the ID token against the provider's JWKS and reads its userinfo over
HTTP, as it would against the company's provider."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from portal.env import env_all_or_none
from portal.models import Membership
from portal.oidc import username_free, username_stem
from tests.oidc_provider.running import point_portal_at, provider_running
from tests.oidc_provider.serve import PEOPLE


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    with provider_running(
        portal_url=live_server.url, workdir=tmp_path_factory.mktemp("oidc_provider")
    ) as base:
        yield base


@pytest.fixture
def oidc_on(settings, provider):
    point_portal_at(settings, provider)


def hidden_input(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return unescape(match.group(1))


def sign_in_through_provider(http: httpx.Client, username: str, password: str) -> httpx.Response:
    """What a person does: the button on the portal's login page, the provider's own
    sign-in form, and back to the portal."""
    login_page = http.get("/accounts/login/")
    button = re.search(r'<a href="([^"]+)"[^>]*>Sign in with Company SSO</a>', login_page.text)
    assert button, login_page.text
    provider_form = http.get(unescape(button.group(1)))
    assert "Company sign-in" in provider_form.text
    return http.post(
        str(provider_form.url),
        data={
            "csrfmiddlewaretoken": hidden_input(provider_form.text, "csrfmiddlewaretoken"),
            "username": username,
            "password": password,
            "next": hidden_input(provider_form.text, "next"),
        },
    )


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, follow_redirects=True, timeout=30) as client:
        yield client


def test_a_new_person_signs_in_through_the_provider_and_lands_home_without_a_team(
    oidc_on, live_server, http
):
    username, password, email, *_ = PEOPLE[0]

    home = sign_in_through_provider(http, username, password)

    assert home.status_code == 200
    assert home.url == f"{live_server.url}/"
    assert "Log out ayumi" in home.text
    assert "You are not in any team yet. Ask a team admin to add you." in home.text
    user = get_user_model().objects.get(email=email)
    assert (user.username, user.first_name, user.last_name) == ("ayumi", "Ayumi", "Sato")
    assert not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()


def test_an_existing_account_is_matched_by_its_email(oidc_on, live_server, http, owner):
    owner.email = "Owner@Example.com"
    owner.save()
    _, password, *_ = PEOPLE[1]

    home = sign_in_through_provider(http, "owner-at-idp", password)

    assert home.url == f"{live_server.url}/"
    assert "Log out owner" in home.text
    assert "You are not in any team yet" not in home.text
    assert get_user_model().objects.filter(email__iexact="owner@example.com").count() == 1


def test_a_wrong_provider_password_leaves_the_portal_signed_out(oidc_on, http, db):
    refused = sign_in_through_provider(http, "ayumi", "not-her-password")

    assert "Company sign-in" in refused.text
    assert http.get("/").url.path == "/accounts/login/"
    assert not get_user_model().objects.filter(email="ayumi@example.com").exists()


def test_a_callback_with_a_forged_state_is_refused_without_signing_in(oidc_on, client, db):
    response = client.get("/oidc/callback/", {"code": "stolen", "state": "forged"})
    assert response.status_code in {302, 400}
    assert "_auth_user_id" not in client.session


def test_without_a_provider_there_is_no_button_and_no_oidc_pages(db):
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Sign in with" not in page.content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404


def test_a_provider_configured_in_part_stops_start_up(monkeypatch):
    names = ["OIDC_RP_CLIENT_ID", "OIDC_RP_CLIENT_SECRET", "OIDC_OP_TOKEN_ENDPOINT"]
    for name in names:
        monkeypatch.delenv(name, raising=False)
    assert env_all_or_none(names) is None
    monkeypatch.setenv("OIDC_RP_CLIENT_ID", "portal")
    with pytest.raises(ImproperlyConfigured, match="OIDC_RP_CLIENT_SECRET, OIDC_OP_TOKEN_ENDPOINT"):
        env_all_or_none(names)


@pytest.mark.parametrize(
    ("claims", "taken", "expected"),
    [
        ({"preferred_username": "ayumi", "email": "a@x"}, set(), "ayumi"),
        ({"preferred_username": "ayumi"}, {"ayumi", "ayumi-2"}, "ayumi-3"),
        ({"email": "j.doe+ops@example.com"}, set(), "j.doe+ops"),
        ({"preferred_username": "山田 太郎"}, set(), "山田太郎"),
        ({"preferred_username": "!!!"}, set(), "user"),
    ],
)
def test_usernames_for_new_accounts(claims, taken, expected):
    assert username_free(username_stem(claims), taken) == expected
