"""The nightly pull through a real Celery worker on Redis, against a real Prometheus."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from slos.models import HourlyBucket, PullRun
from slos.registry import services
from tests.prom import DATA_END, GOOD_QUERY, VALID_QUERY, expected_hour
from tests.realparts import REDIS_URL, redis_up, require

pytestmark = [pytest.mark.prometheus, pytest.mark.celery_worker]
ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_db() -> str:
    config = connection.settings_dict
    return (
        f"postgres://{config['USER']}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"
        f"/{config['NAME']}"
    )


@pytest.fixture
def worker(transactional_db, tmp_path):
    require(redis_up(), "Redis on 127.0.0.1:6379")
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL) for the worker test")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "CELERY_BROKER_URL": REDIS_URL,
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    sender = Celery("sender", broker=REDIS_URL)
    yield sender
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    print(log.read_text()[-3000:])


def wait_for(condition, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("the worker did not finish in time")


def test_the_nightly_task_runs_on_a_real_worker(worker, team, service, prometheus):
    source = services.data_source_create(
        team=team, name="Prometheus", url=prometheus.url, timeout_seconds=10
    )
    slo = services.slo_create(
        service=service,
        data_source=source,
        name="Clock-in availability",
        good_query=GOOD_QUERY,
        valid_query=VALID_QUERY,
        target=Decimal("99.9"),
        backfill=False,  # the worker's nightly pull is what this test is about
    )
    until = DATA_END - timedelta(days=1)

    # The beat entry's task fans out one pull per data source.
    worker.send_task("slos.tasks.pull_all_sources", args=[until.isoformat()])

    wait_for(lambda: PullRun.objects.filter(data_source=source, finished_at__isnull=False).exists())
    run = PullRun.objects.get(data_source=source)
    assert run.status == "ok"
    assert run.hours_stored == 672
    first = HourlyBucket.objects.filter(slo=slo).order_by("hour").first()
    assert (first.good, first.valid) == expected_hour(prometheus.series, first.hour)
