"""Pulling from a real Prometheus: exact hourly counts, idempotent reruns, honest
failures. Runs on whatever database the suite uses (PostgreSQL under `make test`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from slos.ingestion import pull as ingest
from slos.ingestion.pull import data_source_pull
from slos.models import HourlyBucket, PullRun
from slos.registry import services
from slos.registry.selectors import slo_with_budget
from tests.prom import DATA_END, GOOD_QUERY, INCIDENT, VALID_QUERY, expected_hour, hours_between

pytestmark = pytest.mark.prometheus
UNTIL = DATA_END - timedelta(days=2, minutes=17)  # mid-hour: the window ends at 22:00
WINDOW_END = DATA_END - timedelta(days=2, hours=1)


@pytest.fixture
def prom_slo(team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    return services.slo_create(
        service=service,
        data_source=source,
        name="Clock-in availability",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
    )


def stored(slo) -> dict:
    return {row.hour: (row.good, row.valid) for row in HourlyBucket.objects.filter(slo=slo)}


def test_pull_metrics_stores_the_exact_hourly_counts(prom_slo, prometheus, capsys):
    call_command("pull_metrics", until=UNTIL.isoformat())

    rows = stored(prom_slo)
    hours = list(hours_between(WINDOW_END - timedelta(days=28), WINDOW_END))
    assert sorted(rows) == hours  # 672 hours, none beyond the last complete one
    for hour in hours:
        assert rows[hour] == expected_hour(prometheus.series, hour), hour
    incident_hour = INCIDENT[0] + timedelta(hours=1)
    good, valid = rows[incident_hour]
    assert valid - good == 12 * 30  # 30 errors every 5 minutes during the incident
    assert "ok, 672 hour(s) stored" in capsys.readouterr().out


def test_window_totals_equal_prometheus_own_28_day_increase(prom_slo, prometheus):
    call_command("pull_metrics", until=UNTIL.isoformat())

    budget = slo_with_budget(prom_slo.pk, at=UNTIL).budget
    assert budget.valid == prometheus.instant(VALID_QUERY.replace("$window", "28d"), WINDOW_END)
    assert budget.good == prometheus.instant(GOOD_QUERY.replace("$window", "28d"), WINDOW_END)
    assert budget.coverage == 1.0


def test_a_rerun_changes_nothing_and_a_gap_is_filled(prom_slo):
    call_command("pull_metrics", until=UNTIL.isoformat())
    before = stored(prom_slo)
    gap = sorted(before)[300:310]
    HourlyBucket.objects.filter(slo=prom_slo, hour__in=gap).delete()

    run = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)

    assert run.status == "ok"
    assert run.hours_stored == 10  # only the gap was fetched again
    assert stored(prom_slo) == before
    again = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)
    assert again.hours_stored == 0
    assert HourlyBucket.objects.filter(slo=prom_slo).count() == 672


def test_the_window_start_holes_stale_hours_and_the_tail_are_all_pulled_in_one_run(prom_slo):
    """The tail (hours after the last stored one) is asked first; the window's start,
    the holes and the stale hours are found while it is out and asked too."""
    call_command("pull_metrics", until=UNTIL.isoformat())
    before = stored(prom_slo)
    hours = sorted(before)
    gone = hours[:5] + hours[300:304] + hours[-3:]
    HourlyBucket.objects.filter(slo=prom_slo, hour__in=gone).delete()
    HourlyBucket.objects.filter(slo=prom_slo, hour__in=hours[100:102]).update(
        stale=True, good=0, valid=0
    )

    run = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)

    assert run.status == "ok"
    assert run.hours_missing == run.hours_stored == len(gone) + 2
    assert stored(prom_slo) == before
    assert not HourlyBucket.objects.filter(slo=prom_slo, stale=True).exists()


def test_a_bad_query_reports_prometheus_message_and_stores_nothing(prom_slo):
    prom_slo.good_query = "sum(increase(http_requests_total[$window]"
    prom_slo.save()

    run = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)

    assert run.status == "failed"
    assert "Prometheus rejected the query" in run.outcomes[0]["message"]
    assert "parse error" in run.outcomes[0]["message"]
    assert not HourlyBucket.objects.filter(slo=prom_slo).exists()


def test_a_query_returning_many_series_is_refused(prom_slo):
    prom_slo.valid_query = 'increase(http_requests_total{job="api"}[$window])'
    prom_slo.save()

    run = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)

    assert run.status == "failed"
    assert "returned 2 series" in run.outcomes[0]["message"]


def test_an_unreachable_source_fails_and_keeps_stored_data(prom_slo, capsys):
    call_command("pull_metrics", until=UNTIL.isoformat())
    before = stored(prom_slo)
    source = prom_slo.data_source
    source.url = "http://127.0.0.1:9"  # the discard port: connection refused
    source.save()

    with pytest.raises(CommandError, match="could not be pulled"):
        call_command("pull_metrics", until=(UNTIL + timedelta(days=1)).isoformat())

    run = PullRun.objects.first()
    assert run.status == "failed"
    assert "could not connect" in run.outcomes[0]["message"]
    assert stored(prom_slo) == before
    out = capsys.readouterr().out
    assert "SLOs ok 0, partial 0, failed 1" in out
    assert f"{prom_slo.name}: failed, 0/24 missing hour(s) stored — " in out


def test_hours_without_samples_are_not_stored(prom_slo):
    # The data ends at DATA_END: hours after it have no samples and must stay "no data".
    run = data_source_pull(data_source=prom_slo.data_source, until=DATA_END + timedelta(days=3))

    rows = stored(prom_slo)
    assert max(rows) == DATA_END - timedelta(hours=1)
    assert run.status == "ok"
    # Ok, but not every missing hour stored: counted, and listed as worth a look.
    assert (run.count_ok, run.count_partial, run.count_failed) == (1, 0, 0)
    [outcome] = run.outcomes
    assert outcome["slo_id"] == prom_slo.pk
    assert outcome["hours_stored"] == len(rows) < outcome["hours_missing"] == 672
    budget = slo_with_budget(prom_slo.pk, at=DATA_END + timedelta(days=3)).budget
    assert budget.coverage == pytest.approx(len(rows) / 672)


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_a_pulls_commits_do_not_wait_for_the_disk_and_the_setting_is_put_back(
    prom_slo, monkeypatch
):
    before = synchronous_commit()
    during = []
    write_batch = ingest.write_batch

    def watched(*args, **kwargs):
        during.append(synchronous_commit())
        return write_batch(*args, **kwargs)

    monkeypatch.setattr(ingest, "write_batch", watched)
    run = data_source_pull(data_source=prom_slo.data_source, until=UNTIL)
    assert run.status == "ok" and during and set(during) == {"off"}
    assert synchronous_commit() == before

    def broken(*args, **kwargs):
        raise RuntimeError("the worker fell over")

    monkeypatch.setattr(ingest, "write_batch", broken)
    with pytest.raises(RuntimeError):
        data_source_pull(data_source=prom_slo.data_source, until=UNTIL + timedelta(days=1))
    assert synchronous_commit() == before


def test_the_sources_lease_is_released_when_a_pull_ends_and_when_it_fails(prom_slo, monkeypatch):
    source = prom_slo.data_source
    assert data_source_pull(data_source=source, until=UNTIL).status == "ok"
    source.refresh_from_db()
    assert source.pull_lock_until is None

    def broken(*args, **kwargs):
        raise RuntimeError("the worker fell over")

    monkeypatch.setattr(ingest, "write_batch", broken)
    with pytest.raises(RuntimeError):
        data_source_pull(data_source=source, until=UNTIL + timedelta(days=1))
    source.refresh_from_db()
    assert source.pull_lock_until is None
    monkeypatch.undo()
    assert data_source_pull(data_source=source, until=UNTIL + timedelta(days=1)).status == "ok"
