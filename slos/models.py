from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, signals
from django.db.models.base import ModelState
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.prometheus import WINDOW_PLACEHOLDER
from slos.sli import EventQueries, histogram_queries

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


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
    PROMETHEUS = "prometheus", _("Prometheus (pulled nightly)")
    PUSH = "push", _("Push API (the team sends hourly counts)")
    CSV = "csv", _("CSV upload")


class AuthKind(models.TextChoices):
    NONE = "none", _("None")
    BEARER = "bearer", _("Bearer token")
    BASIC = "basic", _("Basic auth")


class DataSource(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="data_sources")
    name = models.CharField(_("name"), max_length=100)
    openslo_name = models.SlugField(_("OpenSLO name"), max_length=63, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=DataSourceKind.choices, default=DataSourceKind.PROMETHEUS
    )
    url = models.CharField(
        _("URL"),
        max_length=500,
        blank=True,
        validators=[validate_http_url],
        help_text=_("Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090."),
    )
    timeout_seconds = models.FloatField(
        _("timeout (seconds)"),
        default=30.0,
        validators=[MinValueValidator(0.5), MaxValueValidator(300)],
    )
    verify_tls = models.BooleanField(_("verify TLS certificates"), default=True)
    auth_kind = models.CharField(
        _("authentication"), max_length=10, choices=AuthKind.choices, default=AuthKind.NONE
    )
    # Secrets: stored, never shown back in full (see masked()).
    bearer_token = models.CharField(_("bearer token"), max_length=2000, blank=True)
    basic_username = models.CharField(_("basic auth user"), max_length=200, blank=True)
    basic_password = models.CharField(_("basic auth password"), max_length=500, blank=True)
    extra_headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    # Push sources: the token is shown once; only its hash and first characters are kept.
    push_token_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    push_token_prefix = models.CharField(max_length=12, blank=True, editable=False)
    # A lease, taken with a compare-and-set update, so two pulls never overlap; a pull
    # whose worker died frees it when it expires.
    pull_lock_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="datasource_unique_team_name")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == DataSourceKind.PROMETHEUS and not self.url:
            raise ValidationError({"url": _("A Prometheus source needs the URL of its API.")})
        if self.auth_kind == AuthKind.BEARER and not self.bearer_token:
            raise ValidationError({"bearer_token": _("Give the bearer token.")})
        if self.auth_kind == AuthKind.BASIC and not self.basic_username:
            raise ValidationError({"basic_username": _("Give the basic auth user name.")})
        if not isinstance(self.extra_headers, dict) or not all(
            isinstance(key, str) and isinstance(value, str)
            for key, value in self.extra_headers.items()
        ):
            raise ValidationError(
                {"extra_headers": _('Extra headers are a JSON object of strings: {"X-Org": "1"}.')}
            )

    @property
    def is_pulled(self) -> bool:
        return self.kind == DataSourceKind.PROMETHEUS

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers or {})
        if self.auth_kind == AuthKind.BEARER:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        return headers

    def request_auth(self) -> tuple[str, str] | None:
        if self.auth_kind == AuthKind.BASIC:
            return (self.basic_username, self.basic_password)
        return None


class Service(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=100)
    openslo_name = models.SlugField(_("OpenSLO name"), max_length=63, blank=True)
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
    RATIO = "ratio", _("Ratio of event counts")
    HISTOGRAM = "histogram", _("Threshold on a histogram (le bucket over count)")
    GAUGE = "gauge", _("Threshold on a gauge, per timeslice")


class RatioOf(models.TextChoices):
    GOOD = "good", _("good events / valid events")
    BAD = "bad", _("1 − bad events / valid events")


class ThresholdOp(models.TextChoices):
    LT = "lt", "<"
    LTE = "lte", "≤"
    GT = "gt", ">"
    GTE = "gte", "≥"


class BudgetingMethod(models.TextChoices):
    OCCURRENCES = "occurrences", _("Occurrences (count events)")
    TIMESLICES = "timeslices", _("Timeslices (count good slices of time)")


class WindowKind(models.TextChoices):
    ROLLING = "rolling", _("Rolling")
    CALENDAR = "calendar", _("Calendar")


class CalendarPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


TIMESLICE_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]


# What the hourly rows mean: when one of these changes, every stored row is stale.
MEASUREMENT_FIELDS = frozenset(
    {
        "data_source",
        "sli_kind",
        "ratio_of",
        "good_query",
        "bad_query",
        "valid_query",
        "histogram_metric",
        "histogram_labels",
        "gauge_query",
        "threshold_op",
        "threshold",
        "budgeting_method",
        "timeslice_target",
        "timeslice_minutes",
    }
)
WINDOW_FIELDS = frozenset({"window_kind", "window_days", "calendar_period"})


class SLOQuerySet(models.QuerySet):
    def visible_to(self, user) -> SLOQuerySet:
        return self.filter(service__team__memberships__user=user)

    def active(self) -> SLOQuerySet:
        return self.filter(retired_at__isnull=True)

    def due_for_review(self, on: date) -> SLOQuerySet:
        return self.filter(next_review_on__lte=on).order_by("next_review_on")


class SLO(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slos")
    data_source = models.ForeignKey(
        DataSource,
        on_delete=models.PROTECT,
        related_name="slos",
        null=True,
        blank=True,
        db_index=False,  # slo_source_in_order, below, leads with it
    )
    name = models.CharField(_("name"), max_length=120)
    openslo_name = models.SlugField(
        _("OpenSLO name"), max_length=63, blank=True, help_text=_("metadata.name in OpenSLO.")
    )
    why = models.TextField(
        _("why it matters"), blank=True, help_text=_("What the team hearing said about it.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_slos",
    )
    # The indicator.
    sli_kind = models.CharField(
        _("SLI kind"), max_length=20, choices=SLIKind.choices, default=SLIKind.RATIO
    )
    ratio_of = models.CharField(
        _("ratio of"), max_length=4, choices=RatioOf.choices, default=RatioOf.GOOD
    )
    good_query = models.TextField(
        _("good events query"),
        blank=True,
        help_text=_("PromQL counting good events, with $window where the range goes."),
    )
    bad_query = models.TextField(
        _("bad events query"),
        blank=True,
        help_text=_("PromQL counting bad events, with $window where the range goes."),
    )
    valid_query = models.TextField(
        _("valid events query"),
        blank=True,
        help_text=_("PromQL counting all valid events, with $window where the range goes."),
    )
    histogram_metric = models.CharField(
        _("histogram metric"),
        max_length=200,
        blank=True,
        help_text=_("Histogram name without _bucket, e.g. http_request_duration_seconds."),
    )
    histogram_labels = models.CharField(
        _("histogram label matchers"),
        max_length=500,
        blank=True,
        help_text=_('Label matchers without braces, e.g. job="api",route="/clock-in".'),
    )
    gauge_query = models.TextField(
        _("gauge query"),
        blank=True,
        help_text=_("PromQL returning one value per timeslice, e.g. max_over_time(lag[$window])."),
    )
    threshold_op = models.CharField(
        _("comparison"), max_length=3, choices=ThresholdOp.choices, blank=True
    )
    threshold = models.FloatField(
        _("threshold"),
        null=True,
        blank=True,
        help_text=_("The histogram bucket (le) counted as good, or the gauge's limit."),
    )
    # The objective.
    target = models.DecimalField(
        _("target"),
        max_digits=7,
        decimal_places=5,
        help_text=_("As a percentage, e.g. 99.9."),
        validators=[MinValueValidator(50), MaxValueValidator(99.999)],
    )
    budgeting_method = models.CharField(
        _("budgeting method"),
        max_length=12,
        choices=BudgetingMethod.choices,
        default=BudgetingMethod.OCCURRENCES,
    )
    timeslice_target = models.DecimalField(
        _("timeslice target"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("A slice is good when its SLI reaches this percentage, e.g. 95."),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    timeslice_minutes = models.PositiveSmallIntegerField(
        _("timeslice length (minutes)"),
        choices=[(minutes, f"{minutes}m") for minutes in TIMESLICE_MINUTES],
        default=5,
    )
    window_kind = models.CharField(
        _("window"), max_length=10, choices=WindowKind.choices, default=WindowKind.ROLLING
    )
    window_days = models.PositiveSmallIntegerField(
        _("rolling window (days)"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    calendar_period = models.CharField(
        _("calendar period"),
        max_length=10,
        choices=CalendarPeriod.choices,
        default=CalendarPeriod.MONTH,
    )
    # The registry.
    provisional = models.BooleanField(_("provisional"), default=True)
    last_pull_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_pull_status = models.CharField(max_length=10, blank=True, editable=False)
    last_pull_error = models.TextField(blank=True, editable=False)
    last_success_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When a pull last succeeded: the data is stale since then if later ones failed."
        ),
    )
    # What lets a nightly pull skip counting each SLO's stored hours for holes (on
    # PostgreSQL; SQLite always counts). A pull that leaves no hour of the window
    # without a row records that every hour in [buckets_complete_from,
    # buckets_complete_until) has its row, with the count of the SLO's removed rows it
    # read before it looked. Only a removed row can make a hole there, and the database
    # counts every one (bucket_removals: triggers, migration 0012, which also keep the
    # count from going down). While the two counts agree, the record holds.
    buckets_complete_from = models.DateTimeField(null=True, blank=True, editable=False)
    buckets_complete_until = models.DateTimeField(null=True, blank=True, editable=False)
    buckets_complete_removals = models.PositiveBigIntegerField(default=0, editable=False)
    bucket_removals = models.PositiveBigIntegerField(default=0, editable=False)
    review_interval_days = models.PositiveSmallIntegerField(
        _("review every (days)"), default=90, validators=[MinValueValidator(7)]
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    retired_at = models.DateTimeField(
        _("retired"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set by a review that retires the SLO: no longer pulled nor reviewed."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SLOQuerySet.as_manager()

    class Meta:
        verbose_name = "SLO"
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="slo_unique_service_name")
        ]
        # A pull loads a source's SLOs in pk order, in stages (ingest._load_in_stages):
        # each stage reads just its rows, where the source's own index had every stage
        # read and sort all of the source's SLOs.
        indexes = [models.Index(fields=["data_source", "id"], name="slo_source_in_order")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db: str, field_names: list[str], values: tuple) -> SLO:
        """An SLO as loaded, its fields set directly rather than through __init__: for a
        queryset with .only(), Django's own from_db looks each of the model's forty-odd
        fields up in the loaded ones to mark the rest deferred, and that was most of
        the Python time of loading a nightly pull's thousand SLOs. A field not loaded is
        simply absent, which is how Django tells a deferred field. With a pre_init or
        post_init receiver for SLOs, Django's own path runs, so no signal is skipped."""
        if (signals.pre_init.receivers or signals.post_init.receivers) and (
            signals.pre_init.has_listeners(cls) or signals.post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        instance = cls.__new__(cls)
        instance.__dict__.update(zip(field_names, values, strict=True))
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = db
        return instance

    @property
    def target_fraction(self) -> float:
        return float(self.target) / 100

    @property
    def timeslice_target_fraction(self) -> float | None:
        return None if self.timeslice_target is None else float(self.timeslice_target) / 100

    @property
    def team(self) -> Team:
        return self.service.team

    @property
    def uses_timeslices(self) -> bool:
        return self.budgeting_method == BudgetingMethod.TIMESLICES

    def clean(self) -> None:
        """The fields each kind of SLI and budgeting method needs, with messages that say
        what to fill in. Forms, the OpenSLO import and the API all come through here."""
        errors: dict[str, str] = {}

        # Pushed and uploaded data arrive as counts: there is no query to check.
        pulled = self.data_source is None or self.data_source.is_pulled
        queries = {"good_query", "bad_query", "valid_query", "gauge_query", "histogram_metric"}

        def need(field: str, message: str) -> None:
            if field in queries and not pulled:
                return
            value = getattr(self, field)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors.setdefault(field, message)

        def need_window(field: str) -> None:
            value = getattr(self, field) or ""
            if value and WINDOW_PLACEHOLDER not in value:
                errors.setdefault(
                    field,
                    _(
                        "The query must contain $window where the range goes, e.g. "
                        "sum(increase(http_requests_total[$window]))."
                    ),
                )

        if self.sli_kind == SLIKind.RATIO:
            need("valid_query", _("A ratio SLI needs a query for valid events."))
            if self.ratio_of == RatioOf.BAD:
                need("bad_query", _("Counting bad events needs a query for bad events."))
            else:
                need("good_query", _("Counting good events needs a query for good events."))
            for field in ["good_query", "bad_query", "valid_query"]:
                need_window(field)
        elif self.sli_kind == SLIKind.HISTOGRAM:
            need("histogram_metric", _("Name the histogram, e.g. http_request_duration_seconds."))
            if self.histogram_metric and not METRIC_NAME.fullmatch(self.histogram_metric):
                errors.setdefault(
                    "histogram_metric",
                    _("A metric name has letters, digits, _ and : only (no _bucket suffix)."),
                )
            need("threshold", _("Give the histogram bucket (le) that counts as good."))
        elif self.sli_kind == SLIKind.GAUGE:
            need("gauge_query", _("A gauge SLI needs a query returning the gauge's value."))
            need("threshold_op", _("Choose how the gauge compares with the threshold."))
            need("threshold", _("Give the threshold the gauge is compared with."))
            if self.budgeting_method != BudgetingMethod.TIMESLICES:
                errors.setdefault(
                    "budgeting_method",
                    _("A gauge is judged per timeslice: choose the Timeslices method."),
                )
        if self.budgeting_method == BudgetingMethod.TIMESLICES:
            need("timeslice_target", _("Timeslices need a timeslice target, e.g. 95."))
        if errors:
            raise ValidationError(errors)

    def event_queries(self) -> EventQueries | None:
        """The event-count queries to pull; None for a gauge SLI (judged per slice)."""
        if self.sli_kind == SLIKind.HISTOGRAM:
            return histogram_queries(
                self.histogram_metric, self.histogram_labels, float(self.threshold or 0)
            )
        if self.sli_kind == SLIKind.GAUGE:
            return None
        if self.ratio_of == RatioOf.BAD:
            return EventQueries(valid=self.valid_query, bad=self.bad_query)
        return EventQueries(valid=self.valid_query, good=self.good_query)


class ReviewDecision(models.TextChoices):
    KEEP = "keep", _("Keep")
    TIGHTEN = "tighten", _("Tighten")
    LOOSEN = "loosen", _("Loosen")
    RETIRE = "retire", _("Retire")


class SLOReview(models.Model):
    """A periodic review of an SLO; keeps the history of its target."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    reviewed_at = models.DateTimeField()
    decision = models.CharField(_("decision"), max_length=10, choices=ReviewDecision.choices)
    note = models.TextField(_("note"), blank=True)
    old_target = models.DecimalField(max_digits=7, decimal_places=5)
    new_target = models.DecimalField(max_digits=7, decimal_places=5)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"{self.slo} reviewed {self.reviewed_at:%Y-%m-%d}: {self.decision}"


class BudgetPolicyStep(models.Model):
    """What the team does once the remaining error budget falls below a level."""

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="policy_steps")
    below_percent = models.DecimalField(
        _("when remaining budget is below (%)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(-1000), MaxValueValidator(100)],
    )
    action = models.TextField(_("the team will"))

    class Meta:
        ordering = ["-below_percent"]
        constraints = [
            models.UniqueConstraint(fields=["slo", "below_percent"], name="policy_unique_level")
        ]

    def __str__(self) -> str:
        return f"{self.slo} below {self.below_percent}%: {self.action[:40]}"


class AnnotationKind(models.TextChoices):
    DEPLOY = "deploy", _("Deploy")
    INCIDENT = "incident", _("Incident")
    MAINTENANCE = "maintenance", _("Maintenance")
    NOTE = "note", _("Note")


class Annotation(models.Model):
    """A time range on the charts. For one SLO, a whole service (slo empty) or the whole
    team (both empty). A maintenance marked excluded removes its hours from budgets."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="annotations")
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, related_name="annotations"
    )
    slo = models.ForeignKey(
        SLO, on_delete=models.CASCADE, null=True, blank=True, related_name="annotations"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AnnotationKind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    text = models.CharField(_("text"), max_length=300)
    excluded = models.BooleanField(
        _("exclude from the error budget"),
        default=False,
        help_text=_("Only for maintenance: its hours count neither as good nor as bad."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="annotation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(excluded=False) | Q(kind="maintenance"),
                name="annotation_only_maintenance_excluded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"


class HourlyBucket(models.Model):
    """Events of one SLO in one hour [hour, hour + 1h), UTC. Windows are sums of rows."""

    # Keyed by (slo, hour), with no id: the key's index serves every lookup by SLO, and
    # each further index on the biggest table slows every write (a backfill writes ~700k
    # rows; an id and its index were a sixth of the database's CPU time in a nightly).
    # On PostgreSQL, triggers check the reference once per statement, in sets, in place
    # of the per-row foreign key check (migration 0011 says why and how).
    pk = models.CompositePrimaryKey("slo", "hour")
    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="buckets", db_index=False)
    hour = models.DateTimeField()
    good = models.FloatField()
    valid = models.FloatField()
    good_slices = models.PositiveIntegerField(default=0)
    total_slices = models.PositiveIntegerField(default=0)
    # Marked when the SLO's definition changes: the next pull fetches the hour again.
    stale = models.BooleanField(default=False)
    pulled_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Stale rows are few: a pull finds them without reading whole windows.
        indexes = [
            models.Index(fields=["slo", "hour"], condition=Q(stale=True), name="bucket_stale")
        ]

    def __str__(self) -> str:
        return f"{self.slo_id} @ {self.hour:%Y-%m-%d %H:00}: {self.good:g}/{self.valid:g}"


class PullStatus(models.TextChoices):
    RUNNING = "running", _("running")
    OK = "ok", _("ok")
    PARTIAL = "partial", _("partial")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped: another pull of this source was running")


class PullTrigger(models.TextChoices):
    NIGHTLY = "nightly", _("nightly")
    BACKFILL = "backfill", _("backfill")
    MANUAL = "manual", _("pull now")


class PullRun(models.Model):
    """One pull of one data source (or of one SLO of it): how many SLOs ended ok, partial
    or failed, and in `outcomes` an entry for each SLO worth a look (not ok, or some of
    its missing hours not stored), so that a run's record grows with its problems, not
    with the number of SLOs pulled. hours_missing / hours_done show progress while it
    runs."""

    data_source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="runs")
    slo = models.ForeignKey(
        "SLO", null=True, blank=True, on_delete=models.CASCADE, related_name="runs"
    )
    trigger = models.CharField(
        max_length=10, choices=PullTrigger.choices, default=PullTrigger.NIGHTLY
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(help_text=_("End of the last complete hour pulled."))
    status = models.CharField(max_length=10, choices=PullStatus.choices, default=PullStatus.RUNNING)
    hours_missing = models.PositiveIntegerField(default=0)
    hours_done = models.PositiveIntegerField(default=0)
    hours_stored = models.PositiveIntegerField(default=0)
    count_ok = models.PositiveIntegerField(default=0)
    count_partial = models.PositiveIntegerField(default=0)
    count_failed = models.PositiveIntegerField(default=0)
    outcomes = models.JSONField(default=list)
    message = models.TextField(blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.data_source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self):
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def progress_percent(self) -> int:
        if not self.hours_missing:
            return 100 if self.finished_at else 0
        return min(100, round(100 * self.hours_done / self.hours_missing))


# Notifications: intake, routing, the ticket queue (slos/intake.py, slos/routing.py).


class IntakeKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Alertmanager")
    SENTRY = "sentry", _("Sentry")
    GENERIC = "generic", _("Generic JSON")


class IntakeSource(models.Model):
    """Where notifications come from. The URL token is shown once: only its digest is
    kept. Sentry signs its webhooks with the integration's client secret, which Sentry
    makes; HMAC needs the secret itself, so it is stored and never shown again."""

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
    client_secret = models.CharField(_("client secret"), max_length=200, blank=True)
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
    that noise can be compared before and after it (slos/noise.py)."""

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


# Slack delivery: an outbox, sent after commit, retried with backoff (slos/delivery.py).


class OutboxKind(models.TextChoices):
    ALERT = "alert", _("Alert")
    TICKET = "ticket", _("Ticket")
    DIGEST = "digest", _("Ticket digest")


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
