"""What OpenSLO files say: YAML read safely, each document checked against the OpenSLO
v1 schema, indicators, objectives and windows turned into the SLO model's values, and
every problem located by file, document and field path. Nothing is written here."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import yaml
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import ValidationError as SchemaError
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from slos.limits import (
    CONTROL_CHARACTERS,
    MAX_OPENSLO_FILE_BYTES,
    MAX_OPENSLO_FILES,
    MAX_OPENSLO_UPLOAD_BYTES,
)
from slos.models import (
    SLO,
    TIMESLICE_MINUTES,
    BudgetingMethod,
    CalendarPeriod,
    RatioOf,
    SLIKind,
    WindowKind,
)
from slos.sli import WINDOW_PLACEHOLDER, histogram_queries
from slos.yaml_block import BoundedSafeLoader

API_VERSION = "openslo/v1"
# The version most tools still write: read by converting each document to v1.
V1ALPHA = "openslo/v1alpha"
V1ALPHA_UNITS = {"Day": "d", "Week": "w", "Month": "M", "Quarter": "Q"}
IMPORTED_KINDS = ("Service", "DataSource", "SLI", "SLO")
SKIPPED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
PROMETHEUS = "Prometheus"
TEAM_LABEL = "team"
# Calendar windows follow the team's calendar; the start only anchors them to a period.
CALENDAR_START = "2020-01-01 00:00:00"
# The duration each calendar period is written as, and every duration read as one.
CALENDAR_DURATIONS = {
    CalendarPeriod.DAY: "1d",
    CalendarPeriod.WEEK: "1w",
    CalendarPeriod.MONTH: "1M",
    CalendarPeriod.QUARTER: "1Q",
}
CALENDAR_PERIODS = {
    (1, "d"): CalendarPeriod.DAY,
    (7, "d"): CalendarPeriod.WEEK,
    (1, "w"): CalendarPeriod.WEEK,
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


class _Loader(BoundedSafeLoader):
    """Safe, bounded YAML in which unquoted dates stay text (calendar.startTime is a
    string)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class _RawDocument:
    location: Location
    body: Any


def upload_problems(sizes: Sequence[tuple[str, int]]) -> list[str]:
    """What is wrong with an upload of files (name, bytes) as a whole, judged on the
    sizes alone, before anything is read or parsed."""
    if len(sizes) > MAX_OPENSLO_FILES:
        return [
            _("Upload at most %(count)d files at a time; these are %(given)d.")
            % {"count": MAX_OPENSLO_FILES, "given": len(sizes)}
        ]
    problems = [
        _("%(name)s is larger than %(size)d MB.")
        % {"name": name, "size": MAX_OPENSLO_FILE_BYTES // (1024 * 1024)}
        for name, size in sizes
        if size > MAX_OPENSLO_FILE_BYTES
    ]
    total = sum(size for _name, size in sizes)
    if not problems and total > MAX_OPENSLO_UPLOAD_BYTES:
        problems.append(
            _("These files add up to more than %(size)d MB; upload them in parts.")
            % {"size": MAX_OPENSLO_UPLOAD_BYTES // (1024 * 1024)}
        )
    return problems


def _control_character_path(body: Any) -> str | None:
    """The path of the first key or text holding a control character (NUL, escape…),
    which no name, query or label may hold (PostgreSQL refuses NUL in text)."""
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if CONTROL_CHARACTERS.search(value):
                return path
        elif isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and CONTROL_CHARACTERS.search(key):
                    return _join(path, key.encode("unicode_escape").decode("ascii"))
            # Pushed in reverse, so the walk goes in the document's order.
            pending.extend((_join(path, str(key)), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(
                (_join(path, index), value[index]) for index in reversed(range(len(value)))
            )
    return None


def read_documents(files: Sequence[SourceFile], problems: list[Problem]) -> list[_RawDocument]:
    documents: list[_RawDocument] = []
    for source in files:
        number = 0
        try:
            for number, body in enumerate(yaml.load_all(source.text, Loader=_Loader), 1):
                if body is None:
                    continue
                elements = (
                    [
                        (Location(source.name, number, item), element)
                        for item, element in enumerate(body, 1)
                    ]
                    if isinstance(body, list)
                    else [(Location(source.name, number), body)]
                )
                for location, element in elements:
                    path = _control_character_path(element)
                    if path is not None:
                        problems.append(
                            Problem(
                                location,
                                path,
                                _("holds a control character (such as NUL); remove it"),
                            )
                        )
                    else:
                        documents.append(_RawDocument(location, element))
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


class Document(_Spec):
    api_version: str
    kind: str
    metadata: Metadata


class ServiceDocument(Document):
    spec: ServiceSpec | None = None


class DataSourceDocument(Document):
    spec: DataSourceSpec


class SLIDocument(Document):
    spec: SLISpec


class SLODocument(Document):
    spec: SLOSpec


# openslo/v1alpha: Service and SLO only. The SLO's indicator is a thresholdMetric, or
# ratioMetrics inside each objective; windows are a unit and a count; metric sources are
# a `source` (its type), a `queryType` and a `query`.


class V1AlphaQuery(_Spec):
    source: str
    query_type: str | None = None
    query: str


class V1AlphaRatioMetrics(_Spec):
    incremental: bool = False
    good: V1AlphaQuery
    total: V1AlphaQuery


class V1AlphaIndicator(_Spec):
    threshold_metric: V1AlphaQuery


class V1AlphaObjective(_Spec):
    display_name: str | None = None
    op: str | None = None
    value: float | None = None
    target: float | None = None
    time_slice_target: float | None = None
    ratio_metrics: V1AlphaRatioMetrics | None = None


class V1AlphaTimeWindow(_Spec):
    unit: str
    count: int
    is_rolling: bool = False
    calendar: Calendar | None = None


class V1AlphaSLOSpec(_Spec):
    description: str | None = None
    service: str
    indicator: V1AlphaIndicator | None = None
    time_windows: list[V1AlphaTimeWindow] | None = None
    budgeting_method: str
    objectives: list[V1AlphaObjective]


class V1AlphaServiceDocument(Document):
    spec: ServiceSpec | None = None


class V1AlphaSLODocument(Document):
    spec: V1AlphaSLOSpec


V1ALPHA_MODELS: dict[str, type[Document]] = {
    "Service": V1AlphaServiceDocument,
    "SLO": V1AlphaSLODocument,
}

DOCUMENT_MODELS: dict[str, type[Document]] = {
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


def parse_document(raw: _RawDocument, problems: list[Problem], warnings: list[Problem]) -> Any:
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
    if api_version == V1ALPHA:
        body = from_v1alpha(body, location, problems, warnings)
        if body is None:
            return None
    elif api_version != API_VERSION:
        problems.append(
            Problem(
                location,
                "apiVersion",
                _("only %(expected)s and %(older)s can be imported, not “%(given)s”")
                % {"expected": API_VERSION, "older": V1ALPHA, "given": api_version},
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


def _v1_metric(query: V1AlphaQuery) -> dict[str, Any]:
    return {"metricSource": {"type": query.source, "spec": {"query": query.query}}}


def from_v1alpha(
    body: dict[str, Any], location: Location, problems: list[Problem], warnings: list[Problem]
) -> dict[str, Any] | None:
    """The openslo/v1 document an openslo/v1alpha one says, or None (with problems).
    Its schema problems name the v1alpha fields; later ones name the v1 fields."""
    kind = body.get("kind")
    model = V1ALPHA_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        problems.append(
            Problem(
                location,
                "kind",
                _("%(version)s has Service and SLO documents only, not “%(kind)s”")
                % {"version": V1ALPHA, "kind": kind},
            )
        )
        return None
    try:
        old = model.model_validate(body)
    except SchemaError as exc:
        problems.extend(_schema_problems(location, exc))
        return None
    converted: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": old.metadata.model_dump(by_alias=True, exclude_none=True),
    }
    if isinstance(old, V1AlphaServiceDocument):
        if old.spec is not None:
            converted["spec"] = old.spec.model_dump(by_alias=True, exclude_none=True)
    else:
        spec = _v1alpha_slo_spec(old, location, problems, warnings)
        if spec is None:
            return None
        converted["spec"] = spec
    warnings.append(
        Problem(
            location,
            "apiVersion",
            _("%(old)s, read as %(new)s") % {"old": V1ALPHA, "new": API_VERSION},
        )
    )
    return converted


def _v1alpha_slo_spec(
    document: V1AlphaSLODocument,
    location: Location,
    problems: list[Problem],
    warnings: list[Problem],
) -> dict[str, Any] | None:
    spec = document.spec
    ratio = next(
        (objective.ratio_metrics for objective in spec.objectives if objective.ratio_metrics),
        None,
    )
    if spec.indicator is not None and ratio is not None:
        problems.append(
            Problem(
                location,
                "spec.indicator",
                _("give indicator or ratioMetrics in the objectives, not both"),
            )
        )
        return None
    if spec.indicator is not None:
        indicator: dict[str, Any] = {"thresholdMetric": _v1_metric(spec.indicator.threshold_metric)}
    elif ratio is not None:
        indicator = {
            "ratioMetric": {
                "counter": ratio.incremental,
                "good": _v1_metric(ratio.good),
                "total": _v1_metric(ratio.total),
            }
        }
    else:
        problems.append(
            Problem(
                location,
                "spec.indicator",
                _("give indicator (a thresholdMetric) or ratioMetrics in the objectives"),
            )
        )
        return None
    windows = []
    for index, window in enumerate(spec.time_windows or []):
        unit = V1ALPHA_UNITS.get(window.unit)
        if unit is None:
            problems.append(
                Problem(
                    location,
                    _join("spec.timeWindows", index, "unit"),
                    _("must be Day, Week, Month or Quarter"),
                )
            )
            return None
        converted: dict[str, Any] = {
            "duration": f"{window.count}{unit}",
            "isRolling": window.is_rolling,
        }
        if window.calendar is not None:
            converted["calendar"] = window.calendar.model_dump(by_alias=True, exclude_none=True)
        windows.append(converted)
    objectives = [
        objective.model_dump(by_alias=True, exclude_none=True, exclude={"ratio_metrics"})
        for objective in spec.objectives
    ]
    if spec.budgeting_method == "Timeslices":
        # v1alpha has no slice length: the portal's default, which the SLO page can change.
        minutes = SLO._meta.get_field("timeslice_minutes").default
        for objective in objectives:
            objective["timeSliceWindow"] = f"{minutes}m"
        warnings.append(
            Problem(
                location,
                "spec.objectives",
                _("%(version)s gives no timeSliceWindow: slices of %(minutes)d minutes are used")
                % {"version": V1ALPHA, "minutes": minutes},
            )
        )
    converted_spec: dict[str, Any] = {}
    if spec.description is not None:
        converted_spec["description"] = spec.description
    converted_spec["service"] = spec.service
    converted_spec["indicator"] = {"metadata": {"name": document.metadata.name}, "spec": indicator}
    if windows:
        converted_spec["timeWindow"] = windows
    converted_spec["budgetingMethod"] = spec.budgeting_method
    converted_spec["objectives"] = objectives
    return converted_spec


# ---------------------------------------------------------------------------------------
# Indicators: OpenSLO SLI specs become the SLO model's indicator fields


@dataclass
class Indicator:
    location: Location
    base: str  # path of the SLI spec within its document
    fields: dict[str, Any]
    source_ref: str | None
    source_path: str  # path of a metricSource naming source_ref (for messages)
    query_paths: dict[str, str]  # model field -> path of its query
    # The metric source type when it is not Prometheus (Datadog, …): the portal cannot
    # query it, so the SLO is fed by push or CSV and its queries are not kept.
    foreign_type: str | None = None
    foreign_path: str = ""


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
    def __init__(
        self,
        location: Location,
        base: str,
        problems: list[Problem],
        source_types: Mapping[str, str],
    ):
        self.source_types = source_types
        self.location = location
        self.base = base
        self.problems = problems
        self.source_ref: str | None = None
        self.source_path = ""
        self.source_type: str | None = None
        self.type_path = ""
        self.ok = True

    def fail(self, path: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.location, path, message))

    @property
    def foreign_type(self) -> str | None:
        if self.source_type is None or self.source_type.lower() == PROMETHEUS.lower():
            return None
        return self.source_type

    def query(self, metric: MetricSpec, path: str) -> str | None:
        """The query as written; "" when the portal does not read it: the source is not
        Prometheus, or only a metricSourceRef names it and gives no query (a push or CSV
        source's SLO, as the export writes it; a Prometheus one is then asked for its
        queries by the SLO's own check)."""
        source = metric.metric_source
        source_path = _join(path, "metricSource")
        declared, declared_path = source.type, _join(source_path, "type")
        if declared is None and source.metric_source_ref is not None:
            # The type of the DataSource document the reference names, if the files hold one.
            declared = self.source_types.get(source.metric_source_ref)
            declared_path = _join(source_path, "metricSourceRef")
        if declared is not None:
            if self.source_type is None:
                self.source_type, self.type_path = declared, declared_path
            elif declared.lower() != self.source_type.lower():
                self.fail(
                    declared_path,
                    _(
                        "all queries of an SLO read one data source: this is “%(this)s”, "
                        "%(first)s is “%(other)s”"
                    )
                    % {"this": declared, "first": self.type_path, "other": self.source_type},
                )
        if source.type is None and source.metric_source_ref is None:
            self.fail(
                source_path,
                _("give a type (such as Prometheus) or a metricSourceRef naming a DataSource"),
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
        if declared is not None and declared.lower() != PROMETHEUS.lower():
            return ""
        query = (source.spec or {}).get("query")
        query_path = _join(source_path, "spec", "query")
        if source.type is None and (query is None or query == ""):
            return ""
        if query is None:
            self.fail(query_path, _("required"))
            return None
        if not isinstance(query, str) or not query.strip():
            self.fail(query_path, _("must be a PromQL query"))
            return None
        return query.strip()

    def counts(self, metric: MetricSpec, path: str, *, counter: bool) -> str | None:
        query = self.query(metric, path)
        if not query:
            return query
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


def read_indicator(
    spec: SLISpec,
    location: Location,
    base: str,
    problems: list[Problem],
    source_types: Mapping[str, str] | None = None,
) -> Indicator | None:
    """The SLI spec as the SLO model's fields. `source_types` gives the type of each
    DataSource document in the files, by name, for metric sources that only name one."""
    reader = _IndicatorReader(location, base, problems, source_types or {})
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
    return Indicator(
        location,
        base,
        fields,
        reader.source_ref,
        reader.source_path,
        query_paths,
        foreign_type=reader.foreign_type,
        foreign_path=reader.type_path,
    )


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


def read_window(
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
                _("a calendar window is 1d (a day), 1w (a week), 1M (a month) or 1Q (a quarter)"),
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


def read_objective(
    document: SLODocument,
    indicator: Indicator,
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
    counted_by_sender = (
        indicator.fields["sli_kind"] == SLIKind.GAUGE
        and indicator.foreign_type is not None
        and method == BudgetingMethod.OCCURRENCES
    )
    if counted_by_sender:
        # The portal judges a gauge per timeslice; a sender that counts occurrences
        # sends good and valid events, which is a ratio SLI.
        fields["sli_kind"] = SLIKind.RATIO
        warnings.append(
            Problem(
                location,
                _join(path, "value"),
                _(
                    "a thresholdMetric counted in Occurrences is stored as a ratio: send the "
                    "events that meet the objective as good and all events as valid"
                ),
            )
        )
    elif indicator.fields["sli_kind"] == SLIKind.GAUGE:
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
