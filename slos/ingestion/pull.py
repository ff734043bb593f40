"""Filling hourly buckets from a metric source. Every hour is evaluated at an explicit,
aligned time; rows are upserted on (slo, hour), so a rerun overwrites and never
duplicates. A source that fails leaves the stored data exactly as it was."""

from __future__ import annotations

import gc
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from operator import attrgetter

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import (
    BigIntegerField,
    Count,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from slos.budget import HOUR, Window
from slos.ingestion.planning import (
    QueryChunk,
    Row,
    SLOPullOutcome,
    WholeRecord,
    WindowEdges,
    chunk_rows,
    head_hours,
    hours_between,
    last_complete_hour_end,
    request_batches,
    slo_chunks,
    tail_hours,
)
from slos.ingestion.prometheus import PrometheusClient, PrometheusError
from slos.ingestion.storing import write_batch
from slos.models import (
    MEASUREMENT_FIELDS,
    SLO,
    WINDOW_FIELDS,
    DataSource,
    HourlyBucket,
    PullRun,
    PullStatus,
    PullTrigger,
    Service,
)
from slos.registry.selectors import slo_window

PULL_LEASE = timedelta(minutes=30)
PULL_CONCURRENCY = 4
# Rows gathered from several SLOs before one write (memory stays small: ~100 B a row).
# Small enough that the write after the last answer is short.
WRITE_BATCH_ROWS = 5_000
# Points asked for and not yet written: requests keep going out while rows are written,
# and memory stays bounded on a backfill (~1 million points).
MAX_POINTS_IN_FLIGHT = 250_000


# What a pull reads of each SLO: what its rows mean, its window, its name, and its
# service (whose team's time zone calendar windows need; prefetched). Loading only these
# skips the SLO's other timestamps: a thousand SLOs carry thousands, each parsed in
# Python. (tests/slos/ingestion/test_ingest_kinds.py holds the pull's query count flat in the
# number of SLOs, so a field read but missing here cannot go unnoticed.)
PULL_FIELDS = (
    "name",
    "service",
    *sorted(MEASUREMENT_FIELDS | WINDOW_FIELDS),
    "buckets_complete_removals",
    "bucket_removals",
)


def hours_to_pull(slos: list[SLO], *, until: datetime) -> dict[int, list[datetime]]:
    return pending_hours(slos, until=until)[0]


def pending_hours(
    slos: list[SLO], *, until: datetime
) -> tuple[dict[int, list[datetime]], dict[int, set[datetime]]]:
    """For each SLO, the hours of its window (its rolling length, or the calendar period
    so far) that have no row yet or whose row is stale; and, apart, the stale ones (the
    only pending hours that already have a row). A pull asks for the tail first and
    looks at the rest while those requests are out (_pull_concurrently)."""
    marks = (
        SLO.objects.filter(pk__in=[slo.pk for slo in slos])
        .only("buckets_complete_removals", "bucket_removals")
        .annotate(**pull_marks(last_complete_hour_end(until)))
        .in_bulk()
    )
    windows = {slo.pk: slo_window(slo, at=until) for slo in slos}
    lasts = {slo_id: last_hour(slo) for slo_id, slo in marks.items()}
    whole = recorded_whole(marks.values(), windows)
    edges = window_edges(windows, lasts, whole=whole)
    inner, stale = inner_hours(edges, whole=whole)
    return {
        slo_id: head_hours(found) + inner.get(slo_id, []) + tail_hours(found.window, found.last)
        for slo_id, found in edges.items()
    }, stale


class EpochSeconds(Func):
    """A moment as whole seconds since 1970. An integer loads many times faster than an
    aware datetime, which Django parses in Python (a thousand SLOs' three cost a pull
    20 ms)."""

    output_field = BigIntegerField()
    template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)"

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::bigint"
        return self.as_sql(compiler, connection, template=template, **extra_context)

    @property
    def convert_value(self):
        """None: both databases answer an integer already, so Django need not pass every
        row's value through int() (its default for an integer output field)."""
        return self._convert_value_noop


def pull_marks(until: datetime) -> dict:
    """Annotations a pull reads of each SLO besides its fields, as epoch seconds: its
    last stored hour before `until` (a window's end; one index probe), and the hours
    its last whole pull recorded (recorded_whole)."""
    before = HourlyBucket.objects.filter(slo=OuterRef("pk"), hour__lt=until)
    return {
        "last_hour_at": EpochSeconds(Subquery(before.order_by("-hour").values("hour")[:1])),
        "whole_from_at": EpochSeconds("buckets_complete_from"),
        "whole_until_at": EpochSeconds("buckets_complete_until"),
    }


def last_hour(slo: SLO) -> datetime | None:
    """The SLO's last stored hour, as annotated by pull_marks."""
    return None if slo.last_hour_at is None else _moment(slo.last_hour_at)


@lru_cache(maxsize=1024)
def _moment(epoch_seconds: int) -> datetime:
    """One datetime per distinct moment: a source's SLOs mostly share their last hour."""
    return datetime.fromtimestamp(epoch_seconds, UTC)


def removals_counted() -> bool:
    """Whether the database counts each SLO's removed bucket rows (the triggers of
    migration 0012, PostgreSQL only): without that count, no record of whole hours can
    be trusted, so none is kept."""
    return connection.vendor == "postgresql"


def recorded_whole(slos: Iterable[SLO], windows: dict[int, Window]) -> set[int]:
    """The SLOs (annotated by pull_marks) known to have a row for every hour from their
    window's start to their last stored hour without counting them: a pull found those
    hours whole, and no row of the SLO was removed since (SLO.buckets_complete_from;
    removals_counted) nor stored after them (its last hour is still within)."""
    if not removals_counted():
        return set()
    return {
        slo.pk
        for slo in slos
        if slo.whole_from_at is not None
        and slo.whole_until_at is not None
        and slo.buckets_complete_removals == slo.bucket_removals
        and slo.whole_from_at <= windows[slo.pk].start.timestamp()
        and slo.last_hour_at is not None
        and slo.last_hour_at < slo.whole_until_at
    }


def _by_window(windows: dict[int, Window]) -> dict[tuple[datetime, datetime], list[int]]:
    groups: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for slo_id, window in windows.items():
        groups[(window.start, window.end)].append(slo_id)
    return groups


def _in_window(start: datetime, end: datetime):
    return HourlyBucket.objects.filter(slo=OuterRef("pk"), hour__gte=start, hour__lt=end)


def _slos_among(ids: list[int], every: int, scope: QuerySet | None) -> QuerySet:
    """The SLOs of `ids`, out of `every` SLOs that `scope` (if given) selects: `scope`
    itself when `ids` are all of them, a short query rather than one naming a thousand
    ids (which psycopg would parse and quote each time)."""
    if scope is not None and len(ids) == every:
        return scope.select_related(None).order_by()
    return SLO.objects.filter(pk__in=ids)


def window_edges(
    windows: dict[int, Window],
    lasts: dict[int, datetime | None],
    *,
    whole: set[int] = frozenset(),
    scope: QuerySet | None = None,
) -> dict[int, WindowEdges]:
    """Each SLO's window with its first and last stored hour. `lasts`: each SLO's last
    stored hour before its window's end (pull_marks), known already; the first is
    the window's start for the SLOs in `whole` (recorded_whole), and for the others one
    probe of the (slo, hour) index each, one query per distinct window. `scope`: a
    queryset of exactly these SLOs, used in place of their ids when one window holds
    them all."""
    firsts: dict[int, datetime | None] = {slo_id: windows[slo_id].start for slo_id in whole}
    probed = {slo_id: window for slo_id, window in windows.items() if slo_id not in whole}
    for (start, end), ids in _by_window(probed).items():
        rows = _in_window(start, end).order_by("hour").values("hour")[:1]
        firsts.update(
            _slos_among(ids, len(windows), scope)
            .annotate(first=Subquery(rows))
            .values_list("pk", "first")
        )
    edges = {}
    for slo_id, window in windows.items():
        first, last = firsts.get(slo_id), lasts.get(slo_id)
        if first is None or last is None or last < window.start:
            first = last = None
        edges[slo_id] = WindowEdges(window, first, last)
    return edges


# SLOs whose stored hours one query lists (SQLite caps an expression's depth at 1,000).
HOLES_PER_QUERY = 200


def inner_hours(
    edges: dict[int, WindowEdges],
    *,
    whole: set[int] = frozenset(),
    scope: QuerySet | None = None,
) -> tuple[dict[int, list[datetime]], dict[int, set[datetime]]]:
    """Between each SLO's first and last stored hour: the hours with no row (holes) or a
    stale row; and, apart, the stale ones. Holes are looked for in the SLOs not in
    `whole` (recorded_whole): one count per distinct window, read from the (slo, hour)
    index alone, and only for SLOs with holes, their stored hours, all in one more
    query. The stale rows of every SLO come from their own small index."""
    spans = {slo_id: found for slo_id, found in edges.items() if found.first is not None}
    counts: dict[int, int] = {}
    windows = {slo_id: found.window for slo_id, found in spans.items() if slo_id not in whole}
    for (start, end), ids in _by_window(windows).items():
        rows = _in_window(start, end).order_by().values("slo").annotate(rows=Count("*"))
        counts.update(
            _slos_among(ids, len(edges), scope)
            .annotate(total=Subquery(rows.values("rows")))
            .values_list("pk", "total")
        )
    stale: dict[int, set[datetime]] = defaultdict(set)
    among = _slos_among(list(edges), len(edges), scope).values("pk")
    for slo_id, hour in HourlyBucket.objects.filter(stale=True, slo__in=among).values_list(
        "slo_id", "hour"
    ):
        if slo_id in spans and spans[slo_id].first <= hour <= spans[slo_id].last:
            stale[slo_id].add(hour)
    holes = {
        slo_id
        for slo_id, found in spans.items()
        if slo_id in windows and counts.get(slo_id, 0) != int((found.last - found.first) / HOUR) + 1
    }
    stored: dict[int, set[datetime]] = defaultdict(set)
    ordered = sorted(holes)
    for start in range(0, len(ordered), HOLES_PER_QUERY):
        between = Q()
        for slo_id in ordered[start : start + HOLES_PER_QUERY]:
            between |= Q(slo_id=slo_id, hour__gte=spans[slo_id].first, hour__lte=spans[slo_id].last)
        for slo_id, hour in HourlyBucket.objects.filter(between).values_list("slo_id", "hour"):
            stored[slo_id].add(hour)
    result: dict[int, list[datetime]] = {}
    for slo_id in holes | set(stale):
        found, stale_hours = spans[slo_id], stale.get(slo_id, ())
        have = stored[slo_id] if slo_id in holes else None
        result[slo_id] = [
            hour
            for hour in hours_between(found.first, found.last + HOUR)
            if (have is not None and hour not in have) or hour in stale_hours
        ]
    return result, dict(stale)


def client_for(source: DataSource) -> PrometheusClient:
    return PrometheusClient(
        base_url=source.url,
        timeout=source.timeout_seconds,
        headers=source.request_headers(),
        auth=source.request_auth(),
        verify=source.verify_tls,
    )


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
            results.append((chunk_rows(chunk, mine), ""))
    return results


def _outcome(
    slo: SLO, hours: list[datetime], chunks: list[list[Row]], error: str
) -> SLOPullOutcome:
    stored = sum(len(chunk) for chunk in chunks)
    if error:
        status = PullStatus.PARTIAL if stored else PullStatus.FAILED
    else:
        status = PullStatus.OK
    return SLOPullOutcome(slo.pk, slo.name, status, len(hours), stored, error)


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
    with _commits_unawaited():
        run = data_source_pull_begin(
            data_source=data_source, until=until, slo_ids=slo_ids, user=user, trigger=trigger
        )
        if run.status != PullStatus.RUNNING:
            return run
        return _pull(data_source, run, slo_ids, concurrency)


def data_source_pull_begin(
    *,
    data_source: DataSource,
    until: datetime,
    slo_ids: list[int] | None = None,
    user=None,
    trigger: str = PullTrigger.NIGHTLY,
) -> PullRun:
    """Record a pull's run and take the source's lease: the run is "running" (hand it to
    data_source_pull_finish), or already finished when there is nothing to pull or
    another pull holds the lease (skipped)."""
    until = last_complete_hour_end(until)
    now = timezone.now()
    scope = _scope(data_source, slo_ids)
    run = PullRun.objects.create(
        data_source=data_source,
        slo_id=(
            scope.values_list("pk", flat=True).first()
            if slo_ids is not None and len(slo_ids) == 1
            else None
        ),
        trigger=trigger,
        started_at=now,
        until=until,
        triggered_by=user,
    )
    if not data_source.is_pulled:
        return _finish(run, [], PullStatus.OK, _("This source is not pulled: data is pushed."))
    if not lock_acquire(data_source, now=now):
        return _finish(run, [], PullStatus.SKIPPED, _("Another pull of this source is running."))
    return run


def data_source_pull_finish(
    *, run: PullRun, slo_ids: list[int] | None = None, concurrency: int = PULL_CONCURRENCY
) -> PullRun:
    """Do the pull that data_source_pull_begin recorded as running (it holds the lease),
    elsewhere than where it began: in a background thread."""
    with _commits_unawaited():
        return _pull(run.data_source, run, slo_ids, concurrency)


def pull_run_fail(*, run_id: int, message: str) -> None:
    """A running pull that ended on an error the pull did not record (a bug, a lost
    database): record it as failed with its message, and free the source's lease. A run
    that has finished is left as it is."""
    now = timezone.now()
    failed = PullRun.objects.filter(pk=run_id, status=PullStatus.RUNNING).update(
        status=PullStatus.FAILED, finished_at=now, message=message[:2000]
    )
    if failed:
        source_id = PullRun.objects.filter(pk=run_id).values_list("data_source_id", flat=True)
        DataSource.objects.filter(pk__in=source_id).update(
            pull_lock_until=None, last_error=message[:2000]
        )


def _scope(data_source: DataSource, slo_ids: list[int] | None) -> QuerySet:
    scope = SLO.objects.filter(data_source=data_source)
    return scope.filter(pk__in=slo_ids) if slo_ids is not None else scope.active()


@contextmanager
def _commits_unawaited() -> Iterator[None]:
    """A pull's commits return before PostgreSQL has flushed them to disk (asynchronous
    commit; a nightly commits about fifteen times, each waiting for a disk flush
    otherwise). Safe for a pull: a crash of the database server loses at most its last
    fraction of a second of commits, each transaction whole or not at all, and what a
    pull wrote can be fetched again: lost rows are hours missing, which the next pull
    fills; a lost lease release expires; a lost end of a run is marked interrupted by
    the next one."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:
            # A broken connection is closed, its setting with it; a failed transaction
            # that the SET was made in rolls the SET back.
            pass


def _pull(
    data_source: DataSource, run: PullRun, slo_ids: list[int] | None, concurrency: int
) -> PullRun:
    until = run.until
    scope = _scope(data_source, slo_ids)
    try:
        with _cyclic_gc_paused():
            loaded = _load_in_stages(
                scope.only(*PULL_FIELDS).annotate(**pull_marks(until)).order_by("pk")
            )
            outcomes = _pull_concurrently(data_source, loaded, until, scope, run, concurrency)
    except BaseException:
        lock_release(data_source)
        raise
    status = _run_status(outcomes)
    source_changes = {
        "pull_lock_until": None,  # the lease, released in the same update
        "last_error": "; ".join(o.message for o in outcomes if o.message)[:2000],
    }
    if status == PullStatus.OK:
        source_changes["last_success_at"] = timezone.now()
    DataSource.objects.filter(pk=data_source.pk).update(**source_changes)
    return _finish(run, outcomes, status, "")


# SLOs loaded first, so that their requests are out while the rest load (a thousand
# model instances take tens of milliseconds to build); each stage after is twice the
# one before, and loads faster than Prometheus answers the one before.
FIRST_STAGE_SLOS = 64


def _load_in_stages(slos: QuerySet) -> Iterator[list[SLO]]:
    """The SLOs of `slos` (ordered by pk), in stages of growing size, each with its
    service and the service's team, fetched once, in one query (a source's SLOs share
    a few)."""
    services: dict[int, Service] = {}
    service_cache = SLO.service.field
    size, after = FIRST_STAGE_SLOS, None
    while True:
        stage = list((slos if after is None else slos.filter(pk__gt=after))[:size])
        new = {slo.service_id for slo in stage} - services.keys()
        if new:
            services.update(Service.objects.select_related("team").in_bulk(new))
        for slo in stage:
            # As prefetch_related does: the loaded service, without the assignment's checks.
            service_cache.set_cached_value(slo, services[slo.service_id])
        yield stage
        if len(stage) < size:
            return
        size, after = size * 2, stage[-1].pk


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a pull, then put it back as it was.
    A pull's answers and rows hold no reference cycles (reference counting frees them);
    the collector would only walk them, again and again, while hundreds of thousands
    are in flight: 1.3 s of full collections in a 1,000-SLO backfill (bench/ingest.py).
    A Celery worker runs one task at a time, so nothing else is held up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pull_concurrently(
    source: DataSource,
    loaded: Iterable[list[SLO]],
    until: datetime,
    scope: QuerySet,
    run: PullRun,
    concurrency: int,
) -> list[SLOPullOutcome]:
    """Ask at once for each SLO's hours after its last stored one (a nightly's new day;
    pull_marks are annotated on each SLO), as soon as each group of SLOs is `loaded`;
    then look at the rest of each window (its start, holes, stale rows) while those
    requests are out, and ask for what is missing there too. Rows are written here as
    answers arrive; an SLO's outcome is recorded once all its chunks are back."""
    client = client_for(source)
    outcomes: list[SLOPullOutcome] = []
    done_hours = 0
    last_progress = time.monotonic()
    slos: list[SLO] = []
    windows: dict[int, Window] = {}
    lasts: dict[int, datetime | None] = {}
    pending: dict[int, list[datetime]] = {}
    tails = cache(tail_hours)  # SLOs share windows: one list each (never mutated)
    chunks_left: dict[int, int] = defaultdict(int)
    slo_rows: dict[int, list[list[Row]]] = defaultdict(list)
    slo_errors: dict[int, str] = {}
    queue: deque[list[QueryChunk]] = deque()

    def plan(group: list[SLO], hours_by_slo: dict[int, list[datetime]]) -> None:
        """The SLOs' runs of hours, gathered into shared requests."""
        chunks = []
        for slo in group:
            if hours_by_slo.get(slo.pk):
                mine = slo_chunks(slo, hours_by_slo[slo.pk])
                chunks_left[slo.pk] += len(mine)
                chunks.extend(mine)
        queue.extend(request_batches(chunks))

    # Rows of hours that had no row go straight in; stale hours are merged.
    rows: list[Row] = []
    merged_rows: list[Row] = []
    batch: list[SLOPullOutcome] = []
    wholes: dict[int, WholeRecord] = {}
    recording = removals_counted()

    def settle(slo: SLO, outcome: SLOPullOutcome) -> None:
        """An SLO's outcome, to be written with the next batch; an SLO left without a
        hole in its window is recorded as whole up to `until` (where removals_counted)."""
        batch.append(outcome)
        whole = outcome.status == PullStatus.OK and outcome.hours_stored == outcome.hours_missing
        if recording and whole:
            wholes[slo.pk] = WholeRecord(windows[slo.pk].start, until, slo.bucket_removals)

    def flush() -> None:
        write_batch(rows, merged_rows, batch, wholes, at=timezone.now())
        outcomes.extend(batch)
        rows.clear()
        merged_rows.clear()
        batch.clear()
        wholes.clear()

    # The threads' messages (a query's error) are in the language of the one who pulls.
    with ThreadPoolExecutor(
        max_workers=max(1, concurrency),
        initializer=translation.activate,
        initargs=(translation.get_language() or settings.LANGUAGE_CODE,),
    ) as pool:
        # A sliding window of requests, bounded in points, keeps memory bounded on a large
        # backfill; the threads keep fetching while this thread writes.
        in_flight: dict = {}
        points_in_flight = 0

        def submit_more() -> None:
            nonlocal points_in_flight
            while queue and (
                len(in_flight) < concurrency * 2 or points_in_flight < MAX_POINTS_IN_FLIGHT
            ):
                request = queue.popleft()
                points = sum(chunk.points for chunk in request)
                in_flight[pool.submit(fetch_batch, request, client)] = (request, points)
                points_in_flight += points

        for group in loaded:
            slos.extend(group)
            for slo in group:
                slo_id = slo.pk
                window = windows[slo_id] = slo_window(slo, at=until)
                last = lasts[slo_id] = last_hour(slo)
                pending[slo_id] = tails(window, last)
            plan(group, pending)
            submit_more()
        # No answer is handled before this is known: which hours are stale (merged, not
        # COPYed) and every SLO's full list of pending hours.
        whole = recorded_whole(slos, windows)
        edges = window_edges(windows, lasts, whole=whole, scope=scope)
        inner, stale = inner_hours(edges, whole=whole, scope=scope)
        # The tails are asked already; what is left: the head and the inner hours.
        rest: dict[int, list[datetime]] = {}
        for slo_id, found in edges.items():
            more = head_hours(found) + inner.get(slo_id, [])
            if more:
                rest[slo_id] = more
                pending[slo_id] = more + pending[slo_id]
        plan(slos, rest)
        submit_more()
        # While the requests are out: the run's size, and what became of the runs whose
        # worker died (they hold no lease any more).
        PullRun.objects.filter(pk=run.pk).update(
            hours_missing=sum(len(hours) for hours in pending.values())
        )
        PullRun.objects.filter(
            data_source=source, status=PullStatus.RUNNING, started_at__lt=run.started_at
        ).exclude(pk=run.pk).update(
            status=PullStatus.FAILED,
            finished_at=run.started_at,
            message=_("Interrupted before it finished."),
        )
        for slo in slos:
            if not pending[slo.pk]:
                settle(slo, SLOPullOutcome(slo.pk, slo.name, PullStatus.OK, 0, 0))
        while in_flight:
            finished, _still_running = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                request, points = in_flight.pop(future)
                points_in_flight -= points
                for chunk, (chunk_rows, error) in zip(request, future.result(), strict=True):
                    slo = chunk.slo
                    slo_id = slo.pk
                    if error:
                        slo_errors.setdefault(slo_id, error)
                    else:
                        slo_rows[slo_id].append(chunk_rows)
                    chunks_left[slo_id] -= 1
                    if chunks_left[slo_id]:
                        continue
                    fetched = slo_rows.pop(slo_id, [])
                    hours = pending[slo_id]
                    settle(slo, _outcome(slo, hours, fetched, slo_errors.get(slo_id, "")))
                    stale_hours = stale.get(slo_id, ())
                    for chunk_rows in fetched:
                        if not stale_hours:
                            rows.extend(chunk_rows)
                            continue
                        for row in chunk_rows:
                            (merged_rows if row[1] in stale_hours else rows).append(row)
                    done_hours += len(hours)
            submit_more()
            # Near the end (the last two requests per thread), each answer's rows are
            # written at once: the write after the last answer, which no request
            # overlaps, holds only that answer's rows.
            near_end = not queue and len(in_flight) <= 2 * concurrency
            if near_end or len(rows) + len(merged_rows) >= WRITE_BATCH_ROWS:
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
    return sorted(outcomes, key=attrgetter("slo_id"))  # the SLOs' order: they load by pk


def _finish(run: PullRun, outcomes: list[SLOPullOutcome], status: str, message: str) -> PullRun:
    run.status = status
    run.message = message
    run.hours_stored = sum(outcome.hours_stored for outcome in outcomes)
    run.hours_done = run.hours_missing = sum(outcome.hours_missing for outcome in outcomes)
    counts = Counter(outcome.status for outcome in outcomes)
    run.count_ok = counts[PullStatus.OK]
    run.count_partial = counts[PullStatus.PARTIAL]
    run.count_failed = counts[PullStatus.FAILED]
    # One entry per SLO made a 1,000-SLO run's last write a 114 kB JSON document (7 to
    # 11 ms after the last answer, bench/ingest.py): SLOs that ended well are counted.
    run.outcomes = [outcome._asdict() for outcome in outcomes if _worth_a_look(outcome)]
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "message",
            "hours_stored",
            "hours_done",
            "hours_missing",
            "count_ok",
            "count_partial",
            "count_failed",
            "outcomes",
            "finished_at",
        ]
    )
    return run


def _worth_a_look(outcome: SLOPullOutcome) -> bool:
    """Not ok, or ok with some missing hours not stored (the source had no data)."""
    return outcome.status != PullStatus.OK or outcome.hours_stored != outcome.hours_missing
