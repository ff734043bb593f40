"""Migration 0016: hourly buckets are keyed by (slo, hour), with no id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from slos.models import HourlyBucket

HOUR = datetime(2026, 10, 1, tzinfo=UTC)


def test_buckets_are_keyed_by_slo_and_hour_with_no_id(slo):
    table = HourlyBucket._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        columns = [
            column.name for column in connection.introspection.get_table_description(cursor, table)
        ]
    [key] = [found["columns"] for found in constraints.values() if found["primary_key"]]
    assert key == ["slo_id", "hour"]
    assert "id" not in columns
    # Besides the key, only the partial index of stale rows.
    assert [
        name for name, found in constraints.items() if found["index"] and not found["primary_key"]
    ] == ["bucket_stale"]

    bucket = HourlyBucket.objects.create(slo=slo, hour=HOUR, good=9, valid=10)
    assert bucket.pk == (slo.pk, HOUR)
    assert HourlyBucket.objects.get(pk=(slo.pk, HOUR)).valid == 10
    with pytest.raises(IntegrityError), transaction.atomic():
        HourlyBucket.objects.create(slo=slo, hour=HOUR, good=1, valid=1)
