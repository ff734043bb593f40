"""Thin Celery interfaces: ids and ISO timestamps in, a service call inside."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from slos.ingestion.pull import data_source_pull
from slos.models import DataSource, DataSourceKind, PullStatus, PullTrigger
from slos.notifications.delivery import outbox_deliver, ticket_digests_enqueue

SKIPPED_RETRY_SECONDS = 60


@shared_task(name="slos.tasks.pull_all_sources")
def pull_all_sources(until_iso: str | None = None) -> int:
    """The nightly fan-out: one task per pulled data source."""
    until_iso = until_iso or timezone.now().isoformat()
    source_ids = list(
        DataSource.objects.filter(kind=DataSourceKind.PROMETHEUS).values_list("pk", flat=True)
    )
    for source_id in source_ids:
        pull_source.delay(source_id, until_iso)
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
    return run.pk


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
        deliver_outbox.delay(message_ids=queued, at_iso=at.isoformat())
    return len(queued)
