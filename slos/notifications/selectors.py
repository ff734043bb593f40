"""Reads for the notification pages: the ticket queue, the intake sources, the routing
policy, and what the noise page and the replay count. Each is a fixed number of
queries, whatever the number of notifications."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateField, Max, Q, QuerySet, When
from django.db.models.functions import TruncDate

from portal.models import Team
from slos.models import (
    SLO,
    IntakeRequest,
    IntakeSource,
    IntakeStatus,
    Notification,
    NotificationClass,
    RoutingPolicyChange,
    RoutingRule,
)
from slos.notifications import noise, routing


def ticket_counts(*, team: Team) -> dict[str, int]:
    """The team's tickets per status. One query."""
    return dict(
        Notification.objects.tickets()
        .filter(team=team)
        .values_list("ticket_status")
        .annotate(n=Count("pk"))
        .values_list("ticket_status", "n")
    )


def tickets_with_status(*, team: Team, status: str) -> QuerySet[Notification]:
    """The team's tickets with one status, in the model's order (newest first)."""
    return (
        Notification.objects.tickets()
        .filter(team=team, ticket_status=status)
        .select_related("source", "service", "slo", "ticket_decided_by")
    )


def intake_sources_with_last_received(*, team: Team) -> QuerySet[IntakeSource]:
    """The team's sources, each with the time of its last accepted delivery."""
    return (
        IntakeSource.objects.filter(team=team)
        .select_related("service")
        .annotate(
            last_received_at=Max(
                "requests__received_at", filter=~Q(requests__status=IntakeStatus.REJECTED)
            )
        )
    )


def intake_requests_recent(*, team: Team, limit: int) -> QuerySet[IntakeRequest]:
    """The latest deliveries to the team's sources, in the model's order."""
    return IntakeRequest.objects.filter(source__team=team).select_related("source")[:limit]


def routing_rules(*, team: Team) -> QuerySet[RoutingRule]:
    """The team's rules in policy order, with the SLO each names."""
    return RoutingRule.objects.filter(team=team).select_related("slo").order_by("position", "pk")


# The noise page and the replay.


def noise_seen(*, team: Team, since: datetime) -> list[noise.Seen]:
    """The team's notifications still seen at or after `since`. One query."""
    return [
        noise.Seen(
            first_seen_at=first_seen_at,
            notification_class=notification_class,
            source_kind=source_kind,
            fingerprint=fingerprint,
            title=title,
            deliveries=deliveries,
            source_name=source_name,
        )
        for (
            first_seen_at,
            notification_class,
            source_kind,
            fingerprint,
            title,
            deliveries,
            source_name,
        ) in Notification.objects.filter(team=team, last_seen_at__gte=since)
        .order_by()
        .values_list(
            "first_seen_at",
            "notification_class",
            "source__kind",
            "fingerprint",
            "title",
            "count",
            "source__name",
        )
    ]


def policy_changes(*, team: Team, since: datetime) -> list[tuple[datetime, str]]:
    """When the team's routing policy changed at or after `since`, and how, oldest
    first. One query."""
    return list(
        RoutingPolicyChange.objects.filter(team=team, changed_at__gte=since)
        .order_by("changed_at", "pk")
        .values_list("changed_at", "summary")
    )


def slo_names(*, team: Team) -> tuple[dict[str, int], dict[int, str]]:
    """Every way a draft may name one of the team's SLOs, and the name to write."""
    lookup: dict[str, int] = {}
    names: dict[int, str] = {}
    for pk, name, openslo_name in SLO.objects.filter(service__team=team).values_list(
        "pk", "name", "openslo_name"
    ):
        lookup[name.casefold()] = pk
        if openslo_name:
            lookup[openslo_name.casefold()] = pk
        lookup[str(pk)] = pk
        names[pk] = openslo_name or str(pk)
    return lookup, names


def stored_routing(*, team: Team, since: datetime) -> list[noise.StoredRouting]:
    """What the replay needs of each notification first seen at or after `since`, and
    what live routing made of it. One query."""
    return [
        noise.StoredRouting(
            source_kind=source_kind,
            labels=labels if isinstance(labels, dict) else {},
            title=title,
            severity=severity,
            resolved_when_first_seen=resolved_at is not None and resolved_at == first_seen_at,
            slo_id=slo_id,
            service_id=service_id,
            notification_class=notification_class,
            decided_by_default=rule_id is None and decided_by_rule == routing.DEFAULT_POLICY,
        )
        for (
            source_kind,
            labels,
            title,
            severity,
            first_seen_at,
            resolved_at,
            slo_id,
            service_id,
            notification_class,
            decided_by_rule,
            rule_id,
        ) in Notification.objects.filter(team=team, first_seen_at__gte=since)
        .order_by()
        .values_list(
            "source__kind",
            "labels",
            "title",
            "severity",
            "first_seen_at",
            "resolved_at",
            "slo_id",
            "service_id",
            "notification_class",
            "decided_by_rule",
            "rule_id",
        )
    ]


def alerts_per_day(teams: list[Team], *, since: datetime) -> dict[int, dict[date, int]]:
    """Per team id: each day (in the team's own zone, as the noise page counts them) on
    which the team got notifications first seen at or after `since`, with how many of
    them were alerts (perhaps none: a day present is a day the sources were heard from).
    One query, whatever the number of teams and notifications; none for no teams."""
    if not teams:
        return {}
    local_day = Case(
        *(
            When(team_id=team.pk, then=TruncDate("first_seen_at", tzinfo=ZoneInfo(team.time_zone)))
            for team in teams
        ),
        output_field=DateField(),
    )
    found: dict[int, dict[date, int]] = {team.pk: {} for team in teams}
    rows = (
        Notification.objects.filter(team__in=teams, first_seen_at__gte=since)
        .annotate(local_day=local_day)
        .values("team_id", "local_day")
        .annotate(alerts=Count("pk", filter=Q(notification_class=NotificationClass.ALERT)))
        .values_list("team_id", "local_day", "alerts")
        .order_by()
    )
    for team_id, day, alerts in rows:
        found[team_id][day] = alerts
    return found
