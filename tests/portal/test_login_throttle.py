"""Issue #18, Login: 50 wrong passwords in 16 s were all answered. Now failures are
counted per account and per client address, and either reaching the limit locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.login_throttle import client_address
from tests.factories import PASSWORD

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ATTACKER = "198.51.100.7"
ELSEWHERE = "203.0.113.20"
LOCKED = "Too many failed sign-ins for this account or address. Try again in 15 minutes."


def sign_in(username: str, password: str, *, address: str):
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def fail(username: str, times: int, *, address: str) -> None:
    for _ in range(times):
        sign_in(username, "not-the-password", address=address)


def assert_locked(response) -> None:
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def assert_signed_in(response, user) -> None:
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("home")
    assert response.wsgi_request.session["_auth_user_id"] == str(user.pk)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_four_failures_still_let_the_right_password_in(owner):
    fail("owner", 4, address=ATTACKER)
    assert_signed_in(sign_in("owner", PASSWORD, address=ATTACKER), owner)


def test_five_failures_lock_the_account_with_a_message_in_the_site_layout(owner):
    fail("owner", 5, address=ATTACKER)

    response = sign_in("owner", PASSWORD, address=ATTACKER)

    assert_locked(response)
    page = response.content.decode()
    assert 'class="container-fluid site-header"' in page
    assert "<title>Log in · Reliability Portal</title>" in page


def test_the_account_stays_locked_from_another_address(owner):
    fail("owner", 5, address=ATTACKER)
    assert_locked(sign_in("owner", PASSWORD, address=ELSEWHERE))


def test_the_address_is_locked_for_every_account_once_it_exceeds(owner, teammate):
    # One failure on each of five accounts: no account reaches the limit, the address does.
    for username in ["owner", "teammate", "viewer", "nobody", "admin"]:
        fail(username, 1, address=ATTACKER)
    assert_locked(sign_in("teammate", PASSWORD, address=ATTACKER))


def test_another_address_can_still_sign_in_to_another_account(owner, teammate):
    fail("owner", 5, address=ATTACKER)
    assert_locked(sign_in("teammate", PASSWORD, address=ATTACKER))
    assert_signed_in(sign_in("teammate", PASSWORD, address=ELSEWHERE), teammate)


def test_after_the_cool_off_the_right_password_works(owner, frozen):
    fail("owner", 5, address=ATTACKER)
    frozen.shift(timedelta(minutes=14))
    assert_locked(sign_in("owner", PASSWORD, address=ATTACKER))

    # A refused attempt during the lockout restarts the cool-off.
    frozen.shift(timedelta(minutes=15, seconds=1))
    assert_signed_in(sign_in("owner", PASSWORD, address=ATTACKER), owner)


def test_the_limit_and_cool_off_come_from_settings(owner, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail("owner", 2, address=ATTACKER)
    response = sign_in("owner", PASSWORD, address=ATTACKER)
    assert response.status_code == 429
    assert "Try again in 1 minute." in response.content.decode()


def test_a_forged_forwarded_for_does_not_escape_the_address_lock(owner, teammate):
    """With no trusted proxy configured, X-Forwarded-For is the client's to choose."""
    for n in range(5):
        Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").post(
            reverse("login"), {"username": f"user{n}", "password": "nope"}
        )
    response = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.99").post(
        reverse("login"), {"username": "teammate", "password": PASSWORD}
    )
    assert_locked(response)


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(owner, teammate, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(5):
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {ATTACKER}").post(
            reverse("login"), {"username": "owner", "password": "nope"}
        )
    # Another client behind the same proxy is not locked out by the attacker's address.
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE).post(
        reverse("login"), {"username": "teammate", "password": PASSWORD}
    )
    assert_signed_in(other, teammate)
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"2.2.2.2, {ATTACKER}").post(
        reverse("login"), {"username": "teammate", "password": PASSWORD}
    )
    assert_locked(attacker)


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "expected"),
    [
        ("10.0.0.2", None, 0, "10.0.0.2"),
        ("10.0.0.2", "6.6.6.6", 0, "10.0.0.2"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),
        ("10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
        ("10.0.0.2", None, 1, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7", 2, "10.0.0.2"),
        ("10.0.0.2", "not-an-address", 1, "10.0.0.2"),
        ("10.0.0.2", "2001:db8::1", 1, "2001:db8::1"),
    ],
)
def test_client_address(remote, forwarded, proxies, expected):
    assert client_address(remote, forwarded, proxies) == expected
