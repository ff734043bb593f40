"""Demo data: an attendance and payroll SaaS team with three services, SLOs with 90
days of hourly data (two incidents), a past retro and a scored backlog. Rerunning it
adds the hours since the last run and duplicates nothing."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal.models import Membership, Role, Team
from retros.models import RetroSession
from retros.services import retro_start
from slos.budget import HOUR, align_to_hour
from slos.models import (
    SLO,
    Annotation,
    BudgetPolicyStep,
    DataSource,
    HourlyBucket,
    Service,
    SLOReview,
)
from toil.models import BacklogItem
from toil.services import backlog_item_create

DEMO_PASSWORD = "reliability-demo"
DAYS = 90


@dataclass(frozen=True)
class DemoSLO:
    service: str
    name: str
    why: str
    good_query: str
    valid_query: str
    target: str
    peak_requests: int
    base_error_ratio: float


DEMO_SLOS = [
    DemoSLO(
        "Clock-in API",
        "Clock-ins succeed",
        "Hearing: a failed clock-in at 9:00 means a support call and a manual correction "
        "by the customer's HR. Nobody minds a slow admin page; everybody minds this.",
        'sum(increase(http_requests_total{job="clockin",code!~"5.."}[$window]))',
        'sum(increase(http_requests_total{job="clockin"}[$window]))',
        "99.9",
        60_000,
        0.0003,
    ),
    DemoSLO(
        "Clock-in API",
        "Clock-ins answer within 500 ms",
        "Hearing: staff queue at the tablet by the door; beyond half a second they tap twice.",
        'sum(increase(http_request_duration_seconds_bucket{job="clockin",le="0.5"}[$window]))',
        'sum(increase(http_request_duration_seconds_count{job="clockin"}[$window]))',
        "99",
        60_000,
        0.004,
    ),
    DemoSLO(
        "Payroll export",
        "Payroll exports complete",
        "Hearing: the bank transfer file must be ready by the 25th; a failed export is "
        "found by the customer's accountant, late at night.",
        'sum(increase(payroll_export_jobs_total{result="success"}[$window]))',
        "sum(increase(payroll_export_jobs_total[$window]))",
        "99.5",
        400,
        0.001,
    ),
    DemoSLO(
        "Admin console",
        "Admin pages load",
        "Hearing: HR admins use it daily but can retry; provisional until we hear more.",
        'sum(increase(http_requests_total{job="admin",code!~"5.."}[$window]))',
        'sum(increase(http_requests_total{job="admin"}[$window]))',
        "99",
        3_000,
        0.002,
    ),
]

BACKLOG = [
    # title, kind, impact, likelihood, toil_relief, effort, linked SLO name, age in days
    (
        "Retry payroll export uploads to the bank's SFTP",
        "reliability",
        3,
        2,
        2,
        "M",
        "Payroll exports complete",
        60,
    ),
    ("Automate the monthly closing-day capacity bump", "toil", 2, 2, 3, "S", None, 120),
    (
        "Alert on clock-in latency burn instead of CPU",
        "operability",
        2,
        3,
        1,
        "S",
        "Clock-ins answer within 500 ms",
        20,
    ),
    ("Rotate the payroll bank API credentials", "security", 3, 1, 0, "XS", None, 200),
    ("Split the admin console's report query", "tech_debt", 1, 2, 1, "L", "Admin pages load", 35),
    (
        "Runbook for the clock-in database failover",
        "reliability",
        3,
        1,
        1,
        "M",
        "Clock-ins succeed",
        10,
    ),
]


def clockin_outage_start(now: datetime) -> datetime:
    """Start of the clock-in outage at the 9:00 JST rush, nine days ago."""
    return align_to_hour(now - timedelta(days=9)).replace(hour=0)


def payroll_incident_start(now: datetime) -> datetime:
    """Start of the payroll export failure in the evening, six weeks ago."""
    return align_to_hour(now - timedelta(days=42)).replace(hour=15)


def incident_error_ratio(slo: DemoSLO, hour: datetime, now: datetime) -> float | None:
    """Two incidents: a clock-in outage at the 9:00 JST rush nine days ago and a payroll
    export failure in the evening six weeks ago."""
    clockin_outage = clockin_outage_start(now)
    if slo.service == "Clock-in API" and clockin_outage <= hour < clockin_outage + 2 * HOUR:
        return 0.08 if "succeed" in slo.name else 0.3
    payroll_day = payroll_incident_start(now)
    if slo.service == "Payroll export" and payroll_day <= hour < payroll_day + 3 * HOUR:
        return 0.6
    return None


def hour_values(slo: DemoSLO, hour: datetime, now: datetime) -> tuple[int, int]:
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
    error_ratio = incident_error_ratio(slo, hour, now) or slo.base_error_ratio * rng.uniform(
        0.2, 1.8
    )
    bad = min(valid, int(round(valid * error_ratio)))
    return valid - bad, valid


class Command(BaseCommand):
    help = "Create (or top up) the demo team, its SLOs with 90 days of data, a retro and a backlog."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        now = timezone.now()
        users = self._users()
        team = self._team(users)
        source, _ = DataSource.objects.get_or_create(
            team=team,
            name="Prometheus (demo)",
            defaults={"url": "http://127.0.0.1:9090", "timeout_seconds": 10},
        )
        slos = [self._slo(team, source, demo) for demo in DEMO_SLOS]
        hours_written = sum(
            self._buckets(slo, demo, now) for slo, demo in zip(slos, DEMO_SLOS, strict=True)
        )
        self._backlog(team, users["demo"], now)
        self._registry(team, slos, users, now)
        if not RetroSession.objects.filter(team=team).exists():
            retro_start(team=team, user=users["demo"], at=now - timedelta(days=7))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo team “{team.name}”: {len(slos)} SLOs, {hours_written} hourly rows added."
            )
        )
        self.stdout.write(
            f"Log in at http://127.0.0.1:8000/accounts/login/ as demo / {DEMO_PASSWORD} "
            f"(also dev and pm, same password)."
        )

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username in ["demo", "dev", "pm"]:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        return users

    def _team(self, users: dict) -> Team:
        team, _ = Team.objects.get_or_create(
            slug="kintai",
            defaults={
                "name": "Kintai Cloud",
                "time_zone": "Asia/Tokyo",
                "mission": "Every clock-in counted and every payroll on time, for 4,000 "
                "small businesses.",
            },
        )
        for username, role in [("demo", Role.ADMIN), ("dev", Role.MEMBER), ("pm", Role.VIEWER)]:
            Membership.objects.get_or_create(
                team=team, user=users[username], defaults={"role": role}
            )
        return team

    def _slo(self, team: Team, source: DataSource, demo: DemoSLO) -> SLO:
        service, _ = Service.objects.get_or_create(team=team, name=demo.service)
        slo, _ = SLO.objects.get_or_create(
            service=service,
            name=demo.name,
            defaults={
                "data_source": source,
                "why": demo.why,
                "good_query": demo.good_query,
                "valid_query": demo.valid_query,
                "target": Decimal(demo.target),
                "window_days": 28,
                "provisional": demo.service == "Admin console",
                "next_review_on": timezone.localdate() + timedelta(days=60),
            },
        )
        return slo

    def _buckets(self, slo: SLO, demo: DemoSLO, now: datetime) -> int:
        end = align_to_hour(now)
        rows = []
        for index in range(DAYS * 24):
            hour = end - HOUR * (index + 1)
            good, valid = hour_values(demo, hour, now)
            rows.append(HourlyBucket(slo=slo, hour=hour, good=good, valid=valid))
        # Hours already stored are kept as they are: a rerun only adds the hours since.
        existing = set(
            HourlyBucket.objects.filter(slo=slo, hour__gte=end - HOUR * DAYS * 24).values_list(
                "hour", flat=True
            )
        )
        new_rows = [row for row in rows if row.hour not in existing]
        HourlyBucket.objects.bulk_create(new_rows, batch_size=2000)
        return len(new_rows)

    def _registry(self, team: Team, slos: list[SLO], users: dict, now: datetime) -> None:
        """Owners, a past review, an error-budget policy and annotations: the first
        time only, so a rerun leaves what people changed since."""
        if Annotation.objects.filter(team=team).exists():
            return
        clockin, latency, payroll, admin = slos
        SLO.objects.filter(pk__in=[clockin.pk, latency.pk]).update(owner=users["dev"])
        SLO.objects.filter(pk__in=[payroll.pk, admin.pk]).update(owner=users["demo"])
        SLOReview.objects.create(
            slo=payroll,
            reviewed_by=users["demo"],
            reviewed_at=now - timedelta(days=30),
            decision="tighten",
            note="Exports have been clean for a quarter; accountants want more.",
            old_target=Decimal("99"),
            new_target=Decimal("99.5"),
        )
        SLO.objects.filter(pk=admin.pk).update(next_review_on=now.date() - timedelta(days=3))
        for slo in [clockin, latency]:
            BudgetPolicyStep.objects.bulk_create(
                [
                    BudgetPolicyStep(
                        slo=slo,
                        below_percent=Decimal("50"),
                        action="Raise it at the weekly retro; no risky migrations on Mondays.",
                    ),
                    BudgetPolicyStep(
                        slo=slo,
                        below_percent=Decimal("0"),
                        action="Freeze feature releases of the clock-in API until the budget "
                        "recovers; the next sprint's reserved time goes to reliability.",
                    ),
                ]
            )
        outage = clockin_outage_start(now)
        payroll_day = payroll_incident_start(now)
        clockin_service = clockin.service
        Annotation.objects.bulk_create(
            [
                Annotation(
                    team=team,
                    service=clockin_service,
                    kind="incident",
                    starts_at=outage,
                    ends_at=outage + 2 * HOUR,
                    text="Clock-in outage at the 9:00 rush: connection pool exhausted",
                    created_by=users["dev"],
                ),
                Annotation(
                    team=team,
                    service=clockin_service,
                    kind="deploy",
                    starts_at=outage - timedelta(minutes=20),
                    ends_at=outage - timedelta(minutes=19),
                    text="Deploy v4.12: new pool settings",
                    created_by=users["dev"],
                ),
                Annotation(
                    team=team,
                    service=payroll.service,
                    kind="incident",
                    starts_at=payroll_day,
                    ends_at=payroll_day + 3 * HOUR,
                    text="Bank SFTP rejected uploads",
                    created_by=users["demo"],
                ),
                Annotation(
                    team=team,
                    slo=admin,
                    kind="maintenance",
                    starts_at=align_to_hour(now - timedelta(days=4)).replace(hour=17),
                    ends_at=align_to_hour(now - timedelta(days=4)).replace(hour=19),
                    text="Announced database upgrade (2:00-4:00 JST)",
                    excluded=True,
                    created_by=users["demo"],
                ),
            ]
        )

    def _backlog(self, team: Team, user, now: datetime) -> None:
        slo_by_name = {slo.name: slo for slo in SLO.objects.filter(service__team=team)}
        for title, kind, impact, likelihood, toil, effort, slo_name, age_days in BACKLOG:
            if BacklogItem.objects.filter(team=team, title=title).exists():
                continue
            item = backlog_item_create(
                team=team,
                title=title,
                kind=kind,
                impact=impact,
                likelihood=likelihood,
                toil_relief=toil,
                effort=effort,
                slo=slo_by_name.get(slo_name) if slo_name else None,
                created_by=user,
            )
            BacklogItem.objects.filter(pk=item.pk).update(created_at=now - timedelta(days=age_days))
