"""The demo team's reliability hierarchy: each service assessed twice, nine weeks ago
(the SRE's first look, the SRE doing most of it) and ten days ago (after the first
retros and the clock-in outage: developers took over the monitoring and the on-call of
the clock-in API, runbooks still missing). The admin console, the newest service, lags:
the team's next focus is its monitoring. Rebuilt from scratch on every run."""

from __future__ import annotations

from datetime import timedelta

from portal.demo.base import Demo
from portal.hierarchy.rules import LevelAnswer
from portal.hierarchy.services import hierarchy_assessment_record
from portal.models import HierarchyAssessment

# (days ago, who recorded it, {service: {level: (enablement, checked items, note)}})
ROUNDS = [
    (
        63,
        "demo",
        {
            "Clock-in API": {
                "monitoring": (1, ["slos_defined", "data_flowing"], "Set up by the SRE."),
                "incident_response": (1, ["on_call"], ""),
                "postmortems": (0, [], ""),
                "testing_release": (1, ["automated_tests"], ""),
                "capacity_planning": (0, [], ""),
                "development": (1, ["designed_for_failure"], ""),
                "product": (0, [], ""),
            },
            "Payroll export": {
                "monitoring": (1, ["slos_defined"], ""),
                "incident_response": (0, [], "Failures found by customers' accountants."),
                "postmortems": (0, [], ""),
                "testing_release": (1, ["automated_tests"], ""),
                "capacity_planning": (1, ["peak_known"], "Closing day is the peak."),
                "development": (0, [], ""),
                "product": (0, [], ""),
            },
            "Admin console": {
                "monitoring": (0, [], ""),
                "incident_response": (0, [], ""),
                "postmortems": (0, [], ""),
                "testing_release": (1, ["automated_tests"], ""),
                "capacity_planning": (0, [], ""),
                "development": (0, [], ""),
                "product": (0, [], ""),
            },
        },
    ),
    (
        10,
        "dev",
        {
            "Clock-in API": {
                "monitoring": (
                    2,
                    ["slos_defined", "data_flowing", "alerts_on_symptoms", "dashboards_read"],
                    "Developers wrote the burn-rate rules; the SRE reviewed them.",
                ),
                "incident_response": (
                    2,
                    ["on_call", "routed", "mitigate_first"],
                    "Runbooks for two of the five paging alerts; the pool-exhaustion one was "
                    "written after the outage.",
                ),
                "postmortems": (
                    1,
                    ["weekly_retro", "actions_followed"],
                    "The SRE facilitates the retro; no postmortem of the outage yet.",
                ),
                "testing_release": (1, ["budget_policy", "automated_tests"], ""),
                "capacity_planning": (1, ["peak_known"], "Load test at twice the 9:00 rush."),
                "development": (1, ["reserved_time", "designed_for_failure"], ""),
                "product": (1, ["users_heard"], ""),
            },
            "Payroll export": {
                "monitoring": (
                    2,
                    ["slos_defined", "data_flowing", "alerts_on_symptoms", "dashboards_read"],
                    "",
                ),
                "incident_response": (1, ["on_call", "routed"], ""),
                "postmortems": (1, ["weekly_retro", "tickets_decided"], ""),
                "testing_release": (2, ["budget_policy", "automated_tests", "rollback"], ""),
                "capacity_planning": (
                    1,
                    ["peak_known", "load_tested"],
                    "The SRE plans closing day with the payroll lead.",
                ),
                "development": (1, ["reserved_time"], ""),
                "product": (1, ["users_heard"], ""),
            },
            "Admin console": {
                "monitoring": (
                    1,
                    ["slos_defined", "data_flowing"],
                    "The SLO is provisional; the SRE still writes its rules.",
                ),
                "incident_response": (1, ["routed"], ""),
                "postmortems": (1, ["weekly_retro"], ""),
                "testing_release": (1, ["automated_tests"], ""),
                "capacity_planning": (0, [], ""),
                "development": (1, ["reserved_time"], ""),
                "product": (0, [], ""),
            },
        },
    ),
]


def demo_hierarchy_fill(demo: Demo) -> None:
    HierarchyAssessment.objects.filter(service__team=demo.team).delete()
    for days_ago, username, services in ROUNDS:
        at = demo.now - timedelta(days=days_ago)
        for name, levels in services.items():
            hierarchy_assessment_record(
                service=demo.services[name],
                by=demo.users[username],
                at=at,
                assessed_on=at.astimezone(demo.zone).date(),
                answers=[
                    LevelAnswer(level, enablement, frozenset(checked), note)
                    for level, (enablement, checked, note) in levels.items()
                ],
            )
