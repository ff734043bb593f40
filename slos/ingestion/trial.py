"""Trying an SLO's queries before it is saved: they are evaluated as a pull evaluates
them (planning's chunks and rows, the Prometheus client), over the last day of complete
hours, and summed. Nothing is stored; the SLO need not be saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.utils.translation import gettext as _

from slos.budget import HOUR
from slos.ingestion.planning import (
    Row,
    chunk_rows,
    hours_between,
    last_complete_hour_end,
    slo_chunks,
)
from slos.ingestion.prometheus import PrometheusError
from slos.ingestion.pull import client_for
from slos.models import SLO, RatioOf, SLIKind
from slos.sli import format_le

TRIAL_HOURS = 24
# A person waits for the answer: one attempt, and at most this long, whatever the
# source's own timeout for nightly pulls.
TRIAL_ATTEMPTS = 1
TRIAL_TIMEOUT_SECONDS = 15.0


class TrialOutcome(StrEnum):
    NUMBERS = "numbers"  # the source answered, with data for some hours
    NO_DATA = "no_data"  # the source answered, with no data for any hour
    REFUSED = "refused"  # the source refused one query or more (bad PromQL, many series)
    SOURCE = "source"  # no usable answer: unreachable, too slow, not Prometheus, credentials
    PUSHED = "pushed"  # the source is pushed to or uploaded, not queried


@dataclass(frozen=True)
class TrialQuery:
    """One query as it was sent, with what it counts and Prometheus's complaint, if any."""

    role: str
    text: str
    error: str = ""


@dataclass(frozen=True)
class QueryTrial:
    outcome: TrialOutcome
    start: datetime
    end: datetime
    queries: tuple[TrialQuery, ...] = ()
    source_error: str = ""
    uses_timeslices: bool = False
    hours_with_data: int = 0
    good: float = 0.0
    valid: float = 0.0
    good_slices: int = 0
    total_slices: int = 0
    # Hours whose good events are not between 0 and the valid ones: the queries do not
    # count the same events (a data error, never stored as good).
    inconsistent_hours: int = 0

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)

    @property
    def sli_percent(self) -> float | None:
        """Good events over valid ones, in percent (for timeslices: good slices)."""
        if self.uses_timeslices:
            return self.good_slices / self.total_slices * 100 if self.total_slices else None
        return self.good / self.valid * 100 if self.valid > 0 else None

    @property
    def refused(self) -> list[TrialQuery]:
        return [query for query in self.queries if query.error]


def _roles(slo: SLO) -> list[str]:
    """What each query of a chunk counts, in planning.query_chunk's order."""
    if slo.sli_kind == SLIKind.GAUGE:
        return [_("gauge query")]
    if slo.sli_kind == SLIKind.HISTOGRAM:
        return [
            _("histogram count (valid events)"),
            _("histogram bucket le=%(le)s (good events)")
            % {"le": format_le(float(slo.threshold or 0))},
        ]
    good_or_bad = _("bad events query") if slo.ratio_of == RatioOf.BAD else _("good events query")
    return [_("valid events query"), good_or_bad]


def slo_queries_try(slo: SLO, *, at: datetime) -> QueryTrial:
    """Evaluate the queries of `slo` (saved or not; its data source set) against its
    source over the last TRIAL_HOURS complete hours before `at`."""
    end = last_complete_hour_end(at)
    start = end - timedelta(hours=TRIAL_HOURS)
    source = slo.data_source
    timeslices = slo.uses_timeslices
    if source is None or not source.is_pulled:
        return QueryTrial(TrialOutcome.PUSHED, start, end, uses_timeslices=timeslices)
    chunks = slo_chunks(slo, hours_between(start, end))
    roles = _roles(slo)
    client = client_for(source)
    client.attempts = TRIAL_ATTEMPTS
    client.timeout = min(client.timeout, TRIAL_TIMEOUT_SECONDS)
    sent: list[TrialQuery] = []
    rows: list[Row] = []
    try:
        for chunk in chunks:
            answers = client.query_range_many(
                list(chunk.queries),
                start=chunk.start,
                end=chunk.end,
                step_seconds=chunk.step_seconds,
            )
            errors = [str(a) if isinstance(a, PrometheusError) else "" for a in answers]
            if not sent:
                sent = [
                    TrialQuery(role, text, error)
                    for role, text, error in zip(roles, chunk.queries, errors, strict=True)
                ]
            if any(errors):
                return QueryTrial(
                    TrialOutcome.REFUSED, start, end, tuple(sent), uses_timeslices=timeslices
                )
            rows.extend(chunk_rows(chunk, answers))
    except PrometheusError as exc:
        if not sent:
            sent = [TrialQuery(r, t) for r, t in zip(roles, chunks[0].queries, strict=True)]
        return QueryTrial(
            TrialOutcome.SOURCE,
            start,
            end,
            tuple(sent),
            source_error=str(exc),
            uses_timeslices=timeslices,
        )
    finally:
        client.close()
    return _summed(rows, start=start, end=end, queries=tuple(sent), timeslices=timeslices)


def _summed(
    rows: list[Row],
    *,
    start: datetime,
    end: datetime,
    queries: tuple[TrialQuery, ...],
    timeslices: bool,
) -> QueryTrial:
    if not rows:
        return QueryTrial(TrialOutcome.NO_DATA, start, end, queries, uses_timeslices=timeslices)
    rows = [Row(*row) for row in rows]
    return QueryTrial(
        TrialOutcome.NUMBERS,
        start,
        end,
        queries,
        uses_timeslices=timeslices,
        hours_with_data=len({row.hour for row in rows}),
        good=sum(row.good for row in rows),
        valid=sum(row.valid for row in rows),
        good_slices=sum(row.good_slices for row in rows),
        total_slices=sum(row.total_slices for row in rows),
        inconsistent_hours=sum(1 for row in rows if not 0 <= row.good <= row.valid),
    )
