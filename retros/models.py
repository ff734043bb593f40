from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.budget import BudgetStatus
from slos.models import SLO, Notification, SLOReview
from toil.models import BacklogItem


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("planned")  # the agenda is a live preview
    LIVE = "live", _("live")  # started: every number shown is frozen
    CLOSED = "closed", _("closed")  # read-only, with its summary


class RetroSessionQuerySet(models.QuerySet):
    def visible_to(self, user) -> RetroSessionQuerySet:
        return self.filter(team__memberships__user=user)

    def for_page(self) -> RetroSessionQuerySet:
        """With the team and who started the session, as every retro page shows them."""
        return self.select_related("team", "started_by")


class RetroSession(models.Model):
    """One weekly dashboard retro of one team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="retro_sessions")
    status = models.CharField(
        _("status"), max_length=8, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    scheduled_at = models.DateTimeField(_("scheduled at"), null=True, blank=True)
    length_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=30)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("facilitator"),
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="retro_sessions_attended"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    week_of = models.DateField(_("week of"), help_text=_("Monday of the week, in the team's zone."))
    notes = models.TextField(_("notes"), blank=True)
    # The facilitator's section (an index into retros.agenda.SECTIONS): everyone who
    # opens the live meeting screen follows it.
    current_section = models.PositiveSmallIntegerField(_("current section"), default=0)
    section_started_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write to the session (a move, a note, a decision): a follower's
    # poll compares it with the one it shows and fetches the section only when it moved.
    version = models.PositiveIntegerField(default=0)
    # What the agenda showed when the session started, beyond the rows below: the
    # reliability work section and the SLOs due for review (JSON of plain values).
    frozen = models.JSONField(default=dict, blank=True)
    summary = models.TextField(_("summary (Markdown)"), blank=True)
    # One retro a team and week. Sessions held before that rule may share a week: the
    # week's retro is the open one, else the first held; migration 0007 marks the others,
    # kept as history, and only they are exempt from the rule.
    extra_in_week = models.BooleanField(
        _("extra in its week"),
        default=False,
        editable=False,
        help_text=_("Held in a week that already had a retro, before the one-a-week rule."),
    )

    objects = RetroSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-week_of", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week_of"],
                condition=models.Q(extra_in_week=False),
                name="retro_one_per_team_week",
                violation_error_message=_("The team already has a retro in this week."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} retro, week of {self.week_of:%Y-%m-%d}"

    def validate_constraints(self, exclude=None) -> None:
        # No form edits extra_in_week, so forms leave it out of validation; the value on
        # the instance is the one saved, and the one-a-week rule must see it (the admin
        # then says the week is taken instead of failing on the database's constraint).
        super().validate_constraints(
            exclude=None if exclude is None else set(exclude) - {"extra_in_week"}
        )

    @property
    def is_planned(self) -> bool:
        return self.status == SessionStatus.PLANNED

    @property
    def is_live(self) -> bool:
        return self.status == SessionStatus.LIVE

    @property
    def is_closed(self) -> bool:
        return self.status == SessionStatus.CLOSED


class SnapshotStatus(models.TextChoices):
    HEALTHY = BudgetStatus.HEALTHY.value, _("healthy")
    AT_RISK = BudgetStatus.AT_RISK.value, _("at risk")
    EXHAUSTED = BudgetStatus.EXHAUSTED.value, _("exhausted")
    NO_DATA = BudgetStatus.NO_DATA.value, _("no data")


class ReleaseDecision(models.TextChoices):
    KEEP_SHIPPING = "keep", _("keep shipping")
    SLOW_DOWN = "slow", _("slow down")
    RELIABILITY_FIRST = "reliability", _("reliability first")


class BudgetSnapshot(models.Model):
    """One SLO's budget as the team saw it when the session started. Every number and
    name is copied, so later pulls, edits or deleting the SLO leave it as it was."""

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="snapshots")
    slo = models.ForeignKey(
        SLO, on_delete=models.SET_NULL, null=True, blank=True, related_name="retro_snapshots"
    )
    team_name = models.CharField(_("team"), max_length=100)
    service_name = models.CharField(_("service"), max_length=100)
    slo_name = models.CharField(_("SLO"), max_length=120)
    target = models.DecimalField(_("target"), max_digits=7, decimal_places=5)
    # A rolling window's days, or a calendar window's period (month, quarter).
    window_kind = models.CharField(_("window"), max_length=10, default="rolling")
    window_days = models.PositiveSmallIntegerField(
        _("rolling window (days)"), null=True, blank=True
    )
    calendar_period = models.CharField(_("calendar period"), max_length=10, blank=True)
    good = models.FloatField(_("good events"))
    valid = models.FloatField(_("valid events"))
    sli = models.FloatField(_("SLI"), null=True, blank=True)
    error_budget_remaining = models.FloatField(_("error budget remaining"), null=True, blank=True)
    bad_events_left = models.FloatField(_("bad events left"))
    burn_rate = models.FloatField(_("burn rate"), null=True, blank=True)
    coverage = models.FloatField(_("coverage"))
    status = models.CharField(_("status"), max_length=12, choices=SnapshotStatus.choices)
    burn_rate_1d = models.FloatField(_("burn rate, last day"), null=True, blank=True)
    bad_events = models.FloatField(_("bad events"), default=0)
    # Last week's session's remaining budget for this SLO (None: not in it, or no data).
    previous_remaining = models.FloatField(null=True, blank=True)
    # The budget-policy step in effect, as its text said at the start.
    policy_step = models.CharField(_("policy step"), max_length=300, blank=True)
    release_decision = models.CharField(
        _("release decision"), max_length=12, choices=ReleaseDecision.choices, blank=True
    )
    # The dashboard, frozen: the SLI per day ([day, good, valid, hours with data, hours]),
    # the annotations in the window, and the top 3 hours or days by bad events with the
    # annotations overlapping them. Plain JSON values.
    days = models.JSONField(default=list, blank=True)
    annotations = models.JSONField(default=list, blank=True)
    top_burns = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["service_name", "slo_name", "pk"]

    def __str__(self) -> str:
        return f"{self.slo_name} in {self.session}"

    @property
    def sli_percent(self) -> float | None:
        return None if self.sli is None else self.sli * 100

    @property
    def error_budget_remaining_percent(self) -> float | None:
        if self.error_budget_remaining is None:
            return None
        return self.error_budget_remaining * 100


class HierarchyPractice(models.TextChoices):
    """The levels of the Service Reliability Hierarchy, bottom up."""

    MONITORING = "monitoring", _("Monitoring")
    INCIDENT_RESPONSE = "incident_response", _("Incident response")
    POSTMORTEMS = "postmortems", _("Postmortems and retros")
    TESTING_RELEASE = "testing_release", _("Testing and release")
    CAPACITY_PLANNING = "capacity_planning", _("Capacity planning")
    DEVELOPMENT = "development", _("Development")
    PRODUCT = "product", _("Product")


class Kudos(models.Model):
    """SRE work someone noticed, to be praised at the next retro and on the team page."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="kudos")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="kudos_received",
        verbose_name=_("who did it"),
    )
    person_name = models.CharField(_("who did it"), max_length=150)
    what = models.TextField(_("what they did"))
    practice = models.CharField(_("practice"), max_length=20, choices=HierarchyPractice.choices)
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    noted_at = models.DateTimeField(_("noted at"))
    # The session it was shown in (set when that session starts).
    session = models.ForeignKey(
        RetroSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos"
    )

    class Meta:
        ordering = ["-noted_at", "-pk"]
        verbose_name_plural = _("kudos")

    def __str__(self) -> str:
        return f"{self.person_name}: {self.what[:40]}"


class TicketDecisionKind(models.TextChoices):
    UNDECIDED = "", _("undecided")
    DISMISS = "dismiss", _("dismiss")
    TUNE = "tune", _("tune the routing rule")
    ESCALATE = "escalate", _("escalate to an alert")
    BACKLOG = "backlog", _("turn into a backlog item")


class TicketDecision(models.Model):
    """An error ticket as it stood when the session started, and what the team decided.
    Undecided ones are on the next session's agenda again."""

    session = models.ForeignKey(
        RetroSession, on_delete=models.CASCADE, related_name="ticket_decisions"
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    service_name = models.CharField(_("service"), max_length=100, blank=True)
    slo_name = models.CharField(_("SLO"), max_length=120, blank=True)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    carried = models.BooleanField(_("carried from an earlier retro"), default=False)
    decision = models.CharField(
        _("decision"), max_length=10, choices=TicketDecisionKind.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    backlog_item = models.ForeignKey(
        BacklogItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retro_decisions",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_seen_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "notification"], name="retro_ticket_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ReviewItem(models.Model):
    """An SLO due for review (or provisional) when the session started, and the registry
    review recorded for it in the session."""

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="reviews")
    slo = models.ForeignKey(SLO, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    slo_name = models.CharField(_("SLO"), max_length=120)
    service_name = models.CharField(_("service"), max_length=100)
    target = models.DecimalField(_("target"), max_digits=7, decimal_places=5)
    provisional = models.BooleanField(_("provisional"), default=False)
    due_on = models.DateField(_("review due"), null=True, blank=True)
    review = models.ForeignKey(
        SLOReview, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "slo_name", "pk"]

    def __str__(self) -> str:
        return self.slo_name


class ActionStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    DROPPED = "dropped", _("dropped")


class RetroAction(models.Model):
    """Something the team agreed to do, with an owner and a due date. Open actions are
    reviewed at each following retro until done or dropped."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="retro_actions")
    opened_in = models.ForeignKey(
        RetroSession, on_delete=models.CASCADE, related_name="actions_opened"
    )
    text = models.TextField(_("action"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retro_actions",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    # The backlog item this action became or tracks (the link is held here, on the retro
    # side, so that toil never imports retros).
    backlog_item = models.ForeignKey(
        BacklogItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retro_actions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionOutcome(models.TextChoices):
    DONE = "done", _("done")
    CARRIED = "carried", _("carried")
    DROPPED = "dropped", _("dropped")


class ActionReview(models.Model):
    """An open action looked at in a session: done, carried to next week, or dropped."""

    session = models.ForeignKey(
        RetroSession, on_delete=models.CASCADE, related_name="action_reviews"
    )
    action = models.ForeignKey(RetroAction, on_delete=models.CASCADE, related_name="reviews")
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=ActionOutcome.choices, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["action__created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "action"], name="retro_action_review_once")
        ]

    def __str__(self) -> str:
        return f"{self.action} in {self.session}: {self.outcome or 'undecided'}"


class SessionNote(models.Model):
    """A note taken during a session, on one of its sections."""

    session = models.ForeignKey(
        RetroSession, on_delete=models.CASCADE, related_name="session_notes"
    )
    section = models.CharField(_("section"), max_length=12)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
