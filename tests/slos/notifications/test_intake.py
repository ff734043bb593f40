"""Notification intake: real-format Alertmanager and Sentry deliveries are stored,
deduplicated and classified by the routing policy; wrong tokens store nothing; bad
signatures, malformed and oversized bodies are refused and kept for debugging; and the
ticket queue lets members decide tickets."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from slos.models import (
    IntakeRequest,
    IntakeSource,
    IntakeStatus,
    Notification,
    RoutingRule,
    TicketStatus,
)
from slos.notifications.intake import intake_source_create
from slos.notifications.parsers import MAX_BODY_BYTES
from tests.conftest import client_for, utc

PAYLOADS = Path(__file__).parent / "intake_payloads"
NOW = utc(2026, 11, 2, 9, 30)
SENTRY_SECRET = "6a1c3f0e8b2d4f5a9c7e1b3d5f7a9c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def named(service, slo):
    service.openslo_name = "clock-in-api"
    service.save(update_fields=["openslo_name"])
    slo.openslo_name = "clock-in-availability"
    slo.save(update_fields=["openslo_name"])
    return slo


@pytest.fixture
def alertmanager(team):
    return intake_source_create(team=team, name="Alertmanager", kind="alertmanager")


@pytest.fixture
def sentry(team, service):
    return intake_source_create(
        team=team, name="Sentry", kind="sentry", service=service, client_secret=SENTRY_SECRET
    )


@pytest.fixture
def generic(team):
    return intake_source_create(team=team, name="Scripts", kind="generic")


def post(kind: str, token: str, body: bytes, **headers):
    url = reverse(f"api:intake_{kind}", args=[token])
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def signed(body: bytes, secret: str = SENTRY_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Sentry-Hook-Resource": "event_alert", "Sentry-Hook-Signature": signature}


def test_alertmanager_firing_is_stored_and_classified(named, alertmanager):
    response = post("alertmanager", alertmanager.token, payload("alertmanager_firing.json"))
    assert response.status_code == 200, response.content
    assert response.json()["classes"] == {"alert": 1, "ticket": 1}

    stored = IntakeRequest.objects.get()
    assert stored.status == IntakeStatus.PROCESSED
    assert json.loads(stored.body) == json.loads(payload("alertmanager_firing.json"))
    assert stored.notification_count == 2

    page = Notification.objects.get(fingerprint="8e3b2f1c0a9d4e57")
    assert page.notification_class == "alert"
    assert page.slo == named and page.service == named.service
    assert page.decided_by_rule == "default" and page.rule is None
    assert "page-severity" in page.reason
    assert (page.state, page.count, page.first_seen_at) == ("firing", 1, NOW)
    assert page.title == "Clock-in availability: error budget burning fast"

    slow = Notification.objects.get(fingerprint="41d07c6b2e5f9a10")
    assert slow.notification_class == "ticket"
    assert slow.ticket_status == TicketStatus.OPEN


def test_alertmanager_repeated_then_resolved_is_one_notification(named, alertmanager, frozen_clock):
    post("alertmanager", alertmanager.token, payload("alertmanager_firing.json"))
    frozen_clock.shift(4 * 3600)
    repeated = post("alertmanager", alertmanager.token, payload("alertmanager_repeated.json"))
    assert repeated.json()["new"] == 0 and repeated.json()["repeated"] == 2
    frozen_clock.shift(600)
    resolved = post("alertmanager", alertmanager.token, payload("alertmanager_resolved.json"))
    assert resolved.status_code == 200

    assert Notification.objects.count() == 2
    page = Notification.objects.get(fingerprint="8e3b2f1c0a9d4e57")
    assert page.count == 3
    assert page.first_seen_at == NOW
    assert page.last_seen_at == utc(2026, 11, 2, 13, 40)
    assert page.state == "resolved" and page.resolved_at == utc(2026, 11, 2, 13, 40)
    assert page.notification_class == "alert"
    slow = Notification.objects.get(fingerprint="41d07c6b2e5f9a10")
    assert (slow.count, slow.state) == (2, "firing")
    assert IntakeRequest.objects.filter(status=IntakeStatus.PROCESSED).count() == 3


def test_an_alert_of_no_known_slo_is_a_log(alertmanager, named):
    body = json.loads(payload("alertmanager_firing.json"))
    for alert in body["alerts"]:
        alert["labels"]["slo"] = "unknown-slo"
    body["commonLabels"]["slo"] = "unknown-slo"
    post("alertmanager", alertmanager.token, json.dumps(body).encode())
    assert set(Notification.objects.values_list("notification_class", flat=True)) == {"log"}


def test_a_team_rule_decides_before_the_default(team, named, alertmanager):
    rule = RoutingRule.objects.create(
        team=team,
        position=1,
        name="slow burns are logs for now",
        source_kind="alertmanager",
        conditions=[{"field": "long_window", "op": "regex", "value": "1d|3d"}],
        outcome="log",
    )
    post("alertmanager", alertmanager.token, payload("alertmanager_firing.json"))
    slow = Notification.objects.get(fingerprint="41d07c6b2e5f9a10")
    assert (slow.notification_class, slow.rule, slow.decided_by_rule) == ("log", rule, rule.name)
    assert Notification.objects.get(fingerprint="8e3b2f1c0a9d4e57").notification_class == "alert"


def test_sentry_issue_alert_is_a_ticket_for_the_sources_service(service, sentry):
    body = payload("sentry_issue_alert.json")
    first = post("sentry", sentry.token, body, **signed(body))
    assert first.status_code == 200, first.content
    again = post("sentry", sentry.token, body, **signed(body))
    assert again.json()["repeated"] == 1

    issue = Notification.objects.get()
    assert issue.fingerprint == "4510378921"
    assert issue.title == "DoesNotExist: Shift matching query does not exist."
    assert (issue.notification_class, issue.service, issue.count) == ("ticket", service, 2)
    assert "known service" in issue.reason
    assert issue.labels["environment"] == "production"
    assert issue.url.startswith("https://kintai-inc.sentry.io/issues/4510378921/")


def test_sentry_bad_signature_is_401_and_kept_as_rejected(sentry):
    body = payload("sentry_issue_alert.json")
    for headers in [signed(body, secret="not-the-secret"), {}]:
        response = post("sentry", sentry.token, body, **headers)
        assert response.status_code == 401
    assert Notification.objects.count() == 0
    rejected = IntakeRequest.objects.filter(status=IntakeStatus.REJECTED)
    assert rejected.count() == 2
    assert {row.http_status for row in rejected} == {401}
    assert "Sentry-Hook-Signature" in rejected[0].reason


@pytest.mark.parametrize("kind", ["alertmanager", "sentry", "generic"])
def test_wrong_token_is_404_and_stores_nothing(kind, alertmanager, sentry, generic):
    body = payload("sentry_issue_alert.json")
    response = post(kind, "rpi_not-a-token", body, **signed(body))
    assert response.status_code == 404
    # Another kind's token is no token for this endpoint either.
    other = alertmanager if kind != "alertmanager" else generic
    assert post(kind, other.token, body, **signed(body)).status_code == 404
    assert IntakeRequest.objects.count() == 0
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"version": "4", "status": "firing", "alerts": []}', "alerts"),
        (b'{"version": "3", "status": "firing", "alerts": [{}]}', "version"),
    ],
)
def test_malformed_body_is_400_and_kept(alertmanager, body, message):
    response = post("alertmanager", alertmanager.token, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    rejected = IntakeRequest.objects.get()
    assert (rejected.status, rejected.http_status) == (IntakeStatus.REJECTED, 400)
    assert rejected.body == body.decode() and rejected.reason == response.json()["detail"]
    assert Notification.objects.count() == 0


def test_oversized_body_is_413_and_kept_cut_short(generic):
    body = json.dumps({"key": "big", "title": "Big", "text": "x" * MAX_BODY_BYTES}).encode()
    response = post("generic", generic.token, body)
    assert response.status_code == 413
    rejected = IntakeRequest.objects.get()
    assert (rejected.status, rejected.http_status) == (IntakeStatus.REJECTED, 413)
    assert rejected.body_bytes == len(body)
    assert len(rejected.body) <= 4096 and rejected.body.startswith('{"key": "big"')
    assert Notification.objects.count() == 0


def test_an_alert_with_nul_in_its_labels_and_title_is_stored_without_it(named, alertmanager):
    """JSON's \\u0000 is valid JSON, but PostgreSQL stores no NUL in text: such an alert
    was answered 500 on every retry and never stored (#18)."""
    body = json.loads(payload("alertmanager_firing.json"))
    alert = body["alerts"][0]
    alert["labels"]["env\u0000"] = "prod\u0000uction"
    alert["annotations"]["summary"] = "Clock-in\u0000 burning\u0007"
    raw = json.dumps(body).encode()
    assert b"\\u0000" in raw

    response = post("alertmanager", alertmanager.token, raw)

    assert response.status_code == 200, response.content
    stored = IntakeRequest.objects.get()
    assert stored.status == IntakeStatus.PROCESSED and json.loads(stored.body) == body
    notification = Notification.objects.get(fingerprint=alert["fingerprint"])
    assert notification.labels["env"] == "production"
    assert "\x00" not in notification.title and "\x07" not in notification.title


def test_a_body_with_raw_nul_bytes_is_refused_and_kept_readable(generic):
    body = b'{"key": "k", "title": "T\x00"}'
    response = post("generic", generic.token, body)
    assert response.status_code == 400
    rejected = IntakeRequest.objects.get()
    assert rejected.body == '{"key": "k", "title": "T\ufffd"}'
    assert Notification.objects.count() == 0


def test_a_fingerprint_of_control_characters_only_is_a_clear_400(generic):
    body = json.dumps({"key": "\u0000\u0001", "title": "T"}).encode()
    response = post("generic", generic.token, body)
    assert response.status_code == 400
    assert "key" in response.json()["detail"]
    assert Notification.objects.count() == 0


def test_generic_shape_single_and_batch(team, named, generic):
    single = {"key": "backup", "title": "Nightly backup failed", "error": True,
              "service": "Clock-in API"}  # fmt: skip
    assert post("generic", generic.token, json.dumps(single).encode()).status_code == 200
    batch = {
        "notifications": [
            {"key": "backup", "title": "Nightly backup failed", "status": "resolved"},
            {"key": "burn", "title": "Burn", "severity": "page", "slo": named.pk},
            {"key": "deploy", "title": "Deployed 2026.11.2", "labels": {"env": "prod"}},
        ]
    }
    response = post("generic", generic.token, json.dumps(batch).encode())
    assert response.json() == {
        "request": IntakeRequest.objects.latest("pk").pk,
        "notifications": 3,
        "new": 2,
        "repeated": 1,
        "classes": {"ticket": 1, "alert": 1, "log": 1},
    }
    backup = Notification.objects.get(fingerprint="backup")
    assert (backup.notification_class, backup.state, backup.count) == ("ticket", "resolved", 2)


def _alerts(count: int) -> bytes:
    body = json.loads(payload("alertmanager_firing.json"))
    template = body["alerts"][0]
    body["alerts"] = [{**template, "fingerprint": f"{index:016x}"} for index in range(count)]
    return json.dumps(body).encode()


def test_queries_do_not_grow_with_the_number_of_alerts(team, named, alertmanager):
    RoutingRule.objects.create(team=team, name="r", conditions=[], outcome="log", slo=None,
                               source_kind="sentry")  # fmt: skip
    counts = []
    for size in (1, 30):
        for attempt in ("new", "repeat"):
            with CaptureQueriesContext(connection) as queries:
                response = post("alertmanager", alertmanager.token, _alerts(size))
            assert response.status_code == 200, attempt
            counts.append(len(queries))
        Notification.objects.all().delete()
    # Token and team, the stored delivery, one update for the repeats; for new ones
    # also SLOs, services, rules and one insert; the transaction and savepoint included.
    assert counts[0] == counts[2] <= 11 and counts[1] == counts[3] <= 7, counts


# --- The ticket queue -------------------------------------------------------------


@pytest.fixture
def ticket(named, alertmanager) -> Notification:
    post("alertmanager", alertmanager.token, payload("alertmanager_firing.json"))
    return Notification.objects.get(notification_class="ticket")


def test_queue_lists_only_tickets(client, viewer, ticket):
    response = client_for(client, viewer).get(reverse("slos:ticket_queue", args=["kintai"]))
    assert response.status_code == 200
    assert ticket.title in response.content.decode()
    assert "error budget burning fast" not in response.content.decode()  # the alert


def test_member_decides_and_the_queue_says_who_and_when(client, teammate, ticket):
    client_for(client, teammate)
    url = reverse("slos:ticket_decide", args=[ticket.pk])
    response = client.post(url, {"status": "backlogged", "note": "Tune the burn rule"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.ticket_status == TicketStatus.BACKLOGGED
    assert (ticket.ticket_decided_by, ticket.ticket_decided_at) == (teammate, NOW)
    assert ticket.ticket_note == "Tune the burn rule"
    queue = reverse("slos:ticket_queue", args=["kintai"])
    assert ticket.title not in client.get(queue).content.decode()
    page = client.get(queue, {"status": "backlogged"}).content.decode()
    assert ticket.title in page and "teammate" in page


def test_bad_decision_is_400(client, teammate, ticket):
    url = reverse("slos:ticket_decide", args=[ticket.pk])
    assert client_for(client, teammate).post(url, {"status": "maybe"}).status_code == 400


def test_viewer_may_not_decide_and_outsider_sees_nothing(client, viewer, outsider, ticket):
    url = reverse("slos:ticket_decide", args=[ticket.pk])
    assert client_for(client, viewer).post(url, {"status": "dismissed"}).status_code == 403
    client.logout()
    client_for(client, outsider)
    assert client.post(url, {"status": "dismissed"}).status_code == 404
    assert client.get(reverse("slos:ticket_queue", args=["kintai"])).status_code == 404
    ticket.refresh_from_db()
    assert ticket.ticket_status == TicketStatus.OPEN


def test_an_alert_cannot_be_decided_as_a_ticket(client, teammate, ticket):
    alert = Notification.objects.get(notification_class="alert")
    url = reverse("slos:ticket_decide", args=[alert.pk])
    assert client_for(client, teammate).post(url, {"status": "dismissed"}).status_code == 404


def test_queue_runs_a_fixed_number_of_queries(client, viewer, named, alertmanager):
    client_for(client, viewer)
    url = reverse("slos:ticket_queue", args=["kintai"])
    counts = []
    for size in (1, 20):
        body = json.loads(_alerts(size))
        for alert in body["alerts"]:
            alert["labels"]["severity"] = "ticket"
        post("alertmanager", alertmanager.token, json.dumps(body).encode())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_admin_creates_a_source_and_sees_its_token_once(client, owner, teammate, service):
    url = reverse("slos:intake_sources", args=["kintai"])
    assert (
        client_for(client, teammate).post(url, {"name": "x", "kind": "generic"}).status_code == 403
    )
    client.logout()
    client_for(client, owner)
    response = client.post(url, {"name": "Sentry web", "kind": "sentry", "service": service.pk,
                                 "client_secret": SENTRY_SECRET})  # fmt: skip
    assert response.status_code == 200
    source = IntakeSource.objects.get()
    page = response.content.decode()
    token = page.split("data-new-intake-token>")[1].split("<")[0]
    assert token.startswith("rpi_") and source.token_prefix in token
    assert reverse("api:intake_sentry", args=[token]) in page
    again = client.get(url).content.decode()
    assert token not in again and SENTRY_SECRET not in again
    assert "Sentry web" in again


def test_sentry_source_needs_its_client_secret(client, owner):
    url = reverse("slos:intake_sources", args=["kintai"])
    response = client_for(client, owner).post(url, {"name": "S", "kind": "sentry"})
    assert response.status_code == 400
    assert IntakeSource.objects.count() == 0


# --- The routing policy page --------------------------------------------------------


def test_admin_adds_a_rule_that_decides_new_notifications(client, owner, named, alertmanager):
    url = reverse("slos:routing_policy", args=["kintai"])
    client_for(client, owner)
    response = client.post(
        url,
        {"name": "fast burns page", "position": 5, "source_kind": "alertmanager", "slo": named.pk,
         "conditions": "alertname = SLOErrorBudgetBurn\nlong_window ~ 1d|3d", "outcome": "alert"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions == [
        {"field": "alertname", "op": "equals", "value": "SLOErrorBudgetBurn"},
        {"field": "long_window", "op": "regex", "value": "1d|3d"},
    ]
    post("alertmanager", alertmanager.token, payload("alertmanager_firing.json"))
    slow = Notification.objects.get(fingerprint="41d07c6b2e5f9a10")
    assert (slow.notification_class, slow.rule) == ("alert", rule)
    page = client.get(url).content.decode()
    assert "fast burns page" in page and "long_window ~ 1d|3d" in page
    delete = reverse("slos:routing_rule_delete", args=["kintai", rule.pk])
    assert client.post(delete, {"confirm": "yes"}).status_code == 302
    assert RoutingRule.objects.count() == 0


def test_rule_with_a_bad_regex_is_refused(client, owner):
    url = reverse("slos:routing_policy", args=["kintai"])
    response = client_for(client, owner).post(
        url, {"name": "bad", "position": 1, "conditions": "env ~ (", "outcome": "log"}
    )
    assert response.status_code == 400
    assert RoutingRule.objects.count() == 0


@pytest.mark.parametrize(
    ("position", "message"),
    [
        (10**30, "less than or equal to 10000."),
        (10_001, "less than or equal to 10000."),
        (-1, "greater than or equal to 0."),
    ],
)
def test_a_rule_position_out_of_range_is_refused(client, owner, position, message):
    url = reverse("slos:routing_policy", args=["kintai"])
    response = client_for(client, owner).post(
        url, {"name": "far", "position": position, "conditions": "", "outcome": "log"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert RoutingRule.objects.count() == 0


def test_only_admins_change_the_policy(client, team, teammate, outsider):
    url = reverse("slos:routing_policy", args=["kintai"])
    client_for(client, teammate)
    assert client.get(url).status_code == 200
    data = {"name": "x", "position": 1, "conditions": "", "outcome": "log"}
    assert client.post(url, data).status_code == 403
    client.logout()
    client_for(client, outsider)
    assert client.get(url).status_code == 404
    assert RoutingRule.objects.count() == 0


def test_a_failure_while_processing_keeps_the_raw_delivery(monkeypatch, named, alertmanager):
    """The sender gets a 500 and retries; the body it sent is on record, and nothing of
    the half-done processing is."""

    def broken(**kwargs):
        Notification.objects.create(
            team=alertmanager.source.team, source=alertmanager.source, fingerprint="half",
            title="half", first_seen_at=NOW, last_seen_at=NOW, notification_class="log",
        )  # fmt: skip
        raise RuntimeError("routing blew up")

    monkeypatch.setattr("slos.notifications.intake._ingest_once", broken)
    client = Client(raise_request_exception=False)
    url = reverse("api:intake_alertmanager", args=[alertmanager.token])
    body = payload("alertmanager_firing.json")
    response = client.post(url, data=body, content_type="application/json")

    assert response.status_code == 500
    stored = IntakeRequest.objects.get()
    assert (stored.status, stored.http_status, stored.body) == ("received", 500, body.decode())
    assert not Notification.objects.exists()


def test_sources_page_shows_rejected_deliveries_for_debugging(client, owner, generic):
    post("generic", generic.token, b'{"title": "no key"}')
    page = client_for(client, owner).get(reverse("slos:intake_sources", args=["kintai"]))
    assert "key: Field required" in page.content.decode()
    assert generic.token not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_alerts_count_every_one(team, named, alertmanager):
    """Several senders deliver the same 20 new alerts at once, in opposite orders: one
    row per fingerprint, every delivery counted, no error (the loser of an insert race
    counts its alerts as repeats; rows are locked in one order, so no deadlock)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    forward = json.loads(_alerts(20))
    backward = {**forward, "alerts": forward["alerts"][::-1]}
    bodies = [json.dumps(forward).encode(), json.dumps(backward).encode()] * 3
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def deliver(body: bytes) -> None:
        try:
            barrier.wait()
            for _round in range(3):
                statuses.append(post("alertmanager", alertmanager.token, body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 18
    rows = Notification.objects.filter(source=alertmanager.source)
    assert rows.count() == 20
    assert sorted(set(rows.values_list("count", flat=True))) == [18]
