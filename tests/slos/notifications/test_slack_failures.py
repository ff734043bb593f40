"""Failed Slack deliveries are visible: the team's messages whose posts failed, waiting
for a retry or given up on, with their attempts, last error and next attempt; an admin's
"retry now" makes one due at once and sends it against a local receiver, and never
while its post is under way.

Who: any member sees the page; only admins retry; outsiders get 404, and a message of
another team cannot be retried from this one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.formatting import time_text
from slos.models import OutboxMessage, OutboxStatus
from slos.notifications.delivery import MAX_ATTEMPTS, outbox_claim, outbox_retry_now
from slos.tasks import deliver_outbox
from tests.conftest import client_for, utc
from tests.slos.notifications.test_delivery import (
    ALERT,
    TICKET,
    SlackReceiver,
    send,
    slack_intake,
)

NOW = utc(2026, 11, 2, 9, 30)


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def receiver():
    with SlackReceiver(default=500) as running:
        yield running


@pytest.fixture
def source(team, slo, receiver):
    return slack_intake(team, slo, receiver.url)


@pytest.fixture
def failing(source, receiver, frozen_clock, django_capture_on_commit_callbacks) -> OutboxMessage:
    """An alert whose first post got a 500: pending, its next attempt backed off."""
    send(source, ALERT, capture=django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, receiver.requests) == (OutboxStatus.PENDING, 1, 1)
    return message


def page_url() -> str:
    return reverse("slos:slack_deliveries", args=["kintai"])


def retry_url(message: OutboxMessage, slug: str = "kintai") -> str:
    return reverse("slos:slack_delivery_retry", args=[slug, message.pk])


def test_a_failing_message_shows_with_its_last_error(client, viewer, failing):
    response = client_for(client, viewer).get(page_url())
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row["message"] == failing and row["title"] == ALERT["title"]
    assert row["message"].attempts == 1 and row["sending"] is False
    page = response.content.decode()
    assert f'id="message-{failing.pk}"' in page
    assert "Clock-in &lt;burning&gt; fast" in page
    assert "The webhook answered HTTP 500" in page
    assert "no_service" not in page  # the receiver's body: a foreign server's text
    assert time_text(failing.next_attempt_at, failing.team.time_zone) in page
    assert "Retry now" not in page  # viewers see, admins retry
    assert failing.team.slack_webhook_url not in page


def test_sent_and_first_try_messages_are_not_listed(
    client, owner, source, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    receiver.default = 200
    send(source, TICKET, capture=django_capture_on_commit_callbacks)
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    response = client_for(client, owner).get(page_url())
    assert response.context["rows"] == []
    assert "No failed Slack deliveries" in response.content.decode()


def test_retry_now_makes_it_due_and_sends_it(client, owner, failing, receiver, frozen_clock):
    assert failing.next_attempt_at > NOW
    assert deliver_outbox() == 0  # not due yet: the run leaves it alone
    receiver.default = 200  # Slack is back
    frozen_clock.shift(timedelta(seconds=5))
    client_for(client, owner)
    # The retry's update commits on its own; the delivery task is enqueued right after.
    response = client.post(retry_url(failing))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#message-{failing.pk}")

    assert len(receiver.accepted) == 1 and "Clock-in" in receiver.texts()[0]
    failing.refresh_from_db()
    assert (failing.status, failing.attempts, failing.last_error) == ("sent", 2, "")
    assert [a.ok for a in failing.delivery_attempts.order_by("pk")] == [False, True]
    assert deliver_outbox() == 0 and receiver.requests == 2  # sent once
    assert client.get(page_url()).context["rows"] == []


def test_a_message_given_up_on_gets_one_more_attempt(
    client, owner, failing, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    for _attempt in range(MAX_ATTEMPTS + 1):
        frozen_clock.shift(timedelta(hours=2))
        deliver_outbox()
    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    page = client_for(client, owner).get(page_url()).content.decode()
    assert "given up" in page and "Retry now" in page

    # Still failing: one more attempt, then failed again.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(retry_url(failing)).status_code == 302
    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS + 1)

    receiver.default = 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(retry_url(failing)).status_code == 302
    failing.refresh_from_db()
    assert failing.status == OutboxStatus.SENT
    assert len(receiver.accepted) == 1


def test_retry_leaves_a_message_being_sent_alone(client, owner, failing, frozen_clock):
    """A worker has claimed the row and is posting: a retry must not make it due for a
    second worker."""
    frozen_clock.move_to(failing.next_attempt_at)
    assert outbox_claim(
        message_id=failing.pk, seen_next_attempt_at=failing.next_attempt_at, at=timezone.now()
    )
    failing.refresh_from_db()
    leased_until = failing.next_attempt_at
    page = client_for(client, owner).get(page_url())
    assert page.context["rows"][0]["sending"] is True
    assert "being sent now" in page.content.decode()

    assert not outbox_retry_now(message_id=failing.pk, team_id=failing.team_id, at=timezone.now())
    response = client.post(retry_url(failing), follow=True)
    assert "Not retried" in response.content.decode()
    failing.refresh_from_db()
    assert failing.next_attempt_at == leased_until


def test_only_admins_retry_and_only_their_teams_messages(
    client, failing, teammate, viewer, outsider, other_team
):
    before = failing.next_attempt_at
    for user, page_status, retry_status in [
        (teammate, 200, 403),
        (viewer, 200, 403),
        (outsider, 404, 404),
    ]:
        client_for(client, user)
        assert client.get(page_url()).status_code == page_status, user
        assert client.post(retry_url(failing)).status_code == retry_status, user
        assert client.get(retry_url(failing)).status_code == 405, user
        client.logout()
    # The other team's admin, through their own team's address.
    client_for(client, outsider)
    assert client.post(retry_url(failing, slug="other")).status_code == 404
    assert outbox_retry_now(message_id=failing.pk, team_id=other_team.pk, at=NOW) is False
    failing.refresh_from_db()
    assert failing.next_attempt_at == before


def test_page_runs_a_fixed_number_of_queries(client, owner, team, frozen_clock):
    client_for(client, owner)
    counts = []
    made = 0
    for size in (2, 20):
        OutboxMessage.objects.bulk_create(
            OutboxMessage(
                team=team, kind="digest", key=f"m{index}", payload={}, attempts=3,
                status=OutboxStatus.PENDING, last_error="HTTP 500", next_attempt_at=NOW,
                created_at=NOW,
            )
            for index in range(made, size)
        )  # fmt: skip
        made = size
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page_url())
        assert len(response.context["rows"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
