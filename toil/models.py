from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, FloatField, Func, Q, Value, When
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from toil import capacity
from toil.capacity import ENTRY_HOURS_MAX, HOURS_PER_POINT_DEFAULT, TEAM_HOURS_MAX, reserved_hours
from toil.scoring import (
    AGE_HORIZON_WEEKS,
    EFFORT_POINTS,
    FACTOR_MAX,
    HORIZON_MAX_WEEKS,
    HORIZON_MIN_WEEKS,
    TOIL_HOURS_MAX,
    TOIL_RELIEF_STEPS_HOURS,
    WEIGHT_MAX,
    WEIGHT_MIN,
    Weights,
    toil_relief_from_hours,
)

WEEK_SECONDS = 7 * 24 * 3600


def _weight_field(label) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=3,
        decimal_places=1,
        default=Decimal(1),
        validators=[MinValueValidator(WEIGHT_MIN), MaxValueValidator(WEIGHT_MAX)],
    )


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


class Effort(models.TextChoices):
    XS = "XS", _("XS (1 point)")
    S = "S", _("S (2 points)")
    M = "M", _("M (3 points)")
    L = "L", _("L (5 points)")
    XL = "XL", _("XL (8 points)")


class Status(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    READY = "ready", _("Ready")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    WONT_DO = "wont_do", _("Won’t do")


OPEN_STATUSES = (Status.PROPOSED, Status.READY, Status.IN_PROGRESS)
CLOSED_STATUSES = (Status.DONE, Status.WONT_DO)


class ReservedMode(models.TextChoices):
    HOURS = capacity.ReservedMode.HOURS, _("Hours a week")
    SHARE = capacity.ReservedMode.SHARE, _("A share of the team’s hours")


class SecondsSince(Func):
    """Seconds from the column to `at` (negative when the column is later)."""

    output_field = FloatField()

    def __init__(self, column: str, *, at: datetime):
        super().__init__(Value(at, output_field=models.DateTimeField()), F(column))

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"no seconds-between for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        now, column = (compiler.compile(expression) for expression in self.source_expressions)
        return (
            f"((julianday({now[0]}) - julianday({column[0]})) * 86400.0)",
            [*now[1], *column[1]],
        )

    def as_postgresql(self, compiler, connection, **extra):
        now, column = (compiler.compile(expression) for expression in self.source_expressions)
        return (
            f"date_part('epoch', {now[0]} - {column[0]})",
            [*now[1], *column[1]],
        )


class SQLFloat(Value):
    """A float parameter, typed as one: PostgreSQL reads a bare 1.0 as numeric, whose
    exact arithmetic is slower and rounds otherwise than Python's floats."""

    def __init__(self, value: float | int):
        super().__init__(float(value), output_field=FloatField())

    def as_sql(self, compiler, connection):
        return "%s", [self.value]

    def as_postgresql(self, compiler, connection):
        return "%s::double precision", [self.value]


def sql_float(value: float | int) -> SQLFloat:
    return SQLFloat(value)


def toil_relief_expression() -> Case:
    """toil.scoring.toil_relief_from_hours, in SQL."""
    none, low, high = TOIL_RELIEF_STEPS_HOURS
    return Case(
        When(toil_hours_per_month__lte=none, then=sql_float(0)),
        When(toil_hours_per_month__lt=low, then=sql_float(1)),
        When(toil_hours_per_month__lte=high, then=sql_float(2)),
        default=sql_float(3),
        output_field=FloatField(),
    )


def effort_points_expression() -> Case:
    """toil.scoring.effort_points, in SQL."""
    return Case(
        *(When(effort=size, then=sql_float(points)) for size, points in EFFORT_POINTS.items()),
        output_field=FloatField(),
    )


def slo_risk_expression(risks: Mapping[int, int]) -> Case | Value:
    """The slo_risk of each item from its SLO's, by SLO id (0 for any SLO left out)."""
    found = [When(slo_id=slo_id, then=sql_float(risk)) for slo_id, risk in risks.items() if risk]
    if not found:
        return sql_float(0)
    return Case(*found, default=sql_float(0), output_field=FloatField())


# The slo_risk an item could have at most before its SLO's budget is read: a linked item
# could be exhausted, an item without an SLO carries none.
SLO_RISK_AT_MOST = Case(
    When(slo__isnull=False, then=sql_float(FACTOR_MAX)),
    default=sql_float(0),
    output_field=FloatField(),
)


class ScoreExpression(models.Expression):
    """toil.scoring.compute_score's score as a database expression, term by term in the
    same order (the pure function stays the definition: a test holds them equal).

    One node whose only parts are the columns and the SLO risk: written as nested ORM
    expressions the formula was a hundred nodes (a typed parameter each), which Django
    resolves, copies and compiles on every use, some 6 ms of the plan page. The SQL
    written here is what those nested expressions wrote, parenthesis for parenthesis."""

    def __init__(self, *, weights: Weights, at: datetime, slo_risk: models.Expression):
        super().__init__(output_field=FloatField())
        self.weights = weights
        self.parts = [
            F("impact"),
            F("likelihood"),
            F("toil_hours_per_month"),
            slo_risk,
            F("effort"),
            SecondsSince("created_at", at=at),
        ]

    def get_source_expressions(self) -> list:
        return self.parts

    def set_source_expressions(self, exprs) -> None:
        self.parts = list(exprs)

    def as_sql(self, compiler, connection):
        (impact, likelihood, toil, slo_risk, effort, seconds) = (
            compiler.compile(part) for part in self.parts
        )
        number = "%s::double precision" if connection.vendor == "postgresql" else "%s"
        # As Django's Greatest and Least write them.
        greatest, least = ("MAX", "MIN") if connection.vendor == "sqlite" else ("GREATEST", "LEAST")
        weights = self.weights
        none, low, high = TOIL_RELIEF_STEPS_HOURS
        sql_parts: list[str] = []
        params: list = []

        def add(sql: str, *values) -> None:
            sql_parts.append(sql)
            params.extend(values)

        # cost of delay: weighted impact × likelihood + toil relief + SLO risk
        add(f"(((((({number} * ", float(weights.impact_likelihood))
        add(f"{impact[0]}) * ", *impact[1])
        add(f"{likelihood[0]}) + ({number} * CASE", *likelihood[1], float(weights.toil_relief))
        for compare, step, relief in (("<=", none, 0), ("<", low, 1), ("<=", high, 2)):
            add(f" WHEN {toil[0]} {compare} %s THEN {number}", *toil[1], step, float(relief))
        add(f" ELSE {number} END)) + ({number} * ", 3.0, float(weights.slo_risk))
        add(f"{slo_risk[0]})) / CASE", *slo_risk[1])
        # ÷ effort points
        for size, points in EFFORT_POINTS.items():
            add(f" WHEN {effort[0]} = %s THEN {number}", *effort[1], size, float(points))
        # × the age factor: 1 + weight × min(age in weeks ÷ horizon, 1)
        add(
            f" ELSE NULL END) * ({number} + ({number} * {least}((({greatest}(",
            1.0,
            float(weights.age),
        )
        add(
            f"{seconds[0]}, {number}) / {number}) / {number}), {number}))))",
            *seconds[1],
            0.0,
            float(WEEK_SECONDS),
            float(weights.age_horizon_weeks),
            1.0,
        )
        return "".join(sql_parts), params


def score_expression(
    *, weights: Weights, at: datetime, slo_risk: models.Expression
) -> models.Expression:
    """toil.scoring.compute_score's score as a database expression (ScoreExpression)."""
    return ScoreExpression(weights=weights, at=at, slo_risk=slo_risk)


class BacklogItemQuerySet(models.QuerySet):
    def visible_to(self, user) -> BacklogItemQuerySet:
        return self.filter(team__memberships__user=user)

    def open(self) -> BacklogItemQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def for_ranking(self) -> BacklogItemQuerySet:
        """What a ranked row shows of each item: the description and the times of edits
        are left to the item's own page (thousands of rows are read at once; a timestamp
        is the costliest column to read). The few teams, owners and SLOs those rows
        share are set on them by toil.selectors."""
        return self.defer("description", "updated_at", "closed_at")


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
    toil_hours_per_month = models.DecimalField(
        _("toil removed (hours a month)"),
        max_digits=6,
        decimal_places=1,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(TOIL_HOURS_MAX)],
        help_text=_(
            "Hours of toil a month the work would remove: 0, under 2, 2–8 or over 8 "
            "give a toil relief of 0 to 3."
        ),
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
    ticket = models.ForeignKey(
        "slos.Notification",
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backlog_items",
        help_text=_("The notification ticket this work comes from, if any."),
    )
    tracker_url = models.URLField(
        _("link to a tracker"),
        max_length=500,
        blank=True,
        help_text=_("The issue in your tracker (Jira, GitHub, …), if it lives there too."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="backlog_items_owned",
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    pinned_reason = models.TextField(_("why it is pinned"), blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pinned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = BacklogItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(impact__lte=3, likelihood__lte=3)
                & Q(effort__in=Effort.values)
                & Q(toil_hours_per_month__gte=0, toil_hours_per_month__lte=TOIL_HOURS_MAX),
                name="backlogitem_factors_in_range",
            ),
            models.CheckConstraint(
                condition=Q(pinned_at__isnull=True) | ~Q(pinned_reason=""),
                name="backlogitem_pin_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def toil_relief(self) -> int:
        return toil_relief_from_hours(self.toil_hours_per_month)

    # The labels of the choices, read from the enums: get_FOO_display() rebuilds the
    # field's choices on every call, and the plan page calls it a hundred times.
    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    @property
    def impact_label(self) -> str:
        return Impact(self.impact).label

    @property
    def likelihood_label(self) -> str:
        return Likelihood(self.likelihood).label

    @property
    def effort_label(self) -> str:
        return Effort(self.effort).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class BacklogItemChange(models.Model):
    """One edit of an item: who, when, and each field's value before and after (as the
    page shows them), so the history reads without the code."""

    item = models.ForeignKey(BacklogItem, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    # {"field label": ["before", "after"], …}
    changes = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item} changed {self.changed_at:%Y-%m-%d %H:%M}"


class BacklogSettings(models.Model):
    """A team's weights for the priority score and its reserved reliability time. A team
    without a row uses the defaults (DESIGN.md's formula, nothing reserved)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="backlog_settings")
    weight_impact_likelihood = _weight_field(_("weight of impact × likelihood"))
    weight_toil_relief = _weight_field(_("weight of toil relief"))
    weight_slo_risk = _weight_field(_("weight of SLO risk"))
    weight_age = _weight_field(_("weight of age"))
    age_horizon_weeks = models.PositiveSmallIntegerField(
        _("age horizon (weeks)"),
        default=AGE_HORIZON_WEEKS,
        validators=[MinValueValidator(HORIZON_MIN_WEEKS), MaxValueValidator(HORIZON_MAX_WEEKS)],
        help_text=_("After this many weeks an item gets its full age bonus."),
    )
    reserved_mode = models.CharField(
        _("reserve"), max_length=5, choices=ReservedMode.choices, default=ReservedMode.HOURS
    )
    reserved_hours = models.DecimalField(
        _("reserved hours a week"),
        max_digits=7,
        decimal_places=1,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(TEAM_HOURS_MAX)],
    )
    reserved_share_percent = models.DecimalField(
        _("reserved share (%)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal(20),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    team_hours = models.DecimalField(
        _("the team’s hours a week"),
        max_digits=7,
        decimal_places=1,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(TEAM_HOURS_MAX)],
    )
    hours_per_point = models.DecimalField(
        _("hours per effort point"),
        max_digits=4,
        decimal_places=1,
        default=HOURS_PER_POINT_DEFAULT,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(40))],
        help_text=_("XS is 1 point, S 2, M 3, L 5, XL 8."),
    )

    def __str__(self) -> str:
        return f"backlog settings of {self.team}"

    def weights(self) -> Weights:
        return Weights(
            impact_likelihood=self.weight_impact_likelihood,
            toil_relief=self.weight_toil_relief,
            slo_risk=self.weight_slo_risk,
            age=self.weight_age,
            age_horizon_weeks=self.age_horizon_weeks,
        )

    def reserved_hours_per_week(self) -> Decimal:
        return reserved_hours(
            mode=self.reserved_mode,
            hours=self.reserved_hours,
            share_percent=self.reserved_share_percent,
            team_hours=self.team_hours,
        )


class BacklogSettingsChange(models.Model):
    """Every change of a team's weights or reserved time, with the values before and after."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="backlog_settings_changes"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.team} backlog settings changed {self.changed_at:%Y-%m-%d %H:%M}"


class WorkLogQuerySet(models.QuerySet):
    def for_feed(self) -> WorkLogQuerySet:
        return self.select_related("person", "item", "team")


class WorkLogEntry(models.Model):
    """Hours someone spent, public to the team. On a backlog item or not; `toil` marks
    time that was toil itself (manual, repetitive work), not work that removes it."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="work_log")
    item = models.ForeignKey(
        BacklogItem,
        verbose_name=_("backlog item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_log",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        related_name="work_log",
    )
    on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25")), MaxValueValidator(ENTRY_HOURS_MAX)],
    )
    toil = models.BooleanField(
        _("this was toil"),
        default=False,
        help_text=_(
            "Manual, repetitive work that a machine could do: the SRE books cap it at 50%."
        ),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField()

    objects = WorkLogQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-created_at", "-pk"]
        indexes = [models.Index(fields=["team", "on"], name="worklog_team_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=ENTRY_HOURS_MAX),
                name="worklog_hours_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.hours} h on {self.on}"
