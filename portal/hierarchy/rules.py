"""The hierarchy's rules: when a level is met, the next focus of a service and of a
team, the team's profile across its services, and the evidence the portal's own data
gives for each level. Pure: plain values in and out, today passed in, no ORM.

Met: a level is met when the latest answer gives it an enablement of at least 2
(developers do it, with or without the SRE) *and* ticks every item of its checklist.
A level not answered is not met.

Next focus: the lowest level, in hierarchy order, that is not met. The hierarchy is a
pyramid: incident response without monitoring is guessing, postmortems without incident
response have nothing to learn from, so the bottom comes first even when a higher level
scores lower.

A team's level is the *minimum* across its assessed services, not the mean: the team
runs a practice without its SRE only when it does so for every service, and a mean
would hide the one service that still needs the SRE (three services at 3 and one at 0
average 2.25, "met", while that one service is on its own). The mean is shown beside it.

Evidence suggests, the team's answer decides: evidence never changes an answer, and
the page shows both. Each finding says what the portal saw, and, where it bears on a
checklist item, whether that item looks done."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.formatting import coverage_text, day_text, hours_text
from portal.hierarchy.levels import ENABLEMENT_MET, LEVELS, LEVELS_BY_KEY, ChecklistItem

# The windows the evidence looks back over (the selector reads the data with them).
DATA_WINDOW_DAYS = 7
ALERT_WINDOW_DAYS = 28
RETRO_WINDOW_WEEKS = 4
ACTION_WINDOW_DAYS = 56
TICKET_STALE_DAYS = 14
RELEASE_WINDOW_DAYS = 84
WORK_WINDOW_DAYS = 90
KUDOS_WINDOW_DAYS = 90
INCIDENT_WINDOW_DAYS = 90
# An SLO whose hours have data at least this often counts as measured.
COVERAGE_MET = 0.9
# Retros held in at least this many of the last RETRO_WINDOW_WEEKS weeks: "weekly".
RETROS_MET = 3


@dataclass(frozen=True)
class LevelAnswer:
    """A team's answer for one level in one round."""

    level: str
    enablement: int
    checked: frozenset[str] = frozenset()
    note: str = ""


def checklist_done(answer: LevelAnswer) -> tuple[int, int]:
    """(items ticked, items in the checklist), counting only the checklist's own items."""
    keys = LEVELS_BY_KEY[answer.level].item_keys
    return sum(key in answer.checked for key in keys), len(keys)


def checklist_complete(answer: LevelAnswer) -> bool:
    done, total = checklist_done(answer)
    return done == total


def level_met(answer: LevelAnswer | None) -> bool:
    return answer is not None and answer.enablement >= ENABLEMENT_MET and checklist_complete(answer)


@dataclass(frozen=True)
class Focus:
    """The level to work on next, and why it is not met."""

    level: str
    label: str
    enablement: int | None  # None: not answered
    missing: tuple[ChecklistItem, ...] = ()

    @property
    def enablement_short(self) -> bool:
        return self.enablement is None or self.enablement < ENABLEMENT_MET


def next_focus(answers: Mapping[str, LevelAnswer]) -> Focus | None:
    """The lowest unmet level of one service's answers; None when every level is met."""
    for level in LEVELS:
        answer = answers.get(level.key)
        if level_met(answer):
            continue
        checked = answer.checked if answer is not None else frozenset()
        return Focus(
            level=level.key,
            label=str(level.label),
            enablement=None if answer is None else answer.enablement,
            missing=tuple(item for item in level.checklist if item.key not in checked),
        )
    return None


@dataclass(frozen=True)
class TeamLevel:
    """One level across a team's assessed services."""

    level: str
    label: str
    minimum: int
    mean: float
    met: int  # services where it is met
    services: int  # services assessed


def team_profile(services: Sequence[Mapping[str, LevelAnswer]]) -> list[TeamLevel]:
    """Each level's minimum and mean enablement over the services' latest answers (a
    level a service did not answer counts 0 there); empty when no service is assessed."""
    if not services:
        return []
    profile = []
    for level in LEVELS:
        values = [
            answers[level.key].enablement if level.key in answers else 0 for answers in services
        ]
        profile.append(
            TeamLevel(
                level=level.key,
                label=str(level.label),
                minimum=min(values),
                mean=sum(values) / len(values),
                met=sum(level_met(answers.get(level.key)) for answers in services),
                services=len(services),
            )
        )
    return profile


@dataclass(frozen=True)
class TeamFocus:
    level: str
    label: str
    minimum: int
    services: tuple[str, ...]  # the assessed services where the level is not met


def team_next_focus(services: Mapping[str, Mapping[str, LevelAnswer]]) -> TeamFocus | None:
    """The lowest level unmet in any assessed service (named in `services`, by service
    name), with those services; None when none is assessed or every level is met."""
    if not services:
        return None
    for level in LEVELS:
        unmet = tuple(
            name for name, answers in services.items() if not level_met(answers.get(level.key))
        )
        if unmet:
            return TeamFocus(
                level=level.key,
                label=str(level.label),
                minimum=min(
                    answers[level.key].enablement if level.key in answers else 0
                    for answers in services.values()
                ),
                services=unmet,
            )
    return None


@dataclass(frozen=True)
class WeakestLevel:
    """A team's weakest level, for the home page: its next focus, or, when every level
    is met, the first level with the lowest enablement (met=True)."""

    level: str
    label: str
    enablement: int
    met: bool = False


def weakest_level(services: Sequence[Mapping[str, LevelAnswer]]) -> WeakestLevel | None:
    profile = team_profile(services)
    if not profile:
        return None
    for row in profile:
        if row.met < row.services:
            return WeakestLevel(row.level, row.label, row.minimum)
    lowest = min(profile, key=lambda row: row.minimum)  # min keeps the first of ties
    return WeakestLevel(lowest.level, lowest.label, lowest.minimum, met=True)


@dataclass(frozen=True)
class Round:
    """One service's assessment round, as plain values."""

    service_id: int
    assessed_on: date
    answers: Mapping[str, LevelAnswer]
    id: int = 0
    recorded_at: datetime | None = None
    recorded_by: str = ""

    def sort_key(self) -> tuple:
        return (self.assessed_on, self.recorded_at or datetime.min.replace(tzinfo=UTC), self.id)


def latest_rounds(rounds: Sequence[Round]) -> dict[int, Round]:
    """Each service's latest round: by its date, then by when it was recorded."""
    latest: dict[int, Round] = {}
    for found in sorted(rounds, key=Round.sort_key):
        latest[found.service_id] = found
    return latest


def team_trend(rounds: Sequence[Round]) -> list[tuple[date, list[TeamLevel]]]:
    """The team's profile after each day on which a service was assessed: each service
    as its latest round up to that day stood, services not yet assessed left out."""
    trend = []
    for day in sorted({found.assessed_on for found in rounds}):
        standing = latest_rounds([found for found in rounds if found.assessed_on <= day])
        trend.append((day, team_profile([found.answers for found in standing.values()])))
    return trend


# Evidence ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFacts:
    """What the portal holds about one service, counted over the windows above."""

    slos: int = 0  # live (not retired) SLOs
    slos_with_data: int = 0  # live SLOs with data in COVERAGE_MET of the last week's hours
    hours_with_data: int = 0  # over all its live SLOs, the last DATA_WINDOW_DAYS
    alerts: int = 0  # alerts about it, first seen in the last ALERT_WINDOW_DAYS
    alerts_on_slos: int = 0  # of those, the ones raised by an SLO
    alerts_delivered: int = 0  # of those, the ones Slack took
    intake_sources: int = 0  # sources whose notifications default to it
    slos_with_policy: int = 0  # SLOs whose error-budget policy has a step
    slos_with_freeze: int = 0  # SLOs whose policy has a step that freezes releases
    release_decisions: int = 0  # on its SLOs, at retros of the last RELEASE_WINDOW_DAYS
    deploys: int = 0  # deploy annotations on it or its SLOs, last ALERT_WINDOW_DAYS
    incidents: int = 0  # incident annotations on it or its SLOs, last INCIDENT_WINDOW_DAYS
    review_due: tuple[date | None, ...] = ()  # each live SLO's next review
    slos_from_hearings: int = 0  # SLOs made from a hearing's feature
    reliability_done: int = 0  # reliability items on its SLOs done, last WORK_WINDOW_DAYS

    @property
    def coverage(self) -> float | None:
        expected = self.slos * DATA_WINDOW_DAYS * 24
        return self.hours_with_data / expected if expected else None


@dataclass(frozen=True)
class TeamFacts:
    """What the portal holds about the team as a whole (retros, routing and the backlog
    are the team's, not a service's)."""

    routing_rules: int = 0  # enabled rules of the routing policy
    intake_sources: int = 0
    retro_weeks: int = 0  # of the last RETRO_WINDOW_WEEKS weeks, those with a closed retro
    actions_due: int = 0  # actions due in the last ACTION_WINDOW_DAYS
    actions_done: int = 0  # of those, done
    stale_tickets: int = 0  # tickets still open after TICKET_STALE_DAYS
    tickets_decided: int = 0  # tickets decided in the last ALERT_WINDOW_DAYS
    reserved_hours: float = 0  # reliability hours reserved a week
    reliability_done: int = 0  # reliability items done, last WORK_WINDOW_DAYS
    hearings: int = 0
    last_hearing_on: date | None = None
    kudos: Mapping[str, int] = field(default_factory=dict)  # per level, last KUDOS_WINDOW_DAYS


@dataclass(frozen=True)
class Finding:
    """Something the portal saw. `met`: True or False when it bears on `item` (a
    checklist item) or on the level; None when it is context only."""

    text: str
    met: bool | None = None
    item: str = ""


SEEN, PARTLY, NOT_SEEN, NOT_HELD = "seen", "partly", "not_seen", "not_held"


@dataclass(frozen=True)
class LevelEvidence:
    level: str
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        """seen: every finding that bears on the level holds; partly: some do; not_seen:
        none does; not_held: the portal holds nothing that bears on it."""
        judged = [finding.met for finding in self.findings if finding.met is not None]
        if not judged:
            return NOT_HELD
        if all(judged):
            return SEEN
        return PARTLY if any(judged) else NOT_SEEN

    def for_item(self, key: str) -> Finding | None:
        return next((f for f in self.findings if f.item == key and f.met is not None), None)


def _kudos(team: TeamFacts, level: str) -> list[Finding]:
    count = team.kudos.get(level, 0)
    if not count:
        return []
    return [
        Finding(
            ngettext(
                "%(count)d kudos for this work in the last %(days)d days: developers "
                "doing it unprompted.",
                "%(count)d kudos for this work in the last %(days)d days: developers "
                "doing it unprompted.",
                count,
            )
            % {"count": count, "days": KUDOS_WINDOW_DAYS}
        )
    ]


def _monitoring(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    if not service.slos:
        return [Finding(_("The service has no SLO yet."), False, "slos_defined")]
    findings = [
        Finding(
            ngettext("%(count)d live SLO.", "%(count)d live SLOs.", service.slos)
            % {"count": service.slos},
            True,
            "slos_defined",
        ),
        Finding(
            _(
                "%(with_data)d of %(slos)d SLOs had data in the last %(days)d days "
                "(coverage %(coverage)s%%)."
            )
            % {
                "with_data": service.slos_with_data,
                "slos": service.slos,
                "days": DATA_WINDOW_DAYS,
                "coverage": coverage_text(service.coverage),
            },
            service.slos_with_data == service.slos,
            "data_flowing",
        ),
    ]
    if service.alerts:
        findings.append(
            Finding(
                _("%(on_slos)d of %(alerts)d alerts in the last %(days)d days came from an SLO.")
                % {
                    "on_slos": service.alerts_on_slos,
                    "alerts": service.alerts,
                    "days": ALERT_WINDOW_DAYS,
                },
                service.alerts_on_slos * 2 >= service.alerts,
                "alerts_on_symptoms",
            )
        )
    findings.append(_retro_weeks(team, "dashboards_read"))
    return findings


def _retro_weeks(team: TeamFacts, item: str) -> Finding:
    return Finding(
        _("Retros held in %(held)d of the last %(weeks)d weeks.")
        % {"held": team.retro_weeks, "weeks": RETRO_WINDOW_WEEKS},
        team.retro_weeks >= RETROS_MET,
        item,
    )


def _incident_response(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    routed = team.routing_rules > 0 and team.intake_sources > 0
    findings = [
        Finding(
            _(
                "The team's routing policy has %(rules)d rules; %(sources)d notification "
                "sources send to the portal (%(own)d default to this service)."
            )
            % {
                "rules": team.routing_rules,
                "sources": team.intake_sources,
                "own": service.intake_sources,
            },
            routed,
            "routed",
        )
    ]
    if service.alerts:
        findings.append(
            Finding(
                _(
                    "%(alerts)d alerts about the service in the last %(days)d days; "
                    "%(delivered)d reached Slack."
                )
                % {
                    "alerts": service.alerts,
                    "days": ALERT_WINDOW_DAYS,
                    "delivered": service.alerts_delivered,
                }
            )
        )
    else:
        findings.append(
            Finding(
                _("No alert about the service in the last %(days)d days.")
                % {"days": ALERT_WINDOW_DAYS}
            )
        )
    findings.append(
        Finding(_("Who is on call and whether runbooks exist: the portal does not hold that."))
    )
    return findings


def _postmortems(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    findings = [_retro_weeks(team, "weekly_retro")]
    if team.actions_due:
        findings.append(
            Finding(
                _("%(done)d of %(due)d retro actions due in the last %(days)d days are done.")
                % {"done": team.actions_done, "due": team.actions_due, "days": ACTION_WINDOW_DAYS},
                team.actions_done * 4 >= team.actions_due * 3,
                "actions_followed",
            )
        )
    findings.append(
        Finding(
            ngettext(
                "%(count)d error ticket open for more than %(days)d days.",
                "%(count)d error tickets open for more than %(days)d days.",
                team.stale_tickets,
            )
            % {"count": team.stale_tickets, "days": TICKET_STALE_DAYS},
            team.stale_tickets == 0,
            "tickets_decided",
        )
    )
    findings.append(
        Finding(
            ngettext(
                "%(count)d error ticket decided in the last %(days)d days.",
                "%(count)d error tickets decided in the last %(days)d days.",
                team.tickets_decided,
            )
            % {"count": team.tickets_decided, "days": ALERT_WINDOW_DAYS}
        )
    )
    findings.append(
        Finding(
            ngettext(
                "%(count)d incident marked on the service's charts in the last %(days)d "
                "days; postmortems themselves are kept outside the portal.",
                "%(count)d incidents marked on the service's charts in the last %(days)d "
                "days; postmortems themselves are kept outside the portal.",
                service.incidents,
            )
            % {"count": service.incidents, "days": INCIDENT_WINDOW_DAYS}
        )
    )
    return findings


def _testing_release(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    if not service.slos:
        return [Finding(_("No SLO, so no error-budget policy."), False, "budget_policy")]
    findings = [
        Finding(
            _(
                "%(with_policy)d of %(slos)d SLOs have an error-budget policy "
                "(%(freeze)d with a step that freezes releases)."
            )
            % {
                "with_policy": service.slos_with_policy,
                "slos": service.slos,
                "freeze": service.slos_with_freeze,
            },
            service.slos_with_policy == service.slos,
            "budget_policy",
        ),
        Finding(
            ngettext(
                "%(count)d release decision recorded at retros in the last %(days)d days.",
                "%(count)d release decisions recorded at retros in the last %(days)d days.",
                service.release_decisions,
            )
            % {"count": service.release_decisions, "days": RELEASE_WINDOW_DAYS},
            service.release_decisions > 0,
            "release_decisions",
        ),
        Finding(
            ngettext(
                "%(count)d deploy marked on the charts in the last %(days)d days.",
                "%(count)d deploys marked on the charts in the last %(days)d days.",
                service.deploys,
            )
            % {"count": service.deploys, "days": ALERT_WINDOW_DAYS}
        ),
        Finding(_("Tests and rollbacks happen in your CI and deploy tools, not in the portal.")),
    ]
    return findings


def _capacity_planning(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    return [
        Finding(
            _(
                "No evidence the portal can hold: load tests, saturation and forecasts live "
                "in your own tools. The team's answer decides."
            )
        )
    ]


def _development(service: ServiceFacts, team: TeamFacts) -> list[Finding]:
    return [
        Finding(
            _("%(hours)s hours a week reserved for reliability work.")
            % {"hours": hours_text(team.reserved_hours)}
            if team.reserved_hours
            else _("No time reserved for reliability work in the backlog's plan."),
            team.reserved_hours > 0,
            "reserved_time",
        ),
        Finding(
            _(
                "%(team)d reliability items done by the team in the last %(days)d days "
                "(%(own)d on this service's SLOs)."
            )
            % {
                "team": team.reliability_done,
                "own": service.reliability_done,
                "days": WORK_WINDOW_DAYS,
            },
            team.reliability_done > 0,
            "reliability_done",
        ),
    ]


def _product(service: ServiceFacts, team: TeamFacts, today: date) -> list[Finding]:
    findings = []
    if service.slos:
        on_time = sum(due is not None and due >= today for due in service.review_due)
        findings.append(
            Finding(
                _("%(on_time)d of %(slos)d SLOs are not overdue for review.")
                % {"on_time": on_time, "slos": service.slos},
                on_time == service.slos,
                "slos_reviewed",
            )
        )
        findings.append(
            Finding(
                _("%(from_hearings)d of %(slos)d SLOs come from a team hearing.")
                % {"from_hearings": service.slos_from_hearings, "slos": service.slos}
            )
        )
    if team.hearings:
        findings.append(
            Finding(
                ngettext(
                    "%(count)d team hearing recorded, the last on %(day)s.",
                    "%(count)d team hearings recorded, the last on %(day)s.",
                    team.hearings,
                )
                % {"count": team.hearings, "day": day_text(team.last_hearing_on)},
                True,
                "users_heard",
            )
        )
    else:
        findings.append(Finding(_("No team hearing recorded."), False, "users_heard"))
    return findings


def level_evidence(
    service: ServiceFacts, team: TeamFacts, *, today: date
) -> dict[str, LevelEvidence]:
    """What the portal's data says about each level of one service, in hierarchy order."""
    findings = {
        "monitoring": _monitoring(service, team),
        "incident_response": _incident_response(service, team),
        "postmortems": _postmortems(service, team),
        "testing_release": _testing_release(service, team),
        "capacity_planning": _capacity_planning(service, team),
        "development": _development(service, team),
        "product": _product(service, team, today),
    }
    return {
        level.key: LevelEvidence(level.key, tuple(findings[level.key] + _kudos(team, level.key)))
        for level in LEVELS
    }


CLAIMS_MORE, SHOWS_MORE = "claims_more", "shows_more"


def answer_vs_evidence(answer: LevelAnswer | None, evidence: LevelEvidence) -> str:
    """Where the two disagree enough to talk about at the next retro: the answer says
    met but the portal sees none of it (CLAIMS_MORE), or the portal sees all of it but
    the answer says nobody does it (SHOWS_MORE); "" otherwise."""
    verdict = evidence.verdict
    if level_met(answer) and verdict == NOT_SEEN:
        return CLAIMS_MORE
    if verdict == SEEN and (answer is None or answer.enablement == 0):
        return SHOWS_MORE
    return ""
