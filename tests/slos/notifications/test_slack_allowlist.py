"""The Slack webhook cannot be turned into a request forger: it may point at Slack's host
over HTTPS (or at a relay the operator allows), checked when an admin saves it and again
before each post; and no foreign server's reply reaches the failed-deliveries page."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from slos.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from slos.notifications.delivery import error_shown
from slos.notifications.webhooks import allowed_origins, webhook_url_refusal
from slos.tasks import deliver_outbox
from tests.conftest import client_for, utc
from tests.slos.notifications.test_delivery import (
    ALERT,
    SlackReceiver,
    send,
    settings_post,
    slack_intake,
)

NOW = utc(2026, 11, 2, 9, 30)
SLACK = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstWXYZ"
MARKER = "INTERNAL-ONLY-7f3a: db_password=hunter2"


# --- The rule, pure --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "https://internal.example/hook",
        "http://hooks.slack.com/services/T/B/x",  # Slack, but not over HTTPS
        "https://hooks.slack.com.evil.example/services/T/B/x",
        "https://hooks.slack.com@evil.example/services/T/B/x",
        "https://evil.example\\@hooks.slack.com/services/T/B/x",
        "https://evil.example#@hooks.slack.com/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "ftp://hooks.slack.com/x",
    ],
)
def test_only_slacks_host_over_https_is_allowed_by_default(url):
    assert webhook_url_refusal(url, allowed=allowed_origins(["hooks.slack.com"])) is not None


@pytest.mark.parametrize(
    "url", [SLACK, "https://HOOKS.slack.com/services/T/B/x", "https://hooks.slack.com:443/x"]
)
def test_slacks_webhooks_are_allowed(url):
    assert webhook_url_refusal(url, allowed=allowed_origins(["hooks.slack.com"])) is None


def test_the_allowlist_admits_a_relay_as_written():
    allowed = allowed_origins(
        ["hooks.slack.com", "relay.example.com", "http://relay.internal:8080"]
    )
    assert webhook_url_refusal("https://relay.example.com/slack/x", allowed=allowed) is None
    assert webhook_url_refusal("https://relay.example.com:8443/x", allowed=allowed) is None
    assert webhook_url_refusal("http://relay.example.com/x", allowed=allowed) is not None
    assert webhook_url_refusal("http://relay.internal:8080/x", allowed=allowed) is None
    assert webhook_url_refusal("http://relay.internal:8081/x", allowed=allowed) is not None
    assert webhook_url_refusal("https://other.example.com/x", allowed=allowed) is not None


@pytest.mark.parametrize(
    "entry", ["ftp://relay.example.com", "https://relay.example.com/path", "https://", "a b:c"]
)
def test_a_malformed_allowlist_entry_is_refused_naming_the_setting(entry):
    with pytest.raises(ImproperlyConfigured, match="SLACK_WEBHOOK_ALLOWED_HOSTS"):
        allowed_origins([entry])


# --- At save ---------------------------------------------------------------------


@pytest.fixture
def slack_only(settings):
    settings.SLACK_WEBHOOK_ALLOWED_HOSTS = ["hooks.slack.com"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "https://internal.example/hook"])
def test_an_internal_url_is_refused_at_save_with_a_clear_message(
    client, owner, team, slack_only, url
):
    settings_url = reverse("team_settings", args=[team.slug])
    response = client_for(client, owner).post(settings_url, settings_post(slack_webhook_url=url))
    assert response.status_code == 400
    errors = response.context["form"].errors["slack_webhook_url"]
    assert errors == [
        "Only Slack's webhook host (https://hooks.slack.com/…) is allowed; "
        f"{url.split('/')[2].split(':')[0]} is not. A self-hosted relay must be added to "
        "SLACK_WEBHOOK_ALLOWED_HOSTS by the operator."
    ]
    team.refresh_from_db()
    assert team.slack_webhook_url == ""


def test_slack_over_plain_http_is_refused_with_its_own_message(client, owner, team, slack_only):
    settings_url = reverse("team_settings", args=[team.slug])
    response = client_for(client, owner).post(
        settings_url, settings_post(slack_webhook_url=SLACK.replace("https", "http", 1))
    )
    assert response.status_code == 400
    assert "Use https:// for hooks.slack.com" in response.content.decode()


def test_a_slack_webhook_is_accepted(client, owner, team, slack_only):
    settings_url = reverse("team_settings", args=[team.slug])
    response = client_for(client, owner).post(settings_url, settings_post(slack_webhook_url=SLACK))
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.slack_webhook_url == SLACK


def test_the_allowlist_setting_admits_a_relay(client, owner, team, settings):
    settings.SLACK_WEBHOOK_ALLOWED_HOSTS = ["hooks.slack.com", "slack-relay.corp.example"]
    relay = "https://slack-relay.corp.example/hooks/team-kintai"
    settings_url = reverse("team_settings", args=[team.slug])
    response = client_for(client, owner).post(settings_url, settings_post(slack_webhook_url=relay))
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.slack_webhook_url == relay


# --- At send, and what viewers see --------------------------------------------------


@pytest.fixture
def internal():
    """An internal server: answers every POST with 500 and a body nobody outside may read."""
    with SlackReceiver(default=500, error_body=MARKER.encode()) as running:
        yield running


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def stored_internal_url(team, slo, internal):
    """A URL stored before the allowlist existed (or through the Django admin)."""
    return slack_intake(team, slo, internal.url)


def test_a_stored_url_no_longer_allowed_fails_at_send_without_a_request(
    client, owner, stored_internal_url, internal, slack_only, frozen_clock,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    send(stored_internal_url, ALERT, capture=django_capture_on_commit_callbacks)
    assert internal.requests == 0
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.FAILED  # given up at once: no retry would help
    assert message.last_error.startswith("Not sent: Only Slack's webhook host")
    (attempt,) = DeliveryAttempt.objects.all()
    assert (attempt.ok, attempt.http_status) == (False, None)

    page = client_for(client, owner).get(reverse("slos:slack_deliveries", args=["kintai"]))
    assert "Not sent: Only Slack&#x27;s webhook host" in page.content.decode()
    assert deliver_outbox() == 0 and internal.requests == 0


def test_a_viewer_never_sees_the_remote_body(
    client, viewer, stored_internal_url, internal, frozen_clock, django_capture_on_commit_callbacks
):
    # The suite allows http://127.0.0.1 as a relay (tests/conftest.py): the post is made.
    send(stored_internal_url, ALERT, capture=django_capture_on_commit_callbacks)
    assert internal.requests == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING

    response = client_for(client, viewer).get(reverse("slos:slack_deliveries", args=["kintai"]))
    page = response.content.decode()
    assert "The webhook answered HTTP 500: a server error on the other side." in page
    assert "INTERNAL-ONLY" not in page and "hunter2" not in page
    # Kept nowhere, so no other page (nor the admin) can show it either.
    assert "INTERNAL-ONLY" not in message.last_error
    assert not DeliveryAttempt.objects.filter(error__contains="INTERNAL-ONLY").exists()


def test_an_error_kept_with_a_remote_body_before_is_shown_without_it(
    client, viewer, stored_internal_url, internal, frozen_clock, django_capture_on_commit_callbacks
):
    send(stored_internal_url, ALERT, capture=django_capture_on_commit_callbacks)
    OutboxMessage.objects.update(last_error=f"HTTP 502: {MARKER}")  # as stored until now
    page = client_for(client, viewer).get(reverse("slos:slack_deliveries", args=["kintai"]))
    text = page.content.decode()
    assert "The webhook answered HTTP 502" in text and "INTERNAL-ONLY" not in text
    assert error_shown("HTTP 404: no_service").startswith("The webhook answered HTTP 404")
    assert error_shown("Could not connect to the webhook's host.") == (
        "Could not connect to the webhook's host."
    )
