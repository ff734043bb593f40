"""The Service Reliability Hierarchy (Google's SRE book, chapter III's pyramid), bottom
up, each level with the short checklist a team answers for a service, and the enablement
levels 0–3 that say how far the team runs the practice without its SRE.

The one home of these definitions: the models take their choices from here, the form
its checkboxes, the rules (portal/hierarchy/rules.py) their order and the "met" line.
Level keys are those of retros' `HierarchyPractice` (kudos are filed under them), so a
kudos for monitoring work counts as evidence for the monitoring level.

A checklist item's key is stored with each answer: change an item's text freely, but
never reuse a key for a different practice (old answers would claim it).

Pure: no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    text: str | Promise
    explanation: str | Promise


@dataclass(frozen=True)
class Level:
    key: str
    label: str | Promise
    explanation: str | Promise
    checklist: tuple[ChecklistItem, ...]

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.checklist)


@dataclass(frozen=True)
class Enablement:
    value: int
    label: str | Promise
    explanation: str | Promise


LEVELS: tuple[Level, ...] = (
    Level(
        "monitoring",
        _("Monitoring"),
        _(
            "Knowing what users experience before they tell you: SLIs measured from real "
            "traffic, SLOs on them, and alerts that fire when users are hurt."
        ),
        (
            ChecklistItem(
                "slos_defined",
                _("Every feature that matters to users has an SLO"),
                _("An SLI measured from real traffic and a target, chosen with the team."),
            ),
            ChecklistItem(
                "data_flowing",
                _("Each SLO's data arrives every hour"),
                _("Pulled every night or pushed; a gap shows as coverage below 100%."),
            ),
            ChecklistItem(
                "alerts_on_symptoms",
                _("Pages fire on a burning error budget, not on causes such as CPU"),
                _("A page means users are hurt now; host metrics are logs, not alerts."),
            ),
            ChecklistItem(
                "dashboards_read",
                _("The team reads the SLO dashboard every week"),
                _("At the weekly retro, not only when something breaks."),
            ),
        ),
    ),
    Level(
        "incident_response",
        _("Incident response"),
        _(
            "Acting on an alert: someone is reached, knows what to do first, and brings "
            "the service back before looking for the cause."
        ),
        (
            ChecklistItem(
                "on_call",
                _("Someone is on call for the service, and knows it"),
                _("A rota the team agreed on, with a way to hand over."),
            ),
            ChecklistItem(
                "routed",
                _("Every notification is routed: alert, ticket or log"),
                _("The routing policy decides; only alerts mention people."),
            ),
            ChecklistItem(
                "runbooks",
                _("Each paging alert links to a runbook that says what to do first"),
                _("Written so that someone who did not build the service can act."),
            ),
            ChecklistItem(
                "mitigate_first",
                _("The team mitigates first and finds the cause later"),
                _("Roll back, fail over or switch a feature off before debugging."),
            ),
        ),
    ),
    Level(
        "postmortems",
        _("Postmortems and retros"),
        _(
            "Learning from what happened: a weekly look at the dashboard and the tickets, "
            "blameless postmortems of incidents, and actions followed to done."
        ),
        (
            ChecklistItem(
                "weekly_retro",
                _("A dashboard retro is held every week"),
                _("The team looks at budgets and error tickets together, even quiet weeks."),
            ),
            ChecklistItem(
                "blameless_postmortem",
                _("Every incident that burned budget gets a blameless postmortem"),
                _("What happened, why the system allowed it, what changes; no one blamed."),
            ),
            ChecklistItem(
                "actions_followed",
                _("Actions have an owner and a due date, and are followed to done"),
                _("Reviewed at each retro until done or consciously dropped."),
            ),
            ChecklistItem(
                "tickets_decided",
                _("Error tickets are decided at the retro, none left to rot"),
                _("Dismiss, tune the rule, escalate, or turn into a backlog item."),
            ),
        ),
    ),
    Level(
        "testing_release",
        _("Testing and release"),
        _(
            "Shipping without hurting users: tests before release, the error budget "
            "deciding how fast to ship, and a quick way back."
        ),
        (
            ChecklistItem(
                "budget_policy",
                _("The service's SLOs have an error-budget policy"),
                _("Steps that say what the team does as the budget runs low."),
            ),
            ChecklistItem(
                "release_decisions",
                _("Releases are decided against the budget when it burns"),
                _("Keep shipping, slow down, or reliability first, said out loud."),
            ),
            ChecklistItem(
                "automated_tests",
                _("Every change passes automated tests before it ships"),
                _("In CI, on every merge, not by hand before a big release."),
            ),
            ChecklistItem(
                "rollback",
                _("A release can be rolled back in minutes"),
                _("Practised, not only possible; canary or feature flags count."),
            ),
        ),
    ),
    Level(
        "capacity_planning",
        _("Capacity planning"),
        _("Having enough before it is needed: the peaks known, load-tested, and growth forecast."),
        (
            ChecklistItem(
                "peak_known",
                _("The team knows the service's peak load and its headroom"),
                _("The 9:00 rush, closing day: how much more the service can take."),
            ),
            ChecklistItem(
                "load_tested",
                _("The service is load-tested before known peaks"),
                _("At the expected peak and beyond, in a realistic environment."),
            ),
            ChecklistItem(
                "forecast",
                _("Growth is forecast and capacity added before it is needed"),
                _("From customer numbers and usage trends, reviewed a few times a year."),
            ),
        ),
    ),
    Level(
        "development",
        _("Development"),
        _(
            "Building reliability into the code: time set aside for it, reliability work "
            "finished, and new features designed to fail well."
        ),
        (
            ChecklistItem(
                "reserved_time",
                _("Time is reserved every week for reliability work"),
                _("A number of hours or a share of the team's week, kept even when busy."),
            ),
            ChecklistItem(
                "reliability_done",
                _("Reliability items from the backlog get finished"),
                _("Done, not only opened: the backlog shows them closed."),
            ),
            ChecklistItem(
                "designed_for_failure",
                _("New features are designed with timeouts, retries and graceful degradation"),
                _("Discussed at design review, before the first incident asks for it."),
            ),
        ),
    ),
    Level(
        "product",
        _("Product"),
        _(
            "Reliability as a product decision: the SLOs reflect what users need, are "
            "reviewed with the product owner, and the budget shapes the roadmap."
        ),
        (
            ChecklistItem(
                "slos_reviewed",
                _("SLOs are reviewed on schedule with the product owner"),
                _("Keep, tighten, loosen or retire, with the reason written down."),
            ),
            ChecklistItem(
                "users_heard",
                _("The team hears users and support about what matters"),
                _("Hearings whose features become SLIs, repeated as the product changes."),
            ),
            ChecklistItem(
                "budget_in_roadmap",
                _("The error budget shapes the roadmap"),
                _("When the budget runs low, reliability work goes ahead of features."),
            ),
        ),
    ),
)

LEVEL_KEYS: tuple[str, ...] = tuple(level.key for level in LEVELS)
LEVELS_BY_KEY: dict[str, Level] = {level.key: level for level in LEVELS}

ENABLEMENTS: tuple[Enablement, ...] = (
    Enablement(0, _("Not done"), _("Nobody does this yet.")),
    Enablement(1, _("Done by the SRE"), _("The SRE does it for the team.")),
    Enablement(
        2,
        _("Done by developers with the SRE's support"),
        _("Developers do it; the SRE helps, reviews or pairs."),
    ),
    Enablement(
        3,
        _("Done without the SRE"),
        _("Developers do it on their own; the team no longer needs its SRE for it."),
    ),
)
ENABLEMENT_MIN = 0
ENABLEMENT_MAX = 3
# A level is met from here: developers do it (with or without the SRE). Below, the
# practice still depends on the SRE, which is what an Enabling SRE works to change.
ENABLEMENT_MET = 2

NOTE_MAX_CHARS = 1000


def level_choices() -> list[tuple[str, str | Promise]]:
    return [(level.key, level.label) for level in LEVELS]


def enablement_choices() -> list[tuple[int, str | Promise]]:
    return [(enablement.value, enablement.label) for enablement in ENABLEMENTS]
