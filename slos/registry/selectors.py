"""Reads: SLOs with their budgets, computed from sums of hourly rows.

Every budget is a sum of rows: one query lists the SLOs, one finds the maintenance
exclusions, one aggregates the rows of every SLO at once. The number of queries does
not depend on the number of SLOs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
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
    Annotation,
    BudgetPolicyStep,
    DailyBucket,
    HourlyBucket,
    PullRun,
    PullStatus,
    SLOReview,
    WindowKind,
)

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
    annotations = Annotation.objects.filter(
        Q(slo__in=slos)
        | Q(slo__isnull=True, service__in={slo.service_id for slo in slos})
        | Q(slo__isnull=True, service__isnull=True, team__in={slo.service.team_id for slo in slos}),
        excluded=True,
        starts_at__lt=end,
        ends_at__gt=start,
    ).values_list("slo_id", "service_id", "team_id", "starts_at", "ends_at")
    by_slo: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    annotations = list(annotations)
    for slo in slos:
        for slo_id, service_id, team_id, starts_at, ends_at in annotations:
            if (
                slo_id == slo.pk
                or (slo_id is None and service_id == slo.service_id)
                or (slo_id is None and service_id is None and team_id == slo.service.team_id)
            ):
                by_slo[slo.pk].append((starts_at, ends_at))
    return by_slo


# The sums read beside each window: the last day and week (the burn rates a page
# shows), and every other window of the burn table (slos.budget.BURN_SPANS), whose
# hours are not counted.
RECENT = {"day": DAY, "week": WEEK}
BURN_ONLY = {f"burn_{span // HOUR}h": span for span in BURN_SPANS if span not in RECENT.values()}


BURN_PREFIXES = {span: prefix for prefix, span in {**BURN_ONLY, **RECENT}.items()}


def _sums(prefix: str, condition: Q, *, hours: bool = True, day_rows: bool = False) -> dict:
    """The sums of the rows `condition` keeps, named after `prefix`; with `hours`, also
    how many hours had a row (over DailyBucket, `day_rows`: each day row counts its own)."""
    sums = {
        f"{prefix}_good": Sum("good", filter=condition),
        f"{prefix}_valid": Sum("valid", filter=condition),
        f"{prefix}_good_slices": Sum("good_slices", filter=condition),
        f"{prefix}_total_slices": Sum("total_slices", filter=condition),
    }
    if hours:
        counted = Sum("hours", filter=condition) if day_rows else Count("hour", filter=condition)
        sums[f"{prefix}_hours"] = counted
    return sums


def _totals(slo: SLO, row: dict, prefix: str, hours_in_window: int) -> WindowTotals:
    if slo.uses_timeslices:
        good, valid = row.get(f"{prefix}_good_slices"), row.get(f"{prefix}_total_slices")
    else:
        good, valid = row.get(f"{prefix}_good"), row.get(f"{prefix}_valid")
    return WindowTotals(
        good=float(good or 0),
        valid=float(valid or 0),
        hours_with_data=row.get(f"{prefix}_hours") or 0,
        hours_in_window=hours_in_window,
    )


def _by_start(windows: dict[int, Window], condition) -> Q:
    """`condition(start)` for each SLO by its window's start: one term when all SLOs
    share a start (a team's rolling windows of one length)."""
    by_start: dict[datetime, list[int]] = defaultdict(list)
    for pk, window in windows.items():
        by_start[window.start].append(pk)
    if len(by_start) == 1:
        return condition(next(iter(by_start)))
    found = Q()
    for start, ids in by_start.items():
        found |= Q(slo_id__in=ids) & condition(start)
    return found


def _hourly_aggregates(
    windows: dict[int, Window], *, end: datetime, excluded: dict[int, set[datetime]]
) -> dict[int, dict]:
    """The window, last day and last week sums of each SLO, from its hourly rows, less
    its excluded hours. One query."""
    span_start = min([end - WEEK, *(window.start for window in windows.values())])
    in_window = _by_start(windows, lambda start: Q(hour__gte=start))
    rows = HourlyBucket.objects.filter(slo_id__in=list(windows), hour__gte=span_start, hour__lt=end)
    for pk, hours in excluded.items():
        if hours:
            rows = rows.exclude(slo_id=pk, hour__in=sorted(hours))
    return {
        row["slo_id"]: row
        for row in rows.values("slo_id").annotate(
            **_sums("window", in_window),
            **{
                k: v
                for p, span in RECENT.items()
                for k, v in _sums(p, Q(hour__gte=end - span)).items()
            },
            **{
                k: v
                for p, span in BURN_ONLY.items()
                for k, v in _sums(p, Q(hour__gte=end - span), hours=False).items()
            },
            window_errors=Count("hour", filter=in_window & Q(good__gt=F("valid"))),
        )
    }


def _midnight_after(moment: datetime) -> datetime:
    """The first UTC midnight at or after `moment`."""
    midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == moment else midnight + DAY


def _midnight_before(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _split(start: datetime, end: datetime) -> tuple[Q, Q | None]:
    """[start, end) as hourly rows and day rows: the whole UTC days inside it from
    DailyBucket, the ragged ends from the hourly rows (the hourly query holds hour < end).
    No day rows for a span without a whole day."""
    first, last = _midnight_after(start), _midnight_before(end)
    if first >= last:
        return Q(hour__gte=start), None
    return Q(hour__gte=start, hour__lt=first) | Q(hour__gte=last), Q(
        day__gte=first.date(), day__lt=last.date()
    )


def _rolled_up_aggregates(windows: dict[int, Window], *, end: datetime) -> dict[int, dict]:
    """The same sums as `_hourly_aggregates` (SLOs without excluded hours), from day
    rows and the hours around them: two queries, reading about a sixth of the rows."""
    starts = {start: _split(start, end) for start in {w.start for w in windows.values()}}
    spans = {prefix: _split(end - span, end) for prefix, span in {**RECENT, **BURN_ONLY}.items()}
    nothing = Q(pk__in=[])
    window_hours = _by_start(windows, lambda start: starts[start][0])
    window_days = _by_start(windows, lambda start: starts[start][1] or nothing)
    hourly_terms = {"window": window_hours, **{p: split[0] for p, split in spans.items()}}
    daily_terms = {"window": window_days, **{p: split[1] or nothing for p, split in spans.items()}}
    span_start = min([end - WEEK, *(window.start for window in windows.values())])
    hourly = HourlyBucket.objects.filter(
        slo_id__in=list(windows), hour__gte=span_start, hour__lt=end
    )
    hourly = hourly.filter(reduce(or_, hourly_terms.values()))
    daily = DailyBucket.objects.filter(
        slo_id__in=list(windows), day__gte=span_start.date(), day__lt=_midnight_before(end).date()
    )
    # One query: the two sums side by side (UNION ALL, the same columns in the same
    # order), added up here.
    rows = hourly.values("slo_id").annotate(
        **{
            k: v
            for prefix, term in hourly_terms.items()
            for k, v in _sums(prefix, term, hours=prefix not in BURN_ONLY).items()
        },
        window_errors=Count("hour", filter=window_hours & Q(good__gt=F("valid"))),
    )
    rows = rows.union(
        daily.values("slo_id").annotate(
            **{
                k: v
                for prefix, term in daily_terms.items()
                for k, v in _sums(
                    prefix, term, hours=prefix not in BURN_ONLY, day_rows=True
                ).items()
            },
            window_errors=Sum("error_hours", filter=window_days),
        ),
        all=True,
    )
    # Sent as SQL, read as plain rows: Django's converters for 40 aggregate columns of
    # 2,000 rows cost as much as the sums themselves, and these need none.
    sql, params = rows.query.sql_with_params()
    found: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            into = found.setdefault(row["slo_id"], {})
            for key, value in row.items():
                if value is not None:
                    into[key] = into[key] + value if key in into and key != "slo_id" else value
    return found


def _with_budgets(slo_list: list[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """Each SLO of `slo_list` with its budget as of `at`: its exclusions in one query,
    its sums in one (day rows and the hours around them, on PostgreSQL) and one more
    for SLOs with excluded hours."""
    if not slo_list:
        return []
    end = align_to_hour(at)
    windows = {slo.pk: slo_window(slo, at=at) for slo in slo_list}
    span_start = min([end - WEEK, *(window.start for window in windows.values())])
    intervals = exclusion_intervals(slo_list, start=span_start, end=end)
    span = Window(start=span_start, end=end, length=end - span_start)
    excluded = {pk: excluded_hours(span, found) for pk, found in intervals.items()}
    excluded = {pk: hours for pk, hours in excluded.items() if hours}

    if connection.vendor == "postgresql":
        aggregates = (
            _rolled_up_aggregates(
                {pk: window for pk, window in windows.items() if pk not in excluded}, end=end
            )
            if len(excluded) < len(windows)
            else {}
        )
        if excluded:
            aggregates.update(
                _hourly_aggregates({pk: windows[pk] for pk in excluded}, end=end, excluded=excluded)
            )
    else:
        aggregates = _hourly_aggregates(windows, end=end, excluded=excluded)

    result = []
    for slo in slo_list:
        window = windows[slo.pk]
        row = aggregates.get(slo.pk, {})
        hours_excluded = excluded.get(slo.pk, set())
        in_window_excluded = sum(1 for hour in hours_excluded if hour >= window.start)
        budget = compute_budget(
            _totals(slo, row, "window", window.hours - in_window_excluded),
            target=slo.target_fraction,
            window=window.length,
            at_risk_below=float(slo.service.team.budget_at_risk_below) / 100,
            last_day=_totals(slo, row, "day", 24),
            last_week=_totals(slo, row, "week", 24 * 7),
            recent={
                span: _totals(slo, row, BURN_PREFIXES[span], span // HOUR) for span in BURN_SPANS
            },
            excluded_hours=in_window_excluded,
            data_error=bool(row.get("window_errors")),
        )
        result.append(SLOWithBudget(slo, budget, window))
    return result


def slos_with_budgets(slos: QuerySet[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """Every SLO of the queryset with its budget as of `at`, with what a list shows
    beside it, in a fixed number of queries."""
    return _with_budgets(
        list(slos.for_page().order_by("service__team__name", "service__name", "name")), at=at
    )


def slo_budgets(slo_ids: Iterable[int], *, at: datetime) -> dict[int, Budget]:
    """The budgets of these SLOs as of `at`, by id, for a page that shows budgets of
    SLOs it names elsewhere (a backlog ranks thousands of items on hundreds of SLOs):
    only what a budget needs is read of each SLO."""
    slos = SLO.objects.filter(pk__in=list(slo_ids)).for_budgets()
    return {row.slo.pk: row.budget for row in _with_budgets(list(slos), at=at)}


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


def budgets_of(slos: Iterable[SLO], *, at: datetime) -> list[SLOWithBudget]:
    """Each SLO with its budget as of `at`, in the order given, for SLOs the caller
    loaded with only what it shows: at least what `SLO.objects.for_budgets()` reads.
    Home reads a thousand SLOs' budgets and names, not their sources, owners and labels,
    and loading those was a third of its time."""
    return _with_budgets(list(slos), at=at)


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
