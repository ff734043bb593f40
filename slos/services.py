"""Writes for the SLO registry. Keyword-only, typed; views and commands call these."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

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
    target: Decimal | str,
    today: date | None = None,
    **definition: Any,
) -> SLO:
    """Create an SLO from its definition (the SLO model's fields: the indicator, the
    method, the window, the registry fields). Validates like the form does, so every
    way in (form, OpenSLO, API) gets the same rules and messages."""
    if data_source is not None and data_source.team_id != service.team_id:
        raise ValueError("the data source belongs to another team")
    slo = SLO(service=service, data_source=data_source, name=name, target=target, **definition)
    if slo.next_review_on is None:
        slo.next_review_on = (today or timezone.localdate()) + timedelta(
            days=slo.review_interval_days
        )
    slo.full_clean(validate_unique=True)
    slo.save()
    return slo
