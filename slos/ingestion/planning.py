"""What a pull asks for, worked out from plain values: which hours, in which runs, in
which requests, and the rows an answer makes. Pure: no ORM, no clock, no network."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from slos.budget import HOUR, Window, align_to_hour
from slos.ingestion import prometheus
from slos.ingestion.prometheus import MAX_POINTS_PER_QUERY
from slos.sli import gauge_slice_is_good, render_query, slice_is_good

if TYPE_CHECKING:  # SLOs are read, never queried, here
    from slos.models import SLO


class SLOPullOutcome(NamedTuple):
    """What a pull did for one SLO. (A NamedTuple: a pull makes one per SLO, and a frozen
    dataclass's constructor sets each field through object.__setattr__.)"""

    slo_id: int
    slo_name: str
    status: str
    hours_missing: int
    hours_stored: int
    message: str = ""


def last_complete_hour_end(moment: datetime) -> datetime:
    return align_to_hour(moment)


class WholeRecord(NamedTuple):
    """What a pull records of an SLO whose window it left without a hole: every hour in
    [start, end) has a row, as of `removals` (SLO.bucket_removals, read before the pull
    looked at its rows)."""

    start: datetime
    end: datetime
    removals: int


@dataclass(frozen=True)
class WindowEdges:
    """An SLO's window, and the first and last hour stored in it (None: none stored)."""

    window: Window
    first: datetime | None
    last: datetime | None


def tail_hours(window: Window, last: datetime | None) -> list[datetime]:
    """The window's hours after its last stored hour: all of them when none is stored."""
    start = window.start if last is None else max(window.start, last + HOUR)
    return hours_between(start, window.end)


def head_hours(edges: WindowEdges) -> list[datetime]:
    """The window's hours before its first stored hour (none when nothing is stored:
    tail_hours has them all). Head, then inner_hours, then tail: every pending hour."""
    if edges.first is None:
        return []
    return hours_between(edges.window.start, edges.first)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * index for index in range(max(0, int((end - start) / HOUR)))]


def contiguous_runs(hours: list[datetime], max_len: int) -> Iterator[list[datetime]]:
    """Split sorted hour starts into runs of consecutive hours, at most max_len long."""
    if hours and hours[-1] - hours[0] == HOUR * (len(hours) - 1):
        # Consecutive already (a whole window, a night's new day): slices, no walk.
        for start in range(0, len(hours), max_len):
            yield hours[start : start + max_len]
        return
    run: list[datetime] = []
    for hour in hours:
        if run and (hour - run[-1] != HOUR or len(run) >= max_len):
            yield run
            run = []
        run.append(hour)
    if run:
        yield run


class QueryChunk(NamedTuple):
    """The queries of one SLO over one contiguous run of its hours: what one range
    request over (start, end, step) must answer for it. (A NamedTuple: a pull plans one
    per SLO, and a frozen dataclass's constructor sets each field through
    object.__setattr__.)"""

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
    # Per (start, end, step): the open request, and its queries and points so far.
    open_batches: dict[tuple, tuple[list[QueryChunk], int, int]] = {}
    batches: list[list[QueryChunk]] = []
    for chunk in chunks:
        key = (chunk.start, chunk.end, chunk.step_seconds)
        batch, queries, points = open_batches.get(key, (None, 0, 0))
        if batch is None or (
            queries + len(chunk.queries) > max_queries or points + chunk.points > max_points
        ):
            batch, queries, points = [], 0, 0
            batches.append(batch)
        batch.append(chunk)
        open_batches[key] = (batch, queries + len(chunk.queries), points + chunk.points)
    return batches


def chunk_rows(chunk: QueryChunk, answers: list[dict[float, float]]) -> list[Row]:
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
        # The hot path of a backfill (hundreds of thousands of rows): plain tuples in
        # Row's field order, each hour evaluated at its end.
        first = chunk.run[0].timestamp() + 3600
        last = first + 3600 * (len(chunk.run) - 1)
        if all(
            len(values) == len(chunk.run)
            and next(iter(values)) == first
            and next(reversed(values)) == last
            for values in (good, valid)
        ):
            # Every hour answered: n increasing times from the first hour's to the last's
            # at one step can only be those hours, in order (dicts keep it), so the
            # columns zip together without a lookup per hour.
            return list(
                zip(
                    itertools.repeat(slo_id),
                    chunk.run,
                    good.values(),
                    valid.values(),
                    itertools.repeat(0),
                    itertools.repeat(0),
                    strict=False,
                )
            )
        return [
            (slo_id, hour, good[moment], valid[moment], 0, 0)
            for moment, hour in zip(itertools.count(first, 3600), chunk.run, strict=False)
            if moment in valid and moment in good
        ]
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


def slo_chunks(slo: SLO, hours: list[datetime]) -> list[QueryChunk]:
    """The hours to fetch, in runs within Prometheus's point limit."""
    per_hour = HOUR // timedelta(minutes=slo.timeslice_minutes) if slo.uses_timeslices else 1
    return [
        query_chunk(slo, run) for run in contiguous_runs(hours, MAX_POINTS_PER_QUERY // per_hour)
    ]


class Row(NamedTuple):
    """One hour of one SLO on its way to the bucket table (lighter than a model
    instance: a backfill builds hundreds of thousands). The writers take any tuple in
    this field order; the backfill's hot path builds plain tuples, since a NamedTuple's
    constructor is a Python call per row."""

    slo_id: int
    hour: datetime
    good: float
    valid: float
    good_slices: int = 0
    total_slices: int = 0
