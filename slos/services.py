"""Writes for the SLO registry. Keyword-only, typed; views and commands call these."""

from __future__ import annotations

from decimal import Decimal

from portal.models import Team
from slos.models import SLO, DataSource, Service


def data_source_create(*, team: Team, name: str, url: str, timeout_seconds: float) -> DataSource:
    return DataSource.objects.create(team=team, name=name, url=url, timeout_seconds=timeout_seconds)


def service_create(*, team: Team, name: str, description: str = "") -> Service:
    return Service.objects.create(team=team, name=name, description=description)


def slo_create(
    *,
    service: Service,
    data_source: DataSource | None,
    name: str,
    good_query: str,
    valid_query: str,
    target: Decimal,
    window_days: int = 28,
    why: str = "",
    provisional: bool = True,
) -> SLO:
    if data_source is not None and data_source.team_id != service.team_id:
        raise ValueError("the data source belongs to another team")
    return SLO.objects.create(
        service=service,
        data_source=data_source,
        name=name,
        good_query=good_query,
        valid_query=valid_query,
        target=target,
        window_days=window_days,
        why=why,
        provisional=provisional,
    )
