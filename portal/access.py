"""Access helpers: each returns what the user may see or raises 404 (the object's
existence is not revealed to outsiders) or 403 (a member whose role is too low)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_htmx.middleware import HtmxDetails

from portal.models import Membership, Role, Team

M = TypeVar("M", bound=Model)


class AuthedRequest(HttpRequest):
    user: AbstractBaseUser | AnonymousUser
    htmx: HtmxDetails


def membership_or_404(user, team: Team | int, needed: Role = Role.VIEWER) -> Membership:
    team_id = team.pk if isinstance(team, Team) else team
    membership = (
        Membership.objects.select_related("team").filter(team_id=team_id, user=user).first()
    )
    if membership is None:
        raise Http404(_("No such team."))
    if not membership.allows(needed):
        raise PermissionDenied(_("Your role in this team does not allow this."))
    return membership


def team_membership_or_404(user, slug: str, needed: Role = Role.VIEWER) -> Membership:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise Http404(_("No such team."))
    return membership_or_404(user, team, needed)


def team_or_404(user, slug: str, needed: Role = Role.VIEWER) -> Team:
    return team_membership_or_404(user, slug, needed).team


def object_for_user(
    user,
    objects: QuerySet[M],
    *,
    needed: Role = Role.VIEWER,
    team_id_of: Callable[[M], int] = attrgetter("team_id"),
    **lookup,
) -> tuple[M, Membership]:
    """The object matching `lookup` with the user's membership in its team (found by
    `team_id_of`): 404 if there is none or the user is not in that team, 403 if their
    role is below `needed`. Per-kind wrappers live beside the kind (slos/access.py)."""
    found = get_object_or_404(objects, **lookup)
    return found, membership_or_404(user, team_id_of(found), needed)


def team_object_for_user(
    user, slug: str, objects: QuerySet[M], *, needed: Role = Role.VIEWER, **lookup
) -> tuple[M, Membership]:
    """The object matching `lookup` inside the team `slug`, with the user's membership:
    the team is checked first (404 / 403), then the object is looked up in it (404)."""
    membership = team_membership_or_404(user, slug, needed)
    return get_object_or_404(objects, team=membership.team, **lookup), membership


def visible_team_ids(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def teams_allowing(user, needed: Role) -> list[Team]:
    """The user's teams where their role allows `needed`, by name, in one query."""
    memberships = Membership.objects.filter(user=user).select_related("team")
    return [m.team for m in memberships.order_by("team__name") if m.allows(needed)]
