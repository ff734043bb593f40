"""Every SLI kind and budgeting method against a real Prometheus, with the expected
values computed independently from the generated samples."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from slos.ingestion.pull import data_source_pull
from slos.models import HourlyBucket
from slos.registry import services
from slos.registry.selectors import slo_with_budget
from tests.prom import DATA_END, GOOD_QUERY, HOUR, STEP, VALID_QUERY, expected_hour, find, value_at

pytestmark = pytest.mark.prometheus
UNTIL = DATA_END - timedelta(days=1)
BAD_QUERY = 'sum(increase(http_requests_total{job="api",code=~"5.."}[$window]))'


@pytest.fixture
def source(team, prometheus):
    return services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )


def rows(slo) -> dict:
    return {row.hour: row for row in HourlyBucket.objects.filter(slo=slo)}


def test_bad_over_valid_gives_the_same_counts_as_good_over_valid(service, source, prometheus):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Errors",
        ratio_of="bad",
        bad_query=BAD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
        window_days=7,
    )
    assert data_source_pull(data_source=source, until=UNTIL).status == "ok"

    stored = rows(slo)
    assert len(stored) == 7 * 24
    for hour, row in stored.items():
        assert (row.good, row.valid) == expected_hour(prometheus.series, hour)


def test_a_histogram_threshold_counts_the_le_bucket_as_good(service, source, prometheus):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Fast",
        sli_kind="histogram",
        histogram_metric="http_request_duration_seconds",
        histogram_labels='job="api"',
        threshold=0.5,
        target=Decimal("99"),
        window_days=7,
    )
    assert data_source_pull(data_source=source, until=UNTIL).status == "ok"

    (fast,) = find(prometheus.series, "http_request_duration_seconds_bucket")
    (count,) = find(prometheus.series, "http_request_duration_seconds_count")
    for hour, row in rows(slo).items():
        assert row.good == fast.increase(hour, hour + HOUR)
        assert row.valid == count.increase(hour, hour + HOUR)


def test_ratio_timeslices_count_good_five_minute_slices(service, source, prometheus):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Good slices",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        budgeting_method="timeslices",
        timeslice_target=Decimal("99"),
        timeslice_minutes=5,
        target=Decimal("95"),
        window_days=28,
    )
    assert data_source_pull(data_source=source, until=UNTIL).status == "ok"

    requests = find(prometheus.series, "http_requests_total")
    stored = rows(slo)
    assert len(stored) == 28 * 24
    for hour, row in stored.items():
        good_slices = 0
        for index in range(1, 13):
            end = hour + STEP * index
            valid = sum(s.increase(end - STEP, end) for s in requests)
            errors = sum(s.increase(end - STEP, end) for s in requests if s.labels["code"] == "500")
            good_slices += (valid - errors) / valid >= 0.99
        assert (row.good_slices, row.total_slices) == (good_slices, 12), hour
    # The incident's slices are bad: the budget counts slices, not requests.
    budget = slo_with_budget(slo.pk, at=UNTIL).budget
    total_good = sum(row.good_slices for row in stored.values())
    assert budget.good == total_good and budget.valid == 28 * 24 * 12


def test_a_gauge_is_judged_per_slice(service, source, prometheus):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Queue lag",
        sli_kind="gauge",
        gauge_query='max(max_over_time(queue_lag_seconds{job="worker"}[$window]))',
        threshold_op="lt",
        threshold=10,
        budgeting_method="timeslices",
        timeslice_target=Decimal("100"),
        timeslice_minutes=5,
        target=Decimal("95"),
        window_days=7,
    )
    assert data_source_pull(data_source=source, until=UNTIL).status == "ok"

    (lag,) = find(prometheus.series, "queue_lag_seconds")
    for hour, row in rows(slo).items():
        expected = 0
        for index in range(1, 13):
            end = hour + STEP * index
            # Range [end − 5m, end] holds the samples at both edges (Prometheus 2.x).
            expected += max(value_at(lag, end - STEP), value_at(lag, end)) < 10
        assert (row.good_slices, row.total_slices) == (expected, 12), hour


def one_of_each_kind(service, source, suffix: str) -> None:
    """An SLO of every kind a pull reads differently, each with a 2-day window but the
    calendar one (which reads its team's time zone)."""
    kinds = {
        "good": {"good_query": GOOD_QUERY, "valid_query": VALID_QUERY},
        "bad": {"ratio_of": "bad", "bad_query": BAD_QUERY, "valid_query": VALID_QUERY},
        "histogram": {
            "sli_kind": "histogram",
            "histogram_metric": "http_request_duration_seconds",
            "histogram_labels": 'job="api"',
            "threshold": 0.5,
        },
        "slices": {
            "good_query": GOOD_QUERY,
            "valid_query": VALID_QUERY,
            "budgeting_method": "timeslices",
            "timeslice_target": Decimal("99"),
            "timeslice_minutes": 5,
        },
        "gauge": {
            "sli_kind": "gauge",
            "gauge_query": 'max(max_over_time(queue_lag_seconds{job="worker"}[$window]))',
            "threshold_op": "lt",
            "threshold": 10,
            "budgeting_method": "timeslices",
            "timeslice_target": Decimal("100"),
            "timeslice_minutes": 5,
        },
    }
    for name, definition in kinds.items():
        services.slo_create(
            service=service,
            data_source=source,
            name=f"{name} {suffix}",
            target=Decimal("95"),
            window_days=2,
            backfill=False,
            **definition,
        )
    services.slo_create(
        service=service,
        data_source=source,
        name=f"calendar {suffix}",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("95"),
        window_kind="calendar",
        calendar_period="month",
        backfill=False,
    )


def test_a_pull_runs_as_many_queries_for_twelve_slos_as_for_six(service, source):
    """The pull loads only the SLO fields it reads (ingest.PULL_FIELDS): reading one
    left out would cost a query per SLO, and this count of reads would grow with them.
    (Writes are not counted: their batches grow with the rows and the requests.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def pull_from_scratch() -> int:
        HourlyBucket.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            run = data_source_pull(data_source=source, until=UNTIL)
        assert run.status == "ok" and run.hours_stored > 0
        return sum(q["sql"].startswith("SELECT") for q in queries.captured_queries)

    one_of_each_kind(service, source, "A")
    six = pull_from_scratch()
    one_of_each_kind(service, source, "B")
    assert pull_from_scratch() == six
