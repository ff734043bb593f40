"""What to ask the metric source for each kind of SLI, and how a timeslice is judged.
Pure: plain values in and out."""

from __future__ import annotations

import operator
from dataclasses import dataclass

# Where an event-count query takes its range: `increase(x[$window])`.
WINDOW_PLACEHOLDER = "$window"

COMPARE = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


@dataclass(frozen=True)
class EventQueries:
    """Event-count queries, each with $window. Exactly one of good and bad is set."""

    valid: str
    good: str | None = None
    bad: str | None = None


def format_le(threshold: float) -> str:
    """A histogram bucket bound as Prometheus client libraries write it (0.5, 1, 2.5)."""
    return f"{threshold:g}" if threshold != int(threshold) else str(int(threshold))


def histogram_queries(metric: str, labels: str, threshold: float) -> EventQueries:
    """A histogram's bucket le=threshold as good events and its _count as valid."""
    matchers = labels.strip().strip("{}").strip().rstrip(",")
    bucket_matchers = (
        f'{matchers},le="{format_le(threshold)}"' if matchers else (f'le="{format_le(threshold)}"')
    )
    count_selector = f"{metric}_count{{{matchers}}}" if matchers else f"{metric}_count"
    return EventQueries(
        good=f"sum(increase({metric}_bucket{{{bucket_matchers}}}[{WINDOW_PLACEHOLDER}]))",
        valid=f"sum(increase({count_selector}[{WINDOW_PLACEHOLDER}]))",
    )


def slice_is_good(*, good: float, valid: float, timeslice_target: float) -> bool:
    """A timeslice of events is good when its own SLI reaches the timeslice target."""
    return valid > 0 and good / valid >= timeslice_target


def gauge_slice_is_good(*, value: float, op: str, threshold: float) -> bool:
    return COMPARE[op](value, threshold)


def render_query(query: str, window: str) -> str:
    """The query with its range filled in (`1h`, or a timeslice's length)."""
    return query.replace(WINDOW_PLACEHOLDER, window)
