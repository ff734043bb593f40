from __future__ import annotations

from datetime import datetime, timedelta

from slos.models import SLO, HourlyBucket


def add_hours(slo: SLO, *, first: datetime, hours: int, good: float, valid: float) -> None:
    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=first + timedelta(hours=index), good=good, valid=valid)
        for index in range(hours)
    )
