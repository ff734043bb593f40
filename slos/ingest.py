"""Filling hourly buckets from a metric source. Every hour is evaluated at an explicit,
aligned time; rows are upserted on (slo, hour), so a rerun overwrites and never
duplicates. A source that fails leaves the stored data exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from slos.budget import HOUR, align_to_hour, window_hours
from slos.models import SLO, DataSource, HourlyBucket, PullRun, PullStatus
from slos.prometheus import MAX_POINTS_PER_QUERY, PrometheusClient, PrometheusError, render_query


@dataclass(frozen=True)
class SLOPullOutcome:
    slo_id: int
    slo_name: str
    status: str
    hours_missing: int
    hours_stored: int
    message: str = ""


def last_complete_hour_end(moment: datetime) -> datetime:
    return align_to_hour(moment)


def missing_hours(slo: SLO, *, until: datetime) -> list[datetime]:
    wanted = window_hours(until, timedelta(days=slo.window_days))
    have = set(
        HourlyBucket.objects.filter(slo=slo, hour__gte=wanted[0], hour__lt=until).values_list(
            "hour", flat=True
        )
    )
    return [hour for hour in wanted if hour not in have]


def contiguous_runs(hours: list[datetime], max_len: int) -> Iterator[list[datetime]]:
    """Split sorted hour starts into runs of consecutive hours, at most max_len long."""
    run: list[datetime] = []
    for hour in hours:
        if run and (hour - run[-1] != HOUR or len(run) >= max_len):
            yield run
            run = []
        run.append(hour)
    if run:
        yield run


def client_for(source: DataSource) -> PrometheusClient:
    return PrometheusClient(base_url=source.url, timeout=source.timeout_seconds)


def slo_pull(*, slo: SLO, until: datetime, client: PrometheusClient) -> SLOPullOutcome:
    """Fetch and store every missing hour of the SLO's window ending at `until`."""
    hours = missing_hours(slo, until=until)
    stored = 0
    try:
        for run in contiguous_runs(hours, MAX_POINTS_PER_QUERY):
            # The increase over [1h] evaluated at H + 1h covers the hour starting at H.
            start, end = run[0] + HOUR, run[-1] + HOUR
            good = client.query_range(
                render_query(slo.good_query, "1h"), start=start, end=end, step_seconds=3600
            )
            valid = client.query_range(
                render_query(slo.valid_query, "1h"), start=start, end=end, step_seconds=3600
            )
            rows = [
                HourlyBucket(slo=slo, hour=hour, good=good[hour + HOUR], valid=valid[hour + HOUR])
                for hour in run
                if hour + HOUR in good and hour + HOUR in valid
            ]
            with transaction.atomic():
                HourlyBucket.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["slo", "hour"],
                    update_fields=["good", "valid", "pulled_at"],
                )
            stored += len(rows)
    except PrometheusError as exc:
        status = PullStatus.PARTIAL if stored else PullStatus.FAILED
        return SLOPullOutcome(slo.pk, slo.name, status, len(hours), stored, str(exc))
    return SLOPullOutcome(slo.pk, slo.name, PullStatus.OK, len(hours), stored)


def data_source_pull(
    *, data_source: DataSource, until: datetime, slo_ids: list[int] | None = None, user=None
) -> PullRun:
    """Pull every SLO of a source (or the given ones) and record the run."""
    until = last_complete_hour_end(until)
    run = PullRun.objects.create(
        data_source=data_source, started_at=timezone.now(), until=until, triggered_by=user
    )
    slos = SLO.objects.filter(data_source=data_source).order_by("pk")
    if slo_ids is not None:
        slos = slos.filter(pk__in=slo_ids)
    client = client_for(data_source)
    outcomes = [slo_pull(slo=slo, until=until, client=client) for slo in slos]
    statuses = {outcome.status for outcome in outcomes}
    if not outcomes or statuses == {PullStatus.OK}:
        run.status = PullStatus.OK
    elif statuses == {PullStatus.FAILED}:
        run.status = PullStatus.FAILED
    else:
        run.status = PullStatus.PARTIAL
    run.hours_stored = sum(outcome.hours_stored for outcome in outcomes)
    run.outcomes = [asdict(outcome) for outcome in outcomes]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "hours_stored", "outcomes", "finished_at"])
    return run
