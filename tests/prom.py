"""A real Prometheus for the suite: data generated here, written as OpenMetrics, turned
into TSDB blocks by promtool, served on a free loopback port from its own data dir.

Samples sit on a 5-minute grid aligned to the hour, so an hourly increase evaluated at
an hour boundary has samples on both edges of its range and Prometheus does not
extrapolate: every hourly count is an exact integer we can compute independently."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.realparts import PROMETHEUS, PROMTOOL, free_port

STEP = timedelta(minutes=5)
HOUR = timedelta(hours=1)
# The data ends at today's midnight (UTC), so pages showing "now" have recent data; the
# tests evaluate at times relative to DATA_END, never at the wall clock.
DATA_END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DATA_DAYS = 35
INCIDENT = (DATA_END - timedelta(days=12, hours=15), DATA_END - timedelta(days=12, hours=12))
RESET_AT = DATA_END - timedelta(days=6, hours=20, minutes=25)

GOOD_QUERY = 'sum(increase(http_requests_total{job="api",code!~"5.."}[$window]))'
VALID_QUERY = 'sum(increase(http_requests_total{job="api"}[$window]))'


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    samples: list[tuple[datetime, int]] = field(default_factory=list)

    def selector(self) -> str:
        inner = ",".join(f'{key}="{value}"' for key, value in sorted(self.labels.items()))
        return f"{self.name}{{{inner}}}"

    def increase(self, start: datetime, end: datetime) -> int:
        """The counter's increase over (start, end], counting a reset as Prometheus does."""
        total = 0
        previous = None
        for moment, value in self.samples:
            if moment > end:
                break
            if previous is not None and moment > start:
                total += value - previous if value >= previous else value
            previous = value
        return total


def generate_series(seed: int = 7) -> list[Series]:
    """Request counters (with an incident and a counter reset), a latency histogram
    (bucket le=0.5 and count) and a queue-lag gauge that spikes now and then."""
    rng = random.Random(seed)
    ok = Series("http_requests_total", {"job": "api", "code": "200"})
    errors = Series("http_requests_total", {"job": "api", "code": "500"})
    fast = Series("http_request_duration_seconds_bucket", {"job": "api", "le": "0.5"})
    slow_total = Series("http_request_duration_seconds_count", {"job": "api"})
    lag = Series("queue_lag_seconds", {"job": "worker"})
    ok_value = error_value = fast_value = count_value = 0
    moment = DATA_END - timedelta(days=DATA_DAYS)
    while moment <= DATA_END:
        ok_step = rng.randint(60, 140)
        error_step = 30 if INCIDENT[0] < moment <= INCIDENT[1] else rng.choice([0, 0, 0, 1])
        ok_value = ok_step if moment == RESET_AT else ok_value + ok_step
        error_value += error_step
        count_step = ok_step + error_step
        fast_value += count_step - rng.choice([0, 0, 1, 2, 5])
        count_value += count_step
        ok.samples.append((moment, ok_value))
        errors.samples.append((moment, error_value))
        fast.samples.append((moment, fast_value))
        slow_total.samples.append((moment, count_value))
        lag.samples.append((moment, rng.choice([1, 2, 3, 4, 45]) if rng.random() < 0.1 else 2))
        moment += STEP
    return [ok, errors, fast, slow_total, lag]


def find(series: list[Series], name: str, **labels: str) -> list[Series]:
    return [
        item
        for item in series
        if item.name == name and all(item.labels.get(k) == v for k, v in labels.items())
    ]


def value_at(item: Series, moment: datetime) -> int | None:
    """The sample at exactly `moment` (samples sit on the 5-minute grid)."""
    index = int((moment - item.samples[0][0]) / STEP)
    if 0 <= index < len(item.samples) and item.samples[index][0] == moment:
        return item.samples[index][1]
    return None


FAMILIES = {
    "http_requests_total": ("http_requests", "counter"),
    "http_request_duration_seconds_bucket": ("http_request_duration_seconds", "histogram"),
    "http_request_duration_seconds_count": ("http_request_duration_seconds", "histogram"),
    "queue_lag_seconds": ("queue_lag_seconds", "gauge"),
}


def to_openmetrics(series: list[Series]) -> str:
    """OpenMetrics text, one family after another (each family's samples together)."""
    lines = []
    declared = set()
    for item in series:
        family, kind = FAMILIES[item.name]
        if family not in declared:
            lines.append(f"# TYPE {family} {kind}")
            declared.add(family)
        for moment, value in item.samples:
            lines.append(f"{item.selector()} {value} {int(moment.timestamp())}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def expected_hour(series: list[Series], hour: datetime) -> tuple[int, int]:
    """(good, valid) for the hour starting at `hour`, computed from the samples."""
    end = hour + HOUR
    requests = find(series, "http_requests_total")
    good = sum(s.increase(hour, end) for s in requests if not s.labels["code"].startswith("5"))
    valid = sum(s.increase(hour, end) for s in requests)
    return good, valid


class PrometheusServer:
    def __init__(self, workdir: Path, series: list[Series]):
        self.workdir = workdir
        self.series = series
        self.data_dir = workdir / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def load(self) -> None:
        source = self.workdir / "series.om"
        source.write_text(to_openmetrics(self.series))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                PROMTOOL,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                str(source),
                str(self.data_dir),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def start(self) -> None:
        config = self.workdir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        log = open(self.workdir / "prometheus.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=100y",
                "--web.enable-lifecycle",
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prometheus exited; see {self.workdir / 'prometheus.log'}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("Prometheus did not become ready within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def instant(self, query: str, at: datetime) -> float | None:
        answer = httpx.get(
            f"{self.url}/api/v1/query", params={"query": query, "time": at.timestamp()}, timeout=30
        ).json()
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None


def hours_between(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += HOUR
