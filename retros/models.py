from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.budget import BudgetStatus
from slos.models import SLO


class RetroSessionQuerySet(models.QuerySet):
    def visible_to(self, user) -> RetroSessionQuerySet:
        return self.filter(team__memberships__user=user)

    def for_page(self) -> RetroSessionQuerySet:
        """With the team and who started the session, as every retro page shows them."""
        return self.select_related("team", "started_by")


class RetroSession(models.Model):
    """One weekly dashboard retro of one team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="retro_sessions")
    started_at = models.DateTimeField(_("started at"))
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
    # Agenda position the meeting screen follows; the agenda arrives in a later slice.
    current_section = models.PositiveSmallIntegerField(_("current section"), default=0)

    objects = RetroSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.team} retro, week of {self.week_of:%Y-%m-%d}"


class SnapshotStatus(models.TextChoices):
    HEALTHY = BudgetStatus.HEALTHY.value, _("healthy")
    AT_RISK = BudgetStatus.AT_RISK.value, _("at risk")
    EXHAUSTED = BudgetStatus.EXHAUSTED.value, _("exhausted")
    NO_DATA = BudgetStatus.NO_DATA.value, _("no data")


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
    window_days = models.PositiveSmallIntegerField(_("rolling window (days)"))
    good = models.FloatField(_("good events"))
    valid = models.FloatField(_("valid events"))
    sli = models.FloatField(_("SLI"), null=True, blank=True)
    error_budget_remaining = models.FloatField(_("error budget remaining"), null=True, blank=True)
    bad_events_left = models.FloatField(_("bad events left"))
    burn_rate = models.FloatField(_("burn rate"), null=True, blank=True)
    coverage = models.FloatField(_("coverage"))
    status = models.CharField(_("status"), max_length=12, choices=SnapshotStatus.choices)

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
