"""Budget sums kept between requests (slos/registry/budget_sums.py): a read that finds them
kept sums nothing, and a kept row is never used once anything it was summed from has
changed: the rows (every kind of write, counted by the database), the hour, the window,
the way the SLO counts, its excluded hours."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slos.budget import HOUR, align_to_hour
from slos.ingestion.storing import store_new_rows, store_rows
from slos.models import SLO, BucketVersion, BudgetSums, HourlyBucket
from slos.registry import budget_sums, selectors
from slos.registry.budget_sums import kept_sums_forget
from slos.registry.selectors import budgets_read_ahead, slo_budgets
from slos.tasks import read_budgets_ahead
from tests.conftest import utc
from tests.factories import AnnotationFactory, SLOFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the writes are counted by PostgreSQL triggers"
)

AT = utc(2026, 11, 20, 5, 30)
END = align_to_hour(AT)
HOURS = [END - HOUR * index for index in range(1, 24 * 35)]
MISSING = HOURS[7]  # an hour with no row, for the writes that add one


def summing(captured) -> list[str]:
    """The statements that summed rows."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if "slos_hourlybucket" in query["sql"] or "slos_dailybucket" in query["sql"]
    ]


def read(ids, at=AT):
    with CaptureQueriesContext(connection) as sent:
        budgets = slo_budgets(ids, at=at)
    return budgets, summing(sent)


def summed_afresh(ids, at=AT):
    """The budgets summed with nothing kept, leaving what was kept as it was."""
    kept = list(BudgetSums.objects.all())
    kept_sums_forget()
    budgets = slo_budgets(ids, at=at)
    kept_sums_forget()
    BudgetSums.objects.bulk_create(kept)
    return budgets


@pytest.fixture
def two(slo, service, data_source):
    other = SLOFactory(service=service, data_source=data_source, name="Other")
    store_rows(
        [
            (pk, hour, 999.0, 1000.0, 0, 0)
            for pk in (slo.pk, other.pk)
            for hour in HOURS
            if hour != MISSING
        ]
    )
    return slo, other


def test_a_second_read_sums_nothing_and_finds_the_same_budgets(two):
    ids = [each.pk for each in two]
    first, summed = read(ids)
    assert summed  # nothing kept yet
    assert BudgetSums.objects.filter(slo_id__in=ids).count() == 2
    second, summed = read(ids)
    assert summed == []
    assert second == first
    assert second[ids[0]].good == pytest.approx(999.0 * (28 * 24 - 1))


WRITES = {
    "stored again": lambda slo: store_rows([(slo.pk, HOURS[3], 0.0, 1000.0, 0, 0)]),
    "straight copy": lambda slo: store_new_rows([(slo.pk, MISSING, 0.0, 1000.0, 0, 0)]),
    "update": lambda slo: HourlyBucket.objects.filter(slo=slo, hour=HOURS[3]).update(good=0),
    "delete": lambda slo: HourlyBucket.objects.filter(slo=slo, hour__gte=HOURS[30]).delete(),
    "insert": lambda slo: HourlyBucket.objects.create(slo=slo, hour=MISSING, good=5, valid=10),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_every_kind_of_write_makes_the_next_read_sum_again(two, write):
    slo, other = two
    ids = [slo.pk, other.pk]
    before, _ = read(ids)
    versions = dict(BucketVersion.objects.values_list("slo_id", "version"))

    WRITES[write](slo)

    assert BucketVersion.objects.get(slo=slo).version > versions[slo.pk]
    assert BucketVersion.objects.get(slo=other).version == versions[other.pk]
    after, summed = read(ids)
    assert summed  # the written SLO's sums, again
    assert after[slo.pk] != before[slo.pk]
    assert after[other.pk] == before[other.pk]
    assert after == summed_afresh(ids)


def test_the_next_hour_sums_again(two):
    ids = [each.pk for each in two]
    read(ids)
    later, summed = read(ids, at=AT + HOUR)
    assert summed
    assert later == summed_afresh(ids, at=AT + HOUR)
    _, summed = read(ids, at=AT + HOUR + timedelta(minutes=20))
    assert summed == []  # the same hour


def test_a_new_window_or_way_of_counting_sums_again(two):
    slo, other = two
    read([slo.pk, other.pk])
    SLO.objects.filter(pk=slo.pk).update(window_days=7)
    SLO.objects.filter(pk=other.pk).update(budgeting_method="timeslices", timeslice_target=95)
    after, summed = read([slo.pk, other.pk])
    assert summed
    assert after[slo.pk].good == pytest.approx(999.0 * (7 * 24 - 1))
    assert after[other.pk].valid == 0  # no slices were stored
    assert after == summed_afresh([slo.pk, other.pk])


def test_excluded_hours_added_or_removed_sum_again(two, team):
    slo, other = two
    read([slo.pk, other.pk])
    maintenance = AnnotationFactory(
        team=team, starts_at=HOURS[20], ends_at=HOURS[10], excluded=True, kind="maintenance"
    )
    during, summed = read([slo.pk, other.pk])
    assert summed
    assert during[slo.pk].excluded_hours == during[other.pk].excluded_hours == 10
    assert during == summed_afresh([slo.pk, other.pk])
    _, summed = read([slo.pk, other.pk])
    assert summed == []  # kept with their excluded hours

    maintenance.delete()
    after, summed = read([slo.pk, other.pk])
    assert summed
    assert after[slo.pk].excluded_hours == 0


def test_a_write_while_the_sums_are_read_is_never_hidden(two, monkeypatch):
    """A write that commits after the count was read, before or after the rows are
    summed, leaves a kept row the next read does not trust."""
    slo, other = two
    ids = [slo.pk, other.pk]
    summed_for_real = selectors._summed

    def write_then_sum(*args, **kwargs):
        HourlyBucket.objects.filter(slo=slo, hour=HOURS[0]).update(good=0)
        return summed_for_real(*args, **kwargs)

    monkeypatch.setattr(selectors, "_summed", write_then_sum)
    read(ids)
    monkeypatch.undo()
    after, summed = read(ids)
    assert summed
    assert after == summed_afresh(ids)

    def sum_then_write(*args, **kwargs):
        found = summed_for_real(*args, **kwargs)
        HourlyBucket.objects.filter(slo=slo, hour=HOURS[1]).update(good=0)
        return found

    kept_sums_forget()
    monkeypatch.setattr(selectors, "_summed", sum_then_write)
    stale, _ = read(ids)
    monkeypatch.undo()
    after, summed = read(ids)
    assert summed
    assert after[slo.pk].good == pytest.approx(stale[slo.pk].good - 999.0)
    assert after == summed_afresh(ids)


def test_sums_that_cannot_be_kept_are_still_shown(two, monkeypatch, caplog):
    ids = [each.pk for each in two]
    expected = slo_budgets(ids, at=AT)
    kept_sums_forget()
    monkeypatch.setattr(budget_sums, "_STORE", "INSERT INTO no_such_table VALUES (%s, %s, %s, %s)")
    with caplog.at_level(logging.WARNING, logger="slos.registry.budget_sums"):
        found, _ = read(ids)
    assert found == expected
    assert "not kept" in caplog.text
    assert not BudgetSums.objects.exists()
    assert SLO.objects.count() == 2  # the transaction goes on


def test_a_page_keeps_only_its_share_and_the_read_ahead_keeps_all(
    two, service, data_source, monkeypatch
):
    """A page that had to sum many keeps the first few, by id (the rest is the
    read-ahead's, or the next pages'); the read-ahead keeps every one."""
    third = SLOFactory(service=service, data_source=data_source, name="Third")
    ids = sorted([two[0].pk, two[1].pk, third.pk])
    monkeypatch.setattr(selectors, "PAGE_KEEPS_AT_MOST", 2)

    first, summed = read(ids)
    assert summed
    assert sorted(BudgetSums.objects.values_list("slo_id", flat=True)) == ids[:2]
    again, summed = read(ids)
    assert summed  # the third
    assert again == first
    assert sorted(BudgetSums.objects.values_list("slo_id", flat=True)) == ids
    _, summed = read(ids)
    assert summed == []

    monkeypatch.setattr(selectors, "PAGE_KEEPS_AT_MOST", 1)
    assert budgets_read_ahead(at=AT + HOUR) == 3
    _, summed = read(ids, at=AT + HOUR)
    assert summed == []


def test_a_deleted_slo_takes_its_count_and_kept_sums_with_it(two):
    slo, other = two
    read([slo.pk, other.pk])
    assert BucketVersion.objects.filter(slo=slo).exists()

    slo.delete()

    assert not BucketVersion.objects.filter(slo_id=slo.pk).exists()
    assert not BudgetSums.objects.filter(slo_id=slo.pk).exists()
    assert BudgetSums.objects.filter(slo=other).exists()


def test_an_slo_with_no_rows_is_kept_as_empty(slo):
    found, summed = read([slo.pk])
    assert summed
    assert found[slo.pk].coverage == 0
    again, summed = read([slo.pk])
    assert summed == []
    assert again == found
    store_rows([(slo.pk, HOURS[0], 9.0, 10.0, 0, 0)])
    after, summed = read([slo.pk])
    assert summed
    assert after[slo.pk].valid == 10


def test_reading_ahead_keeps_every_active_slo_for_the_hour(two, service, data_source):
    retired = SLOFactory(service=service, data_source=data_source, name="Old", retired_at=AT)
    assert read_budgets_ahead.apply(kwargs={"at_iso": AT.isoformat()}).get() == 2
    assert set(BudgetSums.objects.values_list("slo_id", flat=True)) == {two[0].pk, two[1].pk}

    _, summed = read([two[0].pk, two[1].pk])
    assert summed == []
    assert budgets_read_ahead(at=AT, batch=1) == 2
    assert retired.pk not in set(BudgetSums.objects.values_list("slo_id", flat=True))


# Random writes, exclusions, window edits and reads at random hours: every read equals
# the same read with nothing kept.
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.integers(0, 1), st.integers(0, 24 * 34), st.booleans()),
        st.tuples(st.just("delete"), st.integers(0, 1), st.integers(0, 24 * 34)),
        st.tuples(st.just("exclude"), st.integers(0, 24 * 30), st.integers(1, 30)),
        st.tuples(st.just("window"), st.integers(0, 1), st.sampled_from([1, 7, 28])),
        st.tuples(st.just("target"), st.integers(0, 1), st.sampled_from(["99", "99.9"])),
        st.tuples(st.just("read"), st.integers(0, 1)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_a_kept_budget_is_always_the_budget_summed_afresh(two, team, steps):
    from slos.models import Annotation

    Annotation.objects.all().delete()
    kept_sums_forget()
    slos = list(two)
    ids = [each.pk for each in slos]
    for step in steps:
        match step:
            case ("write", which, hour, bad):
                good = 500.0 if bad else 1000.0
                store_rows([(ids[which], HOURS[hour], good, 1000.0, 0, 0)])
            case ("delete", which, hour):
                HourlyBucket.objects.filter(slo_id=ids[which], hour=HOURS[hour]).delete()
            case ("exclude", hour, length):
                AnnotationFactory(
                    team=team,
                    starts_at=HOURS[hour] - HOUR * length,
                    ends_at=HOURS[hour],
                    excluded=True,
                    kind="maintenance",
                )
            case ("window", which, days):
                SLO.objects.filter(pk=ids[which]).update(window_days=days)
            case ("target", which, target):
                SLO.objects.filter(pk=ids[which]).update(target=Decimal(target))
            case ("read", hours_later):
                at = AT + HOUR * hours_later
                found, _ = read(ids, at=at)
                assert found == summed_afresh(ids, at=at)
    found, _ = read(ids)
    assert found == summed_afresh(ids)


def test_after_a_pull_only_its_source_s_slos_are_read_ahead(two, service, team):
    from tests.factories import DataSourceFactory

    elsewhere = SLOFactory(
        service=service, data_source=DataSourceFactory(team=team, name="Other"), name="Else"
    )
    assert read_budgets_ahead.apply(kwargs={"source_id": two[0].data_source_id}).get() == 2
    kept = set(BudgetSums.objects.values_list("slo_id", flat=True))
    assert kept == {two[0].pk, two[1].pk}
    assert elsewhere.pk not in kept


def test_the_beat_reads_ahead_as_each_hour_begins(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["read-budgets-ahead"]
    assert entry["task"] == read_budgets_ahead.name
    assert entry["schedule"].minute == {0}
    assert len(entry["schedule"].hour) == 24


@pytest.mark.parametrize("stored, enqueued", [(12, 1), (0, 0)])
def test_a_pull_that_stored_rows_has_the_budgets_read_ahead(
    data_source, settings, monkeypatch, stored, enqueued
):
    from slos import tasks
    from slos.models import PullRun, PullStatus

    settings.CELERY_TASK_ALWAYS_EAGER = False
    run = PullRun(pk=7, status=PullStatus.OK, hours_stored=stored)
    monkeypatch.setattr(tasks, "data_source_pull", lambda **kwargs: run)
    asked = []
    monkeypatch.setattr(tasks, "task_enqueue", lambda task, *args, **kwargs: asked.append(task))

    assert tasks.pull_source.run(data_source.pk, AT.isoformat()) == 7

    assert asked == [read_budgets_ahead] * enqueued
