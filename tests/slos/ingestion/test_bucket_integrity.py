"""Hourly buckets always belong to an SLO. On PostgreSQL the database checks it per
statement (migration 0011) rather than with a per-row foreign key: these tests hold it
to the same rule on every path that writes rows. (SQLite keeps its foreign key, checked
at commit, which a test's transaction never reaches.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from slos.ingestion.planning import Row
from slos.ingestion.storing import store_new_rows, store_rows
from slos.models import SLO, HourlyBucket

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the per-statement checks are PostgreSQL's"
)
HOUR = datetime(2026, 10, 1, tzinfo=UTC)
MISSING_SLO = 987_654


def stored(slo) -> dict:
    return {b.hour: (b.good, b.valid) for b in HourlyBucket.objects.filter(slo=slo)}


def test_a_bucket_naming_no_slo_is_refused(slo):
    with pytest.raises(IntegrityError), transaction.atomic():
        HourlyBucket.objects.create(slo_id=MISSING_SLO, hour=HOUR, good=1, valid=1)
    assert not HourlyBucket.objects.filter(slo_id=MISSING_SLO).exists()


@pytest.mark.parametrize("writer", [store_new_rows, store_rows], ids=["copy", "merge"])
def test_a_batch_with_one_row_naming_no_slo_writes_nothing(slo, writer):
    HourlyBucket.objects.create(slo=slo, hour=HOUR, good=5, valid=6)
    batch = [Row(slo.pk, HOUR + timedelta(hours=n), 90.0, 100.0) for n in range(1, 4)]
    batch.append(Row(MISSING_SLO, HOUR, 1.0, 1.0))

    with pytest.raises(IntegrityError), transaction.atomic():
        writer(batch)

    assert stored(slo) == {HOUR: (5.0, 6.0)}
    assert not HourlyBucket.objects.filter(slo_id=MISSING_SLO).exists()


def test_moving_a_bucket_to_no_slo_is_refused(slo):
    bucket = HourlyBucket.objects.create(slo=slo, hour=HOUR, good=1, valid=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        HourlyBucket.objects.filter(pk=bucket.pk).update(slo_id=MISSING_SLO)
    assert HourlyBucket.objects.get(pk=bucket.pk).slo_id == slo.pk


def test_an_slo_with_buckets_cannot_be_deleted_behind_the_orms_back(slo):
    HourlyBucket.objects.create(slo=slo, hour=HOUR, good=1, valid=1)
    table = SLO._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [slo.pk])
    assert SLO.objects.filter(pk=slo.pk).exists()
    assert HourlyBucket.objects.filter(slo=slo).count() == 1


def test_deleting_an_slo_through_the_orm_takes_its_buckets(slo):
    HourlyBucket.objects.create(slo=slo, hour=HOUR, good=1, valid=1)
    slo.delete()
    assert not HourlyBucket.objects.exists()


def test_rows_of_an_existing_slo_are_written(slo):
    store_new_rows([Row(slo.pk, HOUR, 3.0, 4.0)])
    store_rows([Row(slo.pk, HOUR, 7.0, 8.0), Row(slo.pk, HOUR + timedelta(hours=1), 1.0, 2.0)])
    assert stored(slo) == {HOUR: (7.0, 8.0), HOUR + timedelta(hours=1): (1.0, 2.0)}


@pytest.mark.django_db(transaction=True)
def test_an_insert_in_flight_holds_its_slo_against_a_concurrent_delete(slo):
    """As a foreign key check would: the SLOs a statement's rows name stay locked until
    its transaction ends, so a delete of one of them waits (here: times out)."""
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def insert() -> None:
        try:
            with transaction.atomic():
                store_new_rows([Row(slo.pk, HOUR, 1.0, 1.0)])
                inserted.set()
                release.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=insert)
    writer.start()
    try:
        assert inserted.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
                cursor.execute(f"DELETE FROM {SLO._meta.db_table} WHERE id = %s", [slo.pk])
    finally:
        release.set()
        writer.join()
    assert not errors
    assert HourlyBucket.objects.filter(slo=slo).count() == 1
