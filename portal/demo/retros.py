"""The weekly retros: two weeks ago's opened two actions; last week's reviewed them (one
done, one carried), decided the tickets (one left for this week), recorded a release
decision and read out kudos. Both are closed, with their summaries. Since then, new
tickets and kudos wait for this week's, which is planned."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from portal.demo.base import Demo, Timeline
from retros.models import (
    ActionOutcome,
    ReleaseDecision,
    RetroSession,
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
from slos.models import IntakeSource
from slos.notifications.intake import intake_accept
from slos.notifications.parsers import parse_generic

# How the team decides each kind of ticket, whichever retro it comes up in (the first
# words of its title; the rest are dismissed as understood).
TICKET_DECISIONS = [
    (
        "Disk 85% full on the payroll database",
        TicketDecisionKind.DISMISS,
        "Log rotation was off after the migration; fixed by hand.",
    ),
    ("Clock-in 5xx from old tablet firmware", TicketDecisionKind.BACKLOG, ""),
    (
        "Payroll export retried 3 times",
        TicketDecisionKind.DISMISS,
        "The retries worked as designed; the bank was slow.",
    ),
    (
        "OperationalError: could not obtain lock",
        TicketDecisionKind.DISMISS,
        "A long migration held the lock; migrations now run at night.",
    ),
    (
        "TypeError: Cannot read properties of undefined",
        TicketDecisionKind.DISMISS,
        "Old tablets only; firmware 2.3, rolling out, sends the shift.",
    ),
    (
        "ValueError: invalid literal for int()",
        TicketDecisionKind.DISMISS,
        "Staging only; a rule now makes staging errors logs.",
    ),
    (
        "OperationalError: QueuePool limit",
        TicketDecisionKind.ESCALATE,
        "An exhausted pool means people cannot clock in: page us next time.",
    ),
    (
        "Clock-ins answer within 500 ms (Clock-in API) is burning",
        TicketDecisionKind.TUNE,
        "The 1-day window fired a day after the page, for the same outage.",
    ),
    (
        "Clock-ins succeed (Clock-in API) is burning",
        TicketDecisionKind.DISMISS,
        "Same outage as the page; nothing new.",
    ),
]
UNDERSTOOD = "Seen and understood; nothing to change."
# Last week's retro ran out of time before this one: it is on this week's agenda.
LEFT_FOR_THIS_WEEK = "Admin monthly report timed out"


def _decision_for(title: str) -> tuple[str, str]:
    for start, decision, note in TICKET_DECISIONS:
        if title.startswith(start):
            return decision, note
    return TicketDecisionKind.DISMISS, UNDERSTOOD


def _decide_tickets(session: RetroSession, user, at: datetime) -> None:
    for minute, item in enumerate(session.ticket_decisions.all(), start=10):
        if item.title == LEFT_FOR_THIS_WEEK:
            continue
        decision, note = _decision_for(item.title)
        retro_ticket_decide(
            item=item, user=user, decision=decision, note=note, at=at + timedelta(minutes=minute)
        )


def _script_errors(source: IntakeSource, tickets: list[tuple[str, str, str]], at: datetime):
    """Errors reported by the team's scripts (the default policy makes an error of a
    known service a ticket)."""
    body = json.dumps(
        {
            "notifications": [
                {"key": key, "title": title, "service": service, "error": True}
                for key, title, service in tickets
            ]
        }
    ).encode()
    intake_accept(source=source, body=body, incoming=parse_generic(body), at=at)


def demo_retros_plan(
    demo: Demo, timeline: Timeline, jobs: IntakeSource, *, outage: datetime
) -> None:
    """Put the past retros, the tickets and kudos around them on the timeline."""
    team, demo_user, dev = demo.team, demo.users["demo"], demo.users["dev"]
    earlier, last = demo.retro_held(2), demo.retro_held(1)
    since = last + (demo.now - last) / 2
    opened: dict[str, object] = {}

    def tickets(at: datetime, items: list[tuple[str, str, str]]) -> None:
        timeline.at(at, lambda: _script_errors(jobs, items, at))

    def kudos(at: datetime, user, person, person_name: str, what: str, practice: str) -> None:
        timeline.at(
            at,
            lambda: kudos_add(
                team=team,
                user=user,
                person=person,
                person_name=person_name,
                what=what,
                practice=practice,
                at=at,
            ),
        )

    tickets(
        earlier - timedelta(days=2),
        [("demo-disk", "Disk 85% full on the payroll database", "Payroll export")],
    )
    kudos(
        earlier - timedelta(days=1),
        demo_user,
        dev,
        "",
        "Found the noisy disk alert and wrote down why it fires.",
        "monitoring",
    )

    def first_retro() -> None:
        first = retro_session_start(
            session=retro_session_plan(team=team, at=earlier), user=demo_user, at=earlier
        )
        _decide_tickets(first, demo_user, earlier)
        opened["runbook"] = retro_action_add(
            session=first,
            user=demo_user,
            text="Write the runbook for the bank SFTP rejecting uploads",
            owner=demo_user,
            due_on=(earlier + timedelta(days=7)).date(),
            at=earlier + timedelta(minutes=20),
        )
        retro_action_add(
            session=first,
            user=demo_user,
            text="Alert on the bank certificate's expiry, 30 days ahead",
            owner=dev,
            due_on=(earlier + timedelta(days=7)).date(),
            at=earlier + timedelta(minutes=22),
        )
        retro_session_close(session=first, user=demo_user, at=earlier + timedelta(minutes=30))

    timeline.at(earlier, first_retro)

    tickets(
        last - timedelta(days=3),
        [
            ("demo-5xx", "Clock-in 5xx from old tablet firmware", "Clock-in API"),
            ("demo-retry", "Payroll export retried 3 times", "Payroll export"),
            ("demo-report", "Admin monthly report timed out", "Admin console"),
        ],
    )
    kudos(
        outage + timedelta(hours=3),
        demo_user,
        dev,
        "",
        "Rolled back v4.12 within ten minutes of finding the pool settings behind the "
        "clock-in outage.",
        "incident_response",
    )
    kudos(
        last - timedelta(days=1),
        dev,
        None,
        "The DBA team",
        "Sized the connection pool for the 9:00 rush with real numbers.",
        "capacity_planning",
    )

    def second_retro() -> None:
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
            user=demo_user,
            section="budgets",
            text="The clock-in outage ate most of the month's budget in two hours.",
            at=last + timedelta(minutes=7),
        )
        _decide_tickets(second, dev, last)
        for review in second.action_reviews.select_related("action"):
            outcome = (
                ActionOutcome.DONE
                if review.action_id == opened["runbook"].pk
                else ActionOutcome.CARRIED
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
        retro_action_add(
            session=second,
            user=dev,
            text="Move host CPU and memory alerts off the pager",
            owner=dev,
            due_on=(last + timedelta(days=2)).date(),
            at=last + timedelta(minutes=27),
        )
        retro_session_close(session=second, user=dev, at=last + timedelta(minutes=30))

    timeline.at(last, second_retro)

    tickets(
        since,
        [
            (
                "demo-cert",
                "TLS certificate of the admin console expires in 20 days",
                "Admin console",
            )
        ],
    )
    kudos(
        since,
        dev,
        demo_user,
        "",
        "Wrote the runbook for payroll export retries and linked it from the alert.",
        "incident_response",
    )
    kudos(
        last + timedelta(days=1, hours=2),
        demo_user,
        dev,
        "",
        "Moved the host alerts off the pager the day after the retro asked for it.",
        "monitoring",
    )


def demo_retro_plan_this_week(demo: Demo) -> RetroSession:
    return retro_session_plan(team=demo.team, at=demo.now)
