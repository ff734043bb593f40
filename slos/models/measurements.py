"""Where measurements come from and what is stored of them: data sources, the hourly
rows every window sums, and the record of each pull."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.encryption import EncryptedJSONField, EncryptedTextField
from portal.models import Team

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
    # Secrets: stored encrypted (portal/encryption.py), never shown back in full (see masked()).
    bearer_token = EncryptedTextField(_("bearer token"), max_length=2000, blank=True)
    basic_username = models.CharField(_("basic auth user"), max_length=200, blank=True)
    basic_password = EncryptedTextField(_("basic auth password"), max_length=500, blank=True)
    extra_headers = EncryptedJSONField(_("extra headers"), default=dict, blank=True)
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


class HourlyBucket(models.Model):
    """Events of one SLO in one hour [hour, hour + 1h), UTC. Windows are sums of rows."""

    # Keyed by (slo, hour), with no id: the key's index serves every lookup by SLO, and
    # each further index on the biggest table slows every write (a backfill writes ~700k
    # rows; an id and its index were a sixth of the database's CPU time in a nightly).
    # On PostgreSQL, triggers check the reference once per statement, in sets, in place
    # of the per-row foreign key check (migration 0011 says why and how).
    pk = models.CompositePrimaryKey("slo", "hour")
    slo = models.ForeignKey(
        "slos.SLO", on_delete=models.CASCADE, related_name="buckets", db_index=False
    )
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


class DailyBucket(models.Model):
    """An SLO's hourly rows of one UTC day, summed: a window reads its whole days here
    and only its ragged ends from the hourly rows (a 28-day window: about 27 rows and
    a few dozen hours instead of 672 hours).

    Kept by the database, not by the code that writes hours: on PostgreSQL, statement
    triggers on the hourly table recompute the days a statement touched (migration
    0024), so a pull, a push, a CSV upload, a backfill's COPY, a delete and a test's
    direct insert all leave it right. SQLite (the embedded default, a few SLOs) has no
    such triggers; there, budgets sum the hourly rows (registry/selectors.py)."""

    # No foreign key constraint, as on the hourly table (migration 0011): the rows are
    # derived from hourly rows whose SLO is checked, and go when those rows go.
    pk = models.CompositePrimaryKey("slo", "day")
    slo = models.ForeignKey(
        "slos.SLO",
        on_delete=models.DO_NOTHING,
        related_name="daily_buckets",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField()
    good = models.FloatField()
    valid = models.FloatField()
    good_slices = models.PositiveIntegerField()
    total_slices = models.PositiveIntegerField()
    hours = models.PositiveSmallIntegerField()  # hours with a row
    error_hours = models.PositiveSmallIntegerField()  # hours whose good exceeds valid

    def __str__(self) -> str:
        return f"{self.slo_id} on {self.day:%Y-%m-%d}: {self.good:g}/{self.valid:g}"


def _kept_per_slo() -> models.OneToOneField:
    """The key of a row the database keeps per SLO beside its hourly rows: no foreign key
    constraint, as on the day rows (a trigger removes the row with the SLO)."""
    return models.OneToOneField(
        "slos.SLO",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )


class BucketVersion(models.Model):
    """How many times the hourly rows of an SLO have changed: counted by the database,
    by the statement triggers that keep the day rows (migration 0027), so every write
    counts, whoever makes it. A budget's sums kept in BudgetSums are good only while
    this count is the one they were read at.

    Deleting an SLO's rows counts a write, so the count goes after the SLO, by a trigger
    on the SLO table (migration 0027), as do its kept sums."""

    slo = _kept_per_slo()
    version = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.slo_id}: {self.version} writes"


class BudgetSums(models.Model):
    """An SLO's budget sums as a page last read them (slos/registry/budget_sums.py): kept
    so the next page reads one row instead of summing its window. Good while `key` (the
    hour the window ends, its start, how it counts, its excluded hours) is the one asked
    for and `version` is the SLO's BucketVersion. On PostgreSQL only, where the triggers
    count the writes."""

    slo = _kept_per_slo()
    key = models.TextField()
    version = models.BigIntegerField()
    # A JSON array, kept as text: jsonb cost its parsing on each write and read, and
    # nothing queries inside it.
    sums = models.TextField()

    def __str__(self) -> str:
        return f"{self.slo_id} @ {self.key} (after {self.version} writes)"


class PullStatus(models.TextChoices):
    RUNNING = "running", _("running")
    OK = "ok", _("ok")
    PARTIAL = "partial", _("partial")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped: another pull of this source was running")
    # Asked for while the broker was down; handed to it once it is back (slos/tasks.py).
    QUEUED = "queued", _("waiting for the task queue")


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
