"""Access to one object of the slos app: each helper returns the object with the
caller's membership in its team (their role), or raises 404 (no such object, or not
in the caller's teams) or 403 (a role too low for `needed`). One helper per kind; the
generic part is portal.access."""

from __future__ import annotations

from portal.access import object_for_user, team_object_for_user
from portal.models import Membership, Role
from slos.models import SLO, Annotation, DataSource, Notification, OutboxMessage, RoutingRule


def slo_for_user(user, pk: int, needed: Role = Role.VIEWER) -> tuple[SLO, Membership]:
    """The SLO with its service, team, data source and owner loaded."""
    return object_for_user(
        user,
        SLO.objects.for_page(),
        needed=needed,
        team_id_of=lambda slo: slo.service.team_id,
        pk=pk,
    )


def data_source_for_user(
    user, pk: int, needed: Role = Role.VIEWER
) -> tuple[DataSource, Membership]:
    return object_for_user(user, DataSource.objects.select_related("team"), needed=needed, pk=pk)


def annotation_for_user(user, pk: int, needed: Role = Role.VIEWER) -> tuple[Annotation, Membership]:
    return object_for_user(user, Annotation.objects.select_related("team"), needed=needed, pk=pk)


def ticket_for_user(user, pk: int, needed: Role = Role.VIEWER) -> tuple[Notification, Membership]:
    """A notification classed as a ticket (any other class is 404 here)."""
    return object_for_user(
        user, Notification.objects.tickets().select_related("team"), needed=needed, pk=pk
    )


def routing_rule_for_user(
    user, slug: str, pk: int, needed: Role = Role.VIEWER
) -> tuple[RoutingRule, Membership]:
    """A rule of the team `slug`, with the SLO it names."""
    return team_object_for_user(
        user, slug, RoutingRule.objects.select_related("slo"), needed=needed, pk=pk
    )


def outbox_message_for_user(
    user, slug: str, pk: int, needed: Role = Role.VIEWER
) -> tuple[OutboxMessage, Membership]:
    """A Slack message of the team `slug`."""
    return team_object_for_user(user, slug, OutboxMessage.objects.all(), needed=needed, pk=pk)
