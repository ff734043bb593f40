"""Notifications: intake sources and requests, the routing policy, notifications and
their tickets, and the Slack outbox (slos/notifications/)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.encryption import EncryptedTextField
from portal.models import Team
from slos.models.registry import SLO, Service


class IntakeKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Alertmanager")
    SENTRY = "sentry", _("Sentry")
    GENERIC = "generic", _("Generic JSON")


class IntakeSource(models.Model):
    """Where notifications come from. The URL token is shown once: only its digest is
    kept. Sentry signs its webhooks with the integration's client secret, which Sentry
    makes; HMAC needs the secret itself, so it is stored, encrypted (portal/encryption.py),
    and never shown again."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="intake_sources")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=IntakeKind.choices)
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="intake_sources",
        verbose_name=_("service"),
        help_text=_("Notifications that name no service are taken as this service's."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=16, editable=False)
    client_secret = EncryptedTextField(_("client secret"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="intakesource_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class IntakeStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    REJECTED = "rejected", _("Rejected")


class IntakeRequest(models.Model):
    """One webhook delivery, stored before it is answered: the raw body (cut short when
    rejected), and why it was refused if it was."""

    source = models.ForeignKey(IntakeSource, on_delete=models.CASCADE, related_name="requests")
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=IntakeStatus.choices)
    http_status = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)
    body = models.TextField(blank=True)
    body_bytes = models.PositiveIntegerField(default=0)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["source", "-received_at"], name="intakerequest_source_recent")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M} {self.status}"


class NotificationClass(models.TextChoices):
    ALERT = "alert", _("Alert")
    TICKET = "ticket", _("Ticket")
    LOG = "log", _("Log")


class NotificationState(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    BACKLOGGED = "backlogged", _("Backlogged")
    ESCALATED = "escalated", _("Escalated")


class RoutingRule(models.Model):
    """One step of a team's routing policy. Rules are tried in `position` order; the
    first that matches decides the class. `conditions` is a list of
    {"field": ..., "op": "equals" | "regex", "value": ...}, all of which must hold."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=120)
    source_kind = models.CharField(
        _("source kind"), max_length=16, choices=IntakeKind.choices, blank=True
    )
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    slo = models.ForeignKey(
        SLO, on_delete=models.CASCADE, null=True, blank=True, related_name="routing_rules"
    )
    outcome = models.CharField(_("class"), max_length=8, choices=NotificationClass.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["team", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class NotificationQuerySet(models.QuerySet):
    def tickets(self) -> NotificationQuerySet:
        return self.filter(notification_class=NotificationClass.TICKET)


class Notification(models.Model):
    """Every delivery of the same thing (by fingerprint, per source) lands on one row."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notifications")
    source = models.ForeignKey(IntakeSource, on_delete=models.CASCADE, related_name="notifications")
    fingerprint = models.CharField(max_length=200)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    url = models.URLField(_("link"), max_length=1000, blank=True)
    severity = models.CharField(_("severity"), max_length=40, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    slo = models.ForeignKey(
        SLO, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=NotificationState.choices, default="firing"
    )
    count = models.PositiveIntegerField(_("deliveries"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    notification_class = models.CharField(
        _("class"), max_length=8, choices=NotificationClass.choices
    )
    rule = models.ForeignKey(
        RoutingRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    decided_by_rule = models.CharField(_("decided by"), max_length=120)
    reason = models.TextField(_("reason"))
    last_request = models.ForeignKey(
        IntakeRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ticket_status = models.CharField(
        _("ticket status"),
        max_length=10,
        choices=TicketStatus.choices,
        default="open",
    )
    ticket_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket_decided_at = models.DateTimeField(null=True, blank=True)
    ticket_note = models.TextField(_("note"), blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"], name="notification_unique_source_fingerprint"
            )
        ]
        indexes = [
            models.Index(
                fields=["team", "notification_class", "ticket_status"],
                name="notification_queue",
            )
        ]

    def __str__(self) -> str:
        return self.title


class RoutingPolicyChange(models.Model):
    """A rule added to, edited in, moved in or removed from a team's routing policy, so
    that noise can be compared before and after it (slos/notifications/noise.py)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_changes")
    changed_at = models.DateTimeField(_("changed"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    summary = models.CharField(_("change"), max_length=300)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["team", "-changed_at"], name="routingchange_team_recent")]

    def __str__(self) -> str:
        return f"{self.team} {self.changed_at:%Y-%m-%d %H:%M} {self.summary}"


# Slack delivery: an outbox, sent after commit, retried with backoff
# (slos/notifications/delivery.py).


class OutboxKind(models.TextChoices):
    ALERT = "alert", _("Alert")
    TICKET = "ticket", _("Ticket")
    DIGEST = "digest", _("Ticket digest")
    SUMMARY = "summary", _("Retro summary")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxQuerySet(models.QuerySet):
    def due(self, at) -> OutboxQuerySet:
        return self.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=at)


class OutboxMessage(models.Model):
    """One Slack message to send. The payload is built when the message is queued, so
    the log shows exactly what was posted; the webhook URL is read from the team when it
    is sent. `key` makes queuing idempotent. A message that ran out of attempts stays,
    as failed, for whoever looks at why Slack stayed quiet."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="outbox_messages")
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=OutboxKind.choices)
    key = models.CharField(max_length=120, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at posting an outbox message: every one is kept."""

    message = models.ForeignKey(
        OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    attempted_at = models.DateTimeField()
    ok = models.BooleanField(default=False)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self) -> str:
        outcome = "ok" if self.ok else "error"
        return f"{self.message_id} {self.attempted_at:%Y-%m-%d %H:%M:%S} {outcome}"
