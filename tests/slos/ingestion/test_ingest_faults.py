"""A metric source that is down, slow, broken or garbled never becomes "all good" or
"all bad": the run says what happened, and stored data stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from slos.ingestion import prometheus as prometheus_client
from slos.ingestion import pull as ingest
from slos.ingestion.pull import data_source_pull, lock_acquire
from slos.models import DataSource, HourlyBucket
from slos.registry import services
from tests.factories import (
    DataSourceFactory,
    PrometheusSLOFactory,
    PullRunFactory,
    hourly_buckets,
    hours_from,
)
from tests.prom import DATA_END, expected_hour
from tests.slos.ingestion.fake_http import ScriptedServer

UNTIL = DATA_END - timedelta(days=1)


class WeekSLOFactory(PrometheusSLOFactory):
    name = "Availability"
    window_days = 7


def rows(slo) -> dict:
    return {r.hour: (r.good, r.valid) for r in HourlyBucket.objects.filter(slo=slo)}


@pytest.fixture
def stored_slo(team, service):
    """An SLO on a scripted source, with one day of data already stored."""
    source = DataSourceFactory(team=team, name="Flaky", timeout_seconds=1)
    slo = WeekSLOFactory(service=service, data_source=source)
    start = ingest.last_complete_hour_end(UNTIL) - timedelta(days=7)
    hourly_buckets(slo, hours_from(start, 24), good=99, valid=100)
    return slo


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (["500", "500", "500"], "failed after 3 attempts: HTTP 500"),
        (["slow", "slow", "slow"], "timed out after 1 s"),
        (["garbage"], "body that is not JSON"),
        (["wrong-shape"], "not a range-query result"),
        # The SLO's two queries travel as one batch; refused, each is asked alone.
        (["prom-error"] * 3, "Prometheus rejected the query: parse error: boom"),
        (["401"], "refused the credentials"),
    ],
)
def test_each_fault_gives_its_documented_outcome_and_keeps_the_data(stored_slo, script, message):
    before = rows(stored_slo)
    with ScriptedServer(script) as server:
        DataSource.objects.filter(pk=stored_slo.data_source_id).update(url=server.url)
        source = DataSource.objects.get(pk=stored_slo.data_source_id)
        run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "failed"
    assert message in run.outcomes[0]["message"]
    assert rows(stored_slo) == before
    stored_slo.refresh_from_db()
    source.refresh_from_db()
    assert stored_slo.last_pull_status == "failed" and message in stored_slo.last_pull_error
    assert stored_slo.last_success_at is None
    assert message in source.last_error


def test_server_errors_are_retried_and_a_recovery_succeeds(stored_slo, prometheus):
    with ScriptedServer(["500", "500"], default="pass", upstream=prometheus.url) as server:
        DataSource.objects.filter(pk=stored_slo.data_source_id).update(url=server.url)
        source = DataSource.objects.get(pk=stored_slo.data_source_id)
        run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "ok"
    assert len(server.requests) == 2 + 1  # two failures, then one answer to both queries
    stored = rows(stored_slo)
    assert len(stored) == 7 * 24
    for hour, counts in stored.items():
        if counts != (99, 100):  # the rows stored beforehand are not missing: kept
            assert counts == expected_hour(prometheus.series, hour)


def test_credentials_and_headers_are_sent(team, service, prometheus):
    source = DataSource.objects.create(
        team=team,
        name="Secured",
        url="http://127.0.0.1:9",
        auth_kind="bearer",
        bearer_token="s3cret-token-123456",
        extra_headers={"X-Scope-OrgID": "payroll"},
    )
    WeekSLOFactory(service=service, data_source=source)
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        DataSource.objects.filter(pk=source.pk).update(url=server.url)
        source.refresh_from_db()
        assert data_source_pull(data_source=source, until=UNTIL).status == "ok"
    assert server.headers[0]["Authorization"] == "Bearer s3cret-token-123456"
    assert server.headers[0]["X-Scope-OrgID"] == "payroll"


def test_prometheus_stopped_mid_run_then_restarted_ends_with_undisturbed_data(
    team, service, prometheus, monkeypatch
):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=2
    )
    slos = [
        WeekSLOFactory(service=service, data_source=source, name=f"SLO {index}")
        for index in range(3)
    ]
    real_fetch = ingest.fetch_batch
    calls = []

    def fetch_then_stop(batch, client):
        calls.append([chunk.slo.pk for chunk in batch])
        if len(calls) == 2:
            prometheus.stop()  # the real process goes away mid-run
        return real_fetch(batch, client)

    # One SLO per request, so the source dies between the first SLO and the second.
    monkeypatch.setattr(prometheus_client, "MAX_QUERIES_PER_REQUEST", 2)
    monkeypatch.setattr(ingest, "fetch_batch", fetch_then_stop)
    try:
        interrupted = data_source_pull(data_source=source, until=UNTIL, concurrency=1)
    finally:
        prometheus.start()
    monkeypatch.setattr(ingest, "fetch_batch", real_fetch)

    assert interrupted.status == "partial"
    assert (interrupted.count_ok, interrupted.count_partial, interrupted.count_failed) == (1, 0, 2)
    assert [(o["slo_id"], o["status"]) for o in interrupted.outcomes] == [
        (slos[1].pk, "failed"),
        (slos[2].pk, "failed"),
    ]
    assert rows(slos[1]) == {} and rows(slos[2]) == {}

    rerun = data_source_pull(data_source=source, until=UNTIL)

    assert rerun.status == "ok"
    assert rerun.hours_stored == 2 * 7 * 24  # only what was missing
    for slo in slos:
        stored = rows(slo)
        assert len(stored) == 7 * 24
        assert all(stored[h] == expected_hour(prometheus.series, h) for h in stored)


def test_two_pulls_of_one_source_never_overlap(stored_slo):
    source = stored_slo.data_source
    assert lock_acquire(source, now=timezone.now())

    run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "skipped"
    assert HourlyBucket.objects.filter(slo=stored_slo).count() == 24


def test_a_dead_workers_lease_expires_and_its_run_is_marked_interrupted(stored_slo, prometheus):
    source = stored_slo.data_source
    DataSource.objects.filter(pk=source.pk).update(url=prometheus.url)
    source.refresh_from_db()
    long_ago = timezone.now() - timedelta(hours=2)
    dead = PullRunFactory(data_source=source, started_at=long_ago)
    lock_acquire(source, now=long_ago)  # its lease ran out an hour and a half ago

    run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "ok"
    dead.refresh_from_db()
    assert dead.status == "failed" and "Interrupted" in dead.message
    source.refresh_from_db()
    assert source.pull_lock_until is None


def test_stale_hours_are_fetched_again(stored_slo, prometheus):
    DataSource.objects.filter(pk=stored_slo.data_source_id).update(url=prometheus.url)
    source = DataSource.objects.get(pk=stored_slo.data_source_id)
    HourlyBucket.objects.filter(slo=stored_slo).update(stale=True)

    run = data_source_pull(data_source=source, until=UNTIL)

    assert run.hours_stored == 7 * 24
    stored = rows(stored_slo)
    assert all(stored[h] == expected_hour(prometheus.series, h) for h in stored)
    assert not HourlyBucket.objects.filter(slo=stored_slo, stale=True).exists()


def test_concurrent_fetches_store_what_a_sequential_pull_stores(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    slos = [
        WeekSLOFactory(service=service, data_source=source, name=f"SLO {index}", window_days=2)
        for index in range(6)
    ]

    run = data_source_pull(data_source=source, until=UNTIL, concurrency=4)

    assert run.status == "ok" and run.hours_stored == 6 * 48
    assert run.count_ok == len(slos) and run.outcomes == []
    for slo in slos:
        assert all(v == expected_hour(prometheus.series, h) for h, v in rows(slo).items())
