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
from functools import cache
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from slos import prometheus
from slos.budget import HOUR, align_to_hour
from slos.models import SLO, DataSource, HourlyBucket, PullRun, PullStatus, PullTrigger
from slos.prometheus import MAX_POINTS_PER_QUERY, PrometheusClient, PrometheusError, render_query
from slos.selectors import slo_window
from slos.sli import gauge_slice_is_good, slice_is_good

PULL_LEASE = timedelta(minutes=30)
PULL_CONCURRENCY = 4
# Rows gathered from several SLOs before one write (memory stays small: ~100 B a row).
# Small enough that the write after the last answer is short.
WRITE_BATCH_ROWS = 5_000
# Points asked for and not yet written: requests keep going out while rows are written,
# and memory stays bounded on a backfill (~1 million points).
MAX_POINTS_IN_FLIGHT = 250_000


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
    return pending_hours(slos, until=until)[0]


def pending_hours(
    slos: list[SLO], *, until: datetime
) -> tuple[dict[int, list[datetime]], dict[int, set[datetime]]]:
    """For each SLO, the hours of its window (its rolling length, or the calendar period
    so far) that have no row yet or whose row is stale; and, apart, the stale ones (the
    only pending hours that already have a row). One aggregate query per distinct
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
    hours_between = cache(_hours_between)
    result: dict[int, list[datetime]] = {}
    stale: dict[int, set[datetime]] = {}
    for slo_id, window in windows.items():
        row = summary.get(slo_id)
        if row is None:
            result[slo_id] = list(hours_between(window.start, window.end))
        elif row["fresh"] == row["total"] == int((row["last"] - row["first"]) / HOUR) + 1:
            # Only the edges are missing: count them without walking the whole window.
            result[slo_id] = hours_between(window.start, row["first"]) + hours_between(
                row["last"] + HOUR, window.end
            )
        else:
            have = dict(
                HourlyBucket.objects.filter(
                    slo_id=slo_id, hour__gte=window.start, hour__lt=window.end
                ).values_list("hour", "stale")
            )
            result[slo_id] = [
                hour
                for hour in hours_between(window.start, window.end)
                if have.get(hour, True)  # no row, or a stale one
            ]
            stale[slo_id] = {hour for hour, is_stale in have.items() if is_stale}
    return result, stale


def _hours_between(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * index for index in range(max(0, int((end - start) / HOUR)))]


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


@dataclass(frozen=True)
class QueryChunk:
    """The queries of one SLO over one contiguous run of its hours: what one range
    request over (start, end, step) must answer for it."""

    slo: SLO | None
    run: tuple[datetime, ...]
    start: datetime
    end: datetime
    step_seconds: int
    queries: tuple[str, ...]

    @property
    def points(self) -> int:
        steps = int((self.end - self.start).total_seconds()) // self.step_seconds + 1
        return steps * len(self.queries)


def query_chunk(slo: SLO, run: list[datetime]) -> QueryChunk:
    """What to ask Prometheus for the hours of one run: for ratios, the increase over
    [1h] evaluated at H + 1h covers the hour starting at H; for timeslices, the increase
    (or the gauge) over each slice, evaluated at the slice's end."""
    queries = slo.event_queries()
    if slo.uses_timeslices:
        step = timedelta(minutes=slo.timeslice_minutes)
        window = f"{slo.timeslice_minutes}m"
        start, end = run[0] + step, run[-1] + HOUR
    else:
        step, window = HOUR, "1h"
        start, end = run[0] + HOUR, run[-1] + HOUR
    if queries is None:
        texts = [slo.gauge_query]
    else:
        texts = [queries.valid, queries.good if queries.good is not None else queries.bad or ""]
    return QueryChunk(
        slo=slo,
        run=tuple(run),
        start=start,
        end=end,
        step_seconds=int(step.total_seconds()),
        queries=tuple(render_query(text, window) for text in texts),
    )


def request_batches(
    chunks: list[QueryChunk],
    *,
    max_queries: int | None = None,
    max_points: int | None = None,
) -> list[list[QueryChunk]]:
    """Chunks sharing start, end and step, gathered into requests of at most
    `max_queries` queries and `max_points` points; the order of first appearance is
    kept. A chunk never straddles two requests."""
    max_queries = max_queries or prometheus.MAX_QUERIES_PER_REQUEST
    max_points = max_points or prometheus.MAX_POINTS_PER_REQUEST
    open_batches: dict[tuple, list[QueryChunk]] = {}
    batches: list[list[QueryChunk]] = []
    for chunk in chunks:
        key = (chunk.start, chunk.end, chunk.step_seconds)
        batch = open_batches.get(key)
        if batch is not None and (
            sum(len(item.queries) for item in batch) + len(chunk.queries) > max_queries
            or sum(item.points for item in batch) + chunk.points > max_points
        ):
            batch = None
        if batch is None:
            batch = open_batches[key] = []
            batches.append(batch)
        batch.append(chunk)
    return batches


def _chunk_rows(chunk: QueryChunk, answers: list[dict[float, float]]) -> list[Row]:
    """Rows for the hours of one chunk. An hour is stored only when the source answered
    for it: no answer is no data, never good."""
    slo = chunk.slo
    slo_id = slo.pk
    queries = slo.event_queries()
    if queries is None or queries.good is not None:
        valid, good = answers[0], answers[-1]
    else:
        valid, bad = answers
        good = {moment: valid[moment] - bad[moment] for moment in bad if moment in valid}
    if not slo.uses_timeslices:
        rows = []
        for hour in chunk.run:
            moment = hour.timestamp() + 3600
            if moment in valid and moment in good:
                rows.append(Row(slo_id, hour, good[moment], valid[moment]))
        return rows
    slice_seconds = chunk.step_seconds
    offsets = range(slice_seconds, 3600 + 1, slice_seconds)
    rows = []
    if queries is None:
        values = answers[0]
        for hour in chunk.run:
            base = hour.timestamp()
            present = [values[base + offset] for offset in offsets if base + offset in values]
            good_slices = sum(
                gauge_slice_is_good(value=value, op=slo.threshold_op, threshold=slo.threshold)
                for value in present
            )
            if present:
                rows.append(
                    Row(
                        slo_id=slo_id,
                        hour=hour,
                        good=good_slices,
                        valid=len(present),
                        good_slices=good_slices,
                        total_slices=len(present),
                    )
                )
        return rows
    target = slo.timeslice_target_fraction or 0.0
    for hour in chunk.run:
        base = hour.timestamp()
        slices = [
            (good[base + offset], valid[base + offset])
            for offset in offsets
            if base + offset in valid and base + offset in good
        ]
        slices = [
            (good_events, valid_events) for good_events, valid_events in slices if valid_events > 0
        ]
        if not slices:
            continue
        rows.append(
            Row(
                slo_id=slo_id,
                hour=hour,
                good=sum(good_events for good_events, _ in slices),
                valid=sum(valid_events for _, valid_events in slices),
                good_slices=sum(
                    slice_is_good(good=good_events, valid=valid_events, timeslice_target=target)
                    for good_events, valid_events in slices
                ),
                total_slices=len(slices),
            )
        )
    return rows


def fetch_batch(batch: list[QueryChunk], client: PrometheusClient) -> list[tuple[list[Row], str]]:
    """Fetch the chunks of one request and build their rows. Network only (no
    database), so it runs in a worker thread. For each chunk: its rows and its error
    ('' when all went well); an error leaves that chunk without rows."""
    first = batch[0]
    queries = [query for chunk in batch for query in chunk.queries]
    try:
        answers = client.query_range_many(
            queries, start=first.start, end=first.end, step_seconds=first.step_seconds
        )
    except PrometheusError as exc:
        return [([], str(exc)) for _ in batch]
    results = []
    position = 0
    for chunk in batch:
        mine = answers[position : position + len(chunk.queries)]
        position += len(chunk.queries)
        error = next((answer for answer in mine if isinstance(answer, PrometheusError)), None)
        if error is not None:
            results.append(([], str(error)))
        else:
            results.append((_chunk_rows(chunk, mine), ""))
    return results


def slo_chunks(slo: SLO, hours: list[datetime]) -> list[QueryChunk]:
    """The hours to fetch, in runs within Prometheus's point limit."""
    per_hour = HOUR // timedelta(minutes=slo.timeslice_minutes) if slo.uses_timeslices else 1
    return [
        query_chunk(slo, run) for run in contiguous_runs(hours, MAX_POINTS_PER_QUERY // per_hour)
    ]


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


_COLUMNS = "slo_id, hour, good, valid, good_slices, total_slices"


def _copy_text(rows: list, *, suffix: str = "") -> str:
    """Rows in COPY's text format (`suffix`: more columns, tab-led, the same on each
    row). An hour's text is made once: many SLOs share it."""
    hour_text = cache(datetime.isoformat)
    return "".join(
        [
            f"{row.slo_id}\t{hour_text(row.hour)}\t{float(row.good)!r}\t{float(row.valid)!r}\t"
            f"{int(row.good_slices)}\t{int(row.total_slices)}{suffix}\n"
            for row in rows
        ]
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
            with cursor.copy(f"COPY {_LOAD_TABLE} ({_COLUMNS}) FROM STDIN") as copy:
                copy.write(_copy_text(rows))
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}, stale, pulled_at) SELECT {_COLUMNS}, "
                f"false, now() FROM {_LOAD_TABLE} ON CONFLICT (slo_id, hour) DO UPDATE SET "
                "good = EXCLUDED.good, valid = EXCLUDED.valid, "
                "good_slices = EXCLUDED.good_slices, total_slices = EXCLUDED.total_slices, "
                "stale = false, pulled_at = EXCLUDED.pulled_at"
            )


def store_new_rows(rows: list) -> None:
    """Store rows for hours that had no row when the pull looked, under the source's
    lease: COPYed straight into the table, skipping the merge. Should a row have
    appeared meanwhile (pushed, or a pull of one SLO), the COPY fails on the unique
    constraint, is rolled back to its savepoint, and the rows are merged instead."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        store_rows(rows)
        return
    import psycopg.errors

    table = HourlyBucket._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # now() as store_rows' merge sets it: the transaction's start.
            cursor.execute("SELECT now()")
            (now,) = cursor.fetchone()
            text = _copy_text(rows, suffix=f"\tf\t{now.isoformat()}")
            with cursor.copy(f"COPY {table} ({_COLUMNS}, stale, pulled_at) FROM STDIN") as copy:
                copy.write(text)
    except psycopg.errors.UniqueViolation:
        store_rows(rows)


def _outcome(
    slo: SLO, hours: list[datetime], chunks: list[list[Row]], error: str
) -> SLOPullOutcome:
    stored = sum(len(chunk) for chunk in chunks)
    if error:
        status = PullStatus.PARTIAL if stored else PullStatus.FAILED
    else:
        status = PullStatus.OK
    return SLOPullOutcome(slo.pk, slo.name, status, len(hours), stored, error)


def _write_batch(
    new_rows: list[Row], merged_rows: list[Row], outcomes: list[SLOPullOutcome], *, at: datetime
) -> None:
    """Store the rows of several SLOs and their outcomes in one transaction: the rows of
    hours that had none, then an upsert of the others (stale hours), and one status
    update per distinct outcome (a nightly of 1,000 healthy SLOs is one)."""
    by_result: dict[tuple[str, str], list[int]] = defaultdict(list)
    for outcome in outcomes:
        by_result[(outcome.status, outcome.message)].append(outcome.slo_id)
    with transaction.atomic():
        store_new_rows(new_rows)
        store_rows(merged_rows)
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
        pending, stale = pending_hours(slos, until=until)
        PullRun.objects.filter(pk=run.pk).update(
            hours_missing=sum(len(hours) for hours in pending.values())
        )
        outcomes = _pull_concurrently(data_source, slos, pending, stale, run, concurrency)
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
    stale: dict[int, set[datetime]],
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
    # Every SLO's runs, gathered into shared requests; an SLO's outcome is recorded
    # once all its chunks are back.
    chunks_left: dict[int, int] = {}
    slo_rows: dict[int, list[list[Row]]] = defaultdict(list)
    slo_errors: dict[int, str] = {}
    chunks = []
    for slo in todo:
        mine = slo_chunks(slo, pending[slo.pk])
        chunks_left[slo.pk] = len(mine)
        chunks.extend(mine)
    # Rows of hours that had no row go straight in; stale hours are merged.
    rows: list[Row] = []
    merged_rows: list[Row] = []
    batch: list[SLOPullOutcome] = []

    def flush() -> None:
        _write_batch(rows, merged_rows, batch, at=timezone.now())
        outcomes.extend(batch)
        rows.clear()
        merged_rows.clear()
        batch.clear()

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        # A sliding window of requests, bounded in points, keeps memory bounded on a large
        # backfill; the threads keep fetching while this thread writes.
        queue = iter(request_batches(chunks))
        in_flight: dict = {}
        points_in_flight = 0

        def submit_more() -> None:
            nonlocal points_in_flight
            while len(in_flight) < concurrency * 2 or points_in_flight < MAX_POINTS_IN_FLIGHT:
                request = next(queue, None)
                if request is None:
                    return
                in_flight[pool.submit(fetch_batch, request, client)] = request
                points_in_flight += sum(chunk.points for chunk in request)

        submit_more()
        while in_flight:
            finished, _still_running = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                request = in_flight.pop(future)
                points_in_flight -= sum(chunk.points for chunk in request)
                for chunk, (chunk_rows, error) in zip(request, future.result(), strict=True):
                    slo = chunk.slo
                    if error:
                        slo_errors.setdefault(slo.pk, error)
                    else:
                        slo_rows[slo.pk].append(chunk_rows)
                    chunks_left[slo.pk] -= 1
                    if chunks_left[slo.pk]:
                        continue
                    fetched = slo_rows.pop(slo.pk, [])
                    batch.append(
                        _outcome(slo, pending[slo.pk], fetched, slo_errors.get(slo.pk, ""))
                    )
                    stale_hours = stale.get(slo.pk, ())
                    for chunk_rows in fetched:
                        for row in chunk_rows:
                            (merged_rows if row.hour in stale_hours else rows).append(row)
                    done_hours += len(pending[slo.pk])
            submit_more()
            if len(rows) + len(merged_rows) >= WRITE_BATCH_ROWS:
                flush()
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
