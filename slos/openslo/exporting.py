"""Exporting OpenSLO: the team's services, Prometheus data sources and SLOs as v1
documents, in a stable order and formatting, so export → import → export is the same."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import yaml
from django.utils.text import slugify

from portal.models import Team
from slos.models import (
    SLO,
    CalendarPeriod,
    DataSource,
    DataSourceKind,
    Service,
    SLIKind,
    WindowKind,
)
from slos.openslo.reading import (
    API_VERSION,
    CALENDAR_DURATIONS,
    CALENDAR_START,
    DNS_LABEL,
    PROMETHEUS,
    TEAM_LABEL,
    WRAPPED_SELECTOR,
)
from slos.sli import WINDOW_PLACEHOLDER
from slos.yaml_block import BlockDumper

# ---------------------------------------------------------------------------------------
# Export


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", slugify(text).lower()).strip("-")
    return slug[:63].strip("-")


def export_names(objects: Sequence[Any], kind: str) -> dict[int, str]:
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


def _metadata(
    name: str, display_name: str, team: Team, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if display_name != name:
        metadata["displayName"] = display_name
    metadata["labels"] = {**(labels or {}), TEAM_LABEL: team.slug}
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
            "duration": CALENDAR_DURATIONS[CalendarPeriod(slo.calendar_period)],
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
        "metadata": _metadata(name, slo.name, team, labels=slo.labels),
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
        service_names = export_names(team_services, "service")
        source_names = export_names(team_sources, "datasource")
        slo_names = export_names(team_slos, "slo")
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
