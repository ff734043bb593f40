"""Filling hourly buckets from a metric source. Every hour is evaluated at an explicit,
aligned time; rows are upserted on (slo, hour), so a rerun overwrites and never
duplicates. A source that fails leaves the stored data exactly as it was."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from slos.budget import HOUR, align_to_hour, window_hours
from slos.models import SLO, DataSource, HourlyBucket, PullRun, PullStatus, PullTrigger
from slos.prometheus import MAX_POINTS_PER_QUERY, PrometheusClient, PrometheusError, render_query
from slos.selectors import slo_window
from slos.sli import EventQueries, gauge_slice_is_good, slice_is_good

PULL_LEASE = timedelta(minutes=30)
PULL_CONCURRENCY = 4
# Rows gathered from several SLOs before one write (memory stays small: ~100 B a row).
WRITE_BATCH_ROWS = 20_000


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


def hours_to_pull(slos: list[SLO], *, until: datetime) -> dict[int, list[datetime]]:
    """For each SLO, the hours of its window (its rolling length, or the calendar period
    so far) that have no row yet or whose row is stale. One aggregate query per distinct
    window finds the SLOs whose rows are fresh and contiguous (only their edges can be
    missing); only SLOs with holes list their hours."""
    windows = {slo.pk: slo_window(slo, at=until) for slo in slos}
    groups: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for slo_id, window in windows.items():
        groups[(window.start, window.end)].append(slo_id)
    summary = {}
    for (start, end), ids in groups.items():
        summary.update(
            (row["slo_id"], row)
            for row in HourlyBucket.objects.filter(slo_id__in=ids, hour__gte=start, hour__lt=end)
            .values("slo_id")
            .annotate(
                first=Min("hour"),
                last=Max("hour"),
                fresh=Count("id", filter=Q(stale=False)),
                total=Count("id"),
            )
        )
    result: dict[int, list[datetime]] = {}
    for slo_id, window in windows.items():
        row = summary.get(slo_id)
        if row is None:
            result[slo_id] = window_hours(window.end, window.end - window.start)
        elif row["fresh"] == row["total"] == int((row["last"] - row["first"]) / HOUR) + 1:
            # Only the edges are missing: count them without walking the whole window.
            result[slo_id] = _hours_between(window.start, row["first"]) + _hours_between(
                row["last"] + HOUR, window.end
            )
        else:
            have = set(
                HourlyBucket.objects.filter(
                    slo_id=slo_id, hour__gte=window.start, hour__lt=window.end, stale=False
                ).values_list("hour", flat=True)
            )
            wanted = window_hours(window.end, window.end - window.start)
            result[slo_id] = [hour for hour in wanted if hour not in have]
    return result


def _hours_between(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * index for index in range(max(0, int((end - start) / HOUR)))]


def missing_hours(slo: SLO, *, until: datetime) -> list[datetime]:
    return hours_to_pull([slo], until=until)[slo.pk]


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
    return PrometheusClient(
        base_url=source.url,
        timeout=source.timeout_seconds,
        headers=source.request_headers(),
        auth=source.request_auth(),
        verify=source.verify_tls,
    )


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


def _hour_rows(slo: SLO, run: list[datetime], client: PrometheusClient) -> list[Row]:
    """Fetch the hours of one contiguous run and build their rows. An hour is stored only
    when the source answered for it: no answer is no data, never good."""
    queries = slo.event_queries()
    if not slo.uses_timeslices:
        # The increase over [1h] evaluated at H + 1h covers the hour starting at H.
        events = _events(
            client, queries, window="1h", start=run[0] + HOUR, end=run[-1] + HOUR, step=HOUR
        )
        return [
            Row(slo.pk, hour, events[hour + HOUR][0], events[hour + HOUR][1])
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
                    Row(
                        slo_id=slo.pk,
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
            Row(
                slo_id=slo.pk,
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


def fetch_rows(
    slo: SLO, hours: list[datetime], client: PrometheusClient
) -> tuple[list[list[Row]], str]:
    """Fetch the given hours in chunks within Prometheus's point limit. Network only (no
    database), so it can run in a worker thread. Returns the chunks fetched before any
    error, and the error's message ('' when all went well)."""
    per_hour = HOUR // timedelta(minutes=slo.timeslice_minutes) if slo.uses_timeslices else 1
    chunks: list[list[Row]] = []
    try:
        for run in contiguous_runs(hours, MAX_POINTS_PER_QUERY // per_hour):
            chunks.append(_hour_rows(slo, run, client))
    except PrometheusError as exc:
        return chunks, str(exc)
    return chunks, ""


_LOAD_TABLE = "bucket_load"


class Row(NamedTuple):
    """One hour of one SLO on its way to the bucket table (lighter than a model
    instance: a backfill builds hundreds of thousands)."""

    slo_id: int
    hour: datetime
    good: float
    valid: float
    good_slices: int = 0
    total_slices: int = 0


def _copy_text(rows: list) -> str:
    return "".join(
        f"{row.slo_id}\t{row.hour.isoformat()}\t{float(row.good)!r}\t{float(row.valid)!r}\t"
        f"{int(row.good_slices)}\t{int(row.total_slices)}\n"
        for row in rows
    )


def store_rows(rows: list) -> None:
    """Upsert on (slo, hour): a rerun overwrites, never duplicates; stale rows refresh.
    On PostgreSQL the rows are COPYed into a temporary table and merged with one
    INSERT … ON CONFLICT (a backfill writes hundreds of thousands of rows)."""
    if not rows:
        return
    with transaction.atomic():
        if connection.vendor != "postgresql":
            HourlyBucket.objects.bulk_create(
                [
                    HourlyBucket(
                        slo_id=row.slo_id,
                        hour=row.hour,
                        good=row.good,
                        valid=row.valid,
                        good_slices=row.good_slices,
                        total_slices=row.total_slices,
                    )
                    for row in rows
                ],
                update_conflicts=True,
                unique_fields=["slo", "hour"],
                update_fields=[
                    "good",
                    "valid",
                    "good_slices",
                    "total_slices",
                    "stale",
                    "pulled_at",
                ],
                batch_size=1000,
            )
            return
        table = HourlyBucket._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {_LOAD_TABLE} (slo_id bigint, "
                "hour timestamptz, good double precision, valid double precision, "
                "good_slices integer, total_slices integer) ON COMMIT DELETE ROWS"
            )
            cursor.execute(f"TRUNCATE {_LOAD_TABLE}")
            with cursor.copy(f"COPY {_LOAD_TABLE} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        (
                            row.slo_id,
                            row.hour,
                            row.good,
                            row.valid,
                            row.good_slices,
                            row.total_slices,
                        )
                    )
            cursor.execute(
                f"INSERT INTO {table} (slo_id, hour, good, valid, good_slices, total_slices, "
                "stale, pulled_at) SELECT slo_id, hour, good, valid, good_slices, total_slices, "
                f"false, now() FROM {_LOAD_TABLE} ON CONFLICT (slo_id, hour) DO UPDATE SET "
                "good = EXCLUDED.good, valid = EXCLUDED.valid, "
                "good_slices = EXCLUDED.good_slices, total_slices = EXCLUDED.total_slices, "
                "stale = false, pulled_at = EXCLUDED.pulled_at"
            )


def slo_pull(*, slo: SLO, until: datetime, client: PrometheusClient) -> SLOPullOutcome:
    """Fetch and store every missing or stale hour of the SLO's window ending at `until`."""
    hours = missing_hours(slo, until=until)
    chunks, error = fetch_rows(slo, hours, client)
    return _store_outcome(slo, hours, chunks, error, at=timezone.now())


def _store_outcome(
    slo: SLO, hours: list[datetime], chunks: list[list[Row]], error: str, *, at: datetime
) -> SLOPullOutcome:
    outcome = _outcome(slo, hours, chunks, error)
    _write_batch([row for chunk in chunks for row in chunk], [outcome], at=at)
    return outcome


def _outcome(
    slo: SLO, hours: list[datetime], chunks: list[list[Row]], error: str
) -> SLOPullOutcome:
    stored = sum(len(chunk) for chunk in chunks)
    if error:
        status = PullStatus.PARTIAL if stored else PullStatus.FAILED
    else:
        status = PullStatus.OK
    return SLOPullOutcome(slo.pk, slo.name, status, len(hours), stored, error)


def _write_batch(rows: list[Row], outcomes: list[SLOPullOutcome], *, at: datetime) -> None:
    """Store the rows of several SLOs and their outcomes in one transaction: one upsert,
    and one status update per distinct outcome (a nightly of 1,000 healthy SLOs is one)."""
    by_result: dict[tuple[str, str], list[int]] = defaultdict(list)
    for outcome in outcomes:
        by_result[(outcome.status, outcome.message)].append(outcome.slo_id)
    with transaction.atomic():
        store_rows(rows)
        for (status, message), ids in by_result.items():
            changes = {"last_pull_at": at, "last_pull_status": status, "last_pull_error": message}
            if status == PullStatus.OK:
                changes["last_success_at"] = at
            SLO.objects.filter(pk__in=ids).update(**changes)


def lock_acquire(source: DataSource, *, now: datetime) -> bool:
    """Take the source's pull lease with a compare-and-set update: True if we got it."""
    free = Q(pull_lock_until__isnull=True) | Q(pull_lock_until__lt=now)
    return bool(
        DataSource.objects.filter(free, pk=source.pk).update(pull_lock_until=now + PULL_LEASE)
    )


def lock_release(source: DataSource) -> None:
    DataSource.objects.filter(pk=source.pk).update(pull_lock_until=None)


def _run_status(outcomes: list[SLOPullOutcome]) -> str:
    statuses = {outcome.status for outcome in outcomes}
    if not outcomes or statuses == {PullStatus.OK}:
        return PullStatus.OK
    if statuses == {PullStatus.FAILED}:
        return PullStatus.FAILED
    return PullStatus.PARTIAL


def data_source_pull(
    *,
    data_source: DataSource,
    until: datetime,
    slo_ids: list[int] | None = None,
    user=None,
    trigger: str = PullTrigger.NIGHTLY,
    concurrency: int = PULL_CONCURRENCY,
) -> PullRun:
    """Pull every SLO of a source (or the given ones) and record the run. Fetches run in
    up to `concurrency` threads; rows are written here, chunk by chunk, as they arrive.
    A second pull of the same source while one runs is recorded as skipped."""
    until = last_complete_hour_end(until)
    now = timezone.now()
    slos = SLO.objects.filter(data_source=data_source).select_related("service__team")
    if slo_ids is not None:
        slos = slos.filter(pk__in=slo_ids)
    else:
        slos = slos.active()
    slos = list(slos.order_by("pk"))
    run = PullRun.objects.create(
        data_source=data_source,
        slo=slos[0] if slo_ids is not None and len(slos) == 1 else None,
        trigger=trigger,
        started_at=now,
        until=until,
        triggered_by=user,
    )
    if not data_source.is_pulled:
        return _finish(run, [], PullStatus.OK, _("This source is not pulled: data is pushed."))
    if not lock_acquire(data_source, now=now):
        return _finish(run, [], PullStatus.SKIPPED, _("Another pull of this source is running."))
    # Runs whose worker died hold no lease any more: say what became of them.
    PullRun.objects.filter(
        data_source=data_source, status=PullStatus.RUNNING, started_at__lt=now
    ).exclude(pk=run.pk).update(
        status=PullStatus.FAILED, finished_at=now, message=_("Interrupted before it finished.")
    )
    try:
        pending = hours_to_pull(slos, until=until)
        PullRun.objects.filter(pk=run.pk).update(
            hours_missing=sum(len(hours) for hours in pending.values())
        )
        outcomes = _pull_concurrently(data_source, slos, pending, run, concurrency)
    finally:
        lock_release(data_source)
    status = _run_status(outcomes)
    source_changes = {"last_error": "; ".join(o.message for o in outcomes if o.message)[:2000]}
    if status == PullStatus.OK:
        source_changes["last_success_at"] = timezone.now()
    DataSource.objects.filter(pk=data_source.pk).update(**source_changes)
    return _finish(run, outcomes, status, "")


def _pull_concurrently(
    source: DataSource,
    slos: list[SLO],
    pending: dict[int, list[datetime]],
    run: PullRun,
    concurrency: int,
) -> list[SLOPullOutcome]:
    client = client_for(source)
    outcomes: list[SLOPullOutcome] = []
    done_hours = 0
    last_progress = time.monotonic()
    todo = [slo for slo in slos if pending[slo.pk]]
    outcomes.extend(
        SLOPullOutcome(slo.pk, slo.name, PullStatus.OK, 0, 0) for slo in slos if not pending[slo.pk]
    )
    rows: list[Row] = []
    batch: list[SLOPullOutcome] = []

    def flush() -> None:
        _write_batch(rows, batch, at=timezone.now())
        outcomes.extend(batch)
        rows.clear()
        batch.clear()

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        # A sliding window of futures keeps memory bounded on a large backfill.
        queue = iter(todo)
        in_flight = {}
        for slo in islice(queue, concurrency * 2):
            in_flight[pool.submit(fetch_rows, slo, pending[slo.pk], client)] = slo
        while in_flight:
            finished, _still_running = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                slo = in_flight.pop(future)
                chunks, error = future.result()
                batch.append(_outcome(slo, pending[slo.pk], chunks, error))
                rows.extend(row for chunk in chunks for row in chunk)
                if len(rows) >= WRITE_BATCH_ROWS:
                    flush()
                done_hours += len(pending[slo.pk])
                following = next(queue, None)
                if following is not None:
                    in_flight[pool.submit(fetch_rows, following, pending[following.pk], client)] = (
                        following
                    )
            if time.monotonic() - last_progress > 1:
                last_progress = time.monotonic()
                flush()
                PullRun.objects.filter(pk=run.pk).update(hours_done=done_hours)
                DataSource.objects.filter(pk=source.pk).update(
                    pull_lock_until=timezone.now() + PULL_LEASE
                )
    flush()
    client.close()
    order = {slo.pk: index for index, slo in enumerate(slos)}
    return sorted(outcomes, key=lambda outcome: order[outcome.slo_id])


def _finish(run: PullRun, outcomes: list[SLOPullOutcome], status: str, message: str) -> PullRun:
    run.status = status
    run.message = message
    run.hours_stored = sum(outcome.hours_stored for outcome in outcomes)
    run.hours_done = run.hours_missing = sum(outcome.hours_missing for outcome in outcomes)
    run.outcomes = [asdict(outcome) for outcome in outcomes]
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "message",
            "hours_stored",
            "hours_done",
            "hours_missing",
            "outcomes",
            "finished_at",
        ]
    )
    return run
