"""The demo team's charter and the hearing its first SLOs came from: an Enabling SRE,
the suggested split of responsibilities with one later moved, a mission rewritten once,
and a hearing with three features, two measured by the demo's SLOs and one still a
candidate. Rebuilt from scratch on every run."""

from __future__ import annotations

from datetime import timedelta

from portal.charter.services import (
    FeatureHeard,
    charter_update,
    hearing_record,
    responsibilities_adopt_defaults,
    responsibility_update,
)
from portal.demo.base import Demo
from portal.models import Charter, CharterChange, Hearing, Responsibility, SREShape, Team
from slos.models import SLO

FIRST_MISSION = "Clock-ins and payroll that just work."

HEARD = "Payroll product manager, two customer-support leads, the HR admin of a pilot customer"
PAINS = (
    "The error channel fires all day and nobody reads it any more. Support hears about a "
    "failed clock-in before we do. Closing day is a week of fear: a payroll export that "
    "fails at night is found by the customer's accountant."
)
# (feature, what "working" means, service heard, the demo SLOs that measure it)
FEATURES = [
    (
        "Clocking in at the door",
        "a tap on the tablet is accepted the first time, within half a second, even at 9:00",
        "Clock-in API",
        ["clock-ins-succeed", "clock-ins-fast"],
    ),
    (
        "Payroll export on closing day",
        "the bank transfer file is complete and ready by the 25th, without a rerun",
        "Payroll export",
        ["payroll-exports-complete"],
    ),
    (
        "Paid-leave requests",
        "a request sent from a phone shows in the manager's approval list within a minute",
        "Admin console",
        [],
    ),
]
MOVED = "Set up the monitoring, the SLO data pulls and the alert rules"


def demo_charter_fill(demo: Demo) -> None:
    team, now, admin = demo.team, demo.now, demo.users["demo"]
    _clear(team)
    mission = team.mission
    Team.objects.filter(pk=team.pk).update(mission="")
    team.mission = ""
    charter_update(
        team=team,
        by=admin,
        at=now - timedelta(days=100),
        mission=FIRST_MISSION,
        sre_shape=SREShape.ENABLING,
    )
    responsibilities_adopt_defaults(team=team, by=admin, at=now - timedelta(days=100))
    charter_update(
        team=team,
        by=admin,
        at=now - timedelta(days=60),
        mission=mission,
        sre_shape=SREShape.ENABLING,
    )
    # Once the developers had written their first alert rules, the monitoring was shared.
    moved = Responsibility.objects.filter(team=team, description=MOVED).first()
    if moved is not None:
        responsibility_update(
            responsibility=moved,
            by=admin,
            at=now - timedelta(days=21),
            description=moved.description,
            party="shared",
        )
    hearing = hearing_record(
        team=team,
        by=admin,
        at=now - timedelta(days=98),
        held_on=(now - timedelta(days=98)).astimezone(demo.zone).date(),
        heard=HEARD,
        pains=PAINS,
        features=[
            FeatureHeard(feature, working, service) for feature, working, service, _ in FEATURES
        ],
    )
    for candidate, (_, _, _, slo_keys) in zip(hearing.candidates.all(), FEATURES, strict=True):
        SLO.objects.filter(pk__in=[demo.slos[key].pk for key in slo_keys]).update(
            candidate=candidate
        )


def _clear(team: Team) -> None:
    Hearing.objects.filter(team=team).delete()
    CharterChange.objects.filter(team=team).delete()
    Responsibility.objects.filter(team=team).delete()
    Charter.objects.filter(team=team).delete()
