"""NIGHTLY_PULL_CRON drives the beat schedule, and a bad value stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_SCHEDULE = (
    "import django; django.setup(); from django.conf import settings; "
    "s = settings.CELERY_BEAT_SCHEDULE['nightly-metric-pull']; "
    "print(s['task'], sorted(s['schedule'].minute), sorted(s['schedule'].hour), "
    "sorted(s['schedule'].day_of_week))"
)


def settings_with(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PRINT_SCHEDULE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_default_is_two_in_the_morning_every_day():
    env = {key: value for key, value in os.environ.items() if key != "NIGHTLY_PULL_CRON"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SCHEDULE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "slos.tasks.pull_all_sources [0] [2] [0, 1, 2, 3, 4, 5, 6]"


def test_the_cron_expression_is_taken_from_the_environment():
    result = settings_with(NIGHTLY_PULL_CRON="30 3 * * 1")
    assert result.stdout.strip() == "slos.tasks.pull_all_sources [30] [3] [1]"


def test_a_bad_cron_expression_fails_loudly():
    result = settings_with(NIGHTLY_PULL_CRON="every night")
    assert result.returncode != 0
    assert "NIGHTLY_PULL_CRON must be a cron expression of five fields" in result.stderr
