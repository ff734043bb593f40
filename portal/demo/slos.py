"""The demo's services and SLOs with 90 days of hourly data (two incidents), their
registry (owners, a review, budget policies, annotations) and the pulls that stored the
data: nightly runs, one partial, one failed and caught up the next night, and a
"pull now" a moment ago, so the data source shows its last success."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from portal.demo.base import Demo
from portal.weeks import week_monday
from slos.budget import HOUR, align_to_hour
from slos.ingestion.planning import SLOPullOutcome
from slos.models import (
    SLO,
    AnnotationKind,
    DataSource,
    DataSourceKind,
    HourlyBucket,
    PullRun,
    PullStatus,
    PullTrigger,
    Service,
)
from slos.registry.services import (
    PolicyStep,
    annotation_create,
    policy_steps_replace,
    slo_review_record,
)

DAYS = 90
NIGHTS_OF_PULLS = 14
PROMETHEUS_URL = "http://127.0.0.1:9090"
# The nightly pull (settings.NIGHTLY_PULL_CRON's default: 02:00 UTC).
NIGHTLY_HOUR_UTC = 2


@dataclass(frozen=True)
class DemoService:
    name: str
    openslo_name: str
    description: str


DEMO_SERVICES = [
    DemoService(
        "Clock-in API",
        "clock-in-api",
        "Takes every clock-in and clock-out from the tablets by the door and the phone app.",
    ),
    DemoService(
        "Payroll export",
        "payroll-export",
        "Builds the monthly bank transfer files and uploads them to the bank's SFTP.",
    ),
    DemoService(
        "Admin console",
        "admin-console",
        "Where the customers' HR admins fix shifts, approve overtime and run reports.",
    ),
]


@dataclass(frozen=True)
class DemoSLO:
    key: str  # also its OpenSLO name: the label its alerting rules carry
    service: str
    name: str
    why: str
    good_query: str
    valid_query: str
    target: str
    peak_requests: int
    base_error_ratio: float
    owner: str


DEMO_SLOS = [
    DemoSLO(
        "clock-ins-succeed",
        "Clock-in API",
        "Clock-ins succeed",
        "Hearing: a failed clock-in at 9:00 means a support call and a manual correction "
        "by the customer's HR. Nobody minds a slow admin page; everybody minds this.",
        'sum(increase(http_requests_total{job="clockin",code!~"5.."}[$window]))',
        'sum(increase(http_requests_total{job="clockin"}[$window]))',
        "99.9",
        60_000,
        0.0003,
        "dev",
    ),
    DemoSLO(
        "clock-ins-fast",
        "Clock-in API",
        "Clock-ins answer within 500 ms",
        "Hearing: staff queue at the tablet by the door; beyond half a second they tap twice.",
        'sum(increase(http_request_duration_seconds_bucket{job="clockin",le="0.5"}[$window]))',
        'sum(increase(http_request_duration_seconds_count{job="clockin"}[$window]))',
        "99",
        60_000,
        0.004,
        "dev",
    ),
    DemoSLO(
        "payroll-exports-complete",
        "Payroll export",
        "Payroll exports complete",
        "Hearing: the bank transfer file must be ready by the 25th; a failed export is "
        "found by the customer's accountant, late at night.",
        'sum(increase(payroll_export_jobs_total{result="success"}[$window]))',
        "sum(increase(payroll_export_jobs_total[$window]))",
        # Tightened to 99.5 at a review a month ago (demo_registry).
        "99",
        400,
        0.001,
        "demo",
    ),
    DemoSLO(
        "admin-pages-load",
        "Admin console",
        "Admin pages load",
        "Hearing: HR admins use it daily but can retry; provisional until we hear more.",
        'sum(increase(http_requests_total{job="admin",code!~"5.."}[$window]))',
        'sum(increase(http_requests_total{job="admin"}[$window]))',
        "99",
        3_000,
        0.002,
        "demo",
    ),
]


# The clock-in outage: Monday of last week at the 9:00 rush (team time), between the two
# past retros, so the later one discusses it whatever the weekday today.
OUTAGE_LOCAL_TIME = time(9, 0)
OUTAGE_HOURS = 2


def clockin_outage_start(now: datetime, time_zone: str) -> datetime:
    monday = week_monday(now, time_zone) - timedelta(days=7)
    return datetime.combine(monday, OUTAGE_LOCAL_TIME, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def payroll_incident_start(now: datetime) -> datetime:
    """Start of the payroll export failure in the evening, six weeks ago."""
    return align_to_hour(now - timedelta(days=42)).replace(hour=15)


# A release three days ago left the admin console failing 2% of its requests: slow,
# but over three days fast enough for the burn table's slow ticket, so the home page has
# something burning now (and says when the budget runs out at this pace).
ADMIN_REGRESSION_HOURS = 72
ADMIN_REGRESSION_ERRORS = 0.02


@dataclass(frozen=True)
class Incidents:
    clockin_outage: datetime
    payroll_failure: datetime
    admin_regression: datetime

    def error_ratio(self, slo: DemoSLO, hour: datetime) -> float | None:
        """The clock-in outage (both clock-in SLOs), the payroll export failure and the
        admin console's regression."""
        outage = self.clockin_outage
        if slo.service == "Clock-in API" and outage <= hour < outage + OUTAGE_HOURS * HOUR:
            return 0.08 if slo.key == "clock-ins-succeed" else 0.3
        failure = self.payroll_failure
        if slo.service == "Payroll export" and failure <= hour < failure + 3 * HOUR:
            return 0.6
        if slo.service == "Admin console" and hour >= self.admin_regression:
            return ADMIN_REGRESSION_ERRORS
        return None


def hour_values(slo: DemoSLO, hour: datetime, incidents: Incidents) -> tuple[int, int]:
    rng = random.Random(f"{slo.name}|{hour.isoformat()}")
    local_hour = (hour.hour + 9) % 24  # the customers work on Japan time
    # Traffic peaks at the 9:00 and 18:00 clock-ins, little at night.
    shape = (
        0.05
        + math.exp(-((local_hour - 9) ** 2) / 2)
        + 0.8 * math.exp(-((local_hour - 18) ** 2) / 3)
    )
    if hour.weekday() >= 5:
        shape *= 0.2
    valid = max(1, int(slo.peak_requests * shape * rng.uniform(0.85, 1.15)))
    error_ratio = incidents.error_ratio(slo, hour) or slo.base_error_ratio * rng.uniform(0.2, 1.8)
    bad = min(valid, int(round(valid * error_ratio)))
    return valid - bad, valid


# What the team sorts its SLOs by: how bad a breach is, and the user journey.
DEMO_LABELS = {
    "clock-ins-succeed": {"tier": "critical", "journey": "clock-in"},
    "clock-ins-fast": {"tier": "critical", "journey": "clock-in"},
    "payroll-exports-complete": {"tier": "critical", "journey": "payroll"},
    "admin-pages-load": {"tier": "standard", "journey": "admin"},
}


def _slo_defaults() -> dict:
    """Every editable field of an SLO at its default: a rerun puts back whatever was
    edited in the demo since."""
    return {
        field.attname: field.get_default()
        for field in SLO._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in {"service", "name"}
    }


def demo_slos_build(demo: Demo) -> None:
    """The data source, services and SLOs, found by name (so their ids and links last
    from one run to the next) and set to the demo's definition."""
    team = demo.team
    demo.data_source, _ = DataSource.objects.update_or_create(
        team=team,
        name="Prometheus (demo)",
        defaults={
            "kind": DataSourceKind.PROMETHEUS,
            "url": PROMETHEUS_URL,
            "timeout_seconds": 10,
            "pull_lock_until": None,
            "last_success_at": None,
            "last_error": "",
        },
    )
    for spec in DEMO_SERVICES:
        demo.services[spec.name], _ = Service.objects.update_or_create(
            team=team,
            name=spec.name,
            defaults={"openslo_name": spec.openslo_name, "description": spec.description},
        )
    today = demo.now.astimezone(demo.zone).date()
    for spec in DEMO_SLOS:
        values = _slo_defaults() | {
            "data_source_id": demo.data_source.pk,
            "openslo_name": spec.key,
            "why": spec.why,
            "good_query": spec.good_query,
            "valid_query": spec.valid_query,
            "target": Decimal(spec.target),
            "window_days": 28,
            "provisional": spec.service == "Admin console",
            "labels": DEMO_LABELS[spec.key],
            "owner_id": demo.users[spec.owner].pk,
            "next_review_on": today + timedelta(days=60),
            "retired_at": None,
            "last_pull_at": None,
            "last_pull_status": "",
            "last_pull_error": "",
            "last_success_at": None,
        }
        demo.slos[spec.key], _ = SLO.objects.update_or_create(
            service=demo.services[spec.service], name=spec.name, defaults=values
        )
    # Anything else in the demo team is not the demo's: a rerun restores the demo.
    SLO.objects.filter(service__team=team).exclude(
        pk__in=[slo.pk for slo in demo.slos.values()]
    ).delete()
    Service.objects.filter(team=team).exclude(
        pk__in=[service.pk for service in demo.services.values()]
    ).delete()
    DataSource.objects.filter(team=team).exclude(pk=demo.data_source.pk).delete()


def demo_incidents(demo: Demo) -> Incidents:
    return Incidents(
        clockin_outage=clockin_outage_start(demo.now, demo.team.time_zone),
        payroll_failure=payroll_incident_start(demo.now),
        admin_regression=align_to_hour(demo.now) - ADMIN_REGRESSION_HOURS * HOUR,
    )


def demo_buckets_write(demo: Demo, incidents: Incidents) -> int:
    """90 days of hours up to the last complete one, for every SLO."""
    end = align_to_hour(demo.now)
    rows = []
    for spec in DEMO_SLOS:
        slo = demo.slos[spec.key]
        for index in range(DAYS * 24):
            hour = end - HOUR * (index + 1)
            good, valid = hour_values(spec, hour, incidents)
            rows.append(HourlyBucket(slo=slo, hour=hour, good=good, valid=valid))
    HourlyBucket.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def demo_registry_fill(demo: Demo, incidents: Incidents) -> None:
    """A past review (tightened the payroll SLO), an SLO due for review, error-budget
    policies for the clock-in SLOs, and annotations on the incidents."""
    now, users, slos = demo.now, demo.users, demo.slos
    slo_review_record(
        slo=slos["payroll-exports-complete"],
        user=users["demo"],
        decision="tighten",
        note="Exports have been clean for a quarter; accountants want more.",
        new_target=Decimal("99.5"),
        at=now - timedelta(days=30),
    )
    SLO.objects.filter(pk=slos["admin-pages-load"].pk).update(
        next_review_on=now.astimezone(demo.zone).date() - timedelta(days=3)
    )
    for key in ["clock-ins-succeed", "clock-ins-fast"]:
        policy_steps_replace(
            slo=slos[key],
            steps=[
                PolicyStep(
                    below_percent=Decimal("50"),
                    action="Raise it at the weekly retro; no risky migrations on Mondays.",
                ),
                PolicyStep(
                    below_percent=Decimal("0"),
                    action="Freeze feature releases of the clock-in API until the budget "
                    "recovers; the next sprint's reserved time goes to reliability.",
                    freezes_releases=True,
                ),
            ],
        )
    outage = incidents.clockin_outage
    payroll_day = incidents.payroll_failure
    maintenance = align_to_hour(now - timedelta(days=4)).replace(hour=17)
    annotation_create(
        team=demo.team,
        service=demo.services["Clock-in API"],
        kind=AnnotationKind.INCIDENT,
        starts_at=outage,
        ends_at=outage + OUTAGE_HOURS * HOUR,
        text="Clock-in outage at the 9:00 rush: connection pool exhausted",
        created_by=users["dev"],
    )
    annotation_create(
        team=demo.team,
        service=demo.services["Clock-in API"],
        kind=AnnotationKind.DEPLOY,
        starts_at=outage - timedelta(minutes=20),
        ends_at=outage - timedelta(minutes=19),
        text="Deploy v4.12: new pool settings",
        created_by=users["dev"],
    )
    annotation_create(
        team=demo.team,
        service=demo.services["Payroll export"],
        kind=AnnotationKind.INCIDENT,
        starts_at=payroll_day,
        ends_at=payroll_day + 3 * HOUR,
        text="Bank SFTP rejected uploads",
        created_by=users["demo"],
    )
    annotation_create(
        team=demo.team,
        slo=slos["admin-pages-load"],
        kind=AnnotationKind.MAINTENANCE,
        starts_at=maintenance,
        ends_at=maintenance + 2 * HOUR,
        text="Announced database upgrade (2:00-4:00 JST)",
        excluded=True,
        created_by=users["demo"],
    )


# What the pulls that went wrong were told, as the Prometheus client words it.
TIMED_OUT = (
    f"Prometheus at {PROMETHEUS_URL} failed after 3 attempts: HTTP 503: query timed out "
    "in expression evaluation."
)
REFUSED = (
    f"Prometheus at {PROMETHEUS_URL} failed after 3 attempts: could not connect "
    "(ConnectError: [Errno 111] Connection refused)."
)


def demo_pull_runs_record(demo: Demo) -> list[PullRun]:
    """The pulls behind the stored hours: a nightly run at 02:00 UTC for the last two
    weeks, each fetching the hours since the one before. Five nights ago the payroll
    query timed out (partial: that SLO stored nothing); three nights ago Prometheus was
    down (failed: nothing stored). The next night fetched what each had missed, so every
    hour is stored, as the data shows. A member pulled by hand a moment ago: the source's
    last success is recent."""
    now = demo.now
    end = align_to_hour(now)
    last_nightly = end.replace(hour=NIGHTLY_HOUR_UTC)
    if last_nightly > end:
        last_nightly -= timedelta(days=1)
    nights = [last_nightly - timedelta(days=back) for back in range(NIGHTS_OF_PULLS - 1, -1, -1)]
    specs = {spec.key: spec for spec in DEMO_SLOS}
    pulled_until = {key: nights[0] - timedelta(days=1) for key in specs}
    runs = []
    trouble = {
        last_nightly - timedelta(days=5): ({"payroll-exports-complete"}, TIMED_OUT),
        last_nightly - timedelta(days=3): (set(specs), REFUSED),
    }
    moments = [(night, PullTrigger.NIGHTLY, None) for night in nights]
    if now > last_nightly:
        # "Pull now", between the end of the last complete hour and now; in the hour after
        # the nightly run it finds nothing new, but it is there whatever the hour.
        moments.append((end + (now - end) / 2, PullTrigger.MANUAL, demo.users["dev"]))
    for started_at, trigger, user in moments:
        until = align_to_hour(started_at)
        failing, message = trouble.get(started_at, (set(), ""))
        outcomes = []
        for key, slo in demo.slos.items():
            missing = int((until - pulled_until[key]) / HOUR)
            if key in failing:
                outcomes.append(
                    SLOPullOutcome(slo.pk, slo.name, PullStatus.FAILED, missing, 0, message)
                )
            else:
                outcomes.append(SLOPullOutcome(slo.pk, slo.name, PullStatus.OK, missing, missing))
                pulled_until[key] = until
        runs.append(_pull_run(demo, started_at, until, trigger, user, outcomes))
    _pull_marks(demo, runs[-1])
    return runs


def _pull_run(demo: Demo, started_at, until, trigger, user, outcomes) -> PullRun:
    statuses = {outcome.status for outcome in outcomes}
    if statuses == {PullStatus.OK}:
        status = PullStatus.OK
    elif statuses == {PullStatus.FAILED}:
        status = PullStatus.FAILED
    else:
        status = PullStatus.PARTIAL
    hours = sum(outcome.hours_missing for outcome in outcomes)
    # A failed Prometheus is retried three times before the run gives up.
    seconds = 2.4 + hours / 400 + (21 if status != PullStatus.OK else 0)
    return PullRun.objects.create(
        data_source=demo.data_source,
        trigger=trigger,
        started_at=started_at,
        finished_at=min(started_at + timedelta(seconds=seconds), demo.now),
        until=until,
        status=status,
        hours_missing=hours,
        hours_done=hours,
        hours_stored=sum(outcome.hours_stored for outcome in outcomes),
        count_ok=sum(outcome.status == PullStatus.OK for outcome in outcomes),
        count_partial=0,
        count_failed=sum(outcome.status == PullStatus.FAILED for outcome in outcomes),
        outcomes=[outcome._asdict() for outcome in outcomes if outcome.status != PullStatus.OK],
        triggered_by=user,
    )


def _pull_marks(demo: Demo, last: PullRun) -> None:
    """What the last run leaves on the source and its SLOs (it succeeded)."""
    DataSource.objects.filter(pk=demo.data_source.pk).update(
        last_success_at=last.finished_at, last_error=""
    )
    SLO.objects.filter(pk__in=[slo.pk for slo in demo.slos.values()]).update(
        last_pull_at=last.finished_at,
        last_pull_status=PullStatus.OK,
        last_pull_error="",
        last_success_at=last.finished_at,
    )
