"""Access helpers: each returns what the user may see or raises 404 (the object's
existence is not revealed to outsiders) or 403 (a member whose role is too low)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails

from portal.models import Membership, Role, Team


class AuthedRequest(HttpRequest):
    user: AbstractBaseUser | AnonymousUser
    htmx: HtmxDetails


def membership_or_404(user, team: Team | int, needed: Role = Role.VIEWER) -> Membership:
    team_id = team.pk if isinstance(team, Team) else team
    membership = (
        Membership.objects.select_related("team").filter(team_id=team_id, user=user).first()
    )
    if membership is None:
        raise Http404("No such team.")
    if not membership.allows(needed):
        raise PermissionDenied("Your role in this team does not allow this.")
    return membership


def team_membership_or_404(user, slug: str, needed: Role = Role.VIEWER) -> Membership:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise Http404("No such team.")
    return membership_or_404(user, team, needed)


def team_or_404(user, slug: str, needed: Role = Role.VIEWER) -> Team:
    return team_membership_or_404(user, slug, needed).team


def visible_team_ids(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def teams_allowing(user, needed: Role) -> list[Team]:
    """The user's teams where their role allows `needed`, by name, in one query."""
    memberships = Membership.objects.filter(user=user).select_related("team")
    return [m.team for m in memberships.order_by("team__name") if m.allows(needed)]
