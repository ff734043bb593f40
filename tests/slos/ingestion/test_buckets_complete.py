"""A pull that leaves an SLO's window without a hole records so, and the next pull
trusts the record instead of counting the SLO's rows, for as long as no row of the SLO
has been removed since (PostgreSQL, where triggers count removals; SQLite always
counts). Against a real Prometheus."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slos.ingestion import pull as ingest
from slos.ingestion.pull import data_source_pull
from slos.models import SLO, HourlyBucket
from slos.registry import services
from tests.prom import DATA_END, GOOD_QUERY, VALID_QUERY, expected_hour, hours_between

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="removals are counted on PostgreSQL"
    ),
]
NIGHT = DATA_END - timedelta(days=3)
NEXT_NIGHT = NIGHT + timedelta(days=1)


@pytest.fixture
def slo(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    return services.slo_create(
        service=service,
        data_source=source,
        name="Checkout",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
        window_days=3,
        backfill=False,
    )


def pull(slo, until):
    with CaptureQueriesContext(connection) as queries:
        run = data_source_pull(data_source=slo.data_source, until=until)
    assert run.status == "ok", run.outcomes
    counted = any("COUNT(*)" in query["sql"] for query in queries.captured_queries)
    return run, counted


def assert_window_exact(slo, prometheus, until):
    rows = {r.hour: (r.good, r.valid) for r in HourlyBucket.objects.filter(slo=slo)}
    window = list(hours_between(until - timedelta(days=3), until))
    assert [hour for hour in window if hour not in rows] == []
    for hour in window:
        assert rows[hour] == expected_hour(prometheus.series, hour), hour


def test_a_night_after_a_whole_pull_counts_nothing_and_stores_the_new_day(slo, prometheus):
    _run, counted = pull(slo, NIGHT)
    assert not counted  # nothing stored yet: the whole window is the tail
    slo.refresh_from_db()
    assert (slo.buckets_complete_from, slo.buckets_complete_until) == (
        NIGHT - timedelta(days=3),
        NIGHT,
    )

    run, counted = pull(slo, NEXT_NIGHT)

    assert not counted
    assert run.hours_stored == 24
    assert_window_exact(slo, prometheus, NEXT_NIGHT)


def test_a_row_removed_after_the_record_is_found_and_filled(slo, prometheus):
    pull(slo, NIGHT)
    hole = NIGHT - timedelta(hours=30)
    HourlyBucket.objects.filter(slo=slo, hour=hole).delete()

    run, counted = pull(slo, NEXT_NIGHT)

    assert counted
    assert run.hours_stored == 24 + 1
    assert_window_exact(slo, prometheus, NEXT_NIGHT)
    _run, counted = pull(slo, NEXT_NIGHT)  # found whole again, and recorded so
    assert not counted


def test_every_way_of_removing_a_row_is_counted(slo):
    pull(slo, NIGHT)
    other = services.slo_create(
        service=slo.service,
        data_source=slo.data_source,
        name="Other",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99"),
        backfill=False,
    )
    hours = list(hours_between(NIGHT - timedelta(days=3), NIGHT))

    def removals() -> int:
        return SLO.objects.get(pk=slo.pk).bucket_removals

    counts = [removals()]
    HourlyBucket.objects.filter(slo=slo, hour=hours[0]).delete()  # the ORM
    counts.append(removals())
    with connection.cursor() as cursor:  # raw SQL
        cursor.execute(
            "DELETE FROM slos_hourlybucket WHERE slo_id = %s AND hour = %s", [slo.pk, hours[1]]
        )
    counts.append(removals())
    HourlyBucket.objects.filter(slo=slo, hour=hours[2]).update(hour=hours[2] - timedelta(days=9))
    counts.append(removals())  # moved to another hour
    HourlyBucket.objects.filter(slo=slo, hour=hours[3]).update(slo=other)
    counts.append(removals())  # moved to another SLO
    HourlyBucket.objects.filter(slo=slo).update(good=1)  # not a removal
    counts.append(removals())
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE slos_hourlybucket")
    counts.append(removals())

    assert counts == [0, 1, 2, 3, 4, 4, 5]


def test_saving_an_slo_read_before_a_removal_does_not_hide_it(slo, prometheus):
    pull(slo, NIGHT)
    read_before = SLO.objects.get(pk=slo.pk)
    HourlyBucket.objects.filter(slo=slo, hour=NIGHT - timedelta(hours=5)).delete()

    read_before.name = "Checkout, renamed"
    read_before.save()  # writes every column, the old removal count among them

    assert SLO.objects.get(pk=slo.pk).bucket_removals == 1
    _run, counted = pull(slo, NEXT_NIGHT)
    assert counted
    assert_window_exact(slo, prometheus, NEXT_NIGHT)


def test_a_row_removed_while_the_pull_looks_leaves_no_record_to_trust(slo, prometheus, monkeypatch):
    pull(slo, NIGHT)
    hole = NIGHT - timedelta(hours=2)
    looked = ingest.window_edges

    def remove_then_look(*args, **kwargs):
        # After the pull read the SLO (and its removal count), before it looks.
        HourlyBucket.objects.filter(slo=slo, hour=hole).delete()
        return looked(*args, **kwargs)

    monkeypatch.setattr(ingest, "window_edges", remove_then_look)
    pull(slo, NEXT_NIGHT)  # trusts the record made the night before: misses the hole
    monkeypatch.undo()
    assert not HourlyBucket.objects.filter(slo=slo, hour=hole).exists()

    run, counted = pull(slo, NEXT_NIGHT)

    assert counted
    assert run.hours_stored == 1
    assert_window_exact(slo, prometheus, NEXT_NIGHT)


def test_rows_stored_past_the_record_send_the_next_pull_counting(slo, prometheus):
    pull(slo, NIGHT)
    # A row stored past the recorded hours (pushed, or a pull with a later end),
    # leaving hours without rows before it.
    HourlyBucket.objects.create(slo=slo, hour=NIGHT + timedelta(hours=5), good=1, valid=1)

    run, counted = pull(slo, NEXT_NIGHT)

    assert counted
    assert HourlyBucket.objects.filter(slo=slo, hour__gte=NIGHT, hour__lt=NEXT_NIGHT).count() == 24
    assert run.hours_stored == 5 + 18  # the hours before it, and after it


def test_the_triggers_that_count_removals_are_installed(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {name for (name,) in cursor.fetchall()}
    assert {"buckets_removed", "bucket_moved", "buckets_truncated", "bucket_removals_kept"} <= names


def test_a_window_grown_past_the_record_has_its_new_start_pulled(slo, prometheus):
    pull(slo, NIGHT)
    # Five days at the next night start a day before the three recorded at this one.
    SLO.objects.filter(pk=slo.pk).update(window_days=5)

    run, counted = pull(slo, NEXT_NIGHT)

    assert counted  # the record starts after the window: not trusted
    assert run.hours_stored == 24 + 24  # the new day, and the window's new first day
    rows = {r.hour for r in HourlyBucket.objects.filter(slo=slo)}
    assert set(hours_between(NEXT_NIGHT - timedelta(days=5), NEXT_NIGHT)) <= rows
