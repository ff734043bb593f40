"""Thin Celery interfaces: ids and ISO timestamps in, a service call inside."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from slos.ingest import data_source_pull
from slos.models import DataSource


@shared_task(name="slos.tasks.pull_all_sources")
def pull_all_sources(until_iso: str | None = None) -> int:
    """The nightly fan-out: one task per data source."""
    until_iso = until_iso or timezone.now().isoformat()
    source_ids = list(DataSource.objects.values_list("pk", flat=True))
    for source_id in source_ids:
        pull_source.delay(source_id, until_iso)
    return len(source_ids)


@shared_task(name="slos.tasks.pull_source")
def pull_source(source_id: int, until_iso: str, slo_ids: list[int] | None = None) -> int:
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return 0
    run = data_source_pull(
        data_source=source, until=datetime.fromisoformat(until_iso), slo_ids=slo_ids
    )
    return run.pk
