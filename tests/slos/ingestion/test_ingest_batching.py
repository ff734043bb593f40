"""Several SLOs' queries share one request; a bad query still lands on its own SLO, and
rows for hours that had none go straight into the table without ever duplicating one."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection

from slos.ingestion import prometheus as prometheus_client
from slos.ingestion import pull as ingest
from slos.ingestion.planning import Row
from slos.ingestion.pull import data_source_pull
from slos.ingestion.storing import store_new_rows
from slos.models import HourlyBucket
from slos.registry import services
from tests.factories import PrometheusSLOFactory
from tests.prom import DATA_END, GOOD_QUERY, VALID_QUERY, expected_hour
from tests.slos.ingestion.fake_http import ScriptedServer

pytestmark = pytest.mark.prometheus
UNTIL = DATA_END - timedelta(days=1)


class TwoDaySLOFactory(PrometheusSLOFactory):
    window_days = 2


def rows(slo) -> dict:
    return {r.hour: (r.good, r.valid) for r in HourlyBucket.objects.filter(slo=slo)}


def test_a_bad_query_in_a_batch_fails_only_its_slo_with_prometheus_message(
    team, service, prometheus
):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    healthy = TwoDaySLOFactory(service=service, data_source=source, name="Healthy")
    broken = TwoDaySLOFactory(
        service=service,
        data_source=source,
        name="Broken",
        good_query="sum(increase(http_requests_total[$window]",
    )
    also_healthy = TwoDaySLOFactory(service=service, data_source=source, name="Also healthy")
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        source.url = server.url
        source.save()
        run = data_source_pull(data_source=source, until=UNTIL)

    # One batch for all three SLOs, refused; then each query alone.
    assert len(server.requests) == 1 + 6
    assert b"label_replace" in server.forms[0]
    outcomes = {o["slo_name"]: o for o in run.outcomes}
    assert run.status == "partial"
    assert outcomes["Broken"]["status"] == "failed"
    assert "Prometheus rejected the query" in outcomes["Broken"]["message"]
    assert "parse error" in outcomes["Broken"]["message"]
    assert list(outcomes) == ["Broken"]  # the healthy two are counted only
    assert (run.count_ok, run.count_partial, run.count_failed) == (2, 0, 1)
    assert rows(broken) == {}
    for slo in (healthy, also_healthy):
        stored = rows(slo)
        assert len(stored) == 48
        assert all(stored[h] == expected_hour(prometheus.series, h) for h in stored)


def test_a_query_returning_many_series_in_a_batch_is_refused_on_its_slo_alone(
    team, service, prometheus
):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    healthy = TwoDaySLOFactory(service=service, data_source=source, name="Healthy")
    TwoDaySLOFactory(
        service=service,
        data_source=source,
        name="Unsummed",
        valid_query='increase(http_requests_total{job="api"}[$window])',
    )

    run = data_source_pull(data_source=source, until=UNTIL)

    outcomes = {o["slo_name"]: o for o in run.outcomes}
    assert outcomes["Unsummed"]["status"] == "failed"
    assert "returned 2 series" in outcomes["Unsummed"]["message"]
    assert "Healthy" not in outcomes and run.count_ok == 1 and len(rows(healthy)) == 48


def test_requests_share_a_range_and_stay_within_the_budget(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    slos = [
        TwoDaySLOFactory(service=service, data_source=source, name=f"SLO {index}")
        for index in range(5)
    ]
    hours = ingest.hours_to_pull(slos, until=UNTIL)
    # A gap in the middle of the last SLO: its runs have ranges of their own.
    del hours[slos[-1].pk][10:12]
    chunks = [chunk for slo in slos for chunk in ingest.slo_chunks(slo, hours[slo.pk])]

    batches = ingest.request_batches(chunks, max_queries=4, max_points=10_000)

    assert [len(batch) for batch in batches] == [2, 2, 1, 1]
    for batch in batches:
        assert len({(c.start, c.end, c.step_seconds) for c in batch}) == 1
    assert sorted(c.slo.pk for batch in batches for c in batch) == sorted(c.slo.pk for c in chunks)
    request = prometheus_client.range_request(
        [query for chunk in batches[0] for query in chunk.queries],
        start=batches[0][0].start,
        end=batches[0][0].end,
        step_seconds=3600,
    )
    assert request.method == "POST"
    # A balanced tree of `or`s, each query tagged with its index.
    assert request.params["query"].startswith("((label_replace(")
    assert '"__portal_q", "3"' in request.params["query"]


def test_batched_answers_are_the_answers_of_single_queries(prometheus):
    client = prometheus_client.PrometheusClient(base_url=prometheus.url)
    start, end = UNTIL - timedelta(hours=6), UNTIL
    queries = [q.replace("$window", "1h") for q in (VALID_QUERY, GOOD_QUERY)]
    queries.append('sum(increase(http_requests_total{job="nothing"}[1h]))')

    together = client.query_range_many(queries, start=start, end=end, step_seconds=3600)
    alone = [
        client.query_range_many([query], start=start, end=end, step_seconds=3600)[0]
        for query in queries
    ]

    assert together == alone
    assert len(together[0]) == 7 and together[2] == {}  # no series: no data, not zero
    client.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_new_rows_that_meet_an_existing_row_are_merged_not_duplicated(slo):
    hour = DATA_END - timedelta(hours=5)
    HourlyBucket.objects.create(slo=slo, hour=hour, good=1, valid=2)  # pushed meanwhile
    fresh = [Row(slo.pk, hour + timedelta(hours=index), 90.0, 100.0) for index in range(3)]

    store_new_rows(fresh)

    assert rows(slo) == {row.hour: (90.0, 100.0) for row in fresh}
    store_new_rows([Row(slo.pk, hour + timedelta(hours=3), 5.0, 6.0)])  # no conflict: COPY
    assert HourlyBucket.objects.filter(slo=slo).count() == 4
    assert not HourlyBucket.objects.filter(slo=slo, stale=True).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_pull_batch_whose_new_row_was_stored_meanwhile_is_written_whole_merged(slo):
    """A pull's write COPYs new rows without a savepoint: when one meets a row stored
    meanwhile, the whole batch (rows, status and whole-hours record) is written again,
    merged, and nothing is duplicated or lost."""
    hour = DATA_END - timedelta(hours=5)
    HourlyBucket.objects.create(slo=slo, hour=hour, good=1, valid=2)  # pushed meanwhile
    fresh = [Row(slo.pk, hour + timedelta(hours=index), 90.0, 100.0) for index in range(3)]
    stale_hour = hour - timedelta(hours=1)
    HourlyBucket.objects.create(slo=slo, hour=stale_hour, good=0, valid=0, stale=True)
    outcome = ingest.SLOPullOutcome(slo.pk, slo.name, "ok", 4, 4)
    whole = ingest.WholeRecord(stale_hour, hour + timedelta(hours=3), slo.bucket_removals)

    ingest.write_batch(
        fresh, [Row(slo.pk, stale_hour, 7.0, 8.0)], [outcome], {slo.pk: whole}, at=DATA_END
    )

    assert rows(slo) == {stale_hour: (7.0, 8.0)} | {row.hour: (90.0, 100.0) for row in fresh}
    assert set(HourlyBucket.objects.filter(slo=slo).values_list("pulled_at", flat=True)) == {
        DATA_END
    }
    slo.refresh_from_db()
    assert (slo.last_pull_status, slo.last_pull_at, slo.last_success_at) == (
        "ok",
        DATA_END,
        DATA_END,
    )
    assert (slo.buckets_complete_from, slo.buckets_complete_until) == (whole.start, whole.end)


def test_stale_hours_beside_missing_ones_are_merged(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    slo = TwoDaySLOFactory(service=service, data_source=source, name="Mixed")
    data_source_pull(data_source=source, until=UNTIL)
    hours = sorted(rows(slo))
    HourlyBucket.objects.filter(slo=slo, hour__in=hours[:5]).update(stale=True, good=0)
    HourlyBucket.objects.filter(slo=slo, hour__in=hours[20:23]).delete()

    run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "ok" and run.hours_stored == 8
    stored = rows(slo)
    assert sorted(stored) == hours
    assert all(stored[h] == expected_hour(prometheus.series, h) for h in hours)
    assert not HourlyBucket.objects.filter(slo=slo, stale=True).exists()


def test_scripted_batches_are_posted_forms(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    TwoDaySLOFactory(service=service, data_source=source, name="One")
    TwoDaySLOFactory(service=service, data_source=source, name="Two")
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        source.url = server.url
        source.save()
        assert data_source_pull(data_source=source, until=UNTIL).status == "ok"

    assert len(server.requests) == 1
    form = parse_qs(server.forms[0].decode())
    assert form["query"][0].count("label_replace(") == 4
    assert form["step"] == ["3600"]
    # Uncompressed answers: gzip would cost Prometheus more than it saves.
    assert server.headers[0]["Accept-Encoding"] == "identity"


def test_a_query_ending_in_a_comment_still_travels_in_a_batch(prometheus):
    queries = [
        'sum(increase(http_requests_total{job="api"}[1h])) # valid events',
        'sum(increase(http_requests_total{job="api",code!~"5.."}[1h]))',
    ]
    with ScriptedServer([], default="pass", upstream=prometheus.url) as server:
        client = prometheus_client.PrometheusClient(base_url=server.url)
        answers = client.query_range_many(
            queries, start=UNTIL - timedelta(hours=3), end=UNTIL, step_seconds=3600
        )
        client.close()

    assert len(server.requests) == 1  # not refused, so not asked again query by query
    assert all(isinstance(answer, dict) and len(answer) == 4 for answer in answers)


def test_a_slow_query_in_a_batch_times_out_alone(team, service, prometheus):
    """The batch times out; its halves are asked once each, the slow half split again,
    until only the slow query fails, with the timeout as its reason."""
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=1
    )
    healthy = TwoDaySLOFactory(service=service, data_source=source, name="Healthy")
    slow_query = 'sum(increase(http_requests_total{job="api",job!="slowpoke"}[$window]))'
    TwoDaySLOFactory(service=service, data_source=source, name="Slow", valid_query=slow_query)
    also_healthy = TwoDaySLOFactory(service=service, data_source=source, name="Also healthy")
    with ScriptedServer([], default="pass", upstream=prometheus.url, slow_if=b"slowpoke") as server:
        source.url = server.url
        source.save()
        run = data_source_pull(data_source=source, until=UNTIL)

    outcomes = {o["slo_name"]: o for o in run.outcomes}
    assert outcomes["Slow"]["status"] == "failed"
    assert "timed out after 1 s" in outcomes["Slow"]["message"]
    assert list(outcomes) == ["Slow"] and run.count_ok == 2
    for slo in (healthy, also_healthy):
        stored = rows(slo)
        assert len(stored) == 48
        assert all(stored[h] == expected_hour(prometheus.series, h) for h in stored)
    # The batch three times, then halves: (3 | 3), (1 | 2), (1 | 1).
    assert len(server.requests) == 3 + 2 + 2 + 2


def test_a_source_too_slow_for_anything_fails_the_batch_without_more_requests(
    team, service, prometheus
):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=5
    )
    for name in ("One", "Two"):
        TwoDaySLOFactory(service=service, data_source=source, name=name)
    with ScriptedServer([], default="prom-timeout") as server:
        source.url = server.url
        source.save()
        run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "failed"
    for outcome in run.outcomes:
        assert "HTTP 503: query timed out" in outcome["message"]
    # The batch three times, then each half once: both timed out, so no more.
    assert len(server.requests) == 3 + 2


def test_pending_hours_list_holes_head_tail_and_stale_hours_of_many_slos(
    service, data_source, monkeypatch
):
    """Holes are listed for SLOs in groups (several queries here: two SLOs each); an SLO
    whose rows are whole has only its edges pending, a stale hour counts as pending."""
    monkeypatch.setattr(ingest, "HOLES_PER_QUERY", 2)
    window = [UNTIL - timedelta(hours=48 - index) for index in range(48)]
    slos = [
        TwoDaySLOFactory(service=service, data_source=data_source, name=f"SLO {index}")
        for index in range(5)
    ]
    missing = {
        slos[0].pk: window[:3] + window[-2:],  # head and tail
        slos[1].pk: window[10:12],  # a hole
        slos[2].pk: window[5:6] + window[30:33],  # two holes
        slos[3].pk: window[20:21] + window[-1:],  # a hole and the tail
        slos[4].pk: [],
    }
    HourlyBucket.objects.bulk_create(
        HourlyBucket(slo=slo, hour=hour, good=1, valid=1)
        for slo in slos
        for hour in window
        if hour not in missing[slo.pk]
    )
    HourlyBucket.objects.filter(slo=slos[4], hour=window[7]).update(stale=True)

    pending, stale = ingest.pending_hours(slos, until=UNTIL)

    assert pending == {**missing, slos[4].pk: [window[7]]}
    assert stale == {slos[4].pk: {window[7]}}


def test_a_pull_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), ingest._cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a pull that fails")
    assert gc.isenabled()
    gc.disable()
    try:
        with ingest._cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # left off by whoever turned it off
    finally:
        gc.enable()


def test_slos_loaded_in_stages_are_each_pulled_once_and_their_services_fetched_once(
    team, service, prometheus, monkeypatch
):
    """The pull loads its SLOs in growing stages (here 2, 4, then the last one), so
    that the first requests go out before all are loaded."""
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(ingest, "FIRST_STAGE_SLOS", 2)
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    slos = [
        TwoDaySLOFactory(service=service, data_source=source, name=f"SLO {index}")
        for index in range(7)
    ]
    HourlyBucket.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        run = data_source_pull(data_source=source, until=UNTIL)

    assert run.status == "ok"
    assert run.count_ok == len(slos) and run.outcomes == []
    assert run.hours_stored == 7 * 48
    for slo in slos:
        assert rows(slo) == {
            hour: expected_hour(prometheus.series, hour) for hour in sorted(rows(slo))
        }
        assert len(rows(slo)) == 48
    reads = [query["sql"] for query in queries.captured_queries]
    assert sum('ORDER BY "slos_slo"."id" ASC LIMIT' in sql for sql in reads) == 3  # stages
    # Services and their teams: one query, once.
    assert sum('FROM "slos_service"' in sql and "portal_team" in sql for sql in reads) == 1
    assert not any(sql.startswith('SELECT "portal_team"') for sql in reads)


def test_epoch_seconds_are_a_moments_exact_unix_time(slo):
    hours = [UNTIL - timedelta(hours=1), UNTIL - timedelta(days=400, hours=7)]
    for hour in hours:
        HourlyBucket.objects.create(slo=slo, hour=hour, good=1, valid=1)

    loaded = dict(
        HourlyBucket.objects.filter(slo=slo)
        .annotate(at=ingest.EpochSeconds("hour"))
        .values_list("hour", "at")
    )

    assert loaded == {hour: int(hour.timestamp()) for hour in hours}
