from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.encryption import EncryptedTextField


class TicketDelivery(models.TextChoices):
    EACH = "each", _("Each ticket, without a mention")
    DIGEST = "digest", _("A daily digest")
    NONE = "none", _("Not sent: the retro queue only")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    mission = models.TextField(_("mission"), blank=True)
    budget_at_risk_below = models.DecimalField(
        _("error budget at risk below (%)"),
        max_digits=5,
        decimal_places=2,
        default=25,
        help_text=_("An SLO with less budget left than this is shown as at risk."),
    )
    no_data_after_hours = models.PositiveSmallIntegerField(
        _("flag no data after (hours)"),
        default=3,
        help_text=_("A series silent for this many hours raises a no-data flag."),
    )
    # Google's SRE book: more than two incidents a 12-hour shift and on-call burns out.
    # A team on one weekly rota should see no more than a handful of alerts a week.
    alerts_per_week_target = models.PositiveIntegerField(
        _("alerts per week target"),
        default=5,
        help_text=_(
            "The noise page shows each week's alerts against this. A team on one weekly "
            "rota should see no more than a handful."
        ),
    )
    # The weekly retro: weekday (0 = Monday), time in the team's zone and length.
    retro_weekday = models.PositiveSmallIntegerField(
        _("retro weekday"),
        default=2,
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    retro_time = models.TimeField(_("retro time"), default=time(10, 0))
    retro_minutes = models.PositiveSmallIntegerField(
        _("retro length (minutes)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(180)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Slack delivery (slos/notifications/delivery.py). The webhook URL is a secret: written,
    # stored encrypted (portal/encryption.py), never shown back in full (see slack_webhook_masked).
    slack_webhook_url = EncryptedTextField(
        _("Slack incoming webhook URL"), max_length=500, blank=True
    )
    slack_mention = models.CharField(
        _("Slack mention for alerts"),
        max_length=200,
        blank=True,
        default="<!channel>",
        help_text=_("<!channel>, <!here>, a user group as <!subteam^ID>, or blank for none."),
    )
    ticket_delivery = models.CharField(
        _("tickets in Slack"),
        max_length=10,
        choices=TicketDelivery.choices,
        default=TicketDelivery.EACH,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def slack_webhook_masked(self) -> str:
        """Enough to recognise which webhook is stored, not enough to post to it."""
        url = self.slack_webhook_url
        if not url:
            return ""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}/…{url[-4:]}"


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    MEMBER = "member", _("Member")
    ADMIN = "admin", _("Admin")


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def allows(self, needed: Role) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[needed]


class ApiToken(models.Model):
    """A personal token for the JSON API. Only its SHA-256 digest is stored; the token
    itself is shown once, when it is created. `prefix` lets the owner tell tokens apart."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
