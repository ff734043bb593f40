"""A new SLO is backfilled over its whole window once committed; an edit that changes
what is measured marks the stored hours stale and pulls them again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from slos.models import HourlyBucket, PullRun
from slos.registry import services
from tests.factories import hourly_buckets, hours_from
from tests.prom import DATA_END, GOOD_QUERY, VALID_QUERY, expected_hour

pytestmark = pytest.mark.prometheus
NOW = DATA_END - timedelta(days=1, minutes=-20)


@pytest.fixture
def source(team, prometheus):
    return services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )


@time_machine.travel(NOW, tick=False)
def test_a_new_slo_is_backfilled_after_commit(
    service, source, prometheus, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        slo = services.slo_create(
            service=service,
            data_source=source,
            name="New",
            good_query=GOOD_QUERY,
            valid_query=VALID_QUERY,
            target=Decimal("99.9"),
            window_days=7,
        )

    run = PullRun.objects.get(slo=slo)
    assert (run.trigger, run.status, run.hours_stored) == ("backfill", "ok", 7 * 24)
    assert run.progress_percent == 100


@time_machine.travel(NOW, tick=False)
def test_changing_the_queries_makes_the_hours_stale_and_pulls_them_again(
    owner, service, source, prometheus, django_capture_on_commit_callbacks
):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Edited",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
        window_days=7,
        backfill=False,
    )
    start = DATA_END - timedelta(days=8)
    hourly_buckets(slo, hours_from(start, 7 * 24), good=1, valid=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.slo_update(slo=slo, user=owner, at=NOW, good_query=GOOD_QUERY + " ")

    rows = HourlyBucket.objects.filter(slo=slo)
    assert not rows.filter(stale=True).exists()
    assert all((r.good, r.valid) == expected_hour(prometheus.series, r.hour) for r in rows)


def test_pull_metrics_for_one_slo(service, source, prometheus, capsys):
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="One",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
        window_days=1,
        backfill=False,
    )
    call_command("pull_metrics", slo=slo.pk, until=(DATA_END - timedelta(days=1)).isoformat())
    out = capsys.readouterr().out
    assert "ok, 24 hour(s) stored" in out and "SLOs ok 1, partial 0, failed 0" in out
    assert "One:" not in out  # an SLO that ended well is counted, not listed
    assert PullRun.objects.get().trigger == "manual"
    with pytest.raises(CommandError, match="No SLO with id 999999"):
        call_command("pull_metrics", slo=999999)
    with pytest.raises(CommandError, match="--until needs a time zone"):
        call_command("pull_metrics", until="2026-11-01T00:00")
