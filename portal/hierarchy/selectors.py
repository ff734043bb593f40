"""Reads of the hierarchy pages and of the home page's weakest levels. Each runs a fixed
number of queries whatever the number of teams, services, SLOs or rounds: the evidence
is a handful of aggregates over the team, handed to the pure rules as plain facts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery

from portal.hierarchy import rules
from portal.hierarchy.rules import (
    LevelAnswer,
    LevelEvidence,
    Round,
    ServiceFacts,
    TeamFacts,
    WeakestLevel,
)
from portal.models import Hearing, HierarchyAnswer, HierarchyAssessment, Team
from portal.weeks import week_monday
from retros.models import (
    ActionStatus,
    BudgetSnapshot,
    Kudos,
    RetroAction,
    RetroSession,
    SessionStatus,
)
from slos.models import (
    SLO,
    Annotation,
    AnnotationKind,
    BudgetPolicyStep,
    HourlyBucket,
    IntakeSource,
    Notification,
    NotificationClass,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RoutingRule,
    Service,
    TicketStatus,
)
from toil.models import BacklogItem, BacklogSettings, Kind, Status


def _rounds(answers: Iterable[HierarchyAnswer]) -> list[Round]:
    """Answer rows (with their assessment) gathered into rounds."""
    by_assessment: dict[int, tuple[HierarchyAssessment, dict[str, LevelAnswer]]] = {}
    for answer in answers:
        assessment = answer.assessment
        _, levels = by_assessment.setdefault(assessment.pk, (assessment, {}))
        levels[answer.level] = LevelAnswer(
            level=answer.level,
            enablement=answer.enablement,
            checked=frozenset(answer.checked or ()),
            note=answer.note,
        )
    return [
        Round(
            service_id=assessment.service_id,
            assessed_on=assessment.assessed_on,
            answers=levels,
            id=assessment.pk,
            recorded_at=assessment.recorded_at,
            recorded_by=(assessment.recorded_by.get_username() if assessment.recorded_by else ""),
        )
        for assessment, levels in by_assessment.values()
    ]


def rounds_of(services: Iterable[Service] | Iterable[int]) -> list[Round]:
    """Every round of the services, oldest first, in one query."""
    ids = [s.pk if isinstance(s, Service) else s for s in services]
    answers = HierarchyAnswer.objects.filter(assessment__service_id__in=ids).select_related(
        "assessment__recorded_by"
    )
    return sorted(_rounds(answers), key=Round.sort_key)


def weakest_levels(teams: Iterable[Team]) -> dict[int, WeakestLevel | None]:
    """Each team's weakest hierarchy level (rules.weakest_level) from its services'
    latest rounds; None for a team with no service assessed. One query, whatever the
    number of teams, services and rounds."""
    team_ids = [team.pk for team in teams]
    latest = (
        HierarchyAssessment.objects.filter(service_id=OuterRef("assessment__service_id"))
        .order_by("-assessed_on", "-recorded_at", "-pk")
        .values("pk")[:1]
    )
    rows = (
        HierarchyAnswer.objects.filter(assessment__service__team_id__in=team_ids)
        .filter(assessment_id=Subquery(latest))
        .values_list(
            "assessment__service__team_id",
            "assessment__service_id",
            "level",
            "enablement",
            "checked",
        )
    )
    by_team: dict[int, dict[int, dict[str, LevelAnswer]]] = defaultdict(lambda: defaultdict(dict))
    for team_id, service_id, level, enablement, checked in rows:
        by_team[team_id][service_id][level] = LevelAnswer(
            level=level, enablement=enablement, checked=frozenset(checked or ())
        )
    return {
        team_id: rules.weakest_level(list(by_team[team_id].values()))
        if team_id in by_team
        else None
        for team_id in team_ids
    }


# Evidence ---------------------------------------------------------------------------


def _since(at: datetime, days: int) -> datetime:
    return at - timedelta(days=days)


def _service_of(service_id: int | None, slo_service_id: int | None) -> int | None:
    return service_id if service_id is not None else slo_service_id


def service_facts(team: Team, *, at: datetime) -> dict[int, ServiceFacts]:
    """What the portal holds about each of the team's services, keyed by service id."""
    policy = BudgetPolicyStep.objects.filter(slo=OuterRef("pk"))
    slos = list(
        SLO.objects.filter(service__team=team, retired_at__isnull=True)
        .annotate(
            has_policy=Exists(policy),
            has_freeze=Exists(policy.filter(freezes_releases=True)),
        )
        .values_list(
            "pk", "service_id", "next_review_on", "candidate_id", "has_policy", "has_freeze"
        )
    )
    start = _since(at, rules.DATA_WINDOW_DAYS)
    hours = dict(
        HourlyBucket.objects.filter(
            slo__service__team=team, slo__retired_at__isnull=True, hour__gte=start, hour__lt=at
        )
        .values("slo_id")
        .annotate(hours=Count("hour"))
        .values_list("slo_id", "hours")
    )
    delivered = OutboxMessage.objects.filter(
        notification=OuterRef("pk"), kind=OutboxKind.ALERT, status=OutboxStatus.SENT
    )
    alerts = Notification.objects.filter(
        team=team,
        notification_class=NotificationClass.ALERT,
        last_seen_at__gte=_since(at, rules.ALERT_WINDOW_DAYS),
        first_seen_at__lt=at,
    ).annotate(delivered=Exists(delivered))
    sources = Counter(IntakeSource.objects.filter(team=team).values_list("service_id", flat=True))
    decisions = Counter(
        BudgetSnapshot.objects.filter(
            session__team=team,
            session__status=SessionStatus.CLOSED,
            session__started_at__gte=_since(at, rules.RELEASE_WINDOW_DAYS),
            session__started_at__lt=at,
        )
        .exclude(release_decision="")
        .values_list("slo__service_id", flat=True)
    )
    marks = Annotation.objects.filter(
        team=team,
        kind__in=[AnnotationKind.DEPLOY, AnnotationKind.INCIDENT],
        starts_at__gte=_since(at, max(rules.ALERT_WINDOW_DAYS, rules.INCIDENT_WINDOW_DAYS)),
        starts_at__lt=at,
    ).values_list("kind", "starts_at", "service_id", "slo__service_id")
    done = Counter(
        BacklogItem.objects.filter(
            team=team,
            kind=Kind.RELIABILITY,
            status=Status.DONE,
            closed_at__gte=_since(at, rules.WORK_WINDOW_DAYS),
            closed_at__lt=at,
        ).values_list("slo__service_id", flat=True)
    )
    service_ids = list(Service.objects.filter(team=team).values_list("pk", flat=True))

    facts: dict[int, dict] = {pk: defaultdict(int) for pk in service_ids}
    for pk, service_id, next_review, candidate, has_policy, has_freeze in slos:
        row = facts[service_id]
        row["slos"] += 1
        slo_hours = hours.get(pk, 0)
        row["hours_with_data"] += slo_hours
        row["slos_with_data"] += slo_hours >= rules.COVERAGE_MET * rules.DATA_WINDOW_DAYS * 24
        row["slos_with_policy"] += has_policy
        row["slos_with_freeze"] += has_freeze
        row["slos_from_hearings"] += candidate is not None
        row.setdefault("review_due", [])
        row["review_due"].append(next_review)
    for service_id, slo_id, slo_service_id, was_delivered in alerts.values_list(
        "service_id", "slo_id", "slo__service_id", "delivered"
    ):
        row = facts.get(_service_of(service_id, slo_service_id))
        if row is None:
            continue
        row["alerts"] += 1
        row["alerts_on_slos"] += slo_id is not None
        row["alerts_delivered"] += was_delivered
    deploy_since = _since(at, rules.ALERT_WINDOW_DAYS)
    for kind, starts_at, service_id, slo_service_id in marks:
        owner = _service_of(service_id, slo_service_id)
        # A team-wide mark (no service, no SLO) is on every service's charts.
        targets = service_ids if owner is None else [owner]
        for target in targets:
            if kind == AnnotationKind.INCIDENT:
                facts[target]["incidents"] += 1
            elif starts_at >= deploy_since:
                facts[target]["deploys"] += 1
    for pk in service_ids:
        row = facts[pk]
        row["intake_sources"] = sources.get(pk, 0)
        row["release_decisions"] = decisions.get(pk, 0)
        row["reliability_done"] = done.get(pk, 0)
    return {
        pk: ServiceFacts(**{**row, "review_due": tuple(row.get("review_due", ()))})
        for pk, row in facts.items()
    }


def team_facts(team: Team, *, at: datetime) -> TeamFacts:
    """What the portal holds about the team as a whole."""
    today = at.astimezone(ZoneInfo(team.time_zone)).date()
    monday = week_monday(at, team.time_zone)
    retro_weeks = (
        RetroSession.objects.filter(
            team=team,
            status=SessionStatus.CLOSED,
            week_of__gte=monday - timedelta(weeks=rules.RETRO_WINDOW_WEEKS),
            week_of__lt=monday,
        )
        .values("week_of")
        .distinct()
        .count()
    )
    actions = (
        RetroAction.objects.filter(
            team=team,
            due_on__gte=today - timedelta(days=rules.ACTION_WINDOW_DAYS),
            due_on__lte=today,
        )
        .exclude(status=ActionStatus.DROPPED)
        .aggregate(due=Count("pk"), done=Count("pk", filter=Q(status=ActionStatus.DONE)))
    )
    tickets = Notification.objects.filter(
        team=team, notification_class=NotificationClass.TICKET
    ).aggregate(
        stale=Count(
            "pk",
            filter=Q(
                ticket_status=TicketStatus.OPEN,
                first_seen_at__lt=_since(at, rules.TICKET_STALE_DAYS),
            ),
        ),
        decided=Count("pk", filter=Q(ticket_decided_at__gte=_since(at, rules.ALERT_WINDOW_DAYS))),
    )
    settings = BacklogSettings.objects.filter(team=team).first()
    hearings = Hearing.objects.filter(team=team, held_on__lte=today).aggregate(
        count=Count("pk"), last=Max("held_on")
    )
    kudos = dict(
        Kudos.objects.filter(
            team=team, noted_at__gte=_since(at, rules.KUDOS_WINDOW_DAYS), noted_at__lte=at
        )
        .values("practice")
        .annotate(count=Count("pk"))
        .values_list("practice", "count")
    )
    return TeamFacts(
        routing_rules=RoutingRule.objects.filter(team=team, enabled=True).count(),
        intake_sources=IntakeSource.objects.filter(team=team).count(),
        retro_weeks=retro_weeks,
        actions_due=actions["due"],
        actions_done=actions["done"],
        stale_tickets=tickets["stale"],
        tickets_decided=tickets["decided"],
        reserved_hours=float(settings.reserved_hours_per_week()) if settings else 0.0,
        reliability_done=BacklogItem.objects.filter(
            team=team,
            kind=Kind.RELIABILITY,
            status=Status.DONE,
            closed_at__gte=_since(at, rules.WORK_WINDOW_DAYS),
            closed_at__lt=at,
        ).count(),
        hearings=hearings["count"],
        last_hearing_on=hearings["last"],
        kudos=kudos,
    )


# Pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceStanding:
    """One service on the team page: its latest round, next focus and evidence."""

    service: Service
    latest: Round | None
    focus: rules.Focus | None
    evidence: dict[str, LevelEvidence]


@dataclass(frozen=True)
class TeamHierarchy:
    services: list[ServiceStanding]
    rounds: list[Round]
    profile: list[rules.TeamLevel]
    focus: rules.TeamFocus | None
    trend: list[tuple[date, list[rules.TeamLevel]]]
    today: date

    @property
    def assessed(self) -> int:
        return sum(standing.latest is not None for standing in self.services)


def team_hierarchy(team: Team, *, at: datetime) -> TeamHierarchy:
    services = list(Service.objects.filter(team=team).order_by("name"))
    rounds = rounds_of(services)
    latest = rules.latest_rounds(rounds)
    today = at.astimezone(ZoneInfo(team.time_zone)).date()
    facts = service_facts(team, at=at)
    shared = team_facts(team, at=at)
    standings = []
    for service in services:
        found = latest.get(service.pk)
        standings.append(
            ServiceStanding(
                service=service,
                latest=found,
                focus=rules.next_focus(found.answers) if found else None,
                evidence=rules.level_evidence(facts[service.pk], shared, today=today),
            )
        )
    by_name = {
        standing.service.name: standing.latest.answers
        for standing in standings
        if standing.latest is not None
    }
    return TeamHierarchy(
        services=standings,
        rounds=rounds,
        profile=rules.team_profile(list(by_name.values())),
        focus=rules.team_next_focus(by_name),
        trend=rules.team_trend(rounds),
        today=today,
    )


@dataclass(frozen=True)
class ServiceHierarchy:
    service: Service
    rounds: list[Round]  # oldest first
    evidence: dict[str, LevelEvidence]
    today: date

    @property
    def latest(self) -> Round | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def focus(self) -> rules.Focus | None:
        return rules.next_focus(self.latest.answers if self.latest else {})


def service_hierarchy(service: Service, *, at: datetime) -> ServiceHierarchy:
    team = service.team
    facts = service_facts(team, at=at)
    return ServiceHierarchy(
        service=service,
        rounds=rounds_of([service]),
        evidence=rules.level_evidence(
            facts[service.pk],
            team_facts(team, at=at),
            today=at.astimezone(ZoneInfo(team.time_zone)).date(),
        ),
        today=at.astimezone(ZoneInfo(team.time_zone)).date(),
    )
