from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Team


class Kind(models.TextChoices):
    TOIL = "toil", _("Toil")
    RELIABILITY = "reliability", _("Reliability")
    OPERABILITY = "operability", _("Operability")
    SECURITY = "security", _("Security")
    TECH_DEBT = "tech_debt", _("Tech debt")


class Impact(models.IntegerChoices):
    NONE = 0, _("None")
    INTERNAL_ONLY = 1, _("Internal only")
    SOME_USERS = 2, _("Some users")
    MANY_USERS = 3, _("Many users")


class Likelihood(models.IntegerChoices):
    ALMOST_NEVER = 0, _("Almost never")
    MAY_HAPPEN = 1, _("May happen")
    HAPPENS_REGULARLY = 2, _("Happens regularly")
    HAPPENING_NOW = 3, _("Happening now")


class ToilRelief(models.IntegerChoices):
    NONE = 0, _("None (0 hours a month)")
    UNDER_2_HOURS = 1, _("Under 2 hours a month")
    FROM_2_TO_8_HOURS = 2, _("2–8 hours a month")
    OVER_8_HOURS = 3, _("Over 8 hours a month")


class Effort(models.TextChoices):
    XS = "XS", _("XS (1 point)")
    S = "S", _("S (2 points)")
    M = "M", _("M (3 points)")
    L = "L", _("L (5 points)")
    XL = "XL", _("XL (8 points)")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class BacklogItemQuerySet(models.QuerySet):
    def visible_to(self, user) -> BacklogItemQuerySet:
        return self.filter(team__memberships__user=user)

    def open(self) -> BacklogItemQuerySet:
        return self.filter(status=Status.OPEN)


class BacklogItem(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="backlog_items")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, help_text=_("Who is hurt when this goes wrong.")
    )
    likelihood = models.PositiveSmallIntegerField(
        _("likelihood"), choices=Likelihood.choices, help_text=_("How often it goes wrong.")
    )
    toil_relief = models.PositiveSmallIntegerField(
        _("toil relief"),
        choices=ToilRelief.choices,
        help_text=_("Hours of toil the work saves each month."),
    )
    effort = models.CharField(
        _("effort"),
        max_length=2,
        choices=Effort.choices,
        help_text=_("The score is divided by the effort points."),
    )
    slo = models.ForeignKey(
        "slos.SLO",
        verbose_name=_("SLO"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backlog_items",
        help_text=_("The less error budget it has left, the higher the item ranks."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BacklogItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(impact__lte=3, likelihood__lte=3, toil_relief__lte=3)
                & Q(effort__in=Effort.values),
                name="backlogitem_factors_in_range",
            )
        ]

    def __str__(self) -> str:
        return self.title
