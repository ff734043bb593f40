"""The registry: services, their SLOs (what is measured and the objective), reviews,
the error-budget policy and annotations."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, signals
from django.db.models.base import ModelState
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.budget import TARGET_PERCENT_MAX, TARGET_PERCENT_MIN
from slos.labels import label_problem
from slos.models.measurements import METRIC_NAME, DataSource
from slos.sli import WINDOW_PLACEHOLDER, EventQueries, histogram_queries


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
    DAY = "day", _("Day")
    WEEK = "week", _("Week (from Monday)")
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
# What an SLO's budget is computed from, besides its team's zone and at-risk line.
BUDGET_FIELDS = ("service", "target", "budgeting_method", *sorted(WINDOW_FIELDS))


class SLOQuerySet(models.QuerySet):
    def visible_to(self, user) -> SLOQuerySet:
        return self.filter(service__team__memberships__user=user)

    def active(self) -> SLOQuerySet:
        return self.filter(retired_at__isnull=True)

    def due_for_review(self, on: date) -> SLOQuerySet:
        return self.filter(next_review_on__lte=on).order_by("next_review_on")

    def for_budgets(self) -> SLOQuerySet:
        """Only what an SLO's budget is computed from (its window, target, method, and
        its team's zone and at-risk line), for pages that show budgets and little else."""
        return self.select_related("service__team").only(
            *BUDGET_FIELDS,
            "service__team_id",
            "service__team__time_zone",
            "service__team__budget_at_risk_below",
        )

    def for_page(self) -> SLOQuerySet:
        """With what every SLO page and budget list shows beside it, in the same query.
        The secrets of the source and the team stay behind: no page shows them, and each
        one decrypted cost a list of 1,000 SLOs 40 ms; one read elsewhere loads then."""
        return self.select_related("service__team", "data_source", "owner").defer(
            "data_source__bearer_token",
            "data_source__basic_password",
            "data_source__extra_headers",
            "service__team__slack_webhook_url",
        )


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
        validators=[MinValueValidator(TARGET_PERCENT_MIN), MaxValueValidator(TARGET_PERCENT_MAX)],
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
    labels = models.JSONField(
        _("labels"),
        default=dict,
        blank=True,
        help_text=_("key=value pairs to sort SLOs by, e.g. tier=critical, journey=clock-in."),
    )
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
    # The hearing's feature this SLO measures, when it was made from one (portal's
    # charter page lists the candidates no live SLO measures yet).
    candidate = models.ForeignKey(
        "portal.SLICandidate",
        verbose_name=_("SLI candidate"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="slos",
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
        problem = label_problem(self.labels)
        if problem:
            errors["labels"] = problem

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
    freezes_releases = models.BooleanField(
        _("freezes feature releases"),
        default=False,
        help_text=_("While this step is in force, work on the SLO's backlog items is flagged."),
    )

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


class AnnotationQuerySet(models.QuerySet):
    def for_list(self) -> AnnotationQuerySet:
        """With what an annotation list shows of each (its SLO, service and author)."""
        return self.select_related("slo", "service", "created_by")


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

    objects = AnnotationQuerySet.as_manager()

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
