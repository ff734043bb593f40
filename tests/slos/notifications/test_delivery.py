"""Slack delivery against a local receiver: alerts carry the team's mention, tickets
none (or wait for the digest), logs are not sent; a receiver that fails or is down
leaves the message pending with every attempt logged, and once it recovers the message
is sent exactly once; two workers never post the same message; a message that runs
out of attempts is kept as failed; the settings page never shows the webhook URL."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from slos.models import DeliveryAttempt, OutboxKind, OutboxMessage, OutboxStatus
from slos.notifications import delivery
from slos.notifications.delivery import (
    MAX_ATTEMPTS,
    SlackNotice,
    backoff_seconds,
    outbox_claim,
    outbox_deliver,
    slack_message,
    ticket_digests_enqueue,
)
from slos.notifications.intake import intake_source_create
from slos.tasks import deliver_outbox, ticket_digest
from tests.conftest import client_for, utc
from tests.realparts import free_port

NOW = utc(2026, 11, 2, 9, 30)
WEBHOOK_PATH = "/services/T0001/B0002/abcdefghijklmnopqrstWXYZ"


class SlackReceiver:
    """Stands in for Slack's incoming webhook: answers each POST with the next scripted
    status (then `default`), and records the JSON bodies it accepted. A refusal answers
    `error_body`, as Slack answers "no_service"."""

    def __init__(
        self,
        script: list[int] | None = None,
        *,
        default: int = 200,
        port: int = 0,
        error_body: bytes = b"no_service",
    ):
        self.script = list(script or [])
        self.default = default
        self.delay = 0.0
        self.accepted: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests += 1
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    if status == 200 and self.path == WEBHOOK_PATH:
                        receiver.accepted.append(json.loads(body))
                    elif status == 200:
                        status = 404
                answer = b"ok" if status == 200 else error_body
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SlackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def texts(self) -> list[str]:
        return [body["text"] for body in self.accepted]


@pytest.fixture
def receiver():
    with SlackReceiver() as running:
        yield running


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def slack_intake(team, slo, url: str, *, mention: str = ""):
    """A generic intake source of a team whose Slack webhook is `url`, with `slo` named as
    the test alerts name it."""
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    team.slack_webhook_url = url
    team.slack_mention = mention
    team.save(update_fields=["slack_webhook_url", "slack_mention"])
    return intake_source_create(team=team, name="Scripts", kind="generic")


@pytest.fixture
def source(team, slo, receiver):
    return slack_intake(team, slo, receiver.url, mention="<!subteam^S0123ABC>")


@pytest.fixture
def slack_team(team, source):
    return team


def send(source, *notifications: dict, capture) -> None:
    """Post to the intake as a sender would; the on-commit work (queuing, and the eager
    delivery task) runs as it would after a real commit."""
    url = reverse("api:intake_generic", args=[source.token])
    body = json.dumps({"notifications": list(notifications)}).encode()
    with capture(execute=True):
        response = Client().post(url, data=body, content_type="application/json")
    assert response.status_code == 200, response.content


ALERT = {"key": "burn", "title": "Clock-in <burning> fast", "severity": "page",
         "slo": "clock-in-availability", "url": "https://grafana.example/d/1"}  # fmt: skip
TICKET = {"key": "slow", "title": "Clock-in burning slowly", "severity": "ticket",
          "slo": "clock-in-availability"}  # fmt: skip
LOG = {"key": "deploy", "title": "Deployed 2026.11.2"}


# --- Pure parts -------------------------------------------------------------------


def test_only_alerts_mention_and_titles_cannot_mention_anyone():
    notice = SlackNotice(title="<!channel> & co", severity="page", slo="Availability")
    alert = slack_message(notice, kind=OutboxKind.ALERT, mention="<!here>")
    ticket = slack_message(notice, kind=OutboxKind.TICKET, mention="<!here>")
    assert alert["text"].startswith("<!here> ")
    assert "&lt;!channel&gt; &amp; co" in alert["text"]
    assert "<!" not in ticket["text"] and "<!channel>" not in json.dumps(ticket)


def test_backoff_doubles_to_a_cap_with_bounded_jitter():
    assert [backoff_seconds(n, jitter=0) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20, jitter=0) == 3600
    assert 30 <= backoff_seconds(1, jitter=0.999) < 37.5


# --- Sending ----------------------------------------------------------------------


def test_alert_posted_with_the_mention_ticket_without_log_not_at_all(
    source, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    send(source, ALERT, TICKET, LOG, capture=django_capture_on_commit_callbacks)

    alert, ticket = sorted(receiver.accepted, key=lambda body: "Alert" not in body["text"])
    assert alert["text"].startswith("<!subteam^S0123ABC> :rotating_light: *Alert:*")
    assert "<https://grafana.example/d/1|Clock-in &lt;burning&gt; fast>" in alert["text"]
    assert ticket["text"] == ":ticket: *Ticket:* Clock-in burning slowly"
    assert "Deployed" not in json.dumps(receiver.accepted)
    assert receiver.requests == 2
    sent = OutboxMessage.objects.all()
    assert {(m.kind, m.status, m.attempts) for m in sent} == {
        ("alert", "sent", 1),
        ("ticket", "sent", 1),
    }
    assert DeliveryAttempt.objects.filter(ok=True, http_status=200).count() == 2


def test_a_repeat_delivery_does_not_post_again(
    source, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    send(source, ALERT, capture=django_capture_on_commit_callbacks)
    send(source, ALERT, capture=django_capture_on_commit_callbacks)
    deliver_outbox()
    assert receiver.requests == 1


def test_digest_team_gets_tickets_once_a_day_in_its_morning(
    slack_team, source, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    slack_team.ticket_delivery = "digest"
    slack_team.save(update_fields=["ticket_delivery"])
    frozen_clock.move_to(utc(2026, 11, 2, 1, 0))  # 10:00 in Tokyo: yesterday's digest is due
    send(source, ALERT, TICKET, LOG, capture=django_capture_on_commit_callbacks)
    assert receiver.texts() == [receiver.accepted[0]["text"]]  # the alert alone
    assert "Alert" in receiver.texts()[0]

    frozen_clock.move_to(utc(2026, 11, 2, 20, 0))  # 05:00 in Tokyo, the 3rd: too early
    assert ticket_digest() == 0
    frozen_clock.move_to(utc(2026, 11, 3, 0, 5))  # 09:05 in Tokyo
    assert ticket_digest() == 1
    assert ticket_digest() == 0  # once a local day

    digest = receiver.accepted[-1]
    assert digest["text"].startswith(":ticket: *1 new tickets for Kintai* (3 Nov 2026)")
    assert "Clock-in burning slowly" in json.dumps(digest)
    assert "<!" not in json.dumps(digest)
    assert "Deployed" not in json.dumps(digest)
    assert len(receiver.accepted) == 2
    assert OutboxMessage.objects.get(kind="digest").status == OutboxStatus.SENT


def test_digest_covers_only_tickets_since_the_last_one(
    slack_team, source, frozen_clock, django_capture_on_commit_callbacks
):
    slack_team.ticket_delivery = "digest"
    slack_team.save(update_fields=["ticket_delivery"])
    send(source, TICKET, capture=django_capture_on_commit_callbacks)
    frozen_clock.move_to(utc(2026, 11, 3, 0, 5))
    first = ticket_digests_enqueue(at=utc(2026, 11, 3, 0, 5))
    frozen_clock.move_to(utc(2026, 11, 4, 0, 5))
    assert len(first) == 1
    assert ticket_digests_enqueue(at=utc(2026, 11, 4, 0, 5)) == []  # nothing new: no message


# --- Failing, recovering, claiming, giving up ----------------------------------------


def test_receiver_failing_then_refusing_then_recovering_loses_nothing(
    slack_team, source, frozen_clock, django_capture_on_commit_callbacks
):
    port = free_port()
    slack_team.slack_webhook_url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    slack_team.save(update_fields=["slack_webhook_url"])

    with SlackReceiver([500], port=port) as failing:
        send(source, ALERT, capture=django_capture_on_commit_callbacks)
    assert failing.requests == 1 and failing.accepted == []
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.next_attempt_at > NOW
    assert "HTTP 500" in message.last_error

    # Not due yet: the next run leaves it alone.
    assert deliver_outbox() == 0
    assert message.delivery_attempts.count() == 1

    # Slack is down altogether: the connection is refused, the attempt still logged.
    frozen_clock.move_to(message.next_attempt_at + timedelta(seconds=1))
    assert deliver_outbox() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 2)
    assert "Could not connect" in message.last_error
    gap = message.next_attempt_at - (NOW + timedelta(seconds=1))
    assert gap > timedelta(seconds=60)  # backed off further

    with SlackReceiver(port=port) as recovered:
        frozen_clock.move_to(message.next_attempt_at)
        assert deliver_outbox() == 1
        assert deliver_outbox() == 0
        frozen_clock.shift(timedelta(hours=2))
        assert deliver_outbox() == 0
    assert len(recovered.accepted) == 1 and "Clock-in" in recovered.texts()[0]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    attempts = list(message.delivery_attempts.order_by("pk"))
    assert [(a.ok, a.http_status) for a in attempts] == [(False, 500), (False, None), (True, 200)]


def test_gives_up_after_max_attempts_and_keeps_the_row(
    slack_team, source, receiver, frozen_clock, django_capture_on_commit_callbacks
):
    receiver.default = 500
    send(source, ALERT, capture=django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    for _attempt in range(MAX_ATTEMPTS + 2):
        frozen_clock.shift(timedelta(hours=2))
        deliver_outbox()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert message.delivery_attempts.count() == MAX_ATTEMPTS == receiver.requests
    assert "HTTP 500" in message.last_error


def test_a_stale_claim_loses(slack_team, receiver, frozen_clock):
    """Worker B read the row before worker A claimed it: B's compare-and-set fails."""
    message = OutboxMessage.objects.create(
        team=slack_team, kind="alert", key="k", payload={"text": "x"},
        next_attempt_at=NOW, created_at=NOW,
    )  # fmt: skip
    assert outbox_claim(message_id=message.pk, seen_next_attempt_at=NOW, at=NOW)
    assert not outbox_claim(message_id=message.pk, seen_next_attempt_at=NOW, at=NOW)
    assert outbox_deliver(at=NOW).sent == 0  # leased: not due for anyone else
    assert receiver.requests == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_double_send(team, receiver):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; the compare-and-set is tested above")
    team.slack_webhook_url = receiver.url
    team.save(update_fields=["slack_webhook_url"])
    for index in range(12):
        OutboxMessage.objects.create(
            team=team, kind="alert", key=f"m{index}", payload={"text": f"m{index}"},
            next_attempt_at=NOW, created_at=NOW,
        )  # fmt: skip
    receiver.delay = 0.05
    start = threading.Barrier(3)
    runs = []

    def worker() -> None:
        start.wait()
        try:
            runs.append(outbox_deliver(at=NOW + timedelta(seconds=1), limit=100))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(receiver.texts()) == sorted(f"m{index}" for index in range(12))
    assert sum(run.sent for run in runs) == 12
    assert DeliveryAttempt.objects.count() == 12


def test_alerts_are_queued_with_the_intake_and_sent_by_the_minutely_run(
    source, receiver, frozen_clock
):
    """The delivery task enqueued after the intake's commit never ran (the broker was
    down, the process died): the messages were committed with the notifications, so the
    minutely run sends them, once."""
    url = reverse("api:intake_generic", args=[source.token])
    body = json.dumps({"notifications": [ALERT, TICKET, LOG]}).encode()
    assert Client().post(url, data=body, content_type="application/json").status_code == 200
    assert receiver.requests == 0  # on-commit work never ran
    assert sorted(OutboxMessage.objects.values_list("kind", "status")) == [
        ("alert", "pending"),
        ("ticket", "pending"),
    ]

    frozen_clock.shift(timedelta(minutes=1))
    assert deliver_outbox() == 2
    assert deliver_outbox() == 0
    assert receiver.requests == 2 and "Deployed" not in json.dumps(receiver.accepted)


def test_no_webhook_queues_nothing(team, slo, frozen_clock, django_capture_on_commit_callbacks):
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    source = intake_source_create(team=team, name="Scripts", kind="generic")
    send(source, ALERT, capture=django_capture_on_commit_callbacks)
    assert not OutboxMessage.objects.exists()


def test_the_beat_runs_the_outbox_every_minute_and_the_digest_hourly(settings):
    outbox = settings.CELERY_BEAT_SCHEDULE["deliver-outbox"]
    digest = settings.CELERY_BEAT_SCHEDULE["ticket-digest"]
    assert outbox["task"] == deliver_outbox.name and len(outbox["schedule"].minute) == 60
    assert digest["task"] == ticket_digest.name and digest["schedule"].minute == {5}
    assert delivery.DIGEST_LOCAL_HOUR == 9


# --- Team settings ------------------------------------------------------------------


def settings_post(**overrides) -> dict:
    data = {
        "name": "Kintai",
        "mission": "",
        "time_zone": "Asia/Tokyo",
        "budget_at_risk_below": "25",
        "no_data_after_hours": "3",
        "slack_webhook_url": "",
        "slack_mention": "<!channel>",
        "ticket_delivery": "each",
    }
    return data | overrides


def test_settings_mask_the_webhook_and_blank_keeps_it(client, owner, team):
    url = reverse("team_settings", args=[team.slug])
    secret = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstWXYZ"
    client_for(client, owner)
    response = client.post(
        url, settings_post(slack_webhook_url=secret, slack_mention="<!subteam^S0123ABC>")
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.slack_webhook_url, team.slack_mention) == (secret, "<!subteam^S0123ABC>")

    page = client.get(url).content.decode()
    assert "abcdefghijklmnopqrst" not in page and "T0001" not in page
    assert "https://hooks.slack.com/…WXYZ" in page

    response = client.post(url, settings_post(ticket_delivery="digest"))
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.slack_webhook_url, team.ticket_delivery) == (secret, "digest")

    # A refused form does not echo the URL back either.
    response = client.post(url, settings_post(slack_webhook_url=secret, slack_mention="@here"))
    assert response.status_code == 400
    assert "abcdefghijklmnopqrst" not in response.content.decode()

    response = client.post(url, settings_post(slack_webhook_clear="on"))
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.slack_webhook_url == ""


def test_settings_refuse_a_bad_webhook_url(client, owner, team):
    url = reverse("team_settings", args=[team.slug])
    response = client_for(client, owner).post(url, settings_post(slack_webhook_url="hooks"))
    assert response.status_code == 400
    assert "full URL" in response.content.decode()
