"""Reads for the trends page: a team's retros week by week. Every budget, ticket,
action and kudos is counted from the rows the sessions froze or recorded, so the page
shows what each week's meeting saw. Six queries, whatever the number of sessions,
SLOs, tickets or actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.utils.formats import date_format

from portal.models import Team
from retros.charts import HeatCell, HeatRow
from retros.models import (
    ActionOutcome,
    ActionReview,
    BudgetSnapshot,
    Kudos,
    RetroAction,
    RetroSession,
    TicketDecision,
)

# How many of the latest sessions the page shows.
TREND_SESSIONS = 26


@dataclass(frozen=True)
class TrendWeek:
    """One started session and what it counted."""

    session_id: int
    week_of: date
    label: str  # the x axis: the week's Monday, made unique if two sessions share it
    status: str
    tickets_new: int  # first seen since the previous retro (not carried)
    tickets_decided: int
    actions_opened: int
    actions_closed: int  # reviewed done or dropped
    kudos: int  # shown in the session


@dataclass(frozen=True)
class Trends:
    weeks: tuple[TrendWeek, ...]  # oldest first
    slos: tuple[HeatRow, ...]  # by service and SLO name

    @property
    def labels(self) -> list[str]:
        return [week.label for week in self.weeks]


def _counts(rows, key: str = "session_id") -> dict[int, dict]:
    return {row[key]: row for row in rows}


def retro_trends(team: Team, *, sessions: int = TREND_SESSIONS) -> Trends:
    """The team's latest `sessions` started sessions, oldest first, with the budget
    status of every SLO each one froze."""
    latest = list(
        RetroSession.objects.filter(team=team, started_at__isnull=False)
        .order_by("-week_of", "-started_at", "-pk")
        .values("pk", "week_of", "status")[:sessions]
    )
    latest.reverse()
    ids = [row["pk"] for row in latest]

    tickets = _counts(
        TicketDecision.objects.filter(session_id__in=ids)
        .values("session_id")
        .annotate(
            new=Count("pk", filter=Q(carried=False)),
            decided=Count("pk", filter=~Q(decision="")),
        )
    )
    opened = _counts(
        RetroAction.objects.filter(opened_in_id__in=ids)
        .values("opened_in_id")
        .annotate(count=Count("pk")),
        key="opened_in_id",
    )
    closed = _counts(
        ActionReview.objects.filter(
            session_id__in=ids, outcome__in=[ActionOutcome.DONE, ActionOutcome.DROPPED]
        )
        .values("session_id")
        .annotate(count=Count("pk"))
    )
    kudos = _counts(
        Kudos.objects.filter(session_id__in=ids).values("session_id").annotate(count=Count("pk"))
    )
    snapshots = BudgetSnapshot.objects.filter(session_id__in=ids).values_list(
        "session_id", "slo_id", "service_name", "slo_name", "status", "error_budget_remaining"
    )

    weeks = []
    seen_labels: dict[str, int] = {}
    for row in latest:
        label = date_format(row["week_of"], "DATE_FORMAT")
        seen_labels[label] = seen_labels.get(label, 0) + 1
        if seen_labels[label] > 1:
            label = f"{label} ({seen_labels[label]})"
        pk = row["pk"]
        weeks.append(
            TrendWeek(
                session_id=pk,
                week_of=row["week_of"],
                label=label,
                status=row["status"],
                tickets_new=tickets.get(pk, {}).get("new", 0),
                tickets_decided=tickets.get(pk, {}).get("decided", 0),
                actions_opened=opened.get(pk, {}).get("count", 0),
                actions_closed=closed.get(pk, {}).get("count", 0),
                kudos=kudos.get(pk, {}).get("count", 0),
            )
        )

    column = {pk: index for index, pk in enumerate(ids)}
    status_labels = dict(BudgetSnapshot._meta.get_field("status").choices)
    # An SLO is one row across weeks by its id; a deleted SLO's snapshots keep its name.
    names: dict[tuple, tuple[int, str]] = {}
    cells: dict[tuple, list[HeatCell | None]] = {}
    for session_id, slo_id, service_name, slo_name, status, remaining in snapshots:
        key = ("slo", slo_id) if slo_id is not None else ("name", service_name, slo_name)
        row_cells = cells.setdefault(key, [None] * len(ids))
        index = column[session_id]
        row_cells[index] = HeatCell(
            status=status, status_label=str(status_labels.get(status, status)), remaining=remaining
        )
        # Named as in the latest session the SLO was in.
        if key not in names or index >= names[key][0]:
            names[key] = (index, f"{service_name} / {slo_name}")
    rows = sorted(
        (HeatRow(name=names[key][1], cells=tuple(row_cells)) for key, row_cells in cells.items()),
        key=lambda row: row.name.casefold(),
    )
    return Trends(weeks=tuple(weeks), slos=tuple(rows))
