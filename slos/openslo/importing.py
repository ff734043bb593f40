"""Importing OpenSLO: every document planned as an unsaved or updated model instance and
checked in full, then all written in one transaction, or nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from portal.models import Team
from slos.models import (
    SLO,
    DataSource,
    DataSourceKind,
    Service,
)
from slos.openslo.exporting import export_names
from slos.openslo.reading import (
    DNS_LABEL,
    PROMETHEUS,
    TEAM_LABEL,
    DataSourceDocument,
    Document,
    Indicator,
    Location,
    OpenSLOError,
    Problem,
    ServiceDocument,
    SLIDocument,
    SLODocument,
    SourceFile,
    parse_document,
    read_documents,
    read_indicator,
    read_objective,
    read_window,
)
from slos.registry import services

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
    names = export_names(existing, kind)
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

    def team_slug(self, document: Document, location: Location) -> str | None:
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

    def name_paths(self, document: Document, location: Location) -> dict[str, tuple[Location, str]]:
        path = "metadata.displayName" if document.metadata.display_name else "metadata.name"
        return {"name": (location, path), NON_FIELD_ERRORS: (location, path)}


def _display_name(document: Document) -> str:
    return document.metadata.display_name or document.metadata.name


def _plan(importer: _Importer, typed: list[tuple[Location, Document]]) -> None:
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
    source_types: dict[str, dict[str, str]] = {}
    for index, (_location, document) in enumerate(typed):
        if isinstance(document, DataSourceDocument) and index in team_of:
            source_types.setdefault(team_of[index], {})[document.metadata.name] = document.spec.type
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
            source_types.get(slug, {}),
        )
    referenced = {
        document.spec.indicator_ref
        for _location, document in typed
        if isinstance(document, SLODocument)
    }
    for name, (location, document) in slis.items():
        if name not in referenced:
            # Still checked, so a broken SLI file is not silently accepted.
            read_indicator(document.spec, location, "spec", importer.problems)
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
        _plan_fed_source(importer, location, document, team, existing)
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


def _plan_fed_source(
    importer: _Importer,
    location: Location,
    document: DataSourceDocument,
    team: Team,
    existing: list[DataSource],
) -> None:
    """A DataSource the portal cannot query (Datadog, …) becomes a push source: its SLOs
    get their hourly counts by the push API or a CSV upload. Its connection details
    (API keys, …) are not kept."""
    name = _display_name(document)
    instance = _find(existing, document.metadata.name, name)
    if instance is not None and instance.is_pulled:
        importer.fail(
            location,
            "spec.type",
            _("team %(team)s already has “%(name)s” as a Prometheus source, not a %(type)s one")
            % {"team": team.slug, "name": instance.name, "type": document.spec.type},
        )
        return
    values = {"name": name, "openslo_name": document.metadata.name}
    created = instance is None
    if created:
        instance = DataSource(team=team, kind=DataSourceKind.PUSH, url="")
        importer.warnings.append(
            Problem(
                location,
                "spec.type",
                _(
                    "the portal cannot query %(type)s: “%(name)s” becomes a push source; "
                    "send its SLOs' hourly counts with the push API or a CSV upload"
                )
                % {"type": document.spec.type, "name": name},
            )
        )
    changed = created or _differs(instance, values)
    _assign(instance, values)
    paths = importer.name_paths(document, location)
    paths.update(openslo_name=(location, "metadata.name"), kind=(location, "spec.type"))
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


def _find_source(existing: Sequence[DataSource], reference: str) -> DataSource | None:
    """A data source of the team by its OpenSLO name, the name its export gives it, or
    its name in the portal (exact, then in any case)."""
    found = _find_reference(existing, reference, "datasource")
    if found is None:
        found = next((source for source in existing if source.name == reference), None)
    if found is None:
        wanted = reference.casefold()
        found = next((source for source in existing if source.name.casefold() == wanted), None)
    return found


def _fed_source_name(source_type: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", source_type.lower()).strip("-")[:63].strip("-")
    return name or "pushed"


def _data_source_for(
    importer: _Importer,
    indicator: Indicator,
    team: Team,
    existing: list[DataSource],
) -> tuple[bool, DataSource | None]:
    reference = indicator.source_ref
    foreign = indicator.foreign_type
    if reference is None and foreign is None:
        return True, None
    name = reference if reference is not None else _fed_source_name(foreign)
    plan = importer.by_name.get(("DataSource", team.slug, name))
    source = plan.instance if plan is not None else _find_source(existing, name)
    if source is not None:
        if foreign is not None and source.is_pulled:
            importer.fail(
                indicator.location,
                indicator.foreign_path,
                _("is “%(type)s”, but the DataSource “%(name)s” is a Prometheus source")
                % {"type": foreign, "name": name},
            )
            return False, None
        return True, source
    if foreign is None:
        importer.fail(
            indicator.location,
            indicator.source_path,
            _("no DataSource named “%(name)s” in the files or in team %(team)s")
            % {"name": reference, "team": team.slug},
        )
        return False, None
    # A source the portal cannot query, named nowhere: a push source of that name.
    location = indicator.location
    path = indicator.source_path or indicator.foreign_path
    instance = DataSource(team=team, name=name, openslo_name=name, kind=DataSourceKind.PUSH)
    plan = _Planned(
        "DataSource",
        location,
        name,
        team.slug,
        instance,
        True,
        True,
        {"name": (location, path), NON_FIELD_ERRORS: (location, path)},
    )
    importer.register(plan)
    importer.clean(plan, exclude=["team"] if team.pk is None else [])
    importer.warnings.append(
        Problem(
            location,
            path,
            _(
                "the portal cannot query %(type)s: the push source “%(name)s” is created; "
                "send hourly counts with the push API or a CSV upload"
            )
            % {"type": foreign, "name": name},
        )
    )
    return True, instance


def _plan_slo(
    importer: _Importer,
    location: Location,
    document: SLODocument,
    team: Team,
    slis: dict[str, tuple[Location, SLIDocument]],
    services_existing: list[Service],
    sources_existing: list[DataSource],
    slos_existing: list[SLO],
    source_types: dict[str, str],
) -> None:
    spec = document.spec
    start = len(importer.problems)
    indicator: Indicator | None = None
    sli_name = None
    if spec.indicator is not None and spec.indicator_ref is not None:
        importer.fail(location, "spec.indicatorRef", _("give indicator or indicatorRef, not both"))
    elif spec.indicator is not None:
        indicator = read_indicator(
            spec.indicator.spec, location, "spec.indicator.spec", importer.problems, source_types
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
            indicator = read_indicator(
                referenced[1].spec, referenced[0], "spec", importer.problems, source_types
            )
    else:
        importer.fail(location, "spec.indicator", _("give indicator or indicatorRef"))
    window = read_window(
        spec.time_window, location, importer.problems, importer.warnings, team.time_zone
    )
    objective = (
        read_objective(document, indicator, location, importer.problems, importer.warnings)
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
        # Every label but the team's, which says where the SLO goes: the SLO keeps them to
        # be sorted and filtered by (a label of several values is not one it can keep).
        "labels": {
            key: value
            for key, value in (document.metadata.labels or {}).items()
            if key != TEAM_LABEL and isinstance(value, str)
        },
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
    elif indicator.foreign_type is not None:
        importer.warnings.append(
            Problem(
                location,
                "spec.indicatorRef" if sli_name else "spec.indicator",
                _(
                    "reads %(type)s, which the portal cannot query: imported as fed by the "
                    "push source “%(source)s”, without its queries; send its hourly counts "
                    "with the push API or a CSV upload"
                )
                % {"type": indicator.foreign_type, "source": data_source.name},
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
        labels=(location, "metadata.labels"),
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
    raw = read_documents(files, importer.problems)
    typed: list[tuple[Location, Document]] = []
    for document in raw:
        parsed = parse_document(document, importer.problems, importer.warnings)
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
