from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from portal.models import Team


def validate_http_url(value: str) -> None:
    """Like URLValidator, but internal host names without a dot (http://prometheus:9090)
    are fine: metric sources usually live on a private network."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError(_("The port in this URL is not a number from 0 to 65535.")) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(_("Enter an http:// or https:// URL with a host name."))


class DataSourceKind(models.TextChoices):
    PROMETHEUS = "prometheus", _("Prometheus")


class DataSource(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="data_sources")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=20, choices=DataSourceKind.choices, default=DataSourceKind.PROMETHEUS
    )
    url = models.CharField(
        _("URL"),
        max_length=500,
        validators=[validate_http_url],
        help_text=_("Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090."),
    )
    timeout_seconds = models.FloatField(
        _("timeout (seconds)"),
        default=30.0,
        validators=[MinValueValidator(0.5), MaxValueValidator(300)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="datasource_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="service_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name


class SLIKind(models.TextChoices):
    RATIO = "ratio", _("Ratio (good / valid events)")


WINDOW_CHOICES = [(7, _("7 days")), (28, _("28 days")), (30, _("30 days"))]


class SLOQuerySet(models.QuerySet):
    def visible_to(self, user) -> SLOQuerySet:
        return self.filter(service__team__memberships__user=user)

    def with_window_totals(self, window_end: datetime) -> SLOQuerySet:
        """Annotate Σgood, Σvalid and the hours with data over each SLO's rolling window
        ending at `window_end`, in the same query (one query for any number of SLOs)."""
        in_window = Q()
        for days, _label in WINDOW_CHOICES:
            in_window |= Q(
                window_days=days,
                buckets__hour__gte=window_end - timedelta(days=days),
                buckets__hour__lt=window_end,
            )
        return self.annotate(
            window_good=Sum("buckets__good", filter=in_window),
            window_valid=Sum("buckets__valid", filter=in_window),
            window_hours_with_data=Count("buckets", filter=in_window),
        )


class SLO(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slos")
    data_source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="slos", null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=120)
    why = models.TextField(
        _("why it matters"), blank=True, help_text=_("What the team hearing said about it.")
    )
    sli_kind = models.CharField(
        _("SLI kind"), max_length=20, choices=SLIKind.choices, default=SLIKind.RATIO
    )
    good_query = models.TextField(
        _("good events query"),
        help_text=_("PromQL counting good events, with $window where the range goes."),
    )
    valid_query = models.TextField(
        _("valid events query"),
        help_text=_("PromQL counting all valid events, with $window where the range goes."),
    )
    target = models.DecimalField(
        _("target"),
        max_digits=7,
        decimal_places=5,
        help_text=_("As a percentage, e.g. 99.9."),
        validators=[MinValueValidator(50), MaxValueValidator(99.999)],
    )
    window_days = models.PositiveSmallIntegerField(
        _("rolling window"), choices=WINDOW_CHOICES, default=28
    )
    provisional = models.BooleanField(_("provisional"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SLOQuerySet.as_manager()

    class Meta:
        verbose_name = "SLO"
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="slo_unique_service_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def target_fraction(self) -> float:
        return float(self.target) / 100

    @property
    def team(self) -> Team:
        return self.service.team


class HourlyBucket(models.Model):
    """Events of one SLO in one hour [hour, hour + 1h), UTC. Windows are sums of rows."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="buckets")
    hour = models.DateTimeField()
    good = models.FloatField()
    valid = models.FloatField()
    good_slices = models.PositiveIntegerField(default=0)
    total_slices = models.PositiveIntegerField(default=0)
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slo", "hour"], name="bucket_unique_slo_hour")
        ]

    def __str__(self) -> str:
        return f"{self.slo_id} @ {self.hour:%Y-%m-%d %H:00}: {self.good:g}/{self.valid:g}"


class PullStatus(models.TextChoices):
    RUNNING = "running", _("running")
    OK = "ok", _("ok")
    PARTIAL = "partial", _("partial")
    FAILED = "failed", _("failed")


class PullRun(models.Model):
    """One pull of one data source; `outcomes` holds one entry per SLO."""

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(help_text=_("End of the last complete hour pulled."))
    status = models.CharField(max_length=10, choices=PullStatus.choices, default=PullStatus.RUNNING)
    hours_stored = models.PositiveIntegerField(default=0)
    outcomes = models.JSONField(default=list)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.data_source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
