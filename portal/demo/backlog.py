"""The backlog the PM plans with: items in every status, owners, a pin, the team's
reserved time and weights, an edit in an item's history, and nine weeks of work logged
(toil over the cap in two of them)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from portal.demo.base import Demo, Timeline
from portal.weeks import week_monday
from toil.models import Status
from toil.services import (
    backlog_item_create,
    backlog_item_pin,
    backlog_item_update,
    backlog_settings_update,
    work_log_add,
)

LOGGED_AT = time(17, 30)  # team time

BACKLOG = [
    # title, kind, impact, likelihood, toil hours removed a month, effort, linked SLO
    # (its key in DEMO_SLOS), age in days
    (
        "Retry payroll export uploads to the bank's SFTP",
        "reliability",
        3,
        2,
        4,
        "M",
        "payroll-exports-complete",
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
        "clock-ins-fast",
        20,
    ),
    ("Rotate the payroll bank API credentials", "security", 3, 1, 0, "XS", None, 200),
    ("Split the admin console's report query", "tech_debt", 1, 2, 1, "L", "admin-pages-load", 35),
    (
        "Runbook for the clock-in database failover",
        "reliability",
        3,
        1,
        1,
        "M",
        "clock-ins-succeed",
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
        "payroll-exports-complete",
        5,
    ),
    ("Remove the shared admin console password", "security", 3, 1, 0, "S", None, 3),
    ("Move the cron jobs off the admin VM", "tech_debt", 1, 2, 2, "M", None, 70),
]

# What happened to some of them since: (title, status, owner, days ago; None: the day
# before last week's retro, which lists it as done).
BACKLOG_PROGRESS = [
    ("Retry payroll export uploads to the bank's SFTP", "in_progress", "dev", 20),
    ("Alert on clock-in latency burn instead of CPU", "in_progress", "dev", 12),
    ("Automate the monthly closing-day capacity bump", "in_progress", "demo", 30),
    ("Runbook for the clock-in database failover", "ready", "dev", 8),
    ("Split the admin console's report query", "proposed", None, 30),
    ("Tag every alert with its runbook URL", "done", "dev", None),
    ("Self-host the status page", "wont_do", None, 25),
]


def demo_backlog_fill(demo: Demo, timeline: Timeline) -> None:
    team, users, now = demo.team, demo.users, demo.now
    items = {}
    for title, kind, impact, likelihood, toil_hours, effort, slo_key, age_days in BACKLOG:
        items[title] = backlog_item_create(
            team=team,
            title=title,
            kind=kind,
            impact=impact,
            likelihood=likelihood,
            toil_hours_per_month=Decimal(toil_hours),
            effort=effort,
            status=Status.READY,
            slo=demo.slos[slo_key] if slo_key else None,
            created_by=users["demo"],
            at=now - timedelta(days=age_days),
        )
    dev = users["dev"]
    for title, status, owner, days_ago in BACKLOG_PROGRESS:
        values = {"status": status}
        if owner:
            values["owner"] = users[owner]
        if days_ago is None:
            at = demo.retro_held(1) - timedelta(days=1)
        else:
            at = now - timedelta(days=days_ago)
        backlog_item_update(item=items[title], by=dev, at=at, **values)
    backlog_item_update(
        item=items["Alert on clock-in latency burn instead of CPU"],
        by=dev,
        at=now - timedelta(days=6),
        likelihood=3,
        description="CPU pages wake us for nothing; the burn rate tells us when users are hurt.",
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
    _work_log(demo, timeline, items)


def _work_log(demo: Demo, timeline: Timeline, items: dict) -> None:
    """Logged at the end of each day (or now, for today's), on the timeline: a retro
    counts only the hours logged before it started."""
    team, now = demo.team, demo.now
    this_monday = week_monday(now, team.time_zone)
    today = now.astimezone(demo.zone).date()
    demo_user, dev = demo.users["demo"], demo.users["dev"]
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
            else "Restarted stuck payroll exports by hand"
        )
        rerun = "Re-ran failed clock-in imports" if closing else "Cleared the export queue"
        entries += [
            (back, 0, dev, alert if back < 3 else retry, 3 if back else 2, False, ""),
            (back, 1, demo_user, bump, 2, False, "Scripted part of the bump"),
            (back, 2, demo_user, None, 9 if closing else 3, True, manual),
            (back, 3, dev, None, 6 if closing else 1.5, True, rerun),
            (back, 4, dev, None, 4, False, "Feature work: shift templates"),
        ]
        if back in (0, 1):
            entries.append((back, 2, dev, runbook, 2, False, "Drafted the failover steps"))
    for back, weekday, person, item, hours, toil, note in entries:
        day = this_monday - timedelta(weeks=back) + timedelta(days=weekday)
        if day > today:
            continue
        logged = min(datetime.combine(day, LOGGED_AT, tzinfo=demo.zone), now)
        timeline.at(
            logged,
            lambda entry=(person, item, day, hours, toil, note, logged): _log(team, *entry),
        )


def _log(team, person, item, day, hours, toil, note, logged) -> None:
    work_log_add(
        team=team,
        person=person,
        item=item,
        on=day,
        hours=Decimal(str(hours)),
        toil=toil,
        note=note,
        at=logged,
    )
