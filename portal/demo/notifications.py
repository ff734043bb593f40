"""Eight weeks of notifications through the real intake: Alertmanager (the portal's own
SLO burn alerts and noisy host alerts), Sentry (the clock-in app's errors) and a generic
JSON source (batch jobs and scripts). The routing policy starts with the rules the team
brought along ("everything critical pages"); after last week's retro it was tuned, and
the noise page shows the alerts drop. The outage's page alerts never reached Slack:
the webhook answered 404 (it had been removed), and the messages are kept as failed.

Every delivery is a body a real sender would post, parsed by the intake's parsers and
stored by `intake_accept`, so rows, deduplication, classes and reasons are what real
use makes. Nothing goes over the network: the demo team has no Slack webhook."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal.demo.base import Demo, Timeline
from slos.models import (
    DeliveryAttempt,
    IntakeKind,
    IntakeSource,
    Notification,
    NotificationClass,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from slos.notifications.delivery import (
    MAX_ATTEMPTS,
    backoff_seconds,
    http_error_text,
    notice_for,
    slack_message,
)
from slos.notifications.intake import intake_accept, intake_reject, intake_source_create
from slos.notifications.parsers import PARSERS
from slos.notifications.services import routing_rule_create

DAYS_OF_NOTIFICATIONS = 56
PROMETHEUS = "http://127.0.0.1:9090"
SENTRY = "https://sentry.example.com/organizations/kintai/issues"


@dataclass(frozen=True)
class DemoSource:
    key: str
    name: str
    kind: str
    service: str | None


DEMO_SOURCES = [
    DemoSource("alertmanager", "Alertmanager (production)", IntakeKind.ALERTMANAGER, None),
    DemoSource("sentry", "Sentry: clock-in app", IntakeKind.SENTRY, "Clock-in API"),
    DemoSource("jobs", "Batch jobs and scripts", IntakeKind.GENERIC, None),
]


def demo_intake_sources(demo: Demo) -> dict[str, IntakeSource]:
    """The team's notification sources, found by name so their tokens (shown once,
    when made) keep working from one run to the next."""
    sources = {}
    for spec in DEMO_SOURCES:
        service = demo.services[spec.service] if spec.service else None
        source = demo.team.intake_sources.filter(name=spec.name).first()
        if source is None:
            source = intake_source_create(
                team=demo.team,
                name=spec.name,
                kind=spec.kind,
                service=service,
                # Only Sentry signs its deliveries; nobody knows the demo's secret.
                client_secret=secrets.token_hex(32) if spec.kind == IntakeKind.SENTRY else "",
            ).source
        else:
            IntakeSource.objects.filter(pk=source.pk).update(kind=spec.kind, service=service)
            source.kind, source.service = spec.kind, service
        sources[spec.key] = source
    demo.team.intake_sources.exclude(pk__in=[source.pk for source in sources.values()]).delete()
    return sources


def deliver(source: IntakeSource, payload: dict, at: datetime) -> None:
    """One delivery as the webhook endpoint takes it: parsed, stored, classified."""
    body = json.dumps(payload).encode()
    intake_accept(source=source, body=body, incoming=PARSERS[source.kind](body), at=at)


# --- What each sender posts -----------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def alertmanager_fingerprint(labels: dict[str, str]) -> str:
    """Like Alertmanager's: the same labels are the same alert."""
    text = "\x00".join(f"{key}\x00{labels[key]}" for key in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def alertmanager_body(
    labels: dict[str, str], annotations: dict[str, str], *, starts: datetime, ends: datetime | None
) -> dict:
    status = "firing" if ends is None else "resolved"
    expression = labels.get("alertname", "")
    return {
        "version": "4",
        "status": status,
        "receiver": "reliability-portal",
        "groupKey": f'{{}}:{{alertname="{expression}"}}',
        "externalURL": "http://127.0.0.1:9093",
        "commonLabels": {},
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": _iso(starts),
                "endsAt": _iso(ends) if ends else "0001-01-01T00:00:00Z",
                "generatorURL": f"{PROMETHEUS}/graph?g0.expr={expression}",
                "fingerprint": alertmanager_fingerprint(labels),
            }
        ],
    }


def alert_episode(
    timeline: Timeline,
    source: IntakeSource,
    labels: dict[str, str],
    annotations: dict[str, str],
    *,
    starts: datetime,
    lasts: timedelta,
    repeat: timedelta = timedelta(hours=4),
) -> None:
    """An alert firing from `starts` for `lasts`: Alertmanager posts it when it fires,
    again every `repeat` while it fires, and once more when it resolves."""
    moment = starts + timedelta(minutes=1)
    while moment < starts + lasts:
        firing = alertmanager_body(labels, annotations, starts=starts, ends=None)
        delivery(timeline, source, firing, moment)
        moment += repeat
    ends = starts + lasts
    resolved = alertmanager_body(labels, annotations, starts=starts, ends=ends)
    delivery(timeline, source, resolved, ends + timedelta(minutes=1))


def delivery(timeline: Timeline, source: IntakeSource, payload: dict, at: datetime) -> None:
    """Put one delivery on the timeline."""
    timeline.at(at, lambda: deliver(source, payload, at))


@dataclass(frozen=True)
class SentryIssue:
    issue_id: int
    title: str
    culprit: str
    level: str = "error"
    environment: str = "production"
    release: str = "clockin@4.12.0"


def sentry_body(issue: SentryIssue) -> dict:
    return {
        "action": "triggered",
        "data": {
            "event": {
                "issue_id": str(issue.issue_id),
                "title": issue.title,
                "culprit": issue.culprit,
                "level": issue.level,
                "environment": issue.environment,
                "web_url": f"{SENTRY}/{issue.issue_id}/",
                "tags": [
                    ["environment", issue.environment],
                    ["level", issue.level],
                    ["release", issue.release],
                ],
            },
            "triggered_rule": "Errors of the clock-in app",
        },
    }


def generic_body(**notification) -> dict:
    return {"notifications": [notification]}


# --- The eight weeks -------------------------------------------------------------------


def burn_annotations(slo_name: str, service: str, percent: int, long_window: str) -> dict:
    """The annotations of the portal's own burn rules (slos/alerting/rules.py)."""
    return {
        "summary": f"{slo_name} ({service}) is burning its error budget: at this rate "
        f"{percent}% of its 28-day budget goes in {long_window}.",
        "description": f"The error ratio is above the burn threshold over the last {long_window}.",
    }


def demo_notifications_plan(
    demo: Demo, timeline: Timeline, sources: dict[str, IntakeSource], *, outage: datetime
) -> None:
    """Put eight weeks of deliveries and the routing policy's history on the timeline:
    the host alerts paged every working day until last week's retro tuned the policy."""
    users, team = demo.users, demo.team
    alertmanager, sentry, jobs = sources["alertmanager"], sources["sentry"], sources["jobs"]
    connected = demo.local_day_start(DAYS_OF_NOTIFICATIONS) + timedelta(hours=10)
    tuned = demo.retro_held(1) + timedelta(days=1)
    disk_rule = tuned + timedelta(days=2)

    def rule(at: datetime, who: str, **values) -> None:
        timeline.at(at, lambda: routing_rule_create(team=team, user=users[who], at=at, **values))

    rule(
        connected,
        "demo",
        name="Critical infrastructure alerts page",
        position=1,
        source_kind=IntakeKind.ALERTMANAGER,
        slo=None,
        conditions=[{"field": "severity", "op": "equals", "value": "critical"}],
        outcome=NotificationClass.ALERT,
    )
    # The day after a staging error came in as a ticket.
    rule(
        demo.local_day_start(11) + timedelta(hours=10),
        "dev",
        name="Staging errors are logs",
        position=2,
        source_kind=IntakeKind.SENTRY,
        slo=None,
        conditions=[{"field": "environment", "op": "equals", "value": "staging"}],
        outcome=NotificationClass.LOG,
    )
    # An action of last week's retro: busy hosts are not an emergency; the SLOs say
    # when users are hurt.
    rule(
        tuned,
        "dev",
        name="Host resource alerts are logs",
        position=1,
        source_kind=IntakeKind.ALERTMANAGER,
        slo=None,
        conditions=[{"field": "alertname", "op": "regex", "value": "High(CPU|Memory)Usage"}],
        outcome=NotificationClass.LOG,
    )
    rule(
        disk_rule,
        "demo",
        name="Disk space is a ticket",
        position=2,
        source_kind=IntakeKind.ALERTMANAGER,
        slo=None,
        conditions=[{"field": "alertname", "op": "equals", "value": "DiskSpaceLow"}],
        outcome=NotificationClass.TICKET,
    )

    for days_ago in range(DAYS_OF_NOTIFICATIONS - 1, -1, -1):
        day = demo.local_day_start(days_ago)
        rng = random.Random(f"notifications|{days_ago}")
        _host_alerts(timeline, alertmanager, day, rng)
        _batch_jobs(timeline, jobs, day, rng)

    disk = {"alertname": "DiskSpaceLow", "severity": "critical", "team": "kintai"}
    alert_episode(
        timeline,
        alertmanager,
        disk | {"instance": "admin-vm-1", "mountpoint": "/var/log"},
        {"summary": "Disk /var/log on admin-vm-1 is 91% full"},
        starts=demo.local_day_start(19) + timedelta(hours=14, minutes=20),
        lasts=timedelta(days=2, hours=3),
    )
    alert_episode(
        timeline,
        alertmanager,
        disk | {"instance": "backup-vm-1", "mountpoint": "/backups"},
        {"summary": "Disk /backups on backup-vm-1 is 88% full"},
        starts=disk_rule + timedelta(days=1, hours=2),
        lasts=timedelta(hours=9),
    )
    _burn_alerts(demo, timeline, alertmanager, outage)
    _sentry_issues(demo, timeline, sentry, outage)


def _host_alerts(timeline: Timeline, source: IntakeSource, day: datetime, rng) -> None:
    """Busy hosts at the 9:00 and 18:00 clock-in rushes (pods are renamed by each day's
    deploy, so each is a new alert), and the payroll worker's memory every night."""
    if day.weekday() < 5:
        for hour, pods in [(9, 2), (18, 1)]:
            for index in range(pods):
                pod = f"clockin-api-{rng.randrange(16**5):05x}-{'abc'[index]}"
                alert_episode(
                    timeline,
                    source,
                    {
                        "alertname": "HighCPUUsage",
                        "severity": "critical",
                        "team": "kintai",
                        "pod": pod,
                    },
                    {"summary": f"CPU above 90% on {pod}"},
                    starts=day + timedelta(hours=hour, minutes=rng.randrange(1, 9)),
                    lasts=timedelta(minutes=rng.randrange(25, 70)),
                )
    alert_episode(
        timeline,
        source,
        {
            "alertname": "HighMemoryUsage",
            "severity": "warning",
            "team": "kintai",
            "instance": "payroll-worker-1",
        },
        {"summary": "Memory above 85% on payroll-worker-1"},
        starts=day + timedelta(hours=1, minutes=rng.randrange(5, 20)),
        lasts=timedelta(hours=rng.choice([1, 2, 5])),
    )


def _batch_jobs(timeline: Timeline, source: IntakeSource, day: datetime, rng) -> None:
    """The nightly jobs report that they ran: logs, kept, nobody needs to look."""
    date = day.date().isoformat()
    backup = generic_body(
        key=f"backup-{date}",
        title="Nightly backup finished",
        text="3 databases dumped and copied off site.",
    )
    delivery(timeline, source, backup, day + timedelta(hours=3, minutes=30))
    batch = generic_body(
        key=f"payroll-batch-{date}",
        title=f"Payroll batch finished: {rng.randrange(380, 440)} files",
        service="Payroll export",
    )
    delivery(timeline, source, batch, day + timedelta(hours=4, minutes=10))


def _burn_alerts(demo: Demo, timeline: Timeline, source: IntakeSource, outage: datetime) -> None:
    """The portal's own burn-rate rules during and after the clock-in outage: pages for
    both clock-in SLOs, then the slower windows' tickets."""
    service = "Clock-in API"
    for key, name in [
        ("clock-ins-succeed", "Clock-ins succeed"),
        ("clock-ins-fast", "Clock-ins answer within 500 ms"),
    ]:
        labels = {"slo": key, "service": "clock-in-api", "team": "kintai"}
        alert_episode(
            timeline,
            source,
            {"alertname": "SLOErrorBudgetBurnPage", "severity": "page", "long_window": "1h"}
            | labels,
            burn_annotations(name, service, 2, "1h"),
            starts=outage + timedelta(minutes=4),
            lasts=timedelta(hours=2, minutes=10),
            repeat=timedelta(minutes=30),
        )
        alert_episode(
            timeline,
            source,
            {"alertname": "SLOErrorBudgetBurnTicket", "severity": "ticket", "long_window": "1d"}
            | labels,
            burn_annotations(name, service, 10, "1d"),
            starts=outage + timedelta(hours=1, minutes=10),
            lasts=timedelta(hours=22),
        )


SENTRY_ISSUES = {
    "lock": SentryIssue(
        4101,
        'OperationalError: could not obtain lock on relation "clock_ins"',
        "clockin.views.punch",
    ),
    "shift": SentryIssue(
        4117,
        "TypeError: Cannot read properties of undefined (reading 'shiftId')",
        "app/tablet/punch.ts in submitPunch",
    ),
    "staging": SentryIssue(
        4125,
        "ValueError: invalid literal for int() with base 10: ''",
        "clockin.imports.csv_row",
        environment="staging",
        release="clockin@4.13.0-rc1",
    ),
    "pool": SentryIssue(
        4133,
        "OperationalError: QueuePool limit of size 20 overflow 10 reached, connection "
        "timed out, timeout 30.00",
        "clockin.db.session",
    ),
    "break": SentryIssue(4140, "KeyError: 'break_minutes'", "clockin.payroll.overtime"),
    "slow": SentryIssue(
        4144,
        "Slow query: SELECT … FROM timesheets WHERE month = %s",
        "clockin.reports.monthly",
        level="warning",
    ),
    "zero": SentryIssue(
        4149,
        "ZeroDivisionError: division by zero",
        "clockin.payroll.overtime_rate",
        release="clockin@4.13.0",
    ),
}


def _sentry_issues(demo: Demo, timeline: Timeline, source: IntakeSource, outage: datetime) -> None:
    """The clock-in app's errors: tickets (an error of a known service), a staging one
    and a warning as logs; one delivery refused for a bad signature."""
    day = demo.local_day_start
    deliveries = [
        ("lock", day(18) + timedelta(hours=10, minutes=12)),
        ("lock", day(18) + timedelta(hours=10, minutes=40)),
        ("staging", day(12) + timedelta(hours=14, minutes=20)),
        ("pool", outage + timedelta(minutes=3)),
        ("pool", outage + timedelta(minutes=20)),
        ("pool", outage + timedelta(minutes=50)),
        ("pool", outage + timedelta(hours=1, minutes=30)),
        ("break", day(4) + timedelta(hours=16, minutes=45)),
        ("slow", day(2) + timedelta(hours=13, minutes=30)),
        ("zero", day(1) + timedelta(hours=8, minutes=55)),
        ("zero", day(1) + timedelta(hours=9, minutes=5)),
    ]
    # Old tablets send punches without a shift, every morning since a release.
    deliveries += [
        ("shift", day(days_ago) + timedelta(hours=9, minutes=3))
        for days_ago in range(15, -1, -1)
        if day(days_ago).weekday() < 5
    ]
    for key, at in deliveries:
        delivery(timeline, source, sentry_body(SENTRY_ISSUES[key]), at)
    refused = demo.now - timedelta(hours=5)
    timeline.at(refused, lambda: _refused_delivery(source, refused))


def _refused_delivery(source: IntakeSource, at: datetime) -> None:
    """A delivery signed with an old secret, refused as the endpoint refuses it."""
    body = json.dumps(sentry_body(SENTRY_ISSUES["shift"])).encode()
    intake_reject(
        source=source,
        body=body,
        body_bytes=len(body),
        http_status=401,
        reason="The Sentry-Hook-Signature header is missing or does not match the body.",
        at=at,
    )


# --- Slack ---------------------------------------------------------------------------------


def demo_slack_failures(demo: Demo) -> list[OutboxMessage]:
    """The outage's page alerts, queued for Slack and posted MAX_ATTEMPTS times with the
    outbox's backoff: the webhook answered 404 every time (it had been removed), so both
    were given up on. The team has had no webhook since, so nothing else was queued."""
    pages = Notification.objects.filter(
        team=demo.team,
        notification_class=NotificationClass.ALERT,
        title__contains="is burning its error budget",
    ).select_related("service", "slo")
    rng = random.Random("slack")
    messages = []
    for notification in pages:
        notice = notice_for(
            notification,
            service=notification.service.name if notification.service else "",
            slo=notification.slo.name if notification.slo else "",
        )
        queued = notification.first_seen_at
        message = OutboxMessage.objects.create(
            team=demo.team,
            notification=notification,
            kind=OutboxKind.ALERT,
            key=f"notification:{notification.pk}",
            payload=slack_message(notice, kind=OutboxKind.ALERT, mention=demo.team.slack_mention),
            status=OutboxStatus.FAILED,
            attempts=MAX_ATTEMPTS,
            next_attempt_at=queued,
            last_error=http_error_text(404),
            created_at=queued,
        )
        attempted = queued
        attempts = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            attempts.append(
                DeliveryAttempt(
                    message=message,
                    attempted_at=attempted,
                    ok=False,
                    http_status=404,
                    error=http_error_text(404),
                    duration_ms=rng.randrange(120, 260),
                )
            )
            attempted += timedelta(seconds=backoff_seconds(attempt, jitter=rng.random()))
        DeliveryAttempt.objects.bulk_create(attempts)
        OutboxMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=attempts[-1].attempted_at
        )
        messages.append(message)
    return messages
