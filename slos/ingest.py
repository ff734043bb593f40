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
from slos.selectors import slo_window
from slos.sli import EventQueries, gauge_slice_is_good, slice_is_good


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
    """Hours of the SLO's window (its rolling length, or the calendar period so far)
    that have no row yet."""
    window = slo_window(slo, at=until)
    wanted = window_hours(window.end, window.end - window.start)
    if not wanted:
        return []
    have = set(
        HourlyBucket.objects.filter(slo=slo, hour__gte=wanted[0], hour__lt=window.end).values_list(
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


def _events(
    client: PrometheusClient,
    queries: EventQueries,
    *,
    window: str,
    start: datetime,
    end: datetime,
    step: timedelta,
) -> dict[datetime, tuple[float, float]]:
    """(good, valid) at each evaluation time where every query answered."""

    def fetch(query: str) -> dict[datetime, float]:
        return client.query_range(
            render_query(query, window),
            start=start,
            end=end,
            step_seconds=int(step.total_seconds()),
        )

    valid = fetch(queries.valid)
    if queries.good is not None:
        good = fetch(queries.good)
    else:
        bad = fetch(queries.bad or "")
        good = {moment: valid[moment] - bad[moment] for moment in bad if moment in valid}
    return {moment: (good[moment], valid[moment]) for moment in valid if moment in good}


def _hour_rows(slo: SLO, run: list[datetime], client: PrometheusClient) -> list[HourlyBucket]:
    """Fetch the hours of one contiguous run and build their rows. An hour is stored only
    when the source answered for it: no answer is no data, never good."""
    queries = slo.event_queries()
    if not slo.uses_timeslices:
        # The increase over [1h] evaluated at H + 1h covers the hour starting at H.
        events = _events(
            client, queries, window="1h", start=run[0] + HOUR, end=run[-1] + HOUR, step=HOUR
        )
        return [
            HourlyBucket(
                slo=slo, hour=hour, good=events[hour + HOUR][0], valid=events[hour + HOUR][1]
            )
            for hour in run
            if hour + HOUR in events
        ]
    slice_length = timedelta(minutes=slo.timeslice_minutes)
    window = f"{slo.timeslice_minutes}m"
    slice_ends = [slice_length * index for index in range(1, HOUR // slice_length + 1)]
    start, end = run[0] + slice_length, run[-1] + HOUR
    rows = []
    if queries is None:
        values = client.query_range(
            render_query(slo.gauge_query, window),
            start=start,
            end=end,
            step_seconds=int(slice_length.total_seconds()),
        )
        for hour in run:
            present = [values[hour + offset] for offset in slice_ends if hour + offset in values]
            good = sum(
                gauge_slice_is_good(value=value, op=slo.threshold_op, threshold=slo.threshold)
                for value in present
            )
            if present:
                rows.append(
                    HourlyBucket(
                        slo=slo,
                        hour=hour,
                        good=good,
                        valid=len(present),
                        good_slices=good,
                        total_slices=len(present),
                    )
                )
        return rows
    events = _events(client, queries, window=window, start=start, end=end, step=slice_length)
    target = slo.timeslice_target_fraction or 0.0
    for hour in run:
        slices = [events[hour + offset] for offset in slice_ends if hour + offset in events]
        slices = [(good, valid) for good, valid in slices if valid > 0]
        if not slices:
            continue
        rows.append(
            HourlyBucket(
                slo=slo,
                hour=hour,
                good=sum(good for good, _ in slices),
                valid=sum(valid for _, valid in slices),
                good_slices=sum(
                    slice_is_good(good=good, valid=valid, timeslice_target=target)
                    for good, valid in slices
                ),
                total_slices=len(slices),
            )
        )
    return rows


def slo_pull(*, slo: SLO, until: datetime, client: PrometheusClient) -> SLOPullOutcome:
    """Fetch and store every missing hour of the SLO's window ending at `until`."""
    hours = missing_hours(slo, until=until)
    per_hour = HOUR // timedelta(minutes=slo.timeslice_minutes) if slo.uses_timeslices else 1
    stored = 0
    try:
        for run in contiguous_runs(hours, MAX_POINTS_PER_QUERY // per_hour):
            rows = _hour_rows(slo, run, client)
            with transaction.atomic():
                HourlyBucket.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["slo", "hour"],
                    update_fields=["good", "valid", "good_slices", "total_slices", "pulled_at"],
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
