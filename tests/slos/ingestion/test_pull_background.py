"""On the embedded default (no broker), "Pull now" and a new SLO's backfill run in a
thread of the server process: the page answers at once, the message at its top follows
the run's progress and then says how it ended; a thread that fails leaves its run
failed, never "running"; a second "Pull now" while one runs says so."""

from __future__ import annotations

import re
import threading
import time
from html import unescape

import pytest
from celery import Task
from django.urls import reverse
from django.utils import timezone

from slos import tasks
from slos.background import background_join
from slos.ingestion.views import pull_outcome
from slos.models import DataSource, PullRun, PullStatus
from slos.registry import services
from tests.conftest import client_for
from tests.factories import SLOFactory
from tests.prom import GOOD_QUERY, VALID_QUERY
from tests.slos.ingestion.fake_http import ScriptedServer

HX = {"HX-Request": "true"}


@pytest.fixture
def gate() -> threading.Event:
    """Opened by the test: until then (or for 10 s at most, so a failed test's pull
    ends too) the Prometheus stand-in holds each answer."""
    return threading.Event()


@pytest.fixture
def held_source(team, service, prometheus, gate) -> DataSource:
    """A source whose Prometheus answers (the suite's real one) only once `gate` opens,
    with an SLO on it."""
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        passing = server.answer

        def held(behaviour, path, form=b""):
            gate.wait(10)
            return passing(behaviour, path, form)

        server.answer = held
        source = services.data_source_create(
            team=team, name="Prometheus", url=server.url, timeout_seconds=30
        )
        SLOFactory(
            service=service,
            data_source=source,
            name="Clock-ins succeed",
            good_query=GOOD_QUERY,
            valid_query=VALID_QUERY,
            backfill=False,
        )
        yield source
        gate.set()


def top_message(html: str) -> str:
    """The messages at the top of a page."""
    found = re.search(r'<section class="messages".*?</section>', html, re.S)
    assert found, "no message at the top of the page"
    return found.group(0)


def live_url(html: str) -> str:
    [url] = re.findall(r'hx-get="([^"]+)"', html)
    return unescape(url)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)


@pytest.mark.prometheus
@pytest.mark.django_db(transaction=True)
def test_pull_now_answers_at_once_and_its_message_follows_the_pull_to_its_end(
    client, teammate, held_source, gate
):
    client_for(client, teammate)
    page = client.post(reverse("slos:source_pull", args=[held_source.pk]), follow=True)
    assert page.status_code == 200
    # The page has answered while Prometheus still holds every answer.
    run = PullRun.objects.get()
    assert run.status == PullStatus.RUNNING and run.finished_at is None
    message = top_message(page.content.decode())
    assert "Pull now running:" in text_of(message)
    assert "<progress" in message
    url = live_url(message)
    assert url == reverse("slos:pull_run", args=[run.pk])

    # While it runs: its progress, asked for again every second.
    wait_for(lambda: PullRun.objects.get().hours_missing > 0)
    missing = PullRun.objects.get().hours_missing
    running = client.get(url, headers=HX)
    assert running.status_code == 200
    html = running.content.decode()
    assert 'class="message message-info"' in html and 'hx-trigger="every 1s"' in html
    assert f"Pull now running: 0 of {missing} hours fetched." in text_of(html)

    gate.set()
    background_join()
    run.refresh_from_db()
    assert run.status == PullStatus.OK and run.hours_stored > 0
    ended = client.get(url, headers=HX).content.decode()
    # Stored in green when the source had every hour; a warning for hours it had none of.
    level = "success" if run.hours_stored == run.hours_missing else "warning"
    assert f'class="message message-{level}"' in ended
    assert "hx-get" not in ended  # the page stops asking
    assert text_of(ended).startswith(pull_outcome(run)[1])
    held_source.refresh_from_db()
    assert held_source.pull_lock_until is None and held_source.last_success_at is not None


@pytest.mark.prometheus
@pytest.mark.django_db(transaction=True)
def test_a_second_pull_now_while_one_runs_says_so_and_follows_the_first(
    client, teammate, held_source, gate
):
    client_for(client, teammate)
    client.post(reverse("slos:source_pull", args=[held_source.pk]), follow=True)
    first = PullRun.objects.get()
    slo = held_source.slos.get()
    page = client.post(reverse("slos:pull", args=[slo.pk]), follow=True)
    message = top_message(page.content.decode())
    assert text_of(message).startswith("Another pull of this source is running")
    assert live_url(message) == reverse("slos:pull_run", args=[first.pk])
    assert PullRun.objects.filter(status=PullStatus.RUNNING).get() == first
    assert PullRun.objects.filter(status=PullStatus.SKIPPED, slo=slo).count() == 1
    gate.set()
    background_join()
    assert PullRun.objects.get(pk=first.pk).status == PullStatus.OK


@pytest.mark.django_db(transaction=True)
def test_a_pull_that_fails_in_its_thread_is_recorded_failed_with_its_message(
    client, teammate, data_source, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("slos.tasks.data_source_pull_finish", broken)
    client_for(client, teammate)
    page = client.post(reverse("slos:source_pull", args=[data_source.pk]), follow=True)
    url = live_url(top_message(page.content.decode()))
    background_join()
    run = PullRun.objects.get()
    assert run.status == PullStatus.FAILED and run.finished_at is not None
    assert run.message == "The pull stopped on an error: the database went away"
    data_source.refresh_from_db()
    assert data_source.pull_lock_until is None  # the next pull may start
    ended = client.get(url, headers=HX).content.decode()
    assert 'class="message message-error"' in ended and 'role="alert"' in ended
    assert "Pull failed: The pull stopped on an error: the database went away" in text_of(ended)


@pytest.mark.django_db(transaction=True)
def test_a_new_slos_backfill_runs_in_the_background(client, teammate, team, service, data_source):
    """The save answers with the backfill running; it ends (here: failed, the factory's
    source listens nowhere) in its thread."""
    from tests.slos.registry.test_slo_views import slo_form

    client_for(client, teammate)
    page = client.post(
        reverse("slos:create", args=[team.slug]), slo_form(service, data_source), follow=True
    )
    message = top_message(page.content.decode())
    assert "Its backfill is running in the background" in text_of(message)
    assert "Backfill running:" in text_of(message)
    background_join()
    assert PullRun.objects.get().status == PullStatus.FAILED


def test_with_a_broker_pull_now_is_published_as_before(
    client, teammate, data_source, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(
        Task, "apply_async", lambda self, args=None, kwargs=None, **options: sent.append(self.name)
    )
    client_for(client, teammate)
    page = client.post(reverse("slos:source_pull", args=[data_source.pk]), follow=True)
    assert sent == ["slos.tasks.pull_source"]
    assert not PullRun.objects.exists()
    assert "Pull queued" in text_of(top_message(page.content.decode()))


def test_a_run_is_followed_only_by_its_team(client, viewer, outsider, data_source):
    now = timezone.now()
    run = PullRun.objects.create(data_source=data_source, started_at=now, until=now)
    url = reverse("slos:pull_run", args=[run.pk])
    assert client_for(client, outsider).get(url).status_code == 404
    assert client_for(client, viewer).get(url).status_code == 200
    assert client.get(reverse("slos:pull_run", args=[run.pk + 1000])).status_code == 404


def test_the_backfill_message_refuses_what_it_does_not_know(client, viewer, slo):
    client_for(client, viewer)
    url = reverse("slos:backfill_live", args=[slo.pk])
    for query in ["", "?run=1", "?run=x&saved=created", "?run=1&saved=deleted"]:
        response = client.get(url + query)
        assert response.status_code == 400, query
        assert b"Name a run and what the save did." in response.content
    assert client.get(url + "?run=999999&saved=created").status_code == 404


def test_pulls_left_running_when_the_server_stops_are_recorded_failed(data_source):
    """What the process's exit runs (atexit) for the pulls still in its threads."""
    now = timezone.now()
    DataSource.objects.filter(pk=data_source.pk).update(pull_lock_until=now)
    running = PullRun.objects.create(data_source=data_source, started_at=now, until=now)
    tasks._runs_in_threads.add(running.pk)
    try:
        tasks._pulls_interrupted()
    finally:
        tasks._runs_in_threads.discard(running.pk)
    running.refresh_from_db()
    assert running.status == PullStatus.FAILED and running.finished_at is not None
    assert running.message == "Interrupted: the server stopped before the pull finished."
    data_source.refresh_from_db()
    assert data_source.pull_lock_until is None
