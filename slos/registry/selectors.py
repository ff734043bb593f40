"""Reads: SLOs with their budgets, computed from sums of hourly rows.

Every budget is a sum of rows: one query lists the SLOs, one finds the maintenance
exclusions, one aggregates the rows of every SLO at once. The number of queries does
not depend on the number of SLOs."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache, reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Window as Over
from django.db.models.functions import RowNumber, TruncMonth

from portal.models import Team
from slos.budget import (
    BURN_SPANS,
    HOUR,
    Budget,
    HourRow,
    MonthCompliance,
    MonthTotals,
    Window,
    WindowTotals,
    align_to_hour,
    calendar_window,
    compute_budget,
    excluded_hours,
    monthly_compliance,
    rolling_window,
)
from slos.models import (
    SLO,
    WINDOW_FIELDS,
    Annotation,
    BudgetPolicyStep,
    DailyBucket,
    DataSource,
    HourlyBucket,
    PullRun,
    PullStatus,
    Service,
    SLOReview,
    WindowKind,
)
from slos.registry.budget_sums import PAGE_KEEPS_AT_MOST, kept_or_summed

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class SLOWithBudget:
    slo: SLO
    budget: Budget
    window: Window


def slo_window(slo: SLO, *, at: datetime) -> Window:
    """The SLO's window as of `at`, ending at the last complete hour. SLOs with the same
    window settings get the same (frozen) Window: a pull places a thousand at once."""
    if slo.window_kind == WindowKind.CALENDAR:
        return _calendar_window(at, slo.calendar_period, slo.service.team.time_zone)
    return _rolling_window(at, slo.window_days)


_calendar_window = lru_cache(maxsize=256)(calendar_window)
_rolling_window = lru_cache(maxsize=256)(rolling_window)


def exclusion_intervals(
    slos: Iterable[SLO], *, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Excluded maintenance intervals overlapping [start, end), per SLO id: those on the
    SLO itself, on its service, or on its whole team. One query."""
    slos = list(slos)
    # Asked by team (a few values, where a thousand SLO ids took longer to send than to
    # answer): every excluded annotation on an SLO or service of these teams, or on the
    # teams themselves; matched to each SLO below.
    teams = {slo.service.team_id for slo in slos}
    annotations = Annotation.objects.filter(
        Q(slo__service__team_id__in=teams)
        | Q(slo__isnull=True, service__team_id__in=teams)
        | Q(slo__isnull=True, service__isnull=True, team_id__in=teams),
        excluded=True,
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("slo_id", "service_id", "team_id", "starts_at", "ends_at")
    on_slo, on_service, on_team = defaultdict(list), defaultdict(list), defaultdict(list)
    for slo_id, service_id, team_id, starts_at, ends_at in annotations:
        if slo_id is not None:
            on_slo[slo_id].append((starts_at, ends_at))
        elif service_id is not None:
            on_service[service_id].append((starts_at, ends_at))
        else:
            on_team[team_id].append((starts_at, ends_at))
    by_slo: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    if not (on_slo or on_service or on_team):
        return by_slo
    for slo in slos:
        found = [
            *on_slo.get(slo.pk, ()),
            *on_service.get(slo.service_id, ()),
            *on_team.get(slo.service.team_id, ()),
        ]
        if found:
            by_slo[slo.pk] = sorted(found)
    return by_slo


# Every budget is read from sums over rings: the spans between consecutive boundaries of
# the windows a budget needs (each SLO's window start, and the last 1h, 2h, 6h, day,
# 3 days and week: the burn table's windows, slos.budget.BURN_SPANS, and the day and
# week a page shows). Each row falls in one ring (one CASE) and the rows are summed by
# SLO and ring; a window's sums are then the sums of the rings inside it.
SPANS = tuple(sorted({*BURN_SPANS, DAY, WEEK}))

# What a budget reads of one SLO, in this order: its window's good, valid, hours with a
# row and hours whose good exceeds their valid (data errors), then good, valid and
# hours with a row of each span of SPANS. Good and valid are events, or slices for an
# SLO budgeted by timeslices.
Sums = tuple[float, ...]
NO_SUMS: Sums = (0.0, 0.0, 0, 0, *((0.0, 0.0, 0) * len(SPANS)))


def _bounds(windows: dict[int, Window], *, end: datetime) -> tuple[datetime, ...]:
    """The rings' lower bounds, newest first: ring i holds the hours from bounds[i] up
    to bounds[i - 1] (ring 0 up to `end`)."""
    starts = {window.start for window in windows.values()}
    return tuple(sorted({*(end - span for span in SPANS), *starts}, reverse=True))


def _reach(windows: dict[int, Window], *, end: datetime) -> dict[datetime, list[int]]:
    """The SLOs by the oldest hour their budget reads (the start of the window, or of
    the last week when the window is shorter): a quarter's SLO does not make its
    neighbours read a quarter."""
    by_first: dict[datetime, list[int]] = defaultdict(list)
    for pk, window in windows.items():
        by_first[min(window.start, end - WEEK)].append(pk)
    return by_first


def _hourly_aggregates(
    windows: dict[int, Window],
    *,
    end: datetime,
    excluded: dict[int, set[datetime]],
    timeslices: Collection[int] = (),
) -> dict[int, Sums]:
    """Each SLO's sums (`Sums`) from its hourly rows, less its excluded hours: the rows
    summed by ring in one query, the rings added up here."""
    bounds = _bounds(windows, end=end)
    ring = Case(
        *(When(hour__gte=bound, then=Value(index)) for index, bound in enumerate(bounds)),
        default=Value(len(bounds)),
        output_field=IntegerField(),
    )
    reach = reduce(
        or_,
        (Q(slo_id__in=ids, hour__gte=first) for first, ids in _reach(windows, end=end).items()),
    )
    rows = HourlyBucket.objects.filter(reach, hour__lt=end)
    for pk, hours in excluded.items():
        if hours:
            rows = rows.exclude(slo_id=pk, hour__in=sorted(hours))
    sums = (
        rows.annotate(ring=ring)
        .order_by()
        .values("slo_id", "ring")
        .annotate(
            ring_good=Sum("good"),
            ring_valid=Sum("valid"),
            ring_good_slices=Sum("good_slices"),
            ring_total_slices=Sum("total_slices"),
            ring_hours=Count("hour"),
            ring_errors=Count("hour", filter=Q(good__gt=F("valid"))),
        )
        .values_list(
            "slo_id",
            "ring",
            "ring_good",
            "ring_valid",
            "ring_good_slices",
            "ring_total_slices",
            "ring_hours",
            "ring_errors",
        )
    )
    rings: dict[int, dict[int, tuple]] = defaultdict(dict)
    for slo_id, index, good, valid, good_slices, total_slices, hours, errors in sums:
        if slo_id in timeslices:
            good, valid = good_slices, total_slices
        rings[slo_id][index] = (float(good), float(valid), hours, errors)
    position = {bound: index for index, bound in enumerate(bounds)}
    spans = [position[end - span] for span in SPANS]
    found: dict[int, Sums] = {}
    for pk, by_ring in rings.items():
        # cumulative[i]: the sums of rings 0 to i, from `end` back to bounds[i].
        cumulative, good, valid, hours, errors = [], 0.0, 0.0, 0, 0
        for index in range(len(bounds)):
            ring_sums = by_ring.get(index)
            if ring_sums is not None:
                good, valid = good + ring_sums[0], valid + ring_sums[1]
                hours, errors = hours + ring_sums[2], errors + ring_sums[3]
            cumulative.append((good, valid, hours, errors))
        found[pk] = (
            *cumulative[position[windows[pk].start]],
            *(value for index in spans for value in cumulative[index][:3]),
        )
    return found


def _midnight_after(moment: datetime) -> datetime:
    """The first UTC midnight at or after `moment`."""
    midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + DAY


def _midnight_before(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _prepend(runs: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> None:
    """Add [start, end) to runs kept newest first, joined to the run it touches."""
    if runs and runs[-1][0] == end:
        runs[-1] = (start, runs[-1][1])
    else:
        runs.append((start, end))


def _day_and_hour_runs(
    bounds: tuple[datetime, ...], *, end: datetime
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """The whole UTC days that lie inside one ring (read from DailyBucket), and the
    hours left around them (read from the hourly rows), each as runs newest first."""
    days: list[tuple[datetime, datetime]] = []
    hours: list[tuple[datetime, datetime]] = []
    for upper, lower in zip((end, *bounds), bounds, strict=False):
        first, last = _midnight_after(lower), _midnight_before(upper)
        if first < last:
            if last < upper:
                _prepend(hours, last, upper)
            _prepend(days, first, last)
            if lower < first:
                _prepend(hours, lower, first)
        elif lower < upper:
            _prepend(hours, lower, upper)
    return days, hours


def _rolled_up_aggregates(
    windows: dict[int, Window], *, end: datetime, timeslices: Collection[int] = ()
) -> dict[int, Sums]:
    """The same sums as `_hourly_aggregates` (SLOs without excluded hours), from day
    rows and the hours around them, in one query that reads about a sixth of the rows:
    the hours and the days side by side (UNION ALL), each row given its ring by one
    CASE, summed by SLO and ring, and the rings of each window and span added up by
    SLO. Written as SQL: the ORM took longer to build such a statement than PostgreSQL
    takes to run it, and it reads back one plain row per SLO."""
    bounds = _bounds(windows, end=end)
    position = {bound: index for index, bound in enumerate(bounds)}
    days, hours = _day_and_hour_runs(bounds, end=end)
    reach = _reach(windows, end=end)
    sliced = set(timeslices)
    timeslices = [pk for pk in windows if pk in sliced]
    parts: list[str] = []
    params: list[object] = []

    def part(table: str, column: str, runs, to_param, counted: str) -> None:
        ring = " ".join(f"WHEN {column} >= %s THEN {index}" for index in range(len(bounds)))
        params.extend(to_param(bound) for bound in bounds)
        if timeslices:
            good = "CASE WHEN slo_id = ANY(%s) THEN good_slices ELSE good END AS good, "
            valid = "CASE WHEN slo_id = ANY(%s) THEN total_slices ELSE valid END AS valid, "
            params.extend((timeslices, timeslices))
        else:
            good, valid = "good, ", "valid, "
        parts.append(
            f"SELECT slo_id, CASE {ring} ELSE {len(bounds)} END AS ring, {good}{valid}"
            f"{counted} FROM {table} WHERE ("
            + " OR ".join(f"(slo_id = ANY(%s) AND {column} >= %s)" for _ in reach)
            + ") AND ("
            + " OR ".join(f"({column} >= %s AND {column} < %s)" for _ in runs)
            + ")"
        )
        for first, ids in reach.items():
            params.extend((ids, to_param(first)))
        for start, stop in runs:
            params.extend((to_param(start), to_param(stop)))

    if hours:
        part(
            HourlyBucket._meta.db_table,
            "hour",
            hours,
            lambda moment: moment,
            "1 AS hours, (good > valid)::int AS errors",
        )
    if days:
        part(
            DailyBucket._meta.db_table,
            "day",
            days,
            lambda moment: _midnight_after(moment).date(),
            "hours, error_hours AS errors",
        )
    # Each SLO's window ends at its own ring: one CASE over the SLOs by window start.
    by_start: dict[int, list[int]] = defaultdict(list)
    for pk, window in windows.items():
        by_start[position[window.start]].append(pk)
    if len(by_start) == 1:
        window_ring = str(next(iter(by_start)))
    else:
        window_ring = (
            "CASE " + " ".join(f"WHEN slo_id = ANY(%s) THEN {index}" for index in by_start) + " END"
        )
        params[:0] = by_start.values()  # the CASE comes before the rows in the statement

    def upto(ring: str, column: str) -> str:
        return f"COALESCE(SUM({column}) FILTER (WHERE ring <= {ring}), 0)"

    sums = [upto("window_ring", column) for column in ("good", "valid", "hours", "errors")]
    for span in SPANS:
        sums.extend(
            upto(str(position[end - span]), column) for column in ("good", "valid", "hours")
        )
    sql = (
        f"SELECT slo_id, {', '.join(sums)} FROM ("
        f"SELECT slo_id, ring, {window_ring} AS window_ring, SUM(good) AS good, "
        "SUM(valid) AS valid, SUM(hours)::int AS hours, SUM(errors)::int AS errors FROM ("
        + " UNION ALL ".join(parts)
        + ") AS bucket_rows GROUP BY slo_id, ring) AS rings GROUP BY slo_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _summed(
    windows: dict[int, Window],
    *,
    end: datetime,
    excluded: dict[int, set[datetime]],
    timeslices: Collection[int],
) -> dict[int, Sums]:
    """The sums of these SLOs from their rows, on PostgreSQL: from day rows and the hours
    around them in one query, and from the hours in one more for SLOs with excluded
    hours."""
    without_excluded = {pk: window for pk, window in windows.items() if pk not in excluded}
    aggregates = (
        _rolled_up_aggregates(without_excluded, end=end, timeslices=timeslices)
        if without_excluded
        else {}
    )
    with_excluded = windows.keys() - without_excluded.keys()
    if with_excluded:
        aggregates.update(
            _hourly_aggregates(
                {pk: windows[pk] for pk in with_excluded},
                end=end,
                excluded=excluded,
                timeslices=timeslices,
            )
        )
    return aggregates


# What a kept row of sums was summed for begins with the shape of `Sums`: a release that
# changes the spans reads none of the rows an earlier one kept.
_SUMS_SHAPE = ",".join(str(int(span.total_seconds())) for span in SPANS)


def _sums_key(
    window: Window, *, end: datetime, excluded: set[datetime] | None, timeslices: bool
) -> str:
    """What an SLO's sums depend on besides its rows (slos/registry/budget_sums.py): the
    spans, the hour its window ends and where it starts, whether it counts slices, and
    its excluded hours within the hours it reads."""
    key = f"{_SUMS_SHAPE}|{end.isoformat()}|{window.start.isoformat()}|{'s' if timeslices else 'e'}"
    if excluded:
        first = min(window.start, end - WEEK)
        hours = sorted(hour for hour in excluded if hour >= first)
        if hours:
            digest = hashlib.blake2b(
                "|".join(hour.isoformat() for hour in hours).encode(), digest_size=12
            )
            key += f"|{digest.hexdigest()}"
    return key


def _with_budgets(
    slo_list: list[SLO], *, at: datetime, keep_all: bool = False
) -> list[SLOWithBudget]:
    """Each SLO of `slo_list` with its budget as of `at`: its exclusions in one query; on
    PostgreSQL its sums kept from an earlier read (slos/registry/budget_sums.py), and
    for SLOs with none good, their sums in one query (day rows and the hours around
    them), one more for SLOs with excluded hours, and one keeping them (all of them with
    `keep_all`, else a page's share); on SQLite, the sums of the hours in one query."""
    if not slo_list:
        return []
    end = align_to_hour(at)
    windows = {slo.id: slo_window(slo, at=at) for slo in slo_list}
    span_start = min([end - WEEK, *(window.start for window in windows.values())])
    intervals = exclusion_intervals(slo_list, start=span_start, end=end)
    span = Window(start=span_start, end=end, length=end - span_start)
    excluded = {pk: excluded_hours(span, found) for pk, found in intervals.items()}
    excluded = {pk: hours for pk, hours in excluded.items() if hours}
    timeslices = {slo.id for slo in slo_list if slo.uses_timeslices}

    if connection.vendor == "postgresql":
        # SLOs with the same window share its key (a thousand SLOs, a few windows).
        shared_keys: dict[tuple[int, bool], str] = {}

        def key_of(pk: int) -> str:
            window, sliced = windows[pk], pk in timeslices
            if pk in excluded:
                return _sums_key(window, end=end, excluded=excluded[pk], timeslices=sliced)
            found = shared_keys.get((id(window), sliced))
            if found is None:
                found = _sums_key(window, end=end, excluded=None, timeslices=sliced)
                shared_keys[(id(window), sliced)] = found
            return found

        aggregates = kept_or_summed(
            {pk: key_of(pk) for pk in windows},
            summed=lambda ids: _summed(
                {pk: windows[pk] for pk in ids}, end=end, excluded=excluded, timeslices=timeslices
            ),
            empty=NO_SUMS,
            keep_at_most=None if keep_all else PAGE_KEEPS_AT_MOST,
        )
    else:
        aggregates = _hourly_aggregates(windows, end=end, excluded=excluded, timeslices=timeslices)

    # Where each span's sums sit in a row of `Sums`.
    at_span = {span: 4 + 3 * index for index, span in enumerate(SPANS)}
    day_at, week_at = at_span[DAY], at_span[WEEK]
    burn_at = [(span, at_span[span]) for span in BURN_SPANS]
    # What SLOs share (a team's line, a target, a window) is worked out once.
    at_risk: dict[int, float] = {}
    fractions: dict[object, float] = {}
    hours_of = {id(window): window.hours for window in windows.values()}
    result = []
    for slo in slo_list:
        window = windows[slo.id]
        sums = aggregates.get(slo.id, NO_SUMS)
        in_window_excluded = 0
        if slo.id in excluded:
            in_window_excluded = sum(1 for hour in excluded[slo.id] if hour >= window.start)
        team = slo.service.team
        if team.id not in at_risk:
            at_risk[team.id] = float(team.budget_at_risk_below) / 100
        if slo.target not in fractions:
            fractions[slo.target] = slo.target_fraction
        target = fractions[slo.target]
        # The burn table reads rates only: worked out here from the plain sums
        # (slos.budget.burn_rate), as a thousand SLOs' sums need no objects of their own.
        error_budget = 1 - target
        burn_rates = {
            span: (1 - sums[index] / sums[index + 1]) / error_budget
            if sums[index + 1] > 0
            else None
            for span, index in burn_at
        }
        budget = compute_budget(
            WindowTotals(sums[0], sums[1], sums[2], hours_of[id(window)] - in_window_excluded),
            target=target,
            window=window.length,
            at_risk_below=at_risk[team.id],
            last_day=WindowTotals(sums[day_at], sums[day_at + 1], sums[day_at + 2], 24),
            last_week=WindowTotals(sums[week_at], sums[week_at + 1], sums[week_at + 2], 24 * 7),
            burn_rates=burn_rates,
            excluded_hours=in_window_excluded,
            data_error=sums[3] > 0,
        )
        result.append(SLOWithBudget(slo, budget, window))
    return result


User = get_user_model()

# The foreign keys an SLO list follows, and the model at the end of each.
_RELATED = {"service": Service, "service__team": Team, "data_source": DataSource, "owner": User}


def _columns(model, left_out: Iterable[str] = ()) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.name not in left_out]


@cache
def _page_columns() -> dict[str, list[str]]:
    """What SLOQuerySet.for_page() reads: every column of the SLO, its service, team,
    data source and owner, less the secrets it leaves behind."""
    return {
        "": _columns(SLO),
        "service": _columns(Service),
        "service__team": _columns(Team, ["slack_webhook_url"]),
        "data_source": _columns(DataSource, ["bearer_token", "basic_password", "extra_headers"]),
        "owner": _columns(User),
    }


# What the SLO list filters, orders and draws an SLO by, and what its budget needs: the
# list reads every SLO of the user's teams, and draws a page of them.
_LIST_COLUMNS = {
    "": [
        "id",
        "service_id",
        "name",
        "target",
        "budgeting_method",
        *sorted(WINDOW_FIELDS),
        "provisional",
        "labels",
        "retired_at",
    ],
    "service": ["id", "team_id", "name"],
    "service__team": ["id", "name", "slug", "time_zone", "budget_at_risk_below"],
}


def _sharing_related(slos: QuerySet[SLO], columns: dict[str, list[str]]) -> list[SLO]:
    """The SLOs of the queryset, in its order, with the `columns` of each (by the foreign
    key that leads to them, "" for the SLO's own; the others deferred), in one query.
    Each service, team, source and owner is built once and shared by its SLOs, where
    select_related builds one per row: a thousand SLOs of one team made a thousand
    copies of it."""
    names, spans, start = [], {}, 0
    for path, found in columns.items():
        names.extend(f"{path}__{name}" if path else name for name in found)
        spans[path] = (start, start + len(found))
        start += len(found)
    built: dict[str, dict[object, object]] = {path: {} for path in spans}
    db = slos.db

    def shared(path: str, row: tuple):
        first, last = spans[path]
        pk = row[first]
        if pk is None:
            return None
        found = built[path].get(pk)
        if found is None:
            found = _RELATED[path].from_db(db, columns[path], row[first:last])
            built[path][pk] = found
            if path == "service":
                Service.team.field.set_cached_value(found, shared("service__team", row))
        return found

    first, last = spans[""]
    setters = [
        (getattr(SLO, path).field.set_cached_value, path)
        for path in ("service", "data_source", "owner")
        if path in columns
    ]
    result = []
    for row in slos.values_list(*names):
        slo = SLO.from_db(db, columns[""], row[first:last])
        for setter, path in setters:
            setter(slo, shared(path, row))
        result.append(slo)
    return result


def slos_for_page(slos: QuerySet[SLO]) -> list[SLO]:
    """The SLOs of the queryset as `for_page()` loads them (with their service, team,
    data source and owner), in its order, in one query; each service, team, source and
    owner built once."""
    return _sharing_related(slos, _page_columns())


def slos_for_list(slos: QuerySet[SLO]) -> list[SLO]:
    """The SLOs of the queryset by team, service and name, with only what the SLO list
    filters, orders and draws them by and what their budgets need (the rest deferred),
    in one query."""
    return _sharing_related(
        slos.order_by("service__team__name", "service__name", "name"), _LIST_COLUMNS
    )


def slos_budgeted(slo_list: list[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """The budgets of SLOs already read (by `slos_for_list`, say), in their order: two
    queries, three when some have excluded hours."""
    return _with_budgets(slo_list, at=at)


def slos_with_budgets(slos: QuerySet[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """Every SLO of the queryset with its budget as of `at`, with what a list shows
    beside it, in a fixed number of queries."""
    return _with_budgets(
        slos_for_page(slos.order_by("service__team__name", "service__name", "name")), at=at
    )


def slo_budgets(slo_ids: Iterable[int], *, at: datetime) -> dict[int, Budget]:
    """The budgets of these SLOs as of `at`, by id, for a page that shows budgets of
    SLOs it names elsewhere (a backlog ranks thousands of items on hundreds of SLOs):
    only what a budget needs is read of each SLO."""
    slos = SLO.objects.filter(pk__in=list(slo_ids)).for_budgets()
    return {row.slo.pk: row.budget for row in _with_budgets(list(slos), at=at)}


def budgets_read_ahead(*, at: datetime, source_id: int | None = None, batch: int = 2_000) -> int:
    """Read the budget of every active SLO as of `at` (of one data source's, after its
    pull), a batch at a time, so that the pages of the hour find their sums kept
    (slos/registry/budget_sums.py) and do not sum them: run as each hour begins and
    after a pull has stored rows. How many SLOs were read; none on SQLite, where nothing
    is kept."""
    if connection.vendor != "postgresql":
        return 0
    slos = SLO.objects.active()
    if source_id is not None:
        slos = slos.filter(data_source_id=source_id)
    ids = list(slos.order_by("pk").values_list("pk", flat=True))
    for first in range(0, len(ids), batch):
        chunk = SLO.objects.filter(pk__in=ids[first : first + batch]).for_budgets()
        _with_budgets(list(chunk), at=at, keep_all=True)
    return len(ids)


def slo_with_budget(slo_id: int, *, at: datetime) -> SLOWithBudget:
    return slos_with_budgets(SLO.objects.filter(pk=slo_id), at=at)[0]


def slo_monthly_history(slo: SLO, *, at: datetime, months: int = 12) -> list[MonthCompliance]:
    """Compliance per calendar month (team time zone), the current month included."""
    zone = ZoneInfo(slo.service.team.time_zone)
    first = month_starts(at, time_zone=slo.service.team.time_zone, months=months)[-1]
    start = align_to_hour(datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC))
    end = align_to_hour(at)
    window = Window(start=start, end=end, length=end - start)
    hours = excluded_hours(window, exclusion_intervals([slo], start=start, end=end).get(slo.pk, []))
    rows = HourlyBucket.objects.filter(slo=slo, hour__gte=start, hour__lt=end)
    if hours:
        rows = rows.exclude(hour__in=sorted(hours))
    good, valid = ("good_slices", "total_slices") if slo.uses_timeslices else ("good", "valid")
    per_month = (
        rows.annotate(month=TruncMonth("hour", tzinfo=zone))
        .values("month")
        .annotate(good=Sum(good), valid=Sum(valid))
        .order_by("month")
    )
    return monthly_compliance(
        [
            MonthTotals(
                month=row["month"].astimezone(zone).date()
                if isinstance(row["month"], datetime)
                else row["month"],
                good=float(row["good"] or 0),
                valid=float(row["valid"] or 0),
            )
            for row in per_month
        ],
        target=slo.target_fraction,
    )


# The SLO page. Everything it shows is read here in a fixed number of queries, whatever
# the number of hours, annotations, reviews or policy steps.


@dataclass(frozen=True)
class DayTotals:
    """One day (team time zone) of the window; hours with no data are not counted."""

    day: date
    good: float
    valid: float
    hours_with_data: int
    hours: int

    @property
    def sli(self) -> float | None:
        return self.good / self.valid if self.valid > 0 else None


@dataclass(frozen=True)
class SLOWindowData:
    """The SLO's window as the page draws it: the hourly rows (excluded hours left out),
    the same rows per day, the hours without data, and the annotations in the window.
    The sums are the ones `slos_with_budgets` makes, so a budget at any other target is
    `budget_at(target)` with nothing read again."""

    window: Window
    rows: list[HourRow]
    totals: WindowTotals
    last_day: WindowTotals
    last_week: WindowTotals
    excluded_hours: int
    data_error: bool
    days: list[DayTotals]
    no_data: list[tuple[datetime, datetime]]
    annotations: list[Annotation]
    recent: dict[timedelta, WindowTotals]  # the burn table's windows (BURN_SPANS)

    @property
    def silent_hours(self) -> int | None:
        """Hours since the last hour with data, up to the window's end; None if none."""
        if not self.rows:
            return None
        return int((self.window.end - (self.rows[-1].hour + HOUR)) / HOUR)

    def budget_at(self, target: float, *, at_risk_below: float) -> Budget:
        return compute_budget(
            self.totals,
            target=target,
            window=self.window.length,
            at_risk_below=at_risk_below,
            last_day=self.last_day,
            last_week=self.last_week,
            recent=self.recent,
            excluded_hours=self.excluded_hours,
            data_error=self.data_error,
        )


def annotation_scope(slo: SLO) -> Q:
    """Annotations shown on the SLO: on it, on its service or on its whole team."""
    return (
        Q(slo=slo)
        | Q(slo__isnull=True, service_id=slo.service_id)
        | Q(slo__isnull=True, service__isnull=True, team_id=slo.service.team_id)
    )


def slo_annotations(slo: SLO, *, start: datetime, end: datetime) -> list[Annotation]:
    """Annotations overlapping [start, end) on the SLO, its service or its whole team,
    oldest first. One query."""
    return list(
        Annotation.objects.filter(
            annotation_scope(slo), starts_at__lt=end, ends_at__gt=start
        ).order_by("starts_at", "pk")
    )


def _runs(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hour starts merged into [start, end) intervals."""
    runs: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + HOUR)
        else:
            runs.append((hour, hour + HOUR))
    return runs


def slo_window_data(slo: SLO, *, at: datetime) -> SLOWindowData:
    """The SLO's window as of `at`, for the charts and the what-if. Two queries: the
    annotations, then the hourly rows of the window (and of the last week, which a
    short or calendar window may not hold)."""
    window = slo_window(slo, at=at)
    end = window.end
    span_start = min(window.start, end - WEEK)
    annotations = slo_annotations(slo, start=span_start, end=end)
    span = Window(start=span_start, end=end, length=end - span_start)
    excluded = excluded_hours(
        span, [(note.starts_at, note.ends_at) for note in annotations if note.excluded]
    )
    values = (
        HourlyBucket.objects.filter(slo=slo, hour__gte=span_start, hour__lt=end)
        .order_by("hour")
        .values_list("hour", "good", "valid", "good_slices", "total_slices")
    )
    rows: list[HourRow] = []
    in_window: list[HourRow] = []
    data_error = False
    for hour, good, valid, good_slices, total_slices in values:
        if hour in excluded:
            continue
        row = (
            HourRow(hour, float(good_slices), float(total_slices))
            if slo.uses_timeslices
            else HourRow(hour, float(good), float(valid))
        )
        rows.append(row)
        if hour >= window.start:
            in_window.append(row)
            data_error = data_error or good > valid

    def totals(since: datetime, hours_in_window: int) -> WindowTotals:
        chosen = [row for row in rows if row.hour >= since]
        return WindowTotals(
            good=sum(row.good for row in chosen),
            valid=sum(row.valid for row in chosen),
            hours_with_data=len(chosen),
            hours_in_window=hours_in_window,
        )

    excluded_in_window = sum(1 for hour in excluded if hour >= window.start)
    zone = ZoneInfo(slo.service.team.time_zone)
    with_data = {row.hour for row in in_window}
    window_hours = [window.start + HOUR * index for index in range(window.hours)]
    by_day: dict[date, list[HourRow]] = defaultdict(list)
    hours_per_day: dict[date, int] = defaultdict(int)
    for hour in window_hours:
        if hour not in excluded:
            hours_per_day[hour.astimezone(zone).date()] += 1
    for row in in_window:
        by_day[row.hour.astimezone(zone).date()].append(row)
    days = [
        DayTotals(
            day=day,
            good=sum(row.good for row in by_day[day]),
            valid=sum(row.valid for row in by_day[day]),
            hours_with_data=len(by_day[day]),
            hours=hours,
        )
        for day, hours in sorted(hours_per_day.items())
    ]
    missing = [hour for hour in window_hours if hour not in with_data and hour not in excluded]
    return SLOWindowData(
        window=window,
        rows=in_window,
        totals=totals(window.start, window.hours - excluded_in_window),
        last_day=totals(end - DAY, 24),
        last_week=totals(end - WEEK, 24 * 7),
        excluded_hours=excluded_in_window,
        data_error=data_error,
        days=days,
        no_data=_runs(missing),
        annotations=[note for note in annotations if note.ends_at > window.start],
        recent={span: totals(end - span, span // HOUR) for span in BURN_SPANS},
    )


def month_starts(at: datetime, *, time_zone: str, months: int = 12) -> list[date]:
    """The first days of the last `months` calendar months in the zone, newest first."""
    local = at.astimezone(ZoneInfo(time_zone))
    index = local.year * 12 + local.month - 1
    return [date((index - back) // 12, (index - back) % 12 + 1, 1) for back in range(months)]


def slo_history_rows(slo: SLO, *, at: datetime, months: int = 12) -> list[MonthCompliance]:
    """`slo_monthly_history` with every month present, newest first: a month without
    data is a row with no SLI (no data, never met)."""
    found = {item.month: item for item in slo_monthly_history(slo, at=at, months=months)}
    return [
        found.get(month) or MonthCompliance(month, 0.0, 0.0, None, None, None)
        for month in month_starts(at, time_zone=slo.service.team.time_zone, months=months)
    ]


def slo_last_run(slo: SLO) -> PullRun | None:
    """The latest pull that touched the SLO: one of its own (backfill, pull now) or one
    of its whole source (nightly)."""
    if not slo.data_source_id:
        return None
    return PullRun.objects.filter(
        Q(slo=slo) | Q(data_source_id=slo.data_source_id, slo__isnull=True)
    ).first()


def slo_pull_waiting(slo: SLO) -> bool:
    """Whether a pull of the SLO (its backfill, a pull now) waits for the broker."""
    return PullRun.objects.filter(slo=slo, status=PullStatus.QUEUED).exists()


def team_pulls_waiting(team: Team) -> int:
    """How many pulls of the team's sources wait for the broker."""
    return PullRun.objects.filter(data_source__team=team, status=PullStatus.QUEUED).count()


@dataclass(frozen=True)
class SLOPage:
    budget: SLOWithBudget
    data: SLOWindowData
    history: list[MonthCompliance]
    policy_steps: list[BudgetPolicyStep]
    reviews: list[SLOReview]
    last_run: PullRun | None


def slo_page(slo: SLO, *, at: datetime, reviews: int = 5) -> SLOPage:
    """Everything the SLO page reads. `slo` comes with its service, team and data source
    loaded; the owner is read here. A fixed number of queries."""
    budget = slo_with_budget(slo.pk, at=at)
    return SLOPage(
        budget=budget,
        data=slo_window_data(budget.slo, at=at),
        history=slo_history_rows(budget.slo, at=at),
        policy_steps=list(BudgetPolicyStep.objects.filter(slo=slo).order_by("-below_percent")),
        reviews=list(
            SLOReview.objects.filter(slo=slo)
            .select_related("reviewed_by")
            .order_by("-reviewed_at")[:reviews]
        ),
        last_run=slo_last_run(slo),
    )


# The registry's write pages: what they list beside their forms.


def slo_review_history(slo: SLO) -> QuerySet[SLOReview]:
    """Every review of the SLO with its reviewer, in the model's order."""
    return SLOReview.objects.filter(slo=slo).select_related("reviewed_by")


def slo_annotations_latest(slo: SLO, *, limit: int) -> QuerySet[Annotation]:
    """The latest annotations shown on the SLO (its own, its service's, its team's)."""
    return (
        Annotation.objects.filter(annotation_scope(slo)).for_list().order_by("-starts_at")[:limit]
    )


def team_annotations_since(team: Team, *, since: datetime, limit: int) -> QuerySet[Annotation]:
    """The team's annotations still running or ended after `since`, latest first."""
    return (
        Annotation.objects.filter(team=team, ends_at__gte=since)
        .for_list()
        .order_by("-starts_at")[:limit]
    )


def team_slos_due_for_review(team: Team, *, on: date) -> QuerySet[SLO]:
    """The team's SLOs due for review on `on` or before, most overdue first, each with
    the time of its last review (`last_reviewed_at`). One query."""
    last_review = SLOReview.objects.filter(slo=OuterRef("pk")).order_by("-reviewed_at")
    return (
        SLO.objects.filter(service__team=team)
        .due_for_review(on)
        .select_related("service", "owner")
        .annotate(last_reviewed_at=Subquery(last_review.values("reviewed_at")[:1]))
        .order_by("next_review_on", "service__name", "name")
    )


def team_slos(team: Team) -> QuerySet[SLO]:
    """The team's SLOs with their services, by service and name."""
    return (
        SLO.objects.filter(service__team=team)
        .select_related("service")
        .order_by("service__name", "name")
    )


# The home overview (portal/overview.py): what it reads of the registry for every team
# of a user at once.


def slo_hourly_counts(
    slos: list[SLO], *, start: datetime, end: datetime
) -> dict[int, dict[datetime, tuple[float, float]]]:
    """Each SLO's hours in [start, end) as (good, valid): events, or timeslices for a
    Timeslices SLO, as its budget counts them; hours of excluded maintenance left out
    (no data, as in the budget). Two queries for any number of SLOs, none for none."""
    if not slos:
        return {}
    intervals = exclusion_intervals(slos, start=start, end=end)
    span = Window(start=start, end=end, length=end - start)
    excluded = {pk: excluded_hours(span, found) for pk, found in intervals.items()}
    slices = {slo.pk for slo in slos if slo.uses_timeslices}
    found: dict[int, dict[datetime, tuple[float, float]]] = {slo.pk: {} for slo in slos}
    rows = HourlyBucket.objects.filter(
        slo_id__in=list(found), hour__gte=start, hour__lt=end
    ).values_list("slo_id", "hour", "good", "valid", "good_slices", "total_slices")
    for slo_id, hour, good, valid, good_slices, total_slices in rows:
        if hour in excluded.get(slo_id, ()):
            continue
        if slo_id in slices:
            found[slo_id][hour] = (float(good_slices), float(total_slices))
        else:
            found[slo_id][hour] = (float(good), float(valid))
    return found


def teams_slos_due_for_review(
    teams: list[Team], *, at: datetime, first: int
) -> dict[int, tuple[list[SLO], int]]:
    """Per team id: its first `first` SLOs due for review by its own today (most overdue
    first, with their services), and how many are due in all. One query, whatever the
    number of teams and SLOs; none for no teams."""
    if not teams:
        return {}
    due = Q()
    for team in teams:
        today = at.astimezone(ZoneInfo(team.time_zone)).date()
        due |= Q(service__team=team, next_review_on__lte=today)
    order = [F("next_review_on").asc(), F("service__name").asc(), F("name").asc(), F("pk").asc()]
    rows = (
        SLO.objects.filter(due)
        .select_related("service")
        .annotate(
            place=Over(RowNumber(), partition_by=[F("service__team_id")], order_by=order),
            due_count=Over(Count("pk"), partition_by=[F("service__team_id")]),
        )
        .filter(place__lte=first)
        .order_by("service__team_id", "place")
    )
    found: dict[int, tuple[list[SLO], int]] = {}
    for slo in rows:
        listed, _count = found.get(slo.service.team_id, ([], 0))
        listed.append(slo)
        found[slo.service.team_id] = (listed, slo.due_count)
    return found
