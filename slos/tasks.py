"""Thin Celery interfaces: ids and ISO timestamps in, a service call inside; and the one
way to enqueue them, which tells the caller when the broker cannot be reached.

A broker outage delays background work, it never loses it nor fails the page that asked
for it: what a task works on is saved first, and a periodic run picks it up once the
broker is back. Slack messages are outbox rows with a due time (`deliver_outbox`, every
minute); a pull is kept as a PullRun "queued" (`queued_pulls_enqueue`, every minute).

With no broker (the embedded default, where Celery would run a task inside the request)
a pull asked for by a person runs in a thread of the server process instead
(slos/background.py): the page answers at once and follows the run's progress."""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime

import kombu.exceptions
import redis.exceptions
from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from slos.background import background_start
from slos.ingestion.pull import (
    data_source_pull,
    data_source_pull_begin,
    data_source_pull_finish,
    pull_run_fail,
)
from slos.models import DataSource, DataSourceKind, PullRun, PullStatus, PullTrigger
from slos.notifications.delivery import outbox_deliver, ticket_digests_enqueue
from slos.registry.selectors import budgets_read_ahead

SKIPPED_RETRY_SECONDS = 60
QUEUED_PULLS_BATCH = 100

logger = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached: kombu wraps the transport's
# connection errors in its OperationalError; redis-py's and the socket's own are here in
# case a transport lets one through unwrapped.
BROKER_UNREACHABLE = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
)


def task_enqueue(task: Task, *args, **kwargs) -> bool:
    """Publish `task`; False, and a warning in the log, when the broker cannot be
    reached. The caller has saved what the task works on and says the work is delayed."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except BROKER_UNREACHABLE as exc:
        logger.warning("Broker unreachable: %s delayed (%s)", task.name, exc)
        return False
    return True


def pull_enqueue(
    *, source_id: int, slo_id: int | None, trigger: str, at: datetime, user=None
) -> PullRun | None:
    """Enqueue a pull of a source (or of one of its SLOs) up to `at`: None once the
    broker has it. When the broker cannot be reached the pull is kept as a PullRun
    "queued", returned, which `queued_pulls_enqueue` hands to the broker once it is back;
    asking again for the same pull while it waits adds no second one.

    With no broker the pull starts here, in the background (pull_start_in_background),
    and its run is returned: running, or skipped when another pull holds the source."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        source = DataSource.objects.filter(pk=source_id).first()
        if source is None:
            return None
        return pull_start_in_background(
            source=source, slo_id=slo_id, trigger=trigger, at=at, user=user
        )
    slo_ids = None if slo_id is None else [slo_id]
    if task_enqueue(pull_source, source_id, at.isoformat(), slo_ids, trigger):
        return None
    waiting = PullRun.objects.filter(
        data_source_id=source_id, slo_id=slo_id, status=PullStatus.QUEUED
    ).first()
    return waiting or PullRun.objects.create(
        data_source_id=source_id,
        slo_id=slo_id,
        trigger=trigger,
        started_at=at,
        until=at,
        status=PullStatus.QUEUED,
        message=_("The task queue could not be reached; the pull starts once it is back."),
        triggered_by=user,
    )


# The runs this process pulls in its threads: marked interrupted if it exits first.
_runs_in_threads: set[int] = set()
_runs_lock = threading.Lock()


def pull_start_in_background(
    *, source: DataSource, slo_id: int | None, trigger: str, at: datetime, user=None
) -> PullRun:
    """Record the run and take the source's lease here, then pull in a thread: the run is
    returned at once, running (its progress is on it), or finished if it could not
    start (another pull holds the source: skipped). A thread that fails records the run
    as failed with its message; a run never stays "running" after its thread."""
    slo_ids = None if slo_id is None else [slo_id]
    run = data_source_pull_begin(
        data_source=source, until=at, slo_ids=slo_ids, user=user, trigger=trigger
    )
    if run.status != PullStatus.RUNNING:
        return run
    run_id = run.pk
    with _runs_lock:
        _runs_in_threads.add(run_id)

    def pull() -> None:
        try:
            running = PullRun.objects.select_related("data_source").get(pk=run_id)
            data_source_pull_finish(run=running, slo_ids=slo_ids)
        except Exception as exc:
            logger.exception("Pull %s failed in its thread", run_id)
            pull_run_fail(
                run_id=run_id,
                message=_("The pull stopped on an error: %(error)s")
                % {"error": str(exc) or type(exc).__name__},
            )
        finally:
            with _runs_lock:
                _runs_in_threads.discard(run_id)

    if background_start(pull, name=f"pull-run-{run_id}") is None:
        run.refresh_from_db()  # it ran inline, and has finished
    return run


@atexit.register
def _pulls_interrupted() -> None:
    """The server is stopping with pulls still in its threads (daemons, stopped with
    it): record them as failed now rather than leave them "running"."""
    with _runs_lock:
        unfinished = list(_runs_in_threads)
    for run_id in unfinished:
        try:
            pull_run_fail(
                run_id=run_id,
                message=_("Interrupted: the server stopped before the pull finished."),
            )
        except Exception:  # the database may be gone too: the next pull marks it then
            logger.exception("Could not record pull %s as interrupted", run_id)


@shared_task(name="slos.tasks.queued_pulls_enqueue")
def queued_pulls_enqueue(at_iso: str | None = None) -> int:
    """The beat's minutely run: hand the pulls kept while the broker was down to it,
    oldest first, each pulling up to now. A queued run is removed once its pull is
    enqueued (the pull records its own run); if the broker is gone again, the rest wait
    for the next run. Rows are claimed with skip_locked, so two runs never hand over the
    same pull."""
    at = datetime.fromisoformat(at_iso) if at_iso else timezone.now()
    handed = 0
    with transaction.atomic():
        waiting = list(
            PullRun.objects.filter(status=PullStatus.QUEUED)
            .select_for_update(skip_locked=True)
            .order_by("started_at", "pk")
            .values_list("pk", "data_source_id", "slo_id", "trigger")[:QUEUED_PULLS_BATCH]
        )
        for pk, source_id, slo_id, trigger in waiting:
            slo_ids = None if slo_id is None else [slo_id]
            if not task_enqueue(pull_source, source_id, at.isoformat(), slo_ids, trigger):
                break
            PullRun.objects.filter(pk=pk, status=PullStatus.QUEUED).delete()
            handed += 1
    return handed


@shared_task(name="slos.tasks.pull_all_sources")
def pull_all_sources(until_iso: str | None = None) -> int:
    """The nightly fan-out: one task per pulled data source (kept as queued pulls if the
    broker goes away halfway)."""
    until = datetime.fromisoformat(until_iso) if until_iso else timezone.now()
    source_ids = list(
        DataSource.objects.filter(kind=DataSourceKind.PROMETHEUS).values_list("pk", flat=True)
    )
    for source_id in source_ids:
        pull_enqueue(source_id=source_id, slo_id=None, trigger=PullTrigger.NIGHTLY, at=until)
    return len(source_ids)


@shared_task(
    name="slos.tasks.pull_source",
    bind=True,
    max_retries=30,
    acks_late=True,
)
def pull_source(
    self,
    source_id: int,
    until_iso: str,
    slo_ids: list[int] | None = None,
    trigger: str = PullTrigger.NIGHTLY,
) -> int:
    """Pull one source (or some of its SLOs). Network errors are retried inside the pull
    with backoff and end as a failed outcome; a pull skipped because another one holds
    the source's lease is tried again a minute later."""
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return 0
    run = data_source_pull(
        data_source=source,
        until=datetime.fromisoformat(until_iso),
        slo_ids=slo_ids,
        trigger=trigger,
    )
    if run.status == PullStatus.SKIPPED and not settings.CELERY_TASK_ALWAYS_EAGER:
        raise self.retry(countdown=SKIPPED_RETRY_SECONDS)
    if run.hours_stored and not settings.CELERY_TASK_ALWAYS_EAGER:
        # The pages read budgets summed before these rows came: sum this source's now,
        # not on a person's next page (the nightly pulls each source in a task of its own).
        task_enqueue(read_budgets_ahead, source_id=source_id)
    return run.pk


@shared_task(name="slos.tasks.read_budgets_ahead")
def read_budgets_ahead(at_iso: str | None = None, source_id: int | None = None) -> int:
    """Sum every active SLO's budget (or one source's) for the hour, so pages read them
    kept."""
    at = datetime.fromisoformat(at_iso) if at_iso else timezone.now()
    return budgets_read_ahead(at=at, source_id=source_id)


@shared_task(name="slos.tasks.deliver_outbox", acks_late=True)
def deliver_outbox(message_ids: list[int] | None = None, at_iso: str | None = None) -> int:
    """Post due Slack messages: the ones named (just queued), or every due one (the
    beat's minutely run). Retries are the outbox's own, with backoff, not Celery's."""
    at = datetime.fromisoformat(at_iso) if at_iso else timezone.now()
    return outbox_deliver(at=at, only_ids=message_ids).sent


@shared_task(name="slos.tasks.ticket_digest")
def ticket_digest(at_iso: str | None = None) -> int:
    """Queue today's ticket digest for teams whose morning has come, then send them."""
    at = datetime.fromisoformat(at_iso) if at_iso else timezone.now()
    queued = ticket_digests_enqueue(at=at)
    if queued:
        # Missed if the broker is gone: the digests are due outbox rows all the same.
        task_enqueue(deliver_outbox, message_ids=queued, at_iso=at.isoformat())
    return len(queued)
