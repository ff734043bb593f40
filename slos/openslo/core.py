"""OpenSLO v1 in and out: `openslo_import` reads multi-document YAML into services, data
sources and SLOs; `openslo_export` writes them back.

Import rules (what the portal decides where the spec leaves room):

- Kinds: Service, DataSource, SLO and SLI are read. An SLI document only serves the SLOs
  that name it in `indicatorRef` (the portal stores the indicator inside the SLO).
  AlertPolicy, AlertCondition and AlertNotificationTarget are valid OpenSLO but skipped
  with a warning; anything else is an error.
- A YAML document may hold one object or a list of objects (the form the spec's Go SDK
  examples use). Documents are counted from 1, as an editor shows them.
- Only Prometheus sources: `metricSource.type` must be Prometheus, or be left out and
  `metricSourceRef` name a Prometheus DataSource (one in the files or one the team has).
  An SLO without `metricSourceRef` gets no data source; pick one before pulling.
- Queries: a query containing `$window` is kept exactly as written. Otherwise, with
  `counter: true`, a plain selector (`http_requests_total{code!~"5.."}`) or a plain
  selector inside `sum(...)` becomes `sum(increase(SELECTOR[$window]))`. Any other query
  without `$window` is refused: the portal stores hourly event counts and must know where
  the range goes. `thresholdMetric` queries (gauges) are kept as written.
- A good/total pair that is exactly a histogram's `le` bucket over its `_count` (the
  queries the portal itself writes for a histogram SLI) is stored as a histogram SLI.
- Only the first objective is imported (with a warning when there are more); `target` is
  a fraction, `targetPercent` a percentage; `timeSliceWindow` a number of minutes or a
  duration such as 5m.
- Windows: a rolling window in days or weeks (28d, 4w); a calendar window of 1M (month)
  or 1Q (quarter), which follows the team's time zone (calendar.startTime only has to be
  a date and time; calendar.timeZone, when it differs from the team's, gives a warning).
- The team: the object's `metadata.labels.team` (one value; a list is fine when it holds
  the team being imported into), else the default team (--team); the command creates a
  missing team (in the time zone its SLOs' calendar windows name), the upload form
  imports into its own team only.
- Idempotent by `metadata.name` (stored as `openslo_name`) within the team; an object
  without an OpenSLO name whose display name matches is adopted, so the export of
  objects made in the portal imports back onto them.
- All or nothing: every document of every file is checked (schema, references, and each
  object's full_clean) before anything is written, then everything is written in one
  transaction. Each problem names the file, the document and the field path.
- Descriptions longer than the spec's 1050 characters are accepted, so that the export of
  a long "why it matters" imports back.

Export writes Service, DataSource and SLO documents with a stable order (team, kind,
name) and formatting, so export → import → export gives the same text. Objects made in
the portal without an OpenSLO name get one made from their name. Push and CSV data
sources are not written out (they are not Prometheus and hold tokens): SLOs that use one
name it in metricSourceRef without a type, and the import finds it in the team again.
Credentials (tokens, passwords, TLS settings) are never exported, and the import leaves
those of an existing data source as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import available_timezones

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import ValidationError as SchemaError
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from portal.models import Team
from slos.models import (
    SLO,
    TIMESLICE_MINUTES,
    BudgetingMethod,
    CalendarPeriod,
    DataSource,
    DataSourceKind,
    RatioOf,
    Service,
    SLIKind,
    WindowKind,
)
from slos.registry import services
from slos.sli import WINDOW_PLACEHOLDER, histogram_queries
from slos.yaml_block import BlockDumper

API_VERSION = "openslo/v1"
IMPORTED_KINDS = ("Service", "DataSource", "SLI", "SLO")
SKIPPED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
PROMETHEUS = "Prometheus"
TEAM_LABEL = "team"
# Calendar windows follow the team's calendar; the start only anchors them to a period.
CALENDAR_START = "2020-01-01 00:00:00"
CALENDAR_PERIODS = {
    (1, "M"): CalendarPeriod.MONTH,
    (3, "M"): CalendarPeriod.QUARTER,
    (1, "Q"): CalendarPeriod.QUARTER,
}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DURATION = re.compile(r"([0-9]+)([mhdwMQY])")

_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHERS = r"\{(?:[^{}\"']|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')*\}"
_SELECTOR = rf"(?:{_METRIC}\s*(?:{_MATCHERS})?|{_MATCHERS})"
PLAIN_SELECTOR = re.compile(rf"\s*({_SELECTOR})\s*")
SUMMED_SELECTOR = re.compile(rf"\s*sum\s*\(\s*({_SELECTOR})\s*\)\s*")
WRAPPED_SELECTOR = re.compile(rf"sum\(increase\(({_SELECTOR})\[\$window\]\)\)")
HISTOGRAM_BUCKET = re.compile(rf"sum\(increase\(({_METRIC})_bucket\{{(.*)\}}\[\$window\]\)\)")
LE_MATCHER = re.compile(r'(?:(.*),)?le="([^"]+)"')


# ---------------------------------------------------------------------------------------
# Where things are, and what is wrong with them


@dataclass(frozen=True)
class SourceFile:
    """One file to import: the name to show in messages, and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class Location:
    file: str
    document: int | None = None  # counted from 1
    item: int | None = None  # counted from 1, when a document holds a list of objects

    def __str__(self) -> str:
        if self.document is None:
            return self.file
        if self.item is None:
            return _("%(file)s: document %(document)d") % {
                "file": self.file,
                "document": self.document,
            }
        return _("%(file)s: document %(document)d, item %(item)d") % {
            "file": self.file,
            "document": self.document,
            "item": self.item,
        }


@dataclass(frozen=True)
class Problem:
    location: Location
    path: str
    message: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.location}: {self.path}: {self.message}"
        return f"{self.location}: {self.message}"


class OpenSLOError(Exception):
    """The files could not be imported; `problems` says where and why. Nothing was
    written."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _join(base: str, *parts: str | int) -> str:
    path = base
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


# ---------------------------------------------------------------------------------------
# Reading YAML


class _Loader(yaml.SafeLoader):
    """Safe YAML in which unquoted dates stay text (calendar.startTime is a string)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class _RawDocument:
    location: Location
    body: Any


def _read_documents(files: Sequence[SourceFile], problems: list[Problem]) -> list[_RawDocument]:
    documents: list[_RawDocument] = []
    for source in files:
        number = 0
        try:
            for number, body in enumerate(yaml.load_all(source.text, Loader=_Loader), 1):
                if body is None:
                    continue
                if isinstance(body, list):
                    for item, element in enumerate(body, 1):
                        documents.append(_RawDocument(Location(source.name, number, item), element))
                else:
                    documents.append(_RawDocument(Location(source.name, number), body))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (
                _(" (line %(line)d, column %(column)d)")
                % {"line": mark.line + 1, "column": mark.column + 1}
                if mark is not None
                else ""
            )
            problem = getattr(exc, "problem", None) or str(exc)
            problems.append(
                Problem(
                    Location(source.name, number + 1),
                    "",
                    _("invalid YAML: %(problem)s%(where)s") % {"problem": problem, "where": where},
                )
            )
    return documents


# ---------------------------------------------------------------------------------------
# The OpenSLO v1 schema, as pydantic models. Extra fields are refused (they are usually
# typos) except where the spec allows anything: metricSource.spec, connectionDetails,
# labels and annotations.


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("openslo", "{message}", {"message": message})


def _dns_label(value: str) -> str:
    if not DNS_LABEL.fullmatch(value):
        raise _fail(
            _(
                "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', "
                "starting and ending with a letter or digit"
            )
        )
    return value


def _fraction(value: float) -> float:
    if not 0 <= value < 1:
        raise _fail(
            _(
                "must be between 0 and 1 (a fraction: 0.999 is 99.9%; "
                "use targetPercent for a percentage)"
            )
        )
    return value


def _percent(value: float) -> float:
    if not 0 <= value < 100:
        raise _fail(_("must be between 0 and 100"))
    return value


def _slice_fraction(value: float) -> float:
    if not 0 < value <= 1:
        raise _fail(_("must be between 0 and 1 (a fraction: 0.95 is 95%)"))
    return value


def _budgeting_method(value: str) -> str:
    if value == "RatioTimeslices":
        raise _fail(
            _(
                "RatioTimeslices is not supported: use Timeslices (a slice is good when its "
                "ratio reaches timeSliceTarget) or Occurrences"
            )
        )
    if value not in ("Occurrences", "Timeslices"):
        raise _fail(_("must be Occurrences or Timeslices"))
    return value


def _operator(value: str) -> str:
    if value not in ("lt", "lte", "gt", "gte"):
        raise _fail(_("must be one of lt, lte, gt, gte"))
    return value


DNSLabel = Annotated[str, AfterValidator(_dns_label)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel)


class Metadata(_Spec):
    name: DNSLabel
    display_name: str | None = None
    labels: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None


class MetricSource(_Spec):
    metric_source_ref: DNSLabel | None = None
    type: str | None = None
    spec: dict[str, Any] | None = None


class MetricSpec(_Spec):
    metric_source: MetricSource


class RatioMetric(_Spec):
    counter: bool = False
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    raw_type: str | None = None
    raw: MetricSpec | None = None


class SLISpec(_Spec):
    description: str | None = None
    ratio_metric: RatioMetric | None = None
    threshold_metric: MetricSpec | None = None


class InlineIndicator(_Spec):
    metadata: Metadata
    spec: SLISpec


class Objective(_Spec):
    display_name: str | None = None
    op: Annotated[str, AfterValidator(_operator)] | None = None
    value: float | None = None
    target: Annotated[float, AfterValidator(_fraction)] | None = None
    target_percent: Annotated[float, AfterValidator(_percent)] | None = None
    time_slice_target: Annotated[float, AfterValidator(_slice_fraction)] | None = None
    time_slice_window: Any = None
    # Composite SLOs (an indicator per objective) exist in v1 but are not imported.
    indicator: Any = None
    indicator_ref: Any = None
    composite_weight: Any = None


class Calendar(_Spec):
    start_time: str
    time_zone: str | None = None


class TimeWindow(_Spec):
    duration: str
    is_rolling: bool | None = None
    calendar: Calendar | None = None


class SLOSpec(_Spec):
    description: str | None = None
    service: str
    indicator: InlineIndicator | None = None
    indicator_ref: DNSLabel | None = None
    time_window: list[TimeWindow] | None = None
    budgeting_method: Annotated[str, AfterValidator(_budgeting_method)]
    objectives: list[Objective]
    alert_policies: list[Any] | None = None


class ServiceSpec(_Spec):
    description: str | None = None


class DataSourceSpec(_Spec):
    description: str | None = None
    type: str
    connection_details: Any = None


class _Document(_Spec):
    api_version: str
    kind: str
    metadata: Metadata


class ServiceDocument(_Document):
    spec: ServiceSpec | None = None


class DataSourceDocument(_Document):
    spec: DataSourceSpec


class SLIDocument(_Document):
    spec: SLISpec


class SLODocument(_Document):
    spec: SLOSpec


DOCUMENT_MODELS: dict[str, type[_Document]] = {
    "Service": ServiceDocument,
    "DataSource": DataSourceDocument,
    "SLI": SLIDocument,
    "SLO": SLODocument,
}

_SCHEMA_MESSAGES = {
    "missing": lambda: _("required"),
    "extra_forbidden": lambda: _("unknown field"),
    "model_type": lambda: _("must be a mapping"),
    "model_attributes_type": lambda: _("must be a mapping"),
    "dict_type": lambda: _("must be a mapping"),
    "list_type": lambda: _("must be a list"),
    "string_type": lambda: _("must be text"),
    "float_type": lambda: _("must be a number"),
    "float_parsing": lambda: _("must be a number"),
    "finite_number": lambda: _("must be a number"),
    "bool_type": lambda: _("must be true or false"),
    "bool_parsing": lambda: _("must be true or false"),
}


def _schema_problems(location: Location, error: SchemaError) -> list[Problem]:
    problems = []
    for item in error.errors():
        path = _join("", *item["loc"])
        describe = _SCHEMA_MESSAGES.get(item["type"])
        problems.append(Problem(location, path, describe() if describe else item["msg"]))
    return problems


def _parse(raw: _RawDocument, problems: list[Problem], warnings: list[Problem]) -> Any:
    """The typed document, or None (with the problems recorded) or a skip warning."""
    location, body = raw.location, raw.body
    if not isinstance(body, dict):
        problems.append(
            Problem(
                location,
                "",
                _("expected an OpenSLO object (a mapping with apiVersion, kind, metadata, spec)"),
            )
        )
        return None
    api_version = body.get("apiVersion")
    if api_version is None:
        problems.append(Problem(location, "apiVersion", _("required")))
        return None
    if api_version != API_VERSION:
        problems.append(
            Problem(
                location,
                "apiVersion",
                _("only %(expected)s can be imported, not “%(given)s”")
                % {"expected": API_VERSION, "given": api_version},
            )
        )
        return None
    kind = body.get("kind")
    if kind is None:
        problems.append(Problem(location, "kind", _("required")))
        return None
    if kind in SKIPPED_KINDS:
        warnings.append(
            Problem(location, "kind", _("%(kind)s is not imported; skipped") % {"kind": kind})
        )
        return None
    model = DOCUMENT_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        problems.append(
            Problem(
                location,
                "kind",
                _("unknown kind “%(kind)s”: expected one of %(kinds)s")
                % {"kind": kind, "kinds": ", ".join(IMPORTED_KINDS + SKIPPED_KINDS)},
            )
        )
        return None
    try:
        return model.model_validate(body)
    except SchemaError as exc:
        problems.extend(_schema_problems(location, exc))
        return None


# ---------------------------------------------------------------------------------------
# Indicators: OpenSLO SLI specs become the SLO model's indicator fields


@dataclass
class _Indicator:
    location: Location
    base: str  # path of the SLI spec within its document
    fields: dict[str, Any]
    source_ref: str | None
    source_path: str  # path of a metricSource naming source_ref (for messages)
    query_paths: dict[str, str]  # model field -> path of its query


def event_count_query(query: str, *, counter: bool) -> str | None:
    """The query as an hourly event count with $window, or None when it cannot be one."""
    if WINDOW_PLACEHOLDER in query:
        return query
    if counter:
        match = PLAIN_SELECTOR.fullmatch(query) or SUMMED_SELECTOR.fullmatch(query)
        if match:
            return f"sum(increase({match.group(1)}[{WINDOW_PLACEHOLDER}]))"
    return None


def _as_histogram(good: str, valid: str) -> tuple[str, str, float] | None:
    """(metric, label matchers, le) when the pair is exactly a histogram's queries."""
    bucket = HISTOGRAM_BUCKET.fullmatch(good)
    if not bucket:
        return None
    metric, matchers = bucket.groups()
    le = LE_MATCHER.fullmatch(matchers)
    if not le:
        return None
    try:
        threshold = float(le.group(2))
    except ValueError:
        return None
    if not math.isfinite(threshold):
        return None
    labels = le.group(1) or ""
    expected = histogram_queries(metric, labels, threshold)
    if (expected.good, expected.valid) != (good, valid):
        return None
    return metric, labels, threshold


class _IndicatorReader:
    def __init__(self, location: Location, base: str, problems: list[Problem]):
        self.location = location
        self.base = base
        self.problems = problems
        self.source_ref: str | None = None
        self.source_path = ""
        self.ok = True

    def fail(self, path: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.location, path, message))

    def query(self, metric: MetricSpec, path: str) -> str | None:
        source = metric.metric_source
        source_path = _join(path, "metricSource")
        if source.type is not None and source.type.lower() != PROMETHEUS.lower():
            self.fail(
                _join(source_path, "type"),
                _("only Prometheus metric sources can be imported, not “%(type)s”")
                % {"type": source.type},
            )
        if source.type is None and source.metric_source_ref is None:
            self.fail(
                source_path,
                _("give type: Prometheus or a metricSourceRef naming a Prometheus DataSource"),
            )
        if source.metric_source_ref is not None:
            if self.source_ref is None:
                self.source_ref = source.metric_source_ref
                self.source_path = _join(source_path, "metricSourceRef")
            elif source.metric_source_ref != self.source_ref:
                self.fail(
                    _join(source_path, "metricSourceRef"),
                    _(
                        "all queries of an SLO read one data source: this names “%(this)s”, "
                        "%(first)s names “%(other)s”"
                    )
                    % {
                        "this": source.metric_source_ref,
                        "first": self.source_path,
                        "other": self.source_ref,
                    },
                )
        query = (source.spec or {}).get("query")
        query_path = _join(source_path, "spec", "query")
        if query is None:
            self.fail(query_path, _("required"))
            return None
        if not isinstance(query, str) or not query.strip():
            self.fail(query_path, _("must be a PromQL query"))
            return None
        return query.strip()

    def counts(self, metric: MetricSpec, path: str, *, counter: bool) -> str | None:
        query = self.query(metric, path)
        if query is None:
            return None
        counted = event_count_query(query, counter=counter)
        if counted is None:
            self.fail(
                _join(path, "metricSource", "spec", "query"),
                _(
                    "counter: true needs a plain selector such as "
                    'http_requests_total{code!~"5.."} (read as sum(increase(…[$window]))), '
                    "or a query with $window where the range goes"
                )
                if counter
                else _(
                    "the query must contain $window where the range goes, e.g. "
                    "sum(increase(http_requests_total[$window])); or set counter: true "
                    "and give a plain counter selector"
                ),
            )
        return counted


def _read_indicator(
    spec: SLISpec, location: Location, base: str, problems: list[Problem]
) -> _Indicator | None:
    reader = _IndicatorReader(location, base, problems)
    fields: dict[str, Any] = {
        "sli_kind": SLIKind.RATIO,
        "ratio_of": RatioOf.GOOD,
        "good_query": "",
        "bad_query": "",
        "valid_query": "",
        "histogram_metric": "",
        "histogram_labels": "",
        "gauge_query": "",
    }
    query_paths: dict[str, str] = {}
    if spec.ratio_metric is None and spec.threshold_metric is None:
        reader.fail(base, _("give ratioMetric or thresholdMetric"))
        return None
    if spec.ratio_metric is not None and spec.threshold_metric is not None:
        reader.fail(
            _join(base, "thresholdMetric"), _("give ratioMetric or thresholdMetric, not both")
        )
        return None
    if spec.threshold_metric is not None:
        path = _join(base, "thresholdMetric")
        fields["sli_kind"] = SLIKind.GAUGE
        fields["gauge_query"] = reader.query(spec.threshold_metric, path) or ""
        query_paths["gauge_query"] = _join(path, "metricSource", "spec", "query")
    else:
        ratio = spec.ratio_metric
        path = _join(base, "ratioMetric")
        if ratio.raw is not None or ratio.raw_type is not None:
            reader.fail(
                _join(path, "raw" if ratio.raw is not None else "rawType"),
                _(
                    "precomputed ratios (raw) cannot be imported: the portal counts events; "
                    "give good or bad with total"
                ),
            )
            return None
        if ratio.good is not None and ratio.bad is not None:
            reader.fail(_join(path, "bad"), _("give good or bad, not both"))
        elif ratio.good is None and ratio.bad is None:
            reader.fail(path, _("give good or bad events, with total"))
        if ratio.total is None:
            reader.fail(_join(path, "total"), _("required"))
        if not reader.ok:
            return None
        numerator, field_name = (
            (ratio.good, "good_query") if ratio.good is not None else (ratio.bad, "bad_query")
        )
        side = "good" if ratio.good is not None else "bad"
        fields["ratio_of"] = RatioOf.GOOD if side == "good" else RatioOf.BAD
        fields[field_name] = (
            reader.counts(numerator, _join(path, side), counter=ratio.counter) or ""
        )
        fields["valid_query"] = (
            reader.counts(ratio.total, _join(path, "total"), counter=ratio.counter) or ""
        )
        query_paths[field_name] = _join(path, side, "metricSource", "spec", "query")
        query_paths["valid_query"] = _join(path, "total", "metricSource", "spec", "query")
        histogram = (
            _as_histogram(fields["good_query"], fields["valid_query"]) if side == "good" else None
        )
        if histogram is not None:
            metric, labels, threshold = histogram
            fields.update(
                sli_kind=SLIKind.HISTOGRAM,
                good_query="",
                valid_query="",
                histogram_metric=metric,
                histogram_labels=labels,
                threshold=threshold,
            )
            query_paths["histogram_metric"] = query_paths["good_query"]
            query_paths["histogram_labels"] = query_paths["good_query"]
    if not reader.ok:
        return None
    return _Indicator(location, base, fields, reader.source_ref, reader.source_path, query_paths)


# ---------------------------------------------------------------------------------------
# Objectives and windows


def _duration(value: str) -> tuple[int, str] | None:
    match = DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    return (int(match.group(1)), match.group(2)) if match else None


def _timeslice_minutes(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        return int(value)
    parsed = _duration(value) if isinstance(value, str) else None
    if parsed is None:
        return None
    number, unit = parsed
    return {"m": number, "h": number * 60}.get(unit)


def _read_window(
    windows: list[TimeWindow] | None,
    location: Location,
    problems: list[Problem],
    warnings: list[Problem],
    team_time_zone: str | None,
) -> dict[str, Any] | None:
    defaults = {
        "window_kind": WindowKind.ROLLING,
        "window_days": SLO._meta.get_field("window_days").default,
        "calendar_period": SLO._meta.get_field("calendar_period").default,
    }
    if not windows:
        return defaults
    if len(windows) > 1:
        problems.append(Problem(location, "spec.timeWindow", _("give exactly one time window")))
        return None
    window = windows[0]
    path = "spec.timeWindow[0]"
    parsed = _duration(window.duration)
    if parsed is None:
        problems.append(
            Problem(
                location,
                _join(path, "duration"),
                _("must be a duration such as 28d, 4w, 1M or 1Q"),
            )
        )
        return None
    number, unit = parsed
    rolling = window.is_rolling if window.is_rolling is not None else window.calendar is None
    if rolling:
        if window.calendar is not None:
            problems.append(
                Problem(
                    location,
                    _join(path, "calendar"),
                    _("a rolling window (isRolling: true) has no calendar"),
                )
            )
            return None
        days = {"d": number, "w": number * 7}.get(unit)
        if days is None and unit == "h" and number % 24 == 0:
            days = number // 24
        if days is None:
            problems.append(
                Problem(
                    location,
                    _join(path, "duration"),
                    _("a rolling window is a whole number of days or weeks, e.g. 28d or 4w"),
                )
            )
            return None
        return {**defaults, "window_days": days}
    if window.calendar is None:
        problems.append(
            Problem(
                location,
                _join(path, "calendar"),
                _("required for a calendar window (isRolling: false)"),
            )
        )
        return None
    period = CALENDAR_PERIODS.get((number, unit))
    if period is None:
        problems.append(
            Problem(
                location,
                _join(path, "duration"),
                _("a calendar window is 1M (a month) or 1Q (a quarter)"),
            )
        )
        return None
    try:
        datetime.fromisoformat(window.calendar.start_time.strip())
    except ValueError:
        problems.append(
            Problem(
                location,
                _join(path, "calendar", "startTime"),
                _("must be a date and time such as 2024-01-01 00:00:00"),
            )
        )
        return None
    zone = window.calendar.time_zone
    if zone and team_time_zone and zone != team_time_zone:
        warnings.append(
            Problem(
                location,
                _join(path, "calendar", "timeZone"),
                _("calendar windows follow the team's time zone, %(team)s, not %(given)s")
                % {"team": team_time_zone, "given": zone},
            )
        )
    return {**defaults, "window_kind": WindowKind.CALENDAR, "calendar_period": period}


def _percent_from_fraction(value: float) -> Decimal:
    return Decimal(repr(value)) * 100


def _read_objective(
    document: SLODocument,
    indicator: _Indicator,
    location: Location,
    problems: list[Problem],
    warnings: list[Problem],
) -> tuple[dict[str, Any], dict[str, str]] | None:
    spec = document.spec
    if not spec.objectives:
        problems.append(Problem(location, "spec.objectives", _("give at least one objective")))
        return None
    if len(spec.objectives) > 1:
        warnings.append(
            Problem(
                location,
                "spec.objectives",
                _("only the first objective is imported; %(count)d more ignored")
                % {"count": len(spec.objectives) - 1},
            )
        )
    objective = spec.objectives[0]
    path = "spec.objectives[0]"
    paths: dict[str, str] = {}
    start = len(problems)
    for name, value in [
        ("indicator", objective.indicator),
        ("indicatorRef", objective.indicator_ref),
        ("compositeWeight", objective.composite_weight),
    ]:
        if value is not None:
            problems.append(
                Problem(
                    location,
                    _join(path, name),
                    _("composite SLOs (an indicator per objective) cannot be imported"),
                )
            )
    fields: dict[str, Any] = {}
    if objective.target is not None and objective.target_percent is not None:
        problems.append(
            Problem(
                location, _join(path, "targetPercent"), _("give target or targetPercent, not both")
            )
        )
    elif objective.target is not None:
        fields["target"] = _percent_from_fraction(objective.target)
        paths["target"] = _join(path, "target")
    elif objective.target_percent is not None:
        fields["target"] = Decimal(repr(objective.target_percent))
        paths["target"] = _join(path, "targetPercent")
    else:
        problems.append(Problem(location, _join(path, "target"), _("give target or targetPercent")))
    method = (
        BudgetingMethod.TIMESLICES
        if spec.budgeting_method == "Timeslices"
        else BudgetingMethod.OCCURRENCES
    )
    fields.update(
        budgeting_method=method,
        timeslice_target=None,
        timeslice_minutes=SLO._meta.get_field("timeslice_minutes").default,
        threshold_op="",
        threshold=indicator.fields.get("threshold"),
    )
    paths.update(
        budgeting_method="spec.budgetingMethod",
        timeslice_target=_join(path, "timeSliceTarget"),
        timeslice_minutes=_join(path, "timeSliceWindow"),
        threshold_op=_join(path, "op"),
        threshold=_join(path, "value"),
    )
    if method == BudgetingMethod.TIMESLICES:
        if objective.time_slice_target is None:
            problems.append(
                Problem(location, _join(path, "timeSliceTarget"), _("required with Timeslices"))
            )
        else:
            fields["timeslice_target"] = _percent_from_fraction(objective.time_slice_target)
        if objective.time_slice_window is None:
            problems.append(
                Problem(location, _join(path, "timeSliceWindow"), _("required with Timeslices"))
            )
        else:
            minutes = _timeslice_minutes(objective.time_slice_window)
            if minutes not in TIMESLICE_MINUTES:
                problems.append(
                    Problem(
                        location,
                        _join(path, "timeSliceWindow"),
                        _("must be one of %(choices)s (minutes; 60m is 1h)")
                        % {"choices": ", ".join(f"{m}m" for m in TIMESLICE_MINUTES)},
                    )
                )
            else:
                fields["timeslice_minutes"] = minutes
    if indicator.fields["sli_kind"] == SLIKind.GAUGE:
        if objective.op is None:
            problems.append(
                Problem(location, _join(path, "op"), _("required with a thresholdMetric"))
            )
        if objective.value is None:
            problems.append(
                Problem(location, _join(path, "value"), _("required with a thresholdMetric"))
            )
        elif not math.isfinite(objective.value):
            problems.append(Problem(location, _join(path, "value"), _("must be a number")))
        fields["threshold_op"] = objective.op or ""
        fields["threshold"] = objective.value
    if len(problems) > start:
        return None
    return fields, paths


# ---------------------------------------------------------------------------------------
# Planning: every document becomes an unsaved or updated model instance, checked in full


@dataclass
class Change:
    kind: str  # "Team", "Service", "DataSource", "SLO"
    name: str
    team: str
    action: str  # "created", "updated", "unchanged"

    @property
    def action_display(self) -> str:
        return {"created": _("created"), "updated": _("updated"), "unchanged": _("unchanged")}[
            self.action
        ]

    def __str__(self) -> str:
        return _("%(kind)s %(name)s (team %(team)s): %(action)s") % {
            "kind": self.kind,
            "name": self.name,
            "team": self.team,
            "action": self.action_display,
        }


@dataclass
class ImportReport:
    changes: list[Change] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def summary(self) -> str:
        counts = {
            "created": self.count("created"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
        }
        if self.dry_run:
            return (
                _(
                    "Checked, nothing written: %(created)d to create, %(updated)d to update, "
                    "%(unchanged)d unchanged."
                )
                % counts
            )
        return _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % (
            counts
        )


@dataclass
class _Planned:
    kind: str
    location: Location
    name: str
    team_slug: str
    instance: models.Model
    created: bool
    changed: bool
    paths: dict[str, tuple[Location, str]] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict)  # SLO fields, for slo_create


def _differs(instance: models.Model, values: dict[str, Any]) -> bool:
    return any(getattr(instance, name) != value for name, value in values.items())


def _assign(instance: models.Model, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


def _find(candidates: Iterable[Any], openslo_name: str, display_name: str) -> Any:
    """An existing object by OpenSLO name, else one without an OpenSLO name whose name
    matches (an object made in the portal, exported, and imported back)."""
    candidates = list(candidates)
    for candidate in candidates:
        if candidate.openslo_name == openslo_name:
            return candidate
    for candidate in candidates:
        if not candidate.openslo_name and candidate.name == display_name:
            return candidate
    return None


def _find_reference(existing: Sequence[Any], reference: str, kind: str) -> Any:
    """The existing object a reference names: by OpenSLO name, or by the name the export
    gives an object that has none (a push source's SLOs name it that way)."""
    names = _names(existing, kind)
    return next((obj for obj in existing if names[obj.pk] == reference), None)


def _connection(details: Any) -> dict[str, Any] | None:
    if details is None:
        return {}
    if isinstance(details, dict):
        return details
    if isinstance(details, list) and all(isinstance(item, dict) for item in details):
        merged: dict[str, Any] = {}
        for item in details:
            merged.update(item)
        return merged
    return None


class _Importer:
    def __init__(self, *, team: Team | None, default_team: str | None):
        self.fixed_team = team
        self.default_team = team.slug if team else default_team
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.teams: dict[str, Team] = {}
        self.new_teams: set[str] = set()
        self.planned: list[_Planned] = []
        # (kind, team slug, openslo name) -> plan
        self.by_name: dict[tuple[str, str, str], _Planned] = {}

    def fail(self, location: Location, path: str, message: str) -> None:
        self.problems.append(Problem(location, path, message))

    # -- teams

    def team_slug(self, document: _Document, location: Location) -> str | None:
        labels = document.metadata.labels or {}
        label = labels.get(TEAM_LABEL)
        if label is None:
            names = None
        elif isinstance(label, str):
            names = [label]
        elif isinstance(label, list) and label and all(isinstance(v, str) for v in label):
            names = label
        else:
            self.fail(location, "metadata.labels.team", _("must be a team slug"))
            return None
        if self.fixed_team is not None:
            if names is None or self.fixed_team.slug in names:
                return self.fixed_team.slug
            self.fail(
                location,
                "metadata.labels.team",
                _("names %(names)s, but this import is for team %(team)s")
                % {"names": ", ".join(names), "team": self.fixed_team.slug},
            )
            return None
        if names is None:
            if self.default_team:
                return self.default_team
            self.fail(
                location,
                "metadata.labels.team",
                _("no team: add a team label or choose the team to import into (--team)"),
            )
            return None
        if len(names) == 1:
            return names[0]
        if self.default_team in names:
            return self.default_team
        self.fail(
            location,
            "metadata.labels.team",
            _("names several teams (%(names)s): choose one with --team")
            % {"names": ", ".join(names)},
        )
        return None

    def load_teams(
        self, slugs: set[str], locations: dict[str, Location], zones: dict[str, set[str]]
    ) -> None:
        """The teams by slug; a missing one is made (unsaved), in the time zone its SLOs'
        calendar windows name when they all name the same one."""
        if self.fixed_team is not None:
            self.teams[self.fixed_team.slug] = self.fixed_team
        for team in Team.objects.filter(slug__in=slugs):
            self.teams[team.slug] = team
        for slug in sorted(slugs - set(self.teams)):
            team = Team(name=slug, slug=slug)
            named = zones.get(slug, set())
            if len(named) == 1 and next(iter(named)) in available_timezones():
                team.time_zone = next(iter(named))
            try:
                validate_slug(slug)
                team.full_clean()
            except ValidationError as exc:
                self.fail(
                    locations[slug],
                    "metadata.labels.team",
                    _("“%(slug)s” cannot be a team: %(reason)s")
                    % {"slug": slug, "reason": " ".join(exc.messages)},
                )
                continue
            self.teams[slug] = team
            self.new_teams.add(slug)

    # -- uniqueness within the import

    def register(self, plan: _Planned) -> bool:
        key = (plan.kind, plan.team_slug, plan.name)
        first = self.by_name.get(key)
        if first is not None:
            self.fail(
                plan.location,
                "metadata.name",
                _("“%(name)s” is defined twice (first at %(first)s)")
                % {"name": plan.name, "first": first.location},
            )
            return False
        self.by_name[key] = plan
        self.planned.append(plan)
        return True

    def check_same_names(self, kind: str, key) -> None:
        seen: dict[Any, _Planned] = {}
        for plan in self.planned:
            if plan.kind != kind:
                continue
            value = key(plan)
            if value in seen:
                location, path = plan.paths.get("name", (plan.location, "metadata.name"))
                self.fail(
                    location,
                    path,
                    _("another %(kind)s of this team has the name “%(name)s” (%(first)s)")
                    % {"kind": kind, "name": plan.instance.name, "first": seen[value].location},
                )
            else:
                seen[value] = plan

    # -- full_clean, with Django's field names turned back into document paths

    def clean(self, plan: _Planned, exclude: list[str]) -> None:
        try:
            plan.instance.full_clean(exclude=exclude)
        except ValidationError as exc:
            self.report_validation(plan, exc)

    def report_validation(self, plan: _Planned, exc: ValidationError) -> None:
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        )
        for field_name, messages in errors.items():
            location, path = plan.paths.get(
                field_name, plan.paths.get("name", (plan.location, "metadata.name"))
            )
            for message in messages:
                self.fail(location, path, str(message))

    def name_paths(
        self, document: _Document, location: Location
    ) -> dict[str, tuple[Location, str]]:
        path = "metadata.displayName" if document.metadata.display_name else "metadata.name"
        return {"name": (location, path), NON_FIELD_ERRORS: (location, path)}


def _display_name(document: _Document) -> str:
    return document.metadata.display_name or document.metadata.name


def _plan(importer: _Importer, typed: list[tuple[Location, _Document]]) -> None:
    """Turn typed documents into planned instances, recording every problem."""
    slugs: dict[str, Location] = {}
    zones: dict[str, set[str]] = {}
    team_of: dict[int, str] = {}
    slis: dict[str, tuple[Location, SLIDocument]] = {}
    for index, (location, document) in enumerate(typed):
        if isinstance(document, SLIDocument):
            first = slis.get(document.metadata.name)
            if first is not None:
                importer.fail(
                    location,
                    "metadata.name",
                    _("“%(name)s” is defined twice (first at %(first)s)")
                    % {"name": document.metadata.name, "first": first[0]},
                )
            else:
                slis[document.metadata.name] = (location, document)
            continue
        slug = importer.team_slug(document, location)
        if slug is not None:
            team_of[index] = slug
            slugs.setdefault(slug, location)
            if isinstance(document, SLODocument):
                for window in document.spec.time_window or []:
                    if window.calendar is not None and window.calendar.time_zone:
                        zones.setdefault(slug, set()).add(window.calendar.time_zone)
    importer.load_teams(set(slugs), slugs, zones)
    teams = importer.teams
    existing_teams = [team for slug, team in teams.items() if slug not in importer.new_teams]
    services_by_team: dict[str, list[Service]] = {slug: [] for slug in teams}
    sources_by_team: dict[str, list[DataSource]] = {slug: [] for slug in teams}
    slos_by_team: dict[str, list[SLO]] = {slug: [] for slug in teams}
    for service in Service.objects.filter(team__in=existing_teams).select_related("team"):
        services_by_team[service.team.slug].append(service)
    for source in DataSource.objects.filter(team__in=existing_teams).select_related("team"):
        sources_by_team[source.team.slug].append(source)
    for slo in SLO.objects.filter(service__team__in=existing_teams).select_related("service__team"):
        slos_by_team[slo.service.team.slug].append(slo)

    # Data sources and services first: SLOs refer to them.
    for index, (location, document) in enumerate(typed):
        slug = team_of.get(index)
        if slug is None or slug not in teams:
            continue
        team = teams[slug]
        if isinstance(document, DataSourceDocument):
            _plan_data_source(importer, location, document, team, sources_by_team[slug])
        elif isinstance(document, ServiceDocument):
            _plan_service(importer, location, document, team, services_by_team[slug])
    for index, (location, document) in enumerate(typed):
        slug = team_of.get(index)
        if slug is None or slug not in teams or not isinstance(document, SLODocument):
            continue
        _plan_slo(
            importer,
            location,
            document,
            teams[slug],
            slis,
            services_by_team[slug],
            sources_by_team[slug],
            slos_by_team[slug],
        )
    referenced = {
        document.spec.indicator_ref
        for _location, document in typed
        if isinstance(document, SLODocument)
    }
    for name, (location, document) in slis.items():
        if name not in referenced:
            # Still checked, so a broken SLI file is not silently accepted.
            _read_indicator(document.spec, location, "spec", importer.problems)
            importer.warnings.append(
                Problem(
                    location,
                    "metadata.name",
                    _(
                        "SLI “%(name)s” is not used by any SLO; SLIs are stored in the SLOs "
                        "that name them"
                    )
                    % {"name": name},
                )
            )
    importer.check_same_names("DataSource", lambda plan: (plan.team_slug, plan.instance.name))
    importer.check_same_names("Service", lambda plan: (plan.team_slug, plan.instance.name))
    importer.check_same_names(
        "SLO", lambda plan: (plan.team_slug, id(plan.instance.service), plan.instance.name)
    )


def _plan_data_source(
    importer: _Importer,
    location: Location,
    document: DataSourceDocument,
    team: Team,
    existing: list[DataSource],
) -> None:
    spec = document.spec
    if spec.type.lower() != PROMETHEUS.lower():
        importer.fail(
            location,
            "spec.type",
            _("only Prometheus data sources can be imported, not “%(type)s”") % {"type": spec.type},
        )
        return
    details = _connection(spec.connection_details)
    if details is None:
        importer.fail(location, "spec.connectionDetails", _("must be a mapping"))
        return
    url = details.get("url")
    if not isinstance(url, str) or not url.strip():
        importer.fail(
            location,
            "spec.connectionDetails.url",
            _("required: the base URL of the Prometheus HTTP API, e.g. http://prometheus:9090"),
        )
        return
    timeout = details.get("timeoutSeconds", DataSource._meta.get_field("timeout_seconds").default)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        importer.fail(location, "spec.connectionDetails.timeoutSeconds", _("must be a number"))
        return
    name = _display_name(document)
    values = {
        "name": name,
        "openslo_name": document.metadata.name,
        "url": url.strip().rstrip("/"),
        "timeout_seconds": float(timeout),
    }
    instance = _find(existing, document.metadata.name, name)
    if instance is not None and instance.kind != DataSourceKind.PROMETHEUS:
        importer.fail(
            location,
            "spec.type",
            _("team %(team)s already has “%(name)s” as a %(kind)s source, not a Prometheus one")
            % {"team": team.slug, "name": instance.name, "kind": instance.get_kind_display()},
        )
        return
    created = instance is None
    if created:
        instance = DataSource(team=team)
    changed = created or _differs(instance, values)
    _assign(instance, values)
    paths = importer.name_paths(document, location)
    paths.update(
        openslo_name=(location, "metadata.name"),
        url=(location, "spec.connectionDetails.url"),
        timeout_seconds=(location, "spec.connectionDetails.timeoutSeconds"),
    )
    plan = _Planned(
        "DataSource", location, document.metadata.name, team.slug, instance, created, changed, paths
    )
    if importer.register(plan):
        importer.clean(plan, exclude=["team"] if team.pk is None else [])


def _plan_service(
    importer: _Importer,
    location: Location,
    document: ServiceDocument,
    team: Team,
    existing: list[Service],
) -> None:
    name = _display_name(document)
    description = (document.spec.description if document.spec else None) or ""
    values = {"name": name, "openslo_name": document.metadata.name, "description": description}
    instance = _find(existing, document.metadata.name, name)
    created = instance is None
    if created:
        instance = Service(team=team)
    changed = created or _differs(instance, values)
    _assign(instance, values)
    paths = importer.name_paths(document, location)
    paths.update(
        openslo_name=(location, "metadata.name"), description=(location, "spec.description")
    )
    plan = _Planned(
        "Service", location, document.metadata.name, team.slug, instance, created, changed, paths
    )
    if importer.register(plan):
        importer.clean(plan, exclude=["team"] if team.pk is None else [])


def _service_for(
    importer: _Importer,
    location: Location,
    reference: str,
    team: Team,
    existing: list[Service],
) -> Service | None:
    plan = importer.by_name.get(("Service", team.slug, reference))
    if plan is not None:
        return plan.instance
    found = _find_reference(existing, reference, "service")
    if found is not None:
        return found
    # The spec lets an SLO name a service that has no Service document: create it.
    if not DNS_LABEL.fullmatch(reference):
        importer.fail(
            location,
            "spec.service",
            _("names no Service in the files or in team %(team)s, and cannot be a service name")
            % {"team": team.slug},
        )
        return None
    instance = Service(team=team, name=reference, openslo_name=reference)
    plan = _Planned(
        "Service",
        location,
        reference,
        team.slug,
        instance,
        True,
        True,
        {"name": (location, "spec.service"), NON_FIELD_ERRORS: (location, "spec.service")},
    )
    importer.register(plan)
    importer.clean(plan, exclude=["team"] if team.pk is None else [])
    importer.warnings.append(
        Problem(
            location,
            "spec.service",
            _("no Service document named “%(name)s”: the service is created") % {"name": reference},
        )
    )
    return instance


def _data_source_for(
    importer: _Importer,
    indicator: _Indicator,
    team: Team,
    existing: list[DataSource],
) -> tuple[bool, DataSource | None]:
    reference = indicator.source_ref
    if reference is None:
        return True, None
    plan = importer.by_name.get(("DataSource", team.slug, reference))
    if plan is not None:
        return True, plan.instance
    found = _find_reference(existing, reference, "datasource")
    if found is not None:
        return True, found
    importer.fail(
        indicator.location,
        indicator.source_path,
        _("no DataSource named “%(name)s” in the files or in team %(team)s")
        % {"name": reference, "team": team.slug},
    )
    return False, None


def _plan_slo(
    importer: _Importer,
    location: Location,
    document: SLODocument,
    team: Team,
    slis: dict[str, tuple[Location, SLIDocument]],
    services_existing: list[Service],
    sources_existing: list[DataSource],
    slos_existing: list[SLO],
) -> None:
    spec = document.spec
    start = len(importer.problems)
    indicator: _Indicator | None = None
    sli_name = None
    if spec.indicator is not None and spec.indicator_ref is not None:
        importer.fail(location, "spec.indicatorRef", _("give indicator or indicatorRef, not both"))
    elif spec.indicator is not None:
        indicator = _read_indicator(
            spec.indicator.spec, location, "spec.indicator.spec", importer.problems
        )
    elif spec.indicator_ref is not None:
        referenced = slis.get(spec.indicator_ref)
        if referenced is None:
            importer.fail(
                location,
                "spec.indicatorRef",
                _("no SLI named “%(name)s” in the imported files") % {"name": spec.indicator_ref},
            )
        else:
            sli_name = spec.indicator_ref
            indicator = _read_indicator(
                referenced[1].spec, referenced[0], "spec", importer.problems
            )
    else:
        importer.fail(location, "spec.indicator", _("give indicator or indicatorRef"))
    window = _read_window(
        spec.time_window, location, importer.problems, importer.warnings, team.time_zone
    )
    objective = (
        _read_objective(document, indicator, location, importer.problems, importer.warnings)
        if indicator is not None
        else None
    )
    service = _service_for(importer, location, spec.service, team, services_existing)
    source_ok, data_source = (
        _data_source_for(importer, indicator, team, sources_existing)
        if indicator is not None
        else (False, None)
    )
    if len(importer.problems) > start or None in (indicator, window, objective, service):
        return
    if not source_ok:
        return
    objective_fields, objective_paths = objective
    name = _display_name(document)
    definition: dict[str, Any] = {
        "name": name,
        "openslo_name": document.metadata.name,
        "why": spec.description or "",
        **indicator.fields,
        **window,
        **objective_fields,
    }
    if data_source is None:
        importer.warnings.append(
            Problem(
                location,
                "spec.indicatorRef" if sli_name else "spec.indicator",
                _("no metricSourceRef: the SLO has no data source; choose one before pulling"),
            )
        )
    instance = _find(
        [slo for slo in slos_existing if slo.openslo_name or slo.service == service],
        document.metadata.name,
        name,
    )
    created = instance is None
    if created:
        instance = SLO()
    data_source_id = data_source.pk if data_source is not None else None
    changed = (
        created
        or _differs(instance, definition)
        or service.pk is None
        or instance.service_id != service.pk
        or (data_source is not None and data_source.pk is None)
        or instance.data_source_id != data_source_id
    )
    _assign(instance, definition)
    instance.service = service
    instance.data_source = data_source
    paths = importer.name_paths(document, location)
    paths.update(
        openslo_name=(location, "metadata.name"),
        why=(location, "spec.description"),
        service=(location, "spec.service"),
        data_source=(indicator.location, indicator.source_path or indicator.base),
        window_days=(location, "spec.timeWindow[0].duration"),
        window_kind=(location, "spec.timeWindow[0]"),
        calendar_period=(location, "spec.timeWindow[0].duration"),
    )
    for field_name, path in objective_paths.items():
        paths[field_name] = (location, path)
    for field_name, path in indicator.query_paths.items():
        paths[field_name] = (indicator.location, path)
    plan = _Planned(
        "SLO", location, document.metadata.name, team.slug, instance, created, changed, paths
    )
    plan.definition = definition
    if importer.register(plan):
        exclude = []
        if service.pk is None:
            exclude.append("service")
        if data_source is not None and data_source.pk is None:
            exclude.append("data_source")
        importer.clean(plan, exclude=exclude)


# ---------------------------------------------------------------------------------------
# Writing


def _refresh_relations(instance: models.Model) -> None:
    """Copy the primary keys of related objects saved after they were assigned."""
    for model_field in instance._meta.concrete_fields:
        if model_field.is_relation and model_field.is_cached(instance):
            setattr(instance, model_field.name, getattr(instance, model_field.name))


def _write(importer: _Importer) -> None:
    with transaction.atomic():
        for slug in sorted(importer.new_teams):
            importer.teams[slug].save()
        order = {"DataSource": 0, "Service": 1, "SLO": 2}
        for plan in sorted(importer.planned, key=lambda plan: order[plan.kind]):
            if not plan.changed:
                continue
            try:
                _refresh_relations(plan.instance)
                if plan.kind == "SLO" and plan.created:
                    services.slo_create(
                        service=plan.instance.service,
                        data_source=plan.instance.data_source,
                        **plan.definition,
                    )
                else:
                    plan.instance.full_clean()
                    plan.instance.save()
            except ValidationError as exc:
                importer.report_validation(plan, exc)
                raise OpenSLOError(importer.problems) from exc
            except IntegrityError as exc:
                raise OpenSLOError(
                    [
                        Problem(
                            plan.location,
                            "metadata.name",
                            _("could not be saved: %(error)s") % {"error": exc},
                        )
                    ]
                ) from exc


def openslo_import(
    *,
    files: Sequence[SourceFile],
    team: Team | None = None,
    default_team: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import OpenSLO v1 files, all or nothing. With `team`, everything goes into that
    team (the upload form); otherwise each object's `team` label or `default_team` names
    the team, which is created when missing (the command). Raises OpenSLOError listing
    every problem; nothing is written then."""
    importer = _Importer(team=team, default_team=default_team)
    report = ImportReport(dry_run=dry_run)
    raw = _read_documents(files, importer.problems)
    typed: list[tuple[Location, _Document]] = []
    for document in raw:
        parsed = _parse(document, importer.problems, importer.warnings)
        if parsed is not None:
            typed.append((document.location, parsed))
    if not raw and not importer.problems:
        importer.warnings.extend(
            Problem(Location(source.name), "", _("no OpenSLO documents found")) for source in files
        )
    _plan(importer, typed)
    report.warnings = list(dict.fromkeys(importer.warnings))
    if importer.problems:
        # An SLI that several SLOs name is read once for each of them.
        raise OpenSLOError(list(dict.fromkeys(importer.problems)))
    for slug in sorted(importer.new_teams):
        report.changes.append(Change("Team", slug, slug, "created"))
    for plan in importer.planned:
        action = "created" if plan.created else "updated" if plan.changed else "unchanged"
        report.changes.append(Change(plan.kind, plan.name, plan.team_slug, action))
    if not dry_run:
        _write(importer)
    return report


# ---------------------------------------------------------------------------------------
# Export


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", slugify(text).lower()).strip("-")
    return slug[:63].strip("-")


def _names(objects: Sequence[Any], kind: str) -> dict[int, str]:
    """Each object's metadata.name: its OpenSLO name, else one made from its name (and
    its id when two would clash), so objects made in the portal export too."""
    taken: set[str] = set()
    names: dict[int, str] = {}
    for obj in sorted(objects, key=lambda obj: (not obj.openslo_name, obj.pk)):
        if DNS_LABEL.fullmatch(obj.openslo_name or ""):
            name = obj.openslo_name
        else:
            name = _slug(obj.openslo_name or obj.name) or f"{kind}-{obj.pk}"
        if name in taken:
            suffix = f"-{obj.pk}"
            name = name[: 63 - len(suffix)].strip("-") + suffix
        if name in taken or not DNS_LABEL.fullmatch(name):
            name = f"{kind}-{obj.pk}"
        taken.add(name)
        names[obj.pk] = name
    return names


def _metadata(name: str, display_name: str, team: Team) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if display_name != name:
        metadata["displayName"] = display_name
    metadata["labels"] = {TEAM_LABEL: team.slug}
    return metadata


def _fraction_of(percent: Decimal) -> float:
    return float(percent / 100)


def _unwrap(query: str) -> str:
    """A plain counter selector when the query is exactly what the import makes of one."""
    match = WRAPPED_SELECTOR.fullmatch(query)
    if match and f"sum(increase({match.group(1)}[{WINDOW_PLACEHOLDER}]))" == query:
        return match.group(1)
    return query


def _metric(query: str, source_name: str | None, prometheus: bool) -> dict[str, Any]:
    source: dict[str, Any] = {}
    if source_name is not None:
        source["metricSourceRef"] = source_name
    if prometheus:
        # Left out for a push or CSV source: the spec infers it from the DataSource.
        source["type"] = PROMETHEUS
    source["spec"] = {"query": query}
    return {"metricSource": source}


def _slo_document(
    slo: SLO,
    name: str,
    service_name: str,
    source_name: str | None,
    prometheus: bool,
    team: Team,
) -> dict[str, Any]:
    if slo.sli_kind == SLIKind.GAUGE:
        indicator_spec: dict[str, Any] = {
            "thresholdMetric": _metric(slo.gauge_query, source_name, prometheus)
        }
    else:
        queries = slo.event_queries()
        ratio: dict[str, Any] = {"counter": True}
        if queries.bad is not None:
            ratio["bad"] = _metric(_unwrap(queries.bad), source_name, prometheus)
        else:
            ratio["good"] = _metric(_unwrap(queries.good or ""), source_name, prometheus)
        ratio["total"] = _metric(_unwrap(queries.valid), source_name, prometheus)
        indicator_spec = {"ratioMetric": ratio}
    if slo.window_kind == WindowKind.CALENDAR:
        window: dict[str, Any] = {
            "duration": "1Q" if slo.calendar_period == CalendarPeriod.QUARTER else "1M",
            "calendar": {"startTime": CALENDAR_START, "timeZone": team.time_zone},
            "isRolling": False,
        }
    else:
        window = {"duration": f"{slo.window_days}d", "isRolling": True}
    objective: dict[str, Any] = {}
    if slo.sli_kind == SLIKind.GAUGE:
        objective["op"] = slo.threshold_op
        objective["value"] = float(slo.threshold) if slo.threshold is not None else None
    objective["target"] = _fraction_of(slo.target)
    if slo.uses_timeslices:
        if slo.timeslice_target is not None:
            objective["timeSliceTarget"] = _fraction_of(slo.timeslice_target)
        objective["timeSliceWindow"] = f"{slo.timeslice_minutes}m"
    spec: dict[str, Any] = {}
    if slo.why:
        spec["description"] = slo.why
    spec["service"] = service_name
    spec["indicator"] = {"metadata": {"name": name}, "spec": indicator_spec}
    spec["timeWindow"] = [window]
    spec["budgetingMethod"] = "Timeslices" if slo.uses_timeslices else "Occurrences"
    spec["objectives"] = [objective]
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": _metadata(name, slo.name, team),
        "spec": spec,
    }


def export_documents(*, teams: Iterable[Team]) -> list[dict[str, Any]]:
    """The teams' services, data sources and SLOs as OpenSLO v1 objects, ordered by team,
    kind and name. Three queries, whatever the number of objects."""
    teams = sorted(teams, key=lambda team: team.slug)
    services_all = list(Service.objects.filter(team__in=teams).order_by("pk"))
    sources_all = list(DataSource.objects.filter(team__in=teams).order_by("pk"))
    slos_all = list(
        SLO.objects.filter(service__team__in=teams).order_by("pk").select_related("service")
    )
    documents: list[dict[str, Any]] = []
    for team in teams:
        team_services = [s for s in services_all if s.team_id == team.pk]
        team_sources = [s for s in sources_all if s.team_id == team.pk]
        team_slos = [s for s in slos_all if s.service.team_id == team.pk]
        service_names = _names(team_services, "service")
        source_names = _names(team_sources, "datasource")
        slo_names = _names(team_slos, "slo")
        for service in sorted(team_services, key=lambda s: service_names[s.pk]):
            spec = {"description": service.description} if service.description else {}
            documents.append(
                {
                    "apiVersion": API_VERSION,
                    "kind": "Service",
                    "metadata": _metadata(service_names[service.pk], service.name, team),
                    "spec": spec,
                }
            )
        # Push and CSV sources stay in the portal (with their tokens); SLOs still name them.
        pulled = [s for s in team_sources if s.kind == DataSourceKind.PROMETHEUS]
        for source in sorted(pulled, key=lambda s: source_names[s.pk]):
            documents.append(
                {
                    "apiVersion": API_VERSION,
                    "kind": "DataSource",
                    "metadata": _metadata(source_names[source.pk], source.name, team),
                    "spec": {
                        "type": PROMETHEUS,
                        "connectionDetails": {
                            "url": source.url,
                            "timeoutSeconds": float(source.timeout_seconds),
                        },
                    },
                }
            )
        for slo in sorted(team_slos, key=lambda s: slo_names[s.pk]):
            documents.append(
                _slo_document(
                    slo,
                    slo_names[slo.pk],
                    service_names[slo.service_id],
                    source_names.get(slo.data_source_id) if slo.data_source_id else None,
                    slo.data_source_id not in {s.pk for s in team_sources if s not in pulled},
                    team,
                )
            )
    return documents


def dump_documents(documents: Sequence[dict[str, Any]]) -> str:
    """Multi-document YAML, formatted the same way every time."""
    if not documents:
        return ""
    return yaml.dump_all(
        documents,
        Dumper=BlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        explicit_start=True,
        width=4096,
    )


def openslo_export(*, teams: Iterable[Team]) -> str:
    """The teams' services, data sources and SLOs as OpenSLO v1 YAML; the same data
    always gives the same text."""
    return dump_documents(export_documents(teams=teams))


__all__ = [
    "Change",
    "ImportReport",
    "Location",
    "OpenSLOError",
    "Problem",
    "SourceFile",
    "dump_documents",
    "event_count_query",
    "export_documents",
    "openslo_export",
    "openslo_import",
]
