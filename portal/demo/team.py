"""The demo's people and team, and the clearing that makes a rerun rebuild the demo
instead of adding to it."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from portal.demo.base import DEMO_PASSWORD, TEAM_SLUG
from portal.models import Membership, Role, Team, TicketDelivery
from retros.models import Kudos, RetroAction, RetroSession
from slos.models import (
    Annotation,
    BudgetPolicyStep,
    HourlyBucket,
    IntakeRequest,
    Notification,
    OutboxMessage,
    PullRun,
    RoutingPolicyChange,
    RoutingRule,
    SLOReview,
)
from toil.models import BacklogItem, BacklogSettings, BacklogSettingsChange, WorkLogEntry

ROLES = {"demo": Role.ADMIN, "dev": Role.MEMBER, "pm": Role.VIEWER}


def demo_users() -> dict:
    """demo (admin), dev (member) and pm (viewer); a password is set only when the user
    is made, so one changed since is kept."""
    User = get_user_model()
    users = {}
    for username in ROLES:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        users[username] = user
    return users


def demo_team(users: dict) -> Team:
    """The team, with the demo's settings put back. No Slack webhook: the demo never
    posts anywhere."""
    team, _ = Team.objects.update_or_create(
        slug=TEAM_SLUG,
        defaults={
            "name": "Kintai Cloud",
            "time_zone": "Asia/Tokyo",
            "mission": "Every clock-in counted and every payroll on time, for 4,000 "
            "small businesses.",
            "slack_webhook_url": "",
            "slack_mention": "<!channel>",
            "ticket_delivery": TicketDelivery.EACH,
        }
        | {
            field.name: field.get_default()
            for field in Team._meta.concrete_fields
            if field.name
            in {
                "budget_at_risk_below",
                "no_data_after_hours",
                "alerts_per_week_target",
                "retro_weekday",
                "retro_time",
                "retro_minutes",
            }
        },
    )
    for username, role in ROLES.items():
        Membership.objects.update_or_create(
            team=team, user=users[username], defaults={"role": role}
        )
    return team


def demo_team_clear(team: Team) -> None:
    """Everything of the team that carries a time: its history is rebuilt relative to
    now. The team, its services, SLOs and sources stay (found again by name), so their
    pages and intake tokens last from one run to the next."""
    RetroSession.objects.filter(team=team).delete()
    RetroAction.objects.filter(team=team).delete()
    Kudos.objects.filter(team=team).delete()
    WorkLogEntry.objects.filter(team=team).delete()
    BacklogItem.objects.filter(team=team).delete()
    BacklogSettingsChange.objects.filter(team=team).delete()
    BacklogSettings.objects.filter(team=team).delete()
    OutboxMessage.objects.filter(team=team).delete()
    Notification.objects.filter(team=team).delete()
    IntakeRequest.objects.filter(source__team=team).delete()
    RoutingRule.objects.filter(team=team).delete()
    RoutingPolicyChange.objects.filter(team=team).delete()
    Annotation.objects.filter(team=team).delete()
    SLOReview.objects.filter(slo__service__team=team).delete()
    BudgetPolicyStep.objects.filter(slo__service__team=team).delete()
    PullRun.objects.filter(data_source__team=team).delete()
    HourlyBucket.objects.filter(slo__service__team=team).delete()
