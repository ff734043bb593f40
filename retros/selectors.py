"""Reads for retros: the agenda of a session, section by section, and what a follower
polls. A planned session's agenda is a live preview built from current data exactly as
starting it would freeze it; a live or closed session's agenda is read from its frozen
rows. Either way a fixed number of queries, whatever the number of SLOs and tickets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, FloatField, Q, Sum, When, Window
from django.db.models.functions import RowNumber, TruncDay
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import Team
from portal.weeks import week_monday
from retros.agenda import session_time
from retros.models import (
    ActionOutcome,
    ActionReview,
    ActionStatus,
    BudgetSnapshot,
    HierarchyPractice,
    Kudos,
    ReleaseDecision,
    RetroAction,
    RetroSession,
    ReviewItem,
    SessionNote,
    SessionStatus,
    SnapshotStatus,
    TicketDecision,
    TicketDecisionKind,
)
from slos.budget import (
    HOUR,
    HourRow,
    budget_burndown,
    burn_rate,
    excluded_hours,
)
from slos.budget import Window as BudgetWindow
from slos.charts import (
    ChartFrame,
    DayValue,
    Mark,
    slo_figures,
)
from slos.models import (
    SLO,
    Annotation,
    BudgetPolicyStep,
    CalendarPeriod,
    HourlyBucket,
    Notification,
    TicketStatus,
    WindowKind,
)
from slos.registry.selectors import SLOWithBudget, slos_with_budgets
from toil.models import BacklogItem
from toil.models import Status as BacklogStatus
from toil.selectors import backlog_settings, ranked_backlog, team_week_sums

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class KudosRow:
    id: int
    person_name: str
    what: str
    practice: str  # HierarchyPractice value
    practice_label: str
    noted_by_name: str
    noted_at: datetime


@dataclass(frozen=True)
class BudgetRow:
    """One SLO in "Budgets at a glance" (a BudgetSnapshot, frozen or previewed)."""

    snapshot_id: int | None  # None in a planned session's preview
    slo_id: int | None
    service_name: str
    slo_name: str
    target: Decimal
    window_kind: str  # "rolling" | "calendar"
    window_days: int | None
    calendar_period: str
    window_label: str  # "28 days", "month", "quarter"
    sli: float | None
    error_budget_remaining: float | None
    previous_remaining: float | None  # last session's, None if not in it
    change: float | None  # remaining - previous_remaining
    burn_rate: float | None
    burn_rate_1d: float | None
    bad_events: float
    bad_events_left: float
    coverage: float
    status: str  # SnapshotStatus value
    status_label: str
    policy_step: str
    burning: bool  # burn rate above 1 or budget at risk/exhausted: a release decision is due
    release_decision: str  # ReleaseDecision value or ""
    release_decision_label: str

    @property
    def sli_percent(self) -> float | None:
        return None if self.sli is None else self.sli * 100

    @property
    def remaining_percent(self) -> float | None:
        if self.error_budget_remaining is None:
            return None
        return self.error_budget_remaining * 100

    @property
    def change_percent(self) -> float | None:
        return None if self.change is None else self.change * 100


@dataclass(frozen=True)
class BurnRow:
    """One of the top hours or days by bad events, with the annotations overlapping it."""

    start: datetime
    end: datetime
    bad_events: float
    annotations: tuple[str, ...]


@dataclass(frozen=True)
class DashboardPanel:
    snapshot_id: int | None
    slo_id: int | None
    service_name: str
    slo_name: str
    window_label: str
    target: float  # a fraction
    time_zone: str
    # The frozen days: (ISO day, good, valid, hours with data, hours).
    days: tuple[tuple, ...]
    marks: tuple[Mark, ...]
    top_burns: tuple[BurnRow, ...]

    @cached_property
    def figures(self) -> dict[str, dict | None]:
        """Plotly figure dicts drawn from the frozen days, never from live buckets: keys
        "sli", "burndown", "burn_rate" (None when there is nothing to draw). Built on
        first use: a page that shows one SLO's panel does not pay for the others."""
        return dashboard_figures(self)


@dataclass(frozen=True)
class TicketRow:
    id: int | None  # TicketDecision pk; None in the preview
    notification_id: int | None
    title: str
    service_name: str
    slo_id: int | None
    slo_name: str
    deliveries: int
    first_seen_at: datetime
    last_seen_at: datetime
    carried: bool
    decision: str  # TicketDecisionKind value, "" undecided
    decision_label: str
    note: str
    backlog_item_id: int | None
    rule_id: int | None  # the routing rule that decided the ticket (the tune link)
    source_kind: str
    decided_by_name: str
    decided_at: datetime | None

    @property
    def tune_query(self) -> str:
        """The routing policy's new-rule form pre-filled to match this ticket (for a
        ticket no rule decided: the default policy made it a ticket)."""
        prefill = {
            "name": _("Tickets like “%(title)s”") % {"title": self.title[:80]},
            "source_kind": self.source_kind,
            "conditions": f"title = {self.title}",
            "outcome": "ticket",
        }
        if self.slo_id is not None:
            prefill["slo"] = str(self.slo_id)
        return urlencode(prefill)


@dataclass(frozen=True)
class ReviewRow:
    id: int | None  # ReviewItem pk; None in the preview
    slo_id: int | None
    slo_name: str
    service_name: str
    target: Decimal
    provisional: bool
    due_on: date | None
    review_id: int | None
    decision: str  # ReviewDecision value, "" not yet reviewed
    decision_label: str
    new_target: Decimal | None
    note: str


@dataclass(frozen=True)
class WorkItem:
    id: int
    title: str
    score: float | None
    status: str


@dataclass(frozen=True)
class WorkSection:
    done: tuple[WorkItem, ...]  # backlog items done since the last retro
    top: tuple[WorkItem, ...]  # the top of the ranking
    # Hours logged on backlog items against the reserved time (strings, as frozen);
    # None for sessions frozen before the section had them.
    hours: dict | None = None


@dataclass(frozen=True)
class ActionRow:
    """An open action reviewed in this session (ActionReview), or, in the preview, one
    that will be."""

    review_id: int | None
    action_id: int
    text: str
    owner_name: str
    due_on: date | None
    opened_week: date
    outcome: str  # ActionOutcome value, "" not reviewed yet
    outcome_label: str
    backlog_item_id: int | None = None  # the backlog item the action tracks


@dataclass(frozen=True)
class NewActionRow:
    """An action opened in this session."""

    id: int
    text: str
    owner_name: str
    due_on: date | None
    status: str
    backlog_item_id: int | None = None


@dataclass(frozen=True)
class NoteRow:
    id: int
    section: str
    author_name: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Agenda:
    """Everything a session's page and meeting screen show, one attribute per section."""

    session: RetroSession
    preview: bool  # planned: built from current data, nothing frozen yet
    kudos: tuple[KudosRow, ...]
    budgets: tuple[BudgetRow, ...]  # burning first
    dashboard: tuple[DashboardPanel, ...]
    tickets: tuple[TicketRow, ...]
    reviews: tuple[ReviewRow, ...]
    work: WorkSection
    actions: tuple[ActionRow, ...]  # last weeks' open actions, reviewed one by one
    new_actions: tuple[NewActionRow, ...]  # opened in this session
    notes: dict[str, tuple[NoteRow, ...]] = field(default_factory=dict)  # by section slug
    attendee_names: tuple[str, ...] = ()
    facilitator_name: str = ""

    def notes_for(self, slug: str) -> tuple[NoteRow, ...]:
        return self.notes.get(slug, ())


def dashboard_figures(panel: DashboardPanel) -> dict[str, dict | None]:
    """The SLO's three charts from its frozen days (see DashboardPanel.figures)."""
    if not panel.days:
        return {"sli": None, "burndown": None, "burn_rate": None}
    zone = ZoneInfo(panel.time_zone)
    days = [
        (date.fromisoformat(day), good, valid, with_data, hours)
        for day, good, valid, with_data, hours in panel.days
    ]

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    frame = ChartFrame(
        start=midnight(days[0][0]),
        end=midnight(days[-1][0] + timedelta(days=1)),
        time_zone=panel.time_zone,
        marks=panel.marks,
    )
    target = panel.target
    sli = [
        DayValue(day, good / valid if valid > 0 else None, with_data, hours)
        for day, good, valid, with_data, hours in days
    ]
    burn = [
        DayValue(day, burn_rate(good=good, valid=valid, target=target), with_data, hours)
        for day, good, valid, with_data, hours in days
    ]
    # One row per day with data, at the day's last hour: the burndown's points fall at
    # the end of each day.
    points = budget_burndown(
        [
            HourRow(midnight(day + timedelta(days=1)) - HOUR, good, valid)
            for day, good, valid, with_data, _hours in days
            if with_data
        ],
        target=target,
    )
    figures = slo_figures(
        sli=sli,
        burn=burn,
        points=points,
        target=target,
        window=timedelta(days=len(days)),
        frame=frame,
    )
    return {"sli": figures["sli"], "burndown": figures["burndown"], "burn_rate": figures["burn"]}


# --- What starting a session freezes -------------------------------------------------

TOP_BURNS = 3
TOP_WORK = 5


@dataclass(frozen=True)
class FreezePlan:
    """What starting the session writes, as unsaved rows (session not set yet): the
    preview shows exactly these, the start saves them."""

    previous_session_id: int | None
    snapshots: list[BudgetSnapshot]
    tickets: list[TicketDecision]
    reviews: list[ReviewItem]
    actions: list[RetroAction]
    kudos: list[Kudos]
    work: dict


def week_retro(*, team: Team, week_of: date) -> RetroSession | None:
    """The team's retro of the week starting `week_of`, whatever its status (sessions
    marked extra in a week, from before the one-a-week rule, are not it)."""
    return RetroSession.objects.filter(team=team, week_of=week_of, extra_in_week=False).first()


def retros_held_this_week(teams: list[Team], *, at: datetime) -> dict[int, RetroSession]:
    """Each team's closed retro of the week holding `at` (in the team's zone), by team
    id: a team holds one retro a week, so its next session is next week's. One query."""
    if not teams:
        return {}
    weeks = Q()
    for team in teams:
        weeks |= Q(team=team, week_of=week_monday(at, team.time_zone))
    held = RetroSession.objects.filter(
        weeks, status=SessionStatus.CLOSED, extra_in_week=False
    ).select_related("team")
    return {session.team_id: session for session in held}


def previous_session(session: RetroSession) -> RetroSession | None:
    """The team's latest other session that was started."""
    return (
        RetroSession.objects.filter(team_id=session.team_id, started_at__isnull=False)
        .exclude(pk=session.pk)
        .order_by("-started_at", "-pk")
        .first()
    )


def _policy_step(steps: list[tuple[Decimal, str]], remaining: float | None) -> str:
    """The step in effect: the lowest level the remaining budget has fallen below."""
    if remaining is None:
        return ""
    fallen = [(below, action) for below, action in steps if remaining * 100 < float(below)]
    return min(fallen)[1][:300] if fallen else ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _day_hours(window: BudgetWindow, zone: ZoneInfo, excluded: set[datetime]) -> dict[date, int]:
    hours: dict[date, int] = defaultdict(int)
    moment = window.start
    while moment < window.end:
        if moment not in excluded:
            hours[moment.astimezone(zone).date()] += 1
        moment += HOUR
    return hours


def _dashboards(
    rows: list[SLOWithBudget], *, team: Team, at: datetime
) -> dict[int, tuple[list, list, list]]:
    """Per SLO id: its days, annotations and top burns as plain JSON values. Three
    queries for every SLO at once: the day sums, the top hours, the annotations."""
    if not rows:
        return {}
    zone = ZoneInfo(team.time_zone)
    slos = [row.slo for row in rows]
    windows = {row.slo.pk: row.window for row in rows}
    span_start = min(window.start for window in windows.values())
    end = max(window.end for window in windows.values())
    notes = list(
        Annotation.objects.filter(
            Q(slo__in=slos)
            | Q(slo__isnull=True, service__in={slo.service_id for slo in slos})
            | Q(slo__isnull=True, service__isnull=True, team=team),
            starts_at__lt=end,
            ends_at__gt=span_start,
        ).order_by("starts_at", "pk")
    )

    def in_scope(note: Annotation, slo: SLO) -> bool:
        return note.slo_id == slo.pk or (
            note.slo_id is None and note.service_id in (None, slo.service_id)
        )

    excluded: dict[int, set[datetime]] = {}
    for slo in slos:
        window = windows[slo.pk]
        found = [
            (note.starts_at, note.ends_at)
            for note in notes
            if note.excluded and in_scope(note, slo) and note.starts_at < window.end
        ]
        excluded[slo.pk] = excluded_hours(window, found) if found else set()

    in_window = Q()
    for (start, end_of_window), ids in _by_bounds(windows).items():
        in_window |= Q(slo_id__in=ids, hour__gte=start, hour__lt=end_of_window)
    buckets = HourlyBucket.objects.filter(in_window)
    for pk, hours in excluded.items():
        if hours:
            buckets = buckets.exclude(slo_id=pk, hour__in=sorted(hours))
    per_day: dict[int, dict[date, tuple]] = defaultdict(dict)
    for row in (
        buckets.annotate(day=TruncDay("hour", tzinfo=zone))
        .values("slo_id", "day")
        .annotate(
            good=Sum("good"),
            valid=Sum("valid"),
            good_slices=Sum("good_slices"),
            total_slices=Sum("total_slices"),
            hours=Count("hour"),
        )
    ):
        day = row["day"].astimezone(zone).date() if isinstance(row["day"], datetime) else row["day"]
        per_day[row["slo_id"]][day] = row
    slices = {slo.pk for slo in slos if slo.uses_timeslices}
    bad = Case(
        When(slo_id__in=slices or [0], then=F("total_slices") - F("good_slices")),
        default=F("valid") - F("good"),
        output_field=FloatField(),
    )
    top = (
        buckets.annotate(
            bad=bad,
            rank=Window(
                RowNumber(), partition_by=[F("slo_id")], order_by=[F("bad").desc(), "hour"]
            ),
        )
        .filter(rank__lte=TOP_BURNS, bad__gt=0)
        .values_list("slo_id", "hour", "bad")
    )
    burns: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for slo_id, hour, bad_events in top:
        burns[slo_id].append((hour, float(bad_events)))

    hours_cache: dict[tuple[datetime, datetime], dict[date, int]] = {}
    result = {}
    for slo in slos:
        window = windows[slo.pk]
        if excluded[slo.pk]:
            hours = _day_hours(window, zone, excluded[slo.pk])
        else:
            key = (window.start, window.end)
            if key not in hours_cache:
                hours_cache[key] = _day_hours(window, zone, set())
            hours = hours_cache[key]
        found = per_day.get(slo.pk, {})
        days = []
        for day, count in sorted(hours.items()):
            row = found.get(day)
            if row is None:
                days.append([day.isoformat(), 0.0, 0.0, 0, count])
                continue
            good, valid = (
                (row["good_slices"], row["total_slices"])
                if slo.uses_timeslices
                else (row["good"], row["valid"])
            )
            days.append([day.isoformat(), float(good or 0), float(valid or 0), row["hours"], count])
        mine = [
            note
            for note in notes
            if in_scope(note, slo) and note.starts_at < window.end and note.ends_at > window.start
        ]
        annotations = [
            {
                "kind": note.kind,
                "starts_at": _iso(note.starts_at),
                "ends_at": _iso(note.ends_at),
                "text": note.text,
                "excluded": note.excluded,
            }
            for note in mine
        ]
        top_burns = [
            {
                "start": _iso(hour),
                "end": _iso(hour + HOUR),
                "bad_events": bad_events,
                "annotations": [
                    note.text
                    for note in mine
                    if note.starts_at < hour + HOUR and note.ends_at > hour
                ],
            }
            for hour, bad_events in sorted(burns.get(slo.pk, []), key=lambda b: (-b[1], b[0]))
        ]
        result[slo.pk] = (days, annotations, top_burns)
    return result


def _by_bounds(windows: dict[int, BudgetWindow]) -> dict[tuple[datetime, datetime], list[int]]:
    grouped: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for pk, window in windows.items():
        grouped[(window.start, window.end)].append(pk)
    return grouped


def _snapshots(
    team: Team, *, previous: RetroSession | None, at: datetime
) -> tuple[list[BudgetSnapshot], list[SLOWithBudget]]:
    rows = slos_with_budgets(SLO.objects.filter(service__team=team).active(), at=at)
    ids = [row.slo.pk for row in rows]
    previous_remaining = (
        dict(
            BudgetSnapshot.objects.filter(session=previous, slo_id__in=ids).values_list(
                "slo_id", "error_budget_remaining"
            )
        )
        if previous is not None and ids
        else {}
    )
    steps: dict[int, list[tuple[Decimal, str]]] = defaultdict(list)
    if ids:
        for slo_id, below, action in BudgetPolicyStep.objects.filter(slo_id__in=ids).values_list(
            "slo_id", "below_percent", "action"
        ):
            steps[slo_id].append((below, action))
    dashboards = _dashboards(rows, team=team, at=at)
    snapshots = []
    for row in rows:
        slo, budget = row.slo, row.budget
        calendar = slo.window_kind == WindowKind.CALENDAR
        days, annotations, top_burns = dashboards.get(slo.pk, ([], [], []))
        snapshots.append(
            BudgetSnapshot(
                slo=slo,
                team_name=team.name,
                service_name=slo.service.name,
                slo_name=slo.name,
                target=slo.target,
                window_kind=slo.window_kind,
                window_days=None if calendar else slo.window_days,
                calendar_period=slo.calendar_period if calendar else "",
                good=budget.good,
                valid=budget.valid,
                sli=budget.sli,
                error_budget_remaining=budget.error_budget_remaining,
                bad_events_left=budget.bad_events_left,
                burn_rate=budget.burn_rate,
                coverage=budget.coverage,
                status=budget.status.value,
                burn_rate_1d=budget.burn_rate_1d,
                bad_events=budget.bad_events,
                previous_remaining=previous_remaining.get(slo.pk),
                policy_step=_policy_step(steps[slo.pk], budget.error_budget_remaining),
                days=days,
                annotations=annotations,
                top_burns=top_burns,
            )
        )
    return snapshots, rows


def _ticket_from(notification: Notification, *, carried: bool) -> TicketDecision:
    return TicketDecision(
        notification=notification,
        title=notification.title[:300],
        service_name=notification.service.name if notification.service_id else "",
        slo_name=notification.slo.name if notification.slo_id else "",
        deliveries=notification.count,
        first_seen_at=notification.first_seen_at,
        last_seen_at=notification.last_seen_at,
        carried=carried,
    )


def _tickets(team: Team, *, previous: RetroSession | None, at: datetime) -> list[TicketDecision]:
    """Tickets first seen since the previous session started (every open one if there
    was none), then the previous session's undecided ones, carried."""
    related = ("service", "slo", "source")
    fresh = Notification.objects.tickets().filter(team=team, first_seen_at__lte=at)
    if previous is None:
        fresh = fresh.filter(ticket_status=TicketStatus.OPEN)
    else:
        fresh = fresh.filter(first_seen_at__gte=previous.started_at)
    tickets = [
        _ticket_from(notification, carried=False)
        for notification in fresh.select_related(*related).order_by("first_seen_at", "pk")
    ]
    if previous is None:
        return tickets
    seen = {ticket.notification_id for ticket in tickets}
    for left in (
        TicketDecision.objects.filter(session=previous, decision=TicketDecisionKind.UNDECIDED)
        .select_related(*(f"notification__{name}" for name in related))
        .order_by("first_seen_at", "pk")
    ):
        if left.notification_id is not None and left.notification_id in seen:
            continue
        if left.notification is not None:
            tickets.append(_ticket_from(left.notification, carried=True))
        else:
            tickets.append(
                TicketDecision(
                    title=left.title,
                    service_name=left.service_name,
                    slo_name=left.slo_name,
                    deliveries=left.deliveries,
                    first_seen_at=left.first_seen_at,
                    last_seen_at=left.last_seen_at,
                    carried=True,
                )
            )
    # As the frozen rows are read back (TicketDecision's ordering).
    tickets.sort(key=lambda ticket: ticket.first_seen_at)
    return tickets


def _reviews(team: Team, rows: list[SLOWithBudget], *, at: datetime) -> list[ReviewItem]:
    today = at.astimezone(ZoneInfo(team.time_zone)).date()
    due = [
        row.slo
        for row in rows
        if row.slo.provisional or (row.slo.next_review_on and row.slo.next_review_on <= today)
    ]
    due.sort(key=lambda slo: (slo.next_review_on or date.max, slo.service.name, slo.name))
    return [
        ReviewItem(
            slo=slo,
            slo_name=slo.name,
            service_name=slo.service.name,
            target=slo.target,
            provisional=slo.provisional,
            due_on=slo.next_review_on,
        )
        for slo in due
    ]


def _work(team: Team, *, previous: RetroSession | None, at: datetime) -> dict:
    since = previous.started_at if previous is not None else at - WEEK
    done = BacklogItem.objects.filter(
        team=team, status=BacklogStatus.DONE, closed_at__gte=since, closed_at__lte=at
    ).order_by("-closed_at", "-pk")
    top = ranked_backlog(BacklogItem.objects.filter(team=team), at=at)[:TOP_WORK]
    last_week, this_week = team_week_sums(team, at=at, weeks=2)
    reserved = backlog_settings(team).reserved_hours_per_week()
    return {
        # Hours logged on backlog items against the time the team reserves a week
        # (strings: the agenda is frozen as JSON).
        "hours": {
            "reserved": str(reserved),
            "last_week": str(last_week.backlog_hours),
            "this_week": str(this_week.backlog_hours),
            "last_week_toil_share": None
            if last_week.toil_share is None
            else str(round(last_week.toil_share * 100)),
        },
        "done": [
            {"id": item.pk, "title": item.title, "score": None, "status": item.status}
            for item in done
        ],
        "top": [
            {
                "id": row.item.pk,
                "title": row.item.title,
                "score": round(row.breakdown.score, 2),
                "status": row.item.status,
            }
            for row in top
        ],
    }


def retro_freeze_plan(session: RetroSession, *, at: datetime) -> FreezePlan:
    """What starting `session` at `at` freezes. A fixed number of queries."""
    team = session.team
    previous = previous_session(session)
    snapshots, rows = _snapshots(team, previous=previous, at=at)
    return FreezePlan(
        previous_session_id=previous.pk if previous is not None else None,
        snapshots=snapshots,
        tickets=_tickets(team, previous=previous, at=at),
        reviews=_reviews(team, rows, at=at),
        actions=list(
            RetroAction.objects.filter(team=team, status=ActionStatus.OPEN)
            .exclude(opened_in=session)
            .select_related("owner", "opened_in")
            .order_by("created_at", "pk")
        ),
        kudos=list(
            Kudos.objects.filter(team=team, session__isnull=True, noted_at__lte=at)
            .select_related("noted_by")
            .order_by("noted_at", "pk")
        ),
        work=_work(team, previous=previous, at=at),
    )


# --- The agenda ----------------------------------------------------------------------


def _name(user) -> str:
    return user.get_username() if user is not None else ""


def _window_label(kind: str, days: int | None, period: str) -> str:
    if kind == WindowKind.CALENDAR:
        return str(CalendarPeriod(period).label) if period in CalendarPeriod.values else period
    return ngettext("%(days)d day", "%(days)d days", days or 0) % {"days": days or 0}


def _burning(snapshot: BudgetSnapshot) -> bool:
    return snapshot.status in (SnapshotStatus.AT_RISK, SnapshotStatus.EXHAUSTED) or (
        snapshot.burn_rate is not None and snapshot.burn_rate > 1
    )


def _budget_row(snapshot: BudgetSnapshot) -> BudgetRow:
    remaining, previous = snapshot.error_budget_remaining, snapshot.previous_remaining
    return BudgetRow(
        snapshot_id=snapshot.pk,
        slo_id=snapshot.slo_id,
        service_name=snapshot.service_name,
        slo_name=snapshot.slo_name,
        target=snapshot.target,
        window_kind=snapshot.window_kind,
        window_days=snapshot.window_days,
        calendar_period=snapshot.calendar_period,
        window_label=_window_label(
            snapshot.window_kind, snapshot.window_days, snapshot.calendar_period
        ),
        sli=snapshot.sli,
        error_budget_remaining=remaining,
        previous_remaining=previous,
        change=None if remaining is None or previous is None else remaining - previous,
        burn_rate=snapshot.burn_rate,
        burn_rate_1d=snapshot.burn_rate_1d,
        bad_events=snapshot.bad_events,
        bad_events_left=snapshot.bad_events_left,
        coverage=snapshot.coverage,
        status=snapshot.status,
        status_label=str(SnapshotStatus(snapshot.status).label)
        if snapshot.status in SnapshotStatus.values
        else snapshot.status,
        policy_step=snapshot.policy_step,
        burning=_burning(snapshot),
        release_decision=snapshot.release_decision,
        release_decision_label=str(ReleaseDecision(snapshot.release_decision).label)
        if snapshot.release_decision
        else "",
    )


def _budget_order(row: BudgetRow) -> tuple:
    remaining = row.error_budget_remaining
    return (
        not row.burning,
        remaining if remaining is not None else 2.0,
        row.service_name,
        row.slo_name,
    )


def _panel(
    snapshot: BudgetSnapshot, *, time_zone: str, started_at: datetime | None
) -> DashboardPanel:
    return DashboardPanel(
        snapshot_id=snapshot.pk,
        slo_id=snapshot.slo_id,
        service_name=snapshot.service_name,
        slo_name=snapshot.slo_name,
        window_label=_window_label(
            snapshot.window_kind, snapshot.window_days, snapshot.calendar_period
        ),
        target=float(snapshot.target) / 100,
        time_zone=time_zone,
        days=tuple(tuple(day) for day in snapshot.days),
        marks=tuple(
            Mark(
                kind=note["kind"],
                starts_at=datetime.fromisoformat(note["starts_at"]),
                ends_at=datetime.fromisoformat(note["ends_at"]),
                text=note["text"],
                excluded=note.get("excluded", False),
            )
            for note in snapshot.annotations
        ),
        top_burns=tuple(
            BurnRow(
                start=datetime.fromisoformat(burn["start"]),
                end=datetime.fromisoformat(burn["end"]),
                bad_events=burn["bad_events"],
                annotations=tuple(burn.get("annotations", ())),
            )
            for burn in snapshot.top_burns
        ),
    )


def _ticket_row(item: TicketDecision) -> TicketRow:
    notification = item.notification
    return TicketRow(
        id=item.pk,
        notification_id=item.notification_id,
        title=item.title,
        service_name=item.service_name,
        slo_id=notification.slo_id if notification is not None else None,
        slo_name=item.slo_name,
        deliveries=item.deliveries,
        first_seen_at=item.first_seen_at,
        last_seen_at=item.last_seen_at,
        carried=item.carried,
        decision=item.decision,
        decision_label=str(TicketDecisionKind(item.decision).label) if item.decision else "",
        note=item.note,
        backlog_item_id=item.backlog_item_id,
        rule_id=notification.rule_id if notification is not None else None,
        source_kind=notification.source.kind if notification is not None else "",
        decided_by_name=_name(item.decided_by) if item.decided_by_id else "",
        decided_at=item.decided_at,
    )


def _review_row(item: ReviewItem) -> ReviewRow:
    review = item.review if item.review_id else None
    return ReviewRow(
        id=item.pk,
        slo_id=item.slo_id,
        slo_name=item.slo_name,
        service_name=item.service_name,
        target=item.target,
        provisional=item.provisional,
        due_on=item.due_on,
        review_id=item.review_id,
        decision=review.decision if review else "",
        decision_label=str(review.get_decision_display()) if review else "",
        new_target=review.new_target if review else None,
        note=review.note if review else "",
    )


def _kudos_row(kudos: Kudos) -> KudosRow:
    return KudosRow(
        id=kudos.pk,
        person_name=kudos.person_name,
        what=kudos.what,
        practice=kudos.practice,
        practice_label=str(HierarchyPractice(kudos.practice).label)
        if kudos.practice in HierarchyPractice.values
        else kudos.practice,
        noted_by_name=_name(kudos.noted_by) if kudos.noted_by_id else "",
        noted_at=kudos.noted_at,
    )


def _action_row(action: RetroAction, review: ActionReview | None) -> ActionRow:
    outcome = review.outcome if review is not None else ""
    return ActionRow(
        review_id=review.pk if review is not None else None,
        action_id=action.pk,
        text=action.text,
        owner_name=_name(action.owner) if action.owner_id else "",
        due_on=action.due_on,
        opened_week=action.opened_in.week_of,
        outcome=outcome,
        outcome_label=str(ActionOutcome(outcome).label) if outcome else "",
        backlog_item_id=action.backlog_item_id,
    )


def _work_section(work: dict) -> WorkSection:
    def items(rows: list[dict]) -> tuple[WorkItem, ...]:
        return tuple(
            WorkItem(id=row["id"], title=row["title"], score=row.get("score"), status=row["status"])
            for row in rows
        )

    return WorkSection(
        done=items(work.get("done", [])), top=items(work.get("top", [])), hours=work.get("hours")
    )


def _preview(session: RetroSession, *, at: datetime) -> Agenda:
    plan = retro_freeze_plan(session, at=at)
    zone = session.team.time_zone
    budgets = sorted((_budget_row(snapshot) for snapshot in plan.snapshots), key=_budget_order)
    by_slo = {snapshot.slo_id: snapshot for snapshot in plan.snapshots}
    return Agenda(
        session=session,
        preview=True,
        kudos=tuple(_kudos_row(kudos) for kudos in plan.kudos),
        budgets=tuple(budgets),
        dashboard=tuple(
            _panel(by_slo[row.slo_id], time_zone=zone, started_at=None) for row in budgets
        ),
        tickets=tuple(_ticket_row(item) for item in plan.tickets),
        reviews=tuple(_review_row(item) for item in plan.reviews),
        work=_work_section(plan.work),
        actions=tuple(_action_row(action, None) for action in plan.actions),
        new_actions=(),
        notes={},
    )


def retro_agenda(session: RetroSession, *, at: datetime) -> Agenda:
    """The session's agenda: a live preview while planned, its frozen rows once started.
    A fixed number of queries whatever the number of SLOs, tickets or actions."""
    if session.status == SessionStatus.PLANNED:
        return _preview(session, at=at)
    zone = session.team.time_zone
    snapshots = list(BudgetSnapshot.objects.filter(session=session))
    budgets = sorted((_budget_row(snapshot) for snapshot in snapshots), key=_budget_order)
    by_id = {snapshot.pk: snapshot for snapshot in snapshots}
    reviews = ActionReview.objects.filter(session=session).select_related(
        "action__owner", "action__opened_in"
    )
    notes: dict[str, list[NoteRow]] = defaultdict(list)
    for note in SessionNote.objects.filter(session=session).select_related("author"):
        notes[note.section].append(
            NoteRow(
                id=note.pk,
                section=note.section,
                author_name=_name(note.author) if note.author_id else "",
                text=note.text,
                created_at=note.created_at,
            )
        )
    return Agenda(
        session=session,
        preview=False,
        kudos=tuple(
            _kudos_row(kudos)
            for kudos in Kudos.objects.filter(session=session)
            .select_related("noted_by")
            .order_by("noted_at", "pk")
        ),
        budgets=tuple(budgets),
        dashboard=tuple(
            _panel(by_id[row.snapshot_id], time_zone=zone, started_at=session.started_at)
            for row in budgets
        ),
        tickets=tuple(
            _ticket_row(item)
            for item in TicketDecision.objects.filter(session=session).select_related(
                "notification__source", "decided_by"
            )
        ),
        reviews=tuple(
            _review_row(item)
            for item in ReviewItem.objects.filter(session=session).select_related("review")
        ),
        work=_work_section(session.frozen.get("work", {})),
        actions=tuple(_action_row(review.action, review) for review in reviews),
        new_actions=tuple(
            NewActionRow(
                id=action.pk,
                text=action.text,
                owner_name=_name(action.owner) if action.owner_id else "",
                due_on=action.due_on,
                status=action.status,
                backlog_item_id=action.backlog_item_id,
            )
            for action in RetroAction.objects.filter(opened_in=session).select_related("owner")
        ),
        notes={slug: tuple(rows) for slug, rows in notes.items()},
        attendee_names=tuple(sorted(user.get_username() for user in session.attendees.all())),
        facilitator_name=_name(session.facilitator) if session.facilitator_id else "",
    )


@dataclass(frozen=True)
class FollowState:
    version: int
    section: int
    status: str
    facilitator_id: int | None
    # Seconds the facilitator has been on the section, by the server's clock (a
    # laptop's clock may be off; the screen counts on from this).
    elapsed: int | None

    def as_json(self) -> dict:
        return {
            "version": self.version,
            "section": self.section,
            "status": self.status,
            "facilitator": self.facilitator_id,
            "elapsed": self.elapsed,
        }


def follow_state(session_id: int, *, at: datetime) -> tuple[FollowState, int]:
    """What a follower compares with what it shows, and the session's team (for the
    access check). One query; DoesNotExist if there is no such session."""
    version, section, status, facilitator_id, started, team_id = RetroSession.objects.values_list(
        "version",
        "current_section",
        "status",
        "facilitator_id",
        "section_started_at",
        "team_id",
    ).get(pk=session_id)
    elapsed = None if started is None else max(0, int((at - started).total_seconds()))
    return FollowState(version, section, status, facilitator_id, elapsed), team_id


# The home overview (portal/overview.py): each team's next retro and its latest kudos,
# for every team of a user at once.


@dataclass(frozen=True)
class NextRetro:
    """A team's next retro: its session when one is planned (or live), else when the
    team's cadence holds it (planned when someone opens the retro list)."""

    scheduled_at: datetime | None
    session: RetroSession | None = None

    @property
    def live(self) -> bool:
        return self.session is not None and self.session.status == SessionStatus.LIVE


def next_retros(teams: list[Team], *, at: datetime) -> dict[int, NextRetro]:
    """Per team id: a live session if one is, else the session of the first week from
    this one on whose retro is not closed (as `retro_session_plan` finds it, without
    making it). One query for any number of teams; none for no teams."""
    if not teams:
        return {}
    mondays = {team.pk: week_monday(at, team.time_zone) for team in teams}
    sessions = RetroSession.objects.filter(
        Q(status=SessionStatus.LIVE) | Q(week_of__gte=min(mondays.values())),
        team__in=teams,
        extra_in_week=False,
    ).order_by("week_of", "pk")
    by_team: dict[int, dict[date, RetroSession]] = defaultdict(dict)
    live: dict[int, RetroSession] = {}
    for session in sessions:
        by_team[session.team_id][session.week_of] = session
        if session.status == SessionStatus.LIVE:
            live.setdefault(session.team_id, session)
    found = {}
    for team in teams:
        if team.pk in live:
            found[team.pk] = NextRetro(
                scheduled_at=live[team.pk].scheduled_at, session=live[team.pk]
            )
            continue
        weeks = by_team[team.pk]
        monday = mondays[team.pk]
        while monday in weeks and weeks[monday].status == SessionStatus.CLOSED:
            monday += WEEK
        session = weeks.get(monday)
        if session is not None:
            found[team.pk] = NextRetro(scheduled_at=session.scheduled_at, session=session)
        else:
            found[team.pk] = NextRetro(
                scheduled_at=session_time(
                    monday, weekday=team.retro_weekday, at=team.retro_time, time_zone=team.time_zone
                )
            )
    return found


def recent_kudos(teams: list[Team], *, per_team: int) -> dict[int, list[Kudos]]:
    """Per team id: its latest `per_team` kudos, newest first. One query for any number
    of teams and kudos; none for no teams."""
    if not teams:
        return {}
    found: dict[int, list[Kudos]] = {team.pk: [] for team in teams}
    rows = (
        Kudos.objects.filter(team__in=teams)
        .annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("team_id")],
                order_by=[F("noted_at").desc(), F("pk").desc()],
            )
        )
        .filter(place__lte=per_team)
        .order_by("team_id", "place")
    )
    for kudos in rows:
        found[kudos.team_id].append(kudos)
    return found
