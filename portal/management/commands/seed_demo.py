"""Demo data: an attendance and payroll SaaS team with three services, SLOs with 90
days of hourly data (two incidents), a scored backlog, error tickets from a notification
source, two past retros (with kudos, release and ticket decisions, actions done and
carried) and this week's planned one. Rerunning it adds the hours since the last run
and duplicates nothing."""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal.models import Membership, Role, Team
from portal.weeks import week_monday
from retros.agenda import session_time
from retros.models import (
    ActionOutcome,
    ReleaseDecision,
    RetroSession,
    SessionStatus,
    TicketDecisionKind,
)
from retros.services import (
    kudos_add,
    retro_action_add,
    retro_action_review,
    retro_note_add,
    retro_release_decide,
    retro_session_close,
    retro_session_plan,
    retro_session_start,
    retro_ticket_decide,
)
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
from slos.models.notifications import IntakeKind
from slos.notifications.intake import intake_accept, intake_source_create
from slos.notifications.parsers import parse_generic
from toil.models import BacklogItem, Status
from toil.services import (
    backlog_item_create,
    backlog_item_pin,
    backlog_item_update,
    backlog_settings_update,
    work_log_add,
)

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
    # title, kind, impact, likelihood, toil hours removed a month, effort, linked SLO
    # name, age in days
    (
        "Retry payroll export uploads to the bank's SFTP",
        "reliability",
        3,
        2,
        4,
        "M",
        "Payroll exports complete",
        60,
    ),
    ("Automate the monthly closing-day capacity bump", "toil", 2, 2, 10, "S", None, 120),
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
    ("Tag every alert with its runbook URL", "operability", 2, 2, 2, "S", None, 40),
    ("Self-host the status page", "reliability", 1, 1, 0, "L", None, 50),
    (
        "Load-test the payroll export before closing day",
        "reliability",
        3,
        2,
        0,
        "M",
        "Payroll exports complete",
        5,
    ),
    ("Remove the shared admin console password", "security", 3, 1, 0, "S", None, 3),
    ("Move the cron jobs off the admin VM", "tech_debt", 1, 2, 2, "M", None, 70),
]

# What happened to some of them since: (title, status, owner, days ago).
BACKLOG_PROGRESS = [
    ("Retry payroll export uploads to the bank's SFTP", "in_progress", "dev", 20),
    ("Alert on clock-in latency burn instead of CPU", "in_progress", "dev", 12),
    ("Automate the monthly closing-day capacity bump", "in_progress", "demo", 30),
    ("Runbook for the clock-in database failover", "ready", "dev", 8),
    ("Split the admin console's report query", "proposed", None, 30),
    ("Tag every alert with its runbook URL", "done", "dev", 16),
    ("Self-host the status page", "wont_do", None, 25),
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
        self._backlog(team, users, now)
        self._registry(team, slos, users, now)
        if not RetroSession.objects.filter(team=team, status=SessionStatus.CLOSED).exists():
            self._retros(team, users, now)
        retro_session_plan(team=team, at=now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo team “{team.name}”: {len(slos)} SLOs, {hours_written} hourly rows added."
            )
        )
        self.stdout.write(
            f"Log in at http://127.0.0.1:{os.environ.get('PORT', '8000')}/accounts/login/ as "
            f"demo / {DEMO_PASSWORD} "
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
                        freezes_releases=True,
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

    def _tickets(self, team: Team, tickets: list[tuple[str, str, str]], at: datetime) -> None:
        """Errors reported by the demo's notification source, taken in by the real
        intake (the default policy makes an error of a known service a ticket)."""
        source = self._source(team)
        body = json.dumps(
            {
                "notifications": [
                    {"key": key, "title": title, "service": service, "error": True}
                    for key, title, service in tickets
                ]
            }
        ).encode()
        intake_accept(source=source, body=body, incoming=parse_generic(body), at=at)

    def _source(self, team: Team):
        existing = team.intake_sources.filter(name="App errors (demo)").first()
        if existing is not None:
            return existing
        return intake_source_create(
            team=team, name="App errors (demo)", kind=IntakeKind.GENERIC
        ).source

    def _retros(self, team: Team, users: dict, now: datetime) -> None:
        """Two weeks ago's retro opened two actions; last week's reviewed them (one done,
        one carried), decided tickets (one left for this week), recorded a release
        decision and read out kudos. Both closed, with their summaries. Since then, a new
        ticket and kudos wait for this week's."""
        demo, dev = users["demo"], users["dev"]
        this_monday = week_monday(now, team.time_zone)

        def held(weeks_ago: int) -> datetime:
            return session_time(
                this_monday - timedelta(days=7 * weeks_ago),
                weekday=team.retro_weekday,
                at=team.retro_time,
                time_zone=team.time_zone,
            )

        earlier, last = held(2), held(1)
        self._tickets(
            team,
            [("demo-disk", "Disk 85% full on the payroll database", "Payroll export")],
            earlier - timedelta(days=2),
        )
        kudos_add(
            team=team,
            user=demo,
            person=dev,
            person_name="",
            what="Found the noisy disk alert and wrote down why it fires.",
            practice="monitoring",
            at=earlier - timedelta(days=1),
        )
        first = retro_session_start(
            session=retro_session_plan(team=team, at=earlier), user=demo, at=earlier
        )
        for item in first.ticket_decisions.all():
            retro_ticket_decide(
                item=item,
                user=demo,
                decision=TicketDecisionKind.DISMISS,
                note="Log rotation was off after the migration; fixed by hand.",
                at=earlier + timedelta(minutes=12),
            )
        runbook = retro_action_add(
            session=first,
            user=demo,
            text="Write the runbook for the bank SFTP rejecting uploads",
            owner=demo,
            due_on=(earlier + timedelta(days=7)).date(),
            at=earlier + timedelta(minutes=20),
        )
        retro_action_add(
            session=first,
            user=demo,
            text="Alert on the bank certificate's expiry, 30 days ahead",
            owner=dev,
            due_on=(earlier + timedelta(days=7)).date(),
            at=earlier + timedelta(minutes=22),
        )
        retro_session_close(session=first, user=demo, at=earlier + timedelta(minutes=30))

        self._tickets(
            team,
            [
                ("demo-5xx", "Clock-in 5xx from old tablet firmware", "Clock-in API"),
                ("demo-retry", "Payroll export retried 3 times", "Payroll export"),
                ("demo-report", "Admin monthly report timed out", "Admin console"),
            ],
            last - timedelta(days=3),
        )
        kudos_add(
            team=team,
            user=demo,
            person=dev,
            person_name="",
            what="Rolled back v4.12 within ten minutes of the clock-in outage.",
            practice="incident_response",
            at=last - timedelta(days=2),
        )
        kudos_add(
            team=team,
            user=dev,
            person=None,
            person_name="The DBA team",
            what="Sized the connection pool for the 9:00 rush with real numbers.",
            practice="capacity_planning",
            at=last - timedelta(days=1),
        )
        second = retro_session_start(
            session=retro_session_plan(team=team, at=last), user=dev, at=last
        )
        burning = min(
            second.snapshots.all(),
            key=lambda snapshot: (
                snapshot.error_budget_remaining
                if snapshot.error_budget_remaining is not None
                else 2.0
            ),
        )
        retro_release_decide(
            snapshot=burning,
            user=dev,
            decision=ReleaseDecision.SLOW_DOWN,
            at=last + timedelta(minutes=6),
        )
        retro_note_add(
            session=second,
            user=demo,
            section="budgets",
            text="The clock-in outage ate most of the month's budget in two hours.",
            at=last + timedelta(minutes=7),
        )
        tickets = {item.title: item for item in second.ticket_decisions.all()}
        retro_ticket_decide(
            item=tickets["Clock-in 5xx from old tablet firmware"],
            user=dev,
            decision=TicketDecisionKind.BACKLOG,
            note="",
            at=last + timedelta(minutes=15),
        )
        retro_ticket_decide(
            item=tickets["Payroll export retried 3 times"],
            user=dev,
            decision=TicketDecisionKind.DISMISS,
            note="The retries worked as designed; the bank was slow.",
            at=last + timedelta(minutes=17),
        )
        # "Admin monthly report timed out" stays undecided: it is on this week's agenda.
        for review in second.action_reviews.select_related("action"):
            outcome = (
                ActionOutcome.DONE if review.action_id == runbook.pk else ActionOutcome.CARRIED
            )
            retro_action_review(
                review=review, user=dev, outcome=outcome, at=last + timedelta(minutes=22)
            )
        retro_action_add(
            session=second,
            user=dev,
            text="Load-test the clock-in pool at twice the 9:00 rush",
            owner=dev,
            due_on=(last + timedelta(days=14)).date(),
            at=last + timedelta(minutes=25),
        )
        retro_session_close(session=second, user=dev, at=last + timedelta(minutes=30))
        # Since last week's retro: a new ticket and kudos, so this week's agenda has both.
        since = last + (now - last) / 2
        self._tickets(
            team,
            [
                (
                    "demo-cert",
                    "TLS certificate of the admin console expires in 20 days",
                    "Admin console",
                )
            ],
            since,
        )
        kudos_add(
            team=team,
            user=dev,
            person=demo,
            person_name="",
            what="Wrote the runbook for payroll export retries and linked it from the alert.",
            practice="incident_response",
            at=since,
        )

    def _backlog(self, team: Team, users: dict, now: datetime) -> None:
        """The backlog the PM plans with: items in every status, owners, a pin, the
        team's reserved time and weights, an edit in an item's history, and nine weeks of
        work logged (toil over the cap in two of them). The first time only, so a rerun
        leaves what people changed since."""
        if BacklogItem.objects.filter(team=team).exists():
            return
        slo_by_name = {slo.name: slo for slo in SLO.objects.filter(service__team=team)}
        items = {}
        for title, kind, impact, likelihood, toil_hours, effort, slo_name, age_days in BACKLOG:
            items[title] = backlog_item_create(
                team=team,
                title=title,
                kind=kind,
                impact=impact,
                likelihood=likelihood,
                toil_hours_per_month=Decimal(toil_hours),
                effort=effort,
                status=Status.READY,
                slo=slo_by_name.get(slo_name) if slo_name else None,
                created_by=users["demo"],
                at=now - timedelta(days=age_days),
            )
        dev = users["dev"]
        for title, status, owner, days_ago in BACKLOG_PROGRESS:
            values = {"status": status}
            if owner:
                values["owner"] = users[owner]
            backlog_item_update(
                item=items[title], by=dev, at=now - timedelta(days=days_ago), **values
            )
        backlog_item_update(
            item=items["Alert on clock-in latency burn instead of CPU"],
            by=dev,
            at=now - timedelta(days=6),
            likelihood=3,
            description="CPU pages wake us for nothing; the burn rate tells us when users "
            "are hurt.",
        )
        backlog_item_pin(
            item=items["Rotate the payroll bank API credentials"],
            reason="The bank's audit on the 15th needs the new credentials in place.",
            by=users["pm"],
            at=now - timedelta(days=2),
        )
        backlog_settings_update(
            team=team,
            by=users["demo"],
            at=now - timedelta(days=21),
            reserved_hours=Decimal(12),
            hours_per_point=Decimal(4),
        )
        backlog_settings_update(
            team=team, by=users["demo"], at=now - timedelta(days=14), weight_slo_risk=Decimal("1.5")
        )
        self._work_log(team, users, items, now)

    def _work_log(self, team: Team, users: dict, items: dict, now: datetime) -> None:
        this_monday = week_monday(now, team.time_zone)
        today = timezone.localtime(now, ZoneInfo(team.time_zone)).date()
        demo, dev = users["demo"], users["dev"]
        retry = items["Retry payroll export uploads to the bank's SFTP"]
        bump = items["Automate the monthly closing-day capacity bump"]
        alert = items["Alert on clock-in latency burn instead of CPU"]
        runbook = items["Runbook for the clock-in database failover"]
        # (weeks back, weekday, who, item, hours, toil, note); 3 and 6 weeks back are the
        # month-end closings, when toil runs over the cap.
        entries = []
        for back in range(9):
            closing = back in (3, 6)
            manual = (
                "Manual capacity bump for the closing day"
                if closing
                else ("Restarted stuck payroll exports by hand")
            )
            rerun = "Re-ran failed clock-in imports" if closing else "Cleared the export queue"
            entries += [
                (back, 0, dev, alert if back < 3 else retry, 3 if back else 2, False, ""),
                (back, 1, demo, bump, 2, False, "Scripted part of the bump"),
                (back, 2, demo, None, 9 if closing else 3, True, manual),
                (back, 3, dev, None, 6 if closing else 1.5, True, rerun),
                (back, 4, dev, None, 4, False, "Feature work: shift templates"),
            ]
            if back in (0, 1):
                entries.append((back, 2, dev, runbook, 2, False, "Drafted the failover steps"))
        for back, weekday, person, item, hours, toil, note in entries:
            day = this_monday - timedelta(weeks=back) + timedelta(days=weekday)
            if day > today:
                continue
            work_log_add(
                team=team,
                person=person,
                item=item,
                on=day,
                hours=Decimal(str(hours)),
                toil=toil,
                note=note,
                at=now,
            )
