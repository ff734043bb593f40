"""With the broker down, every action that enqueues work saves its data and says the
background work is delayed, never a 500; the work is handed over once the broker is
back (the beat's minutely runs, called here directly).

The outage is made two ways: publishing refused (the task's apply_async raises kombu's
OperationalError, as a Redis that went away makes it), and a real dead broker (Celery
pointed at redis://127.0.0.1:1/0 with eager tasks off)."""

from __future__ import annotations

from datetime import timedelta

import kombu.exceptions
import pytest
import time_machine
from celery.app.task import Task
from django.conf import settings as django_settings
from django.urls import reverse

from portal.celery import app as celery_app
from slos.models import SLO, OutboxMessage, OutboxStatus, PullRun, PullStatus, PullTrigger
from slos.registry import services
from slos.tasks import deliver_outbox, pull_enqueue, queued_pulls_enqueue
from tests.conftest import client_for, utc
from tests.slos.notifications.test_delivery import ALERT, SlackReceiver, send, slack_intake
from tests.slos.openslo.test_openslo import example, upload
from tests.slos.registry.test_slo_views import slo_form

NOW = utc(2026, 11, 2, 9, 30)
DEAD_BROKER = "redis://127.0.0.1:1/0"
DELAYED = "cannot be reached right now"


def _refused(self, *args, **kwargs):
    raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")


def _reset_connections() -> None:
    """Celery keeps its connection and producer pools for the broker it first met; drop
    them, so the next publish connects to the broker configured now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Outage:
    """The broker goes away on `start` and comes back on `end`."""

    def __init__(self, how: str, monkeypatch, settings):
        self.how, self.monkeypatch, self.settings = how, monkeypatch, settings
        self.saved = {
            "broker_url": celery_app.conf.broker_url,
            "task_always_eager": celery_app.conf.task_always_eager,
        }
        self.down = False

    def start(self) -> None:
        if self.how == "publish refused":
            # A broker is configured (with none, tasks are not published: a pull runs
            # in the background, slos/background.py), and refuses what is published.
            self.settings.CELERY_TASK_ALWAYS_EAGER = False
            self.monkeypatch.setattr(Task, "apply_async", _refused)
        else:
            self.settings.CELERY_BROKER_URL = DEAD_BROKER
            self.settings.CELERY_TASK_ALWAYS_EAGER = False
            celery_app.conf.update(broker_url=DEAD_BROKER, task_always_eager=False)
            _reset_connections()
        self.down = True

    def end(self) -> None:
        if not self.down:
            return
        if self.how == "publish refused":
            self.settings.CELERY_TASK_ALWAYS_EAGER = self.saved["task_always_eager"]
            self.monkeypatch.undo()
        else:
            self.settings.CELERY_BROKER_URL = self.saved["broker_url"]
            self.settings.CELERY_TASK_ALWAYS_EAGER = self.saved["task_always_eager"]
            celery_app.conf.update(**self.saved)
            _reset_connections()
        self.down = False


@pytest.fixture(params=["publish refused", "dead redis"])
def outage(request, monkeypatch, settings):
    broker = Outage(request.param, monkeypatch, settings)
    yield broker
    broker.end()


def record_published(monkeypatch) -> list[tuple[str, tuple]]:
    """The broker is back: what is published from now on is recorded, not run (a pull
    would go to a Prometheus nobody runs here)."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        Task,
        "apply_async",
        lambda self, args=None, kwargs=None, **options: sent.append((self.name, tuple(args))),
    )
    return sent


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Pulls --------------------------------------------------------------------------


def test_pull_now_keeps_the_pull_and_says_it_is_delayed(client, teammate, data_source, outage):
    client_for(client, teammate)
    outage.start()
    url = reverse("slos:source_pull", args=[data_source.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("slos:source_detail", args=[data_source.pk]), 302)]
    (said,) = messages_of(response)
    assert said.startswith("Pull delayed") and DELAYED in said
    run = PullRun.objects.get()
    assert (run.status, run.trigger, run.slo_id, run.triggered_by) == (
        PullStatus.QUEUED,
        PullTrigger.MANUAL,
        None,
        teammate,
    )
    assert "waiting for the task queue" in response.content.decode()  # in the runs table

    # Asking again while it waits keeps the one pull.
    assert client.post(url).status_code == 302
    assert PullRun.objects.count() == 1


def test_pull_now_of_an_slo_shows_the_delay_on_its_page(client, teammate, slo, outage):
    client_for(client, teammate)
    outage.start()
    response = client.post(reverse("slos:pull", args=[slo.pk]), follow=True)
    assert response.status_code == 200
    assert any(said.startswith("Pull delayed") for said in messages_of(response))
    assert 'id="pull-delayed"' in response.content.decode()
    assert PullRun.objects.get(status=PullStatus.QUEUED).slo == slo


def test_queued_pulls_are_handed_to_the_broker_once_it_is_back(
    data_source, slo, outage, monkeypatch
):
    outage.start()
    first = pull_enqueue(
        source_id=data_source.pk, slo_id=slo.pk, trigger=PullTrigger.BACKFILL, at=NOW
    )
    second = pull_enqueue(source_id=data_source.pk, slo_id=None, trigger=PullTrigger.MANUAL, at=NOW)
    assert first.status == second.status == PullStatus.QUEUED
    assert queued_pulls_enqueue() == 0  # still down: both wait
    assert PullRun.objects.filter(status=PullStatus.QUEUED).count() == 2

    outage.end()
    sent = record_published(monkeypatch)
    later = NOW + timedelta(hours=3)
    assert queued_pulls_enqueue(at_iso=later.isoformat()) == 2
    assert not PullRun.objects.filter(status=PullStatus.QUEUED).exists()
    assert sent == [
        ("slos.tasks.pull_source", (data_source.pk, later.isoformat(), [slo.pk], "backfill")),
        ("slos.tasks.pull_source", (data_source.pk, later.isoformat(), None, "manual")),
    ]
    assert queued_pulls_enqueue() == 0  # handed over once


def test_the_beat_hands_over_queued_pulls_every_minute():
    entry = django_settings.CELERY_BEAT_SCHEDULE["queued-pulls"]
    assert entry["task"] == queued_pulls_enqueue.name
    assert entry["schedule"].minute == set(range(60))


# --- A new SLO, a query edit, an OpenSLO import (backfills enqueued on commit) ------


@pytest.mark.django_db(transaction=True)
def test_a_new_slo_is_stored_once_and_its_backfill_said_delayed(
    client, teammate, team, service, data_source, outage, monkeypatch
):
    client_for(client, teammate)
    outage.start()
    response = client.post(
        reverse("slos:create", args=[team.slug]), slo_form(service, data_source), follow=True
    )
    assert response.status_code == 200
    slo = SLO.objects.get()
    assert response.redirect_chain == [(reverse("slos:detail", args=[slo.pk]), 302)]
    # One message, a warning: not a green "created" beside the delay.
    [said] = messages_of(response)
    assert said.startswith("SLO “Payroll export success” created.")
    assert "backfill is delayed" in said and DELAYED in said
    assert 'class="message message-warning"' in response.content.decode()
    assert 'id="pull-delayed"' in response.content.decode()
    run = PullRun.objects.get()
    assert (run.status, run.trigger, run.slo) == (PullStatus.QUEUED, PullTrigger.BACKFILL, slo)

    outage.end()
    sent = record_published(monkeypatch)
    assert queued_pulls_enqueue() == 1
    assert [(name, args[0], args[2:]) for name, args in sent] == [
        ("slos.tasks.pull_source", data_source.pk, ([slo.pk], "backfill"))
    ]
    assert SLO.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_query_edit_is_saved_and_its_backfill_said_delayed(
    client, teammate, team, service, data_source, outage
):
    form = slo_form(service, data_source)
    slo = services.slo_create(
        service=service,
        data_source=data_source,
        name=form["name"],
        target=form["target"],
        good_query=form["good_query"],
        valid_query=form["valid_query"],
        backfill=False,
    )
    client_for(client, teammate)
    outage.start()
    changed = 'sum(increase(http_requests_total{code!~"5..|429"}[$window]))'
    response = client.post(
        reverse("slos:edit", args=[slo.pk]),
        slo_form(service, data_source, good_query=changed),
        follow=True,
    )
    assert response.status_code == 200
    assert any("backfill is delayed" in said for said in messages_of(response))
    slo.refresh_from_db()
    assert slo.good_query == changed
    assert PullRun.objects.get().status == PullStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_an_openslo_import_is_saved_and_its_backfills_said_delayed(client, teammate, team, outage):
    client_for(client, teammate)
    outage.start()
    response = upload(client, team, example("kintai.yaml"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Imported:" in page and "pulls are delayed" in page
    imported = SLO.objects.filter(service__team=team).count()
    assert imported > 0
    assert PullRun.objects.filter(status=PullStatus.QUEUED).count() == imported


# --- Slack: intake and Retry now ----------------------------------------------------


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def receiver():
    with SlackReceiver(default=500) as running:
        yield running


@pytest.fixture
def intake(team, slo, receiver):
    return slack_intake(team, slo, receiver.url)


def test_an_alert_taken_in_while_the_broker_is_down_is_sent_once_it_is_back(
    intake, receiver, frozen_clock, outage, django_capture_on_commit_callbacks
):
    outage.start()
    send(intake, ALERT, capture=django_capture_on_commit_callbacks)  # asserts a 2xx
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, receiver.requests) == (OutboxStatus.PENDING, 0, 0)

    outage.end()
    receiver.default = 200
    assert deliver_outbox() == 1  # the beat's minutely run
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and len(receiver.accepted) == 1


def test_retry_now_with_the_broker_down_says_it_is_queued_not_sending(
    client, owner, intake, receiver, frozen_clock, outage, django_capture_on_commit_callbacks
):
    send(intake, ALERT, capture=django_capture_on_commit_callbacks)
    message = OutboxMessage.objects.get()
    assert message.next_attempt_at > NOW and receiver.requests == 1  # failed, backed off

    client_for(client, owner)
    frozen_clock.shift(timedelta(seconds=5))
    outage.start()
    retry = reverse("slos:slack_delivery_retry", args=["kintai", message.pk])
    response = client.post(retry, follow=True)
    assert response.status_code == 200
    (said,) = messages_of(response)
    assert said.startswith("Retry queued, not sent yet") and DELAYED in said
    assert "being sent" not in said
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.next_attempt_at == NOW + timedelta(seconds=5)  # due now
    assert receiver.requests == 1  # nothing was sent

    outage.end()
    receiver.default = 200
    assert deliver_outbox() == 1  # the beat picks the due message up
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and len(receiver.accepted) == 1
