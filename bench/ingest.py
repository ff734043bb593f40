"""Benchmark: pulling 1,000 SLOs from a real Prometheus holding 30 days of 5-minute data.

Times, against the same Prometheus, in the same run:
  (a) the full backfill: data_source_pull over every SLO with an empty bucket table,
      28-day rolling windows (672 hours per SLO);
  (b) the nightly pull: the same, from the state the night before's pull left: every
      hour but the last 24 stored, and recorded whole by that pull (untimed);
  (c) the floor: the same query_range requests as (b) (and as (a)), sent with httpx
      alone at the same concurrency (JSON decoded, nothing else), with no database,
      asking the same (uncompressed) encoding.
      The pull gathers several SLOs' queries into one request; the floor sends exactly
      those requests, planned by the portal's own code. For reference, the same queries
      as one request each (what the pull sent before it batched) are timed too;
  (d) Google's slo-generator computing the same 1,000 28-day reports (its Prometheus
      backend, good/valid ratio, exports off) through its Python API, in a venv of its
      own (see bench/slo_generator_run.py): with the same concurrency, and serially as
      its CLI does.
(a) and (b) run in worker subprocesses, whose peak RSS (VmHWM) is the worker memory
shown. The backfill is the first task of a fresh worker process. The nightlies all run
in one worker process, one after another, as a Celery worker runs tasks: its first
nightly pays the process's first imports, connection and query compilations and is
printed apart; the timed ones (median) run warm, as the floor does in this process.
Targets: nightly ≤ 1.5× the floor; backfill faster than slo-generator; peak worker
memory ≤ 300 MB. Row counts and sums (against the generator's own arithmetic and
against slo-generator's event counts) are checked before any time is printed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_ingest \\
        .venv/bin/python bench/ingest.py [--repeats 7] [--concurrency 4]

The nightly and its floor alternate --repeats times (median; a shared host is noisy:
the same floor has measured anywhere from 0.37 to 0.9 s); the backfill runs once.

Needs PostgreSQL, and Debian's prometheus and promtool (PROMETHEUS_BIN, PROMTOOL_BIN).
The first run generates the data (about a minute: ~920 MB of OpenMetrics text, turned
into one TSDB block by promtool and then deleted) and caches the block, and
slo-generator's venv, under /tmp/portal-bench-prom (BENCH_PROM_DIR); --regenerate
starts over. The database is created and migrated here; its bench rows are replaced on
every run."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_ingest")

PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")
WORKDIR = Path(os.environ.get("BENCH_PROM_DIR", "/tmp/portal-bench-prom"))
SLO_GENERATOR_REQUIREMENTS = BENCH_DIR / "requirements-slo-generator.txt"
SLO_GENERATOR_RUNNER = BENCH_DIR / "slo_generator_run.py"

SLOS = 1000
DAYS = 30
WINDOW_DAYS = 28
NIGHTLY_HOURS = 24
STEP_SECONDS = 300
PER_HOUR = 3600 // STEP_SECONDS
# Fixed dates, so the cached block stays valid; every query is evaluated at AT. The 30
# days sit inside one of promtool's 1458-hour block ranges (counted from the epoch), so
# its hidden `--max-block-duration=1458h` writes a single block, reading the input twice
# rather than once per 2-hour block (360 times), and Prometheus (whose largest compaction
# range is 486 h) never compacts it while we time.
DATA_START = datetime(2026, 9, 20, tzinfo=UTC)
AT = DATA_START + timedelta(days=DAYS)
PROMTOOL_BLOCK = timedelta(hours=1458)
SAMPLES = DAYS * 24 * PER_HOUR + 1  # both ends included
# An incident on every tenth SLO: 25 errors every 5 minutes for two hours of day 25.
INCIDENT = (25 * 24 * PER_HOUR + 14 * PER_HOUR, 25 * 24 * PER_HOUR + 16 * PER_HOUR)
DATA_FORMAT = 1  # bump when the generated data changes
TEAM_SLUG = "bench-ingest"

TARGET_NIGHTLY_OVER_FLOOR = 1.5
TARGET_WORKER_MB = 300


# The data: per SLO a counter pair requests_total{slo, code="200"|"500"}. Increments are
# arithmetic, not random, so the expected hourly counts are recomputed here exactly.


def ok_increments(slo: int) -> list[int]:
    """Increments of the code="200" counter at samples 1 .. SAMPLES-1."""
    return [60 + k % 97 for k in range(slo * 7 + 13, slo * 7 + 13 * SAMPLES, 13)]


def error_increments(slo: int) -> list[int]:
    burst = 25 if slo % 10 == 3 else 0
    return [
        (1 if (slo * 3 + i) % 37 == 0 else 0) + (burst if INCIDENT[0] <= i < INCIDENT[1] else 0)
        for i in range(1, SAMPLES)
    ]


def good_query(slo: int) -> str:
    return f'requests_total{{slo="{slo}",code!~"5.."}}'


def valid_query(slo: int) -> str:
    return f'requests_total{{slo="{slo}"}}'


def expected_totals(slo: int, first_hour: int, end_hour: int) -> tuple[int, int]:
    """(good, valid) over hours [first_hour, end_hour) counted from DATA_START. The
    increase over hour h is carried by samples 12h+1 .. 12h+12."""
    window = slice(first_hour * PER_HOUR, end_hour * PER_HOUR)
    good = sum(ok_increments(slo)[window])
    return good, good + sum(error_increments(slo)[window])


def write_openmetrics(path: Path, slos: int) -> None:
    """One series after another, each in time order: ~53 bytes a sample."""
    start = int(DATA_START.timestamp())
    stamps = [f" {start + index * STEP_SECONDS}\n" for index in range(SAMPLES)]
    with open(path, "w", buffering=1 << 22) as out:
        out.write("# TYPE requests counter\n")
        for slo in range(slos):
            ok = itertools.accumulate(ok_increments(slo), initial=slo * 11)
            errors = itertools.accumulate(error_increments(slo), initial=0)
            for code, values in (("200", ok), ("500", errors)):
                prefix = f'requests_total{{slo="{slo}",code="{code}"}} '
                pairs = zip(values, stamps, strict=True)
                out.write("".join([f"{prefix}{value}{stamp}" for value, stamp in pairs]))
        out.write("# EOF\n")


def ensure_tsdb(slos: int, regenerate: bool) -> dict:
    """The cached TSDB for `slos` SLOs, generated when missing, stale or asked for."""
    data_dir = WORKDIR / "tsdb"
    stamp = data_dir / "bench-ingest.json"
    wanted = {"format": DATA_FORMAT, "slos": slos, "start": DATA_START.isoformat(), "days": DAYS}
    if not regenerate and stamp.exists():
        sizes = json.loads(stamp.read_text())
        if {key: sizes.get(key) for key in wanted} == wanted:
            return sizes
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert (DATA_START - epoch) // PROMTOOL_BLOCK == (AT - epoch) // PROMTOOL_BLOCK
    WORKDIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    building = WORKDIR / "tsdb.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    source = WORKDIR / "series.om"
    print(f"generating {slos * 2:,} series × {SAMPLES:,} samples of OpenMetrics…", flush=True)
    started = time.perf_counter()
    write_openmetrics(source, slos)
    generate_seconds = time.perf_counter() - started
    om_bytes = source.stat().st_size
    print(f"  {om_bytes / 1e6:,.0f} MB in {generate_seconds:.0f} s; promtool…", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [
                PROMTOOL,
                "tsdb",
                "create-blocks-from",
                f"--max-block-duration={int(PROMTOOL_BLOCK.total_seconds() // 3600)}h",
                "openmetrics",
                "-q",
                str(source),
                str(building),
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        )
    finally:
        source.unlink(missing_ok=True)
    if done.returncode:
        sys.exit(f"promtool failed: {done.stderr.strip()[-1000:]}")
    promtool_seconds = time.perf_counter() - started
    blocks = [path for path in building.iterdir() if (path / "meta.json").exists()]
    assert len(blocks) == 1, f"promtool wrote {len(blocks)} blocks, expected one"
    meta = json.loads((blocks[0] / "meta.json").read_text())
    sizes = {
        **wanted,
        "series": meta["stats"]["numSeries"],
        "samples": meta["stats"]["numSamples"],
        "openmetrics_bytes": om_bytes,
        "block_bytes": sum(path.stat().st_size for path in blocks[0].rglob("*") if path.is_file()),
        "generate_seconds": round(generate_seconds, 1),
        "promtool_seconds": round(promtool_seconds, 1),
    }
    assert sizes["series"] == slos * 2 and sizes["samples"] == slos * 2 * SAMPLES, sizes
    (building / stamp.name).write_text(json.dumps(sizes))
    building.rename(data_dir)
    print(f"  one block of {sizes['block_bytes'] / 1e6:.0f} MB in {promtool_seconds:.0f} s")
    return sizes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusServer:
    """Debian's Prometheus on a free loopback port, serving the cached data dir."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PrometheusServer:
        import httpx

        config = WORKDIR / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        with open(WORKDIR / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={WORKDIR / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=100y",
                ],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"Prometheus exited; see {WORKDIR / 'prometheus.log'}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__()
        sys.exit("Prometheus did not become ready within 60 s")

    def __exit__(self, *exc_info) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# The floor: the requests the pull sends, and nothing else.


def range_requests(slos: int, hours: int) -> list[list[dict[str, str]]]:
    """Per SLO, two query_range requests for its last `hours` hours before AT: valid,
    then good, one request per query (the portal's requests before it batched them)."""
    start, end = AT - timedelta(hours=hours) + timedelta(hours=1), AT
    return [
        [
            {
                "query": f"sum(increase({query}[1h]))",
                "start": f"{start.timestamp():.3f}",
                "end": f"{end.timestamp():.3f}",
                "step": "3600",
            }
            for query in (valid_query(slo), good_query(slo))
        ]
        for slo in range(slos)
    ]


def batched_requests(slos: int, hours: int) -> list:
    """The requests the pull sends for the last `hours` hours of every SLO: the same
    queries, gathered into requests by the portal's own planner (slos.ingestion.pull.
    request_batches, slos.ingestion.prometheus.range_request)."""
    from slos.ingestion.planning import QueryChunk, request_batches
    from slos.ingestion.prometheus import range_request

    start, end = AT - timedelta(hours=hours) + timedelta(hours=1), AT
    chunks = [
        QueryChunk(
            slo=None,
            run=(),
            start=start,
            end=end,
            step_seconds=3600,
            queries=tuple(
                f"sum(increase({query}[1h]))" for query in (valid_query(slo), good_query(slo))
            ),
        )
        for slo in range(slos)
    ]
    return [
        (
            range_request(
                [query for chunk in batch for query in chunk.queries],
                start=start,
                end=end,
                step_seconds=3600,
            ),
            sum(len(chunk.queries) for chunk in batch),
        )
        for batch in request_batches(chunks)
    ]


def floor_seconds(
    url: str, requests: list[list[dict[str, str]]], *, hours: int, concurrency: int
) -> float:
    """Send the requests with one httpx client in `concurrency` threads, one SLO's pair
    after another; decode each answer and check it has every hour."""
    import httpx

    from slos.ingestion.prometheus import ANSWER_ENCODING

    with httpx.Client(timeout=30, headers={"Accept-Encoding": ANSWER_ENCODING}) as http:

        def fetch(pair: list[dict[str, str]]) -> None:
            for params in pair:
                answer = http.get(f"{url}/api/v1/query_range", params=params)
                answer.raise_for_status()
                body = answer.json()
                assert body["status"] == "success", body
                assert len(body["data"]["result"][0]["values"]) == hours, params

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(fetch, requests))
        return time.perf_counter() - started


def batched_floor_seconds(url: str, requests: list, *, hours: int, concurrency: int) -> float:
    """Send the pull's own requests (as planned by the portal, GET or POST as it does)
    with one httpx client in `concurrency` threads; decode each answer and check it has
    one series per query, each with every hour."""
    import httpx

    from slos.ingestion.prometheus import ANSWER_ENCODING

    with httpx.Client(timeout=60, headers={"Accept-Encoding": ANSWER_ENCODING}) as http:

        def fetch(planned: tuple) -> None:
            request, queries = planned
            if request.method == "GET":
                answer = http.get(f"{url}{request.path}", params=request.params)
            else:
                answer = http.post(f"{url}{request.path}", data=request.params)
            answer.raise_for_status()
            body = answer.json()
            assert body["status"] == "success", body
            series = body["data"]["result"]
            assert len(series) == queries, (len(series), queries)
            assert all(len(item["values"]) == hours for item in series)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(fetch, requests))
        return time.perf_counter() - started


# The portal: the database, the pull in a subprocess, and the checks.


def ensure_database() -> None:
    from bench.common import ensure_database as create

    create("bench/ingest.py")


def create_slos(slos: int, url: str) -> dict[int, int]:
    """A fresh bench team whose source is this Prometheus; returns {SLO pk: index}."""
    from django.core.management import call_command
    from django.db import connection

    from portal.models import Team
    from slos.models import SLO, DataSource, HourlyBucket, PullRun, Service

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # Bench database: the bucket table holds nothing but this benchmark's rows.
        cursor.execute(f"TRUNCATE {HourlyBucket._meta.db_table}, {PullRun._meta.db_table} CASCADE")
    # SLOs first: a data source protects its SLOs from a cascade.
    SLO.objects.filter(service__team__slug=TEAM_SLUG).delete()
    Team.objects.filter(slug=TEAM_SLUG).delete()
    team = Team.objects.create(name="Bench ingest", slug=TEAM_SLUG)
    source = DataSource.objects.create(team=team, name="Prometheus", url=url, timeout_seconds=60)
    services = [Service.objects.create(team=team, name=f"Service {i}") for i in range(20)]
    created = SLO.objects.bulk_create(
        SLO(
            service=services[index % 20],
            data_source=source,
            name=f"SLO {index:04d}",
            good_query=f"sum(increase({good_query(index)}[$window]))",
            valid_query=f"sum(increase({valid_query(index)}[$window]))",
            target="99.9",
            window_days=WINDOW_DAYS,
        )
        for index in range(slos)
    )
    return {slo.pk: index for index, slo in enumerate(created)}


class PullWorker:
    """A worker process that pulls whenever it is told to, as a Celery worker runs one
    task after another: its first pull pays the process's first imports, connection and
    queries; the next ones run warm, like the floor (timed in this, warm, process)."""

    def __init__(self, phase: str, concurrency: int) -> None:
        self.phase = phase
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", phase, "--concurrency", str(concurrency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def pull(self) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("pull\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            errors = [
                line for line in self.process.stderr.read().splitlines() if "HTTP" not in line
            ]
            sys.exit(f"the {self.phase} worker failed:\n" + "\n".join(errors[-15:]))
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=60)


def worker(phase: str, concurrency: int) -> None:
    """The process whose peak RSS is the worker memory: data_source_pull, once per line
    read ("pull"), each result a line of JSON."""
    import django

    django.setup()
    from slos.ingestion.pull import data_source_pull
    from slos.models import DataSource, PullTrigger

    trigger = PullTrigger.BACKFILL if phase == "backfill" else PullTrigger.NIGHTLY
    for _line in sys.stdin:
        source = DataSource.objects.get(team__slug=TEAM_SLUG)
        started = time.perf_counter()
        run = data_source_pull(
            data_source=source, until=AT, concurrency=concurrency, trigger=trigger
        )
        seconds = time.perf_counter() - started
        result = {
            "seconds": seconds,
            "status": run.status,
            "hours_missing": run.hours_missing,
            "hours_stored": run.hours_stored,
            "failed": run.count_failed + run.count_partial,
            "peak_rss_kb": peak_rss_kb(),
        }
        print(json.dumps(result), flush=True)


def stolen_seconds() -> float | None:
    """CPU time the hypervisor gave other guests, summed over all cores (Linux's steal
    counter), or None where there is none: on a shared host, the noise in every time."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def peak_rss_kb() -> int:
    """This process's peak RSS since it started (VmHWM). Not ru_maxrss: on Linux that
    carries over the parent's peak across fork and exec, so a small worker started by a
    big parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def check_pull(result: dict, *, slos: int, hours: int) -> None:
    assert result["status"] == "ok" and not result["failed"], result
    assert result["hours_missing"] == result["hours_stored"] == slos * hours, result


def window_sums(first_hour: datetime) -> dict[int, tuple[int, float, float]]:
    """(rows, Σgood, Σvalid) per SLO pk over [first_hour, AT)."""
    from django.db.models import Count, Sum

    from slos.models import HourlyBucket

    rows = (
        HourlyBucket.objects.filter(
            slo__service__team__slug=TEAM_SLUG, hour__gte=first_hour, hour__lt=AT
        )
        .values("slo_id")
        .annotate(rows=Count("hour"), good=Sum("good"), valid=Sum("valid"))
    )
    return {row["slo_id"]: (row["rows"], row["good"], row["valid"]) for row in rows}


def check_rows(indexes: dict[int, int], *, hours: int) -> dict[int, tuple[int, int]]:
    """Every SLO has one row per hour of its window, and the rows of the last `hours`
    hours add up to exactly what the generator put in. Returns {index: (good, valid)}
    over the whole window."""
    from slos.models import HourlyBucket

    window_hours = WINDOW_DAYS * 24
    total = HourlyBucket.objects.filter(
        slo__service__team__slug=TEAM_SLUG, hour__gte=AT - timedelta(days=WINDOW_DAYS)
    ).count()
    assert total == len(indexes) * window_hours, (total, len(indexes) * window_hours)
    end_hour = DAYS * 24
    recent = window_sums(AT - timedelta(hours=hours))
    whole = window_sums(AT - timedelta(days=WINDOW_DAYS))
    assert set(recent) == set(whole) == set(indexes), "an SLO has no rows"
    for pk, index in indexes.items():
        good, valid = expected_totals(index, end_hour - hours, end_hour)
        assert recent[pk] == (hours, good, valid), (index, recent[pk], (hours, good, valid))
        good, valid = expected_totals(index, end_hour - window_hours, end_hour)
        assert whole[pk] == (window_hours, good, valid), (index, whole[pk], (good, valid))
    return {indexes[pk]: (int(good), int(valid)) for pk, (_, good, valid) in whole.items()}


def back_to_the_night_before(hours: int) -> None:
    """The database as the night before's pull left it: the last `hours` hours' rows
    forgotten, then a pull up to then (untimed), which finds the rest of its window
    whole and records so, as a nightly does (SLO.buckets_complete_from)."""
    from slos.ingestion.pull import data_source_pull
    from slos.models import DataSource

    forget_last_hours(hours)
    run = data_source_pull(
        data_source=DataSource.objects.get(team__slug=TEAM_SLUG),
        until=AT - timedelta(hours=hours),
    )
    assert run.status == "ok", run.message or run.outcomes[:3]


def forget_last_hours(hours: int) -> None:
    """Rows for all but the last `hours` hours stored."""
    from django.db import connection

    from slos.models import SLO, HourlyBucket, PullRun

    deleted, _ = HourlyBucket.objects.filter(
        slo__service__team__slug=TEAM_SLUG, hour__gte=AT - timedelta(hours=hours)
    ).delete()
    assert deleted, "nothing to forget"
    with connection.cursor() as cursor:
        # What autovacuum does between nights (and a PostgreSQL may run without it):
        # every pull rewrites each SLO's status, every run adds a PullRun.
        for model in (HourlyBucket, SLO, PullRun):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


# slo-generator, in a venv of its own.


def slo_generator_python(venv: Path) -> tuple[Path | None, str]:
    """The venv's python with slo-generator installed (pinned), or None and why not."""
    python = venv / "bin" / "python"
    wanted = hashlib.sha256(SLO_GENERATOR_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / ".bench-installed"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python, ""
    print(f"installing slo-generator into {venv}…", flush=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(SLO_GENERATOR_REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode:
            lines = [line for line in done.stderr.splitlines() if "is ignored" not in line]
            return None, f"{' '.join(step[:4])} failed: {' | '.join(lines[-3:])}"
    stamp.write_text(wanted)
    return python, ""


def write_slo_generator_configs(folder: Path, url: str, slos: int) -> tuple[Path, Path]:
    """slo-generator's shared config (one 28-day error budget step, no exporters) and one
    SLO config per SLO: the good/valid ratio of the same counters the portal pulls."""
    shutil.rmtree(folder, ignore_errors=True)
    configs = folder / "slos"
    configs.mkdir(parents=True)
    window = WINDOW_DAYS * 24 * 3600
    shared = folder / "config.yaml"
    shared.write_text(
        f"backends:\n  prometheus:\n    url: {url}\n"
        "exporters: {}\n"
        "error_budget_policies:\n  default:\n    steps:\n"
        f"    - name: {WINDOW_DAYS} days\n      burn_rate_threshold: 1\n"
        f"      alert: false\n      window: {window}\n"
        "      message_alert: Budget is burning.\n      message_ok: Budget is fine.\n"
    )
    for slo in range(slos):
        (configs / f"slo-{slo:04d}.yaml").write_text(
            "apiVersion: sre.google.com/v2\nkind: ServiceLevelObjective\n"
            f"metadata:\n  name: slo-{slo}\n"
            f"  labels:\n    service_name: bench\n    feature_name: f{slo}\n"
            "    slo_name: availability\n"
            "spec:\n  description: Bench availability\n  backend: prometheus\n"
            "  method: good_bad_ratio\n  exporters: []\n"
            "  service_level_indicator:\n"
            f"    filter_good: '{good_query(slo)}'\n"
            f"    filter_valid: '{valid_query(slo)}'\n"
            "  goal: 0.999\n"
        )
    return shared, configs


def run_slo_generator(python: Path, shared: Path, configs: Path, concurrency: int) -> dict:
    answer = subprocess.run(
        [
            str(python),
            str(SLO_GENERATOR_RUNNER),
            "--config",
            str(shared),
            "--slos",
            str(configs),
            "--timestamp",
            str(AT.timestamp()),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if answer.returncode:
        raise RuntimeError(f"slo-generator failed: {answer.stderr.strip()[-500:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def check_slo_generator(result: dict, portal: dict[int, tuple[int, int]], slos: int) -> None:
    """slo-generator computed one valid report per SLO, with the portal's event counts."""
    assert result["valid_reports"] == result["reports"] == slos, {
        key: result[key] for key in ("configs", "reports", "valid_reports")
    }
    for index, (good, valid) in portal.items():
        theirs = result["counts"][f"slo-{index}"]
        assert theirs == [good, valid - good], (index, theirs, [good, valid - good])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regenerate", action="store_true", help="generate the data again")
    parser.add_argument("--concurrency", type=int, default=None, help="default: the portal's")
    parser.add_argument(
        "--repeats", type=int, default=7, help="runs of the floor and the nightly (median)"
    )
    parser.add_argument("--slos", type=int, default=SLOS, help=argparse.SUPPRESS)
    parser.add_argument("--no-slo-generator", action="store_true")
    parser.add_argument("--slo-generator-venv", type=Path, default=WORKDIR / "slo-generator-venv")
    parser.add_argument("--worker", choices=["backfill", "nightly"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.concurrency)
        return

    import django

    django.setup()
    # The settings log every httpx request at INFO: keep the floor bare and the output
    # readable. The pull workers keep the portal's logging as configured.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from slos.ingestion.pull import PULL_CONCURRENCY

    concurrency = args.concurrency or PULL_CONCURRENCY
    slos = args.slos
    window_hours = WINDOW_DAYS * 24
    load_before = os.getloadavg()[0]
    stolen_before, run_started = stolen_seconds(), time.monotonic()
    ensure_database()
    sizes = ensure_tsdb(slos, args.regenerate)

    slo_generator_reason = "skipped (--no-slo-generator)"
    python = None
    if not args.no_slo_generator:
        python, slo_generator_reason = slo_generator_python(args.slo_generator_venv)

    with PrometheusServer() as prometheus:
        indexes = create_slos(slos, prometheus.url)
        backfill_requests = batched_requests(slos, window_hours)
        nightly_requests = batched_requests(slos, NIGHTLY_HOURS)
        backfill_singles = range_requests(slos, window_hours)
        nightly_singles = range_requests(slos, NIGHTLY_HOURS)
        print("warming Prometheus up (the backfill's requests, untimed)…", flush=True)
        floor_seconds(prometheus.url, backfill_singles, hours=window_hours, concurrency=concurrency)

        floor_backfill = batched_floor_seconds(
            prometheus.url, backfill_requests, hours=window_hours, concurrency=concurrency
        )
        floor_backfill_singles = floor_seconds(
            prometheus.url, backfill_singles, hours=window_hours, concurrency=concurrency
        )
        print(
            f"floor for the backfill's requests: {floor_backfill:.2f} s "
            f"(one request per query: {floor_backfill_singles:.2f} s)",
            flush=True,
        )

        print("backfill…", flush=True)
        backfill_worker = PullWorker("backfill", concurrency)
        backfill = backfill_worker.pull()  # the first task of a fresh worker process
        backfill_worker.close()
        check_pull(backfill, slos=slos, hours=window_hours)
        portal_counts = check_rows(indexes, hours=window_hours)
        print(f"  {backfill['seconds']:.2f} s, rows checked", flush=True)

        # One worker process runs every nightly. Its first is reported apart: a fresh
        # process's first task; the timed ones follow, as in a worker that ran before.
        nightly_worker = PullWorker("nightly", concurrency)
        back_to_the_night_before(NIGHTLY_HOURS)
        first_nightly = nightly_worker.pull()
        check_pull(first_nightly, slos=slos, hours=NIGHTLY_HOURS)
        assert check_rows(indexes, hours=NIGHTLY_HOURS) == portal_counts
        print(
            f"nightly, first in a fresh worker process: {first_nightly['seconds']:.2f} s",
            flush=True,
        )
        # The nightly and its floor take turns, so both see the same machine.
        floors, floors_singles, nightlies = [], [], []
        for attempt in range(args.repeats):
            floors.append(
                batched_floor_seconds(
                    prometheus.url, nightly_requests, hours=NIGHTLY_HOURS, concurrency=concurrency
                )
            )
            floors_singles.append(
                floor_seconds(
                    prometheus.url, nightly_singles, hours=NIGHTLY_HOURS, concurrency=concurrency
                )
            )
            back_to_the_night_before(NIGHTLY_HOURS)
            result = nightly_worker.pull()
            check_pull(result, slos=slos, hours=NIGHTLY_HOURS)
            assert check_rows(indexes, hours=NIGHTLY_HOURS) == portal_counts
            nightlies.append(result)
            print(
                f"nightly {attempt + 1}/{args.repeats}: {result['seconds']:.2f} s "
                f"(floor {floors[-1]:.2f} s), rows checked",
                flush=True,
            )
        nightly_worker.close()
        floor_nightly = statistics.median(floors)
        floor_nightly_singles = statistics.median(floors_singles)
        nightly_time = statistics.median(result["seconds"] for result in nightlies)

        generator: dict[str, dict | None] = {"parallel": None, "serial": None}
        if python is not None:
            print("slo-generator…", flush=True)
            shared, configs = write_slo_generator_configs(
                WORKDIR / "slo-generator", prometheus.url, slos
            )
            try:
                for mode, threads in (("parallel", concurrency), ("serial", 1)):
                    generator[mode] = run_slo_generator(python, shared, configs, threads)
                    check_slo_generator(generator[mode], portal_counts, slos)
                    print(
                        f"  {threads} thread(s): {generator[mode]['seconds']:.2f} s, "
                        "reports checked",
                        flush=True,
                    )
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                slo_generator_reason = str(exc)
                generator = {"parallel": None, "serial": None}

    load_after = os.getloadavg()[0]
    stolen_after = stolen_seconds()
    stolen = None if None in (stolen_before, stolen_after) else stolen_after - stolen_before
    run_seconds = time.monotonic() - run_started
    backfill_mb = backfill["peak_rss_kb"] / 1024
    nightly_mb = max(result["peak_rss_kb"] for result in [first_nightly, *nightlies]) / 1024
    worker_mb = max(backfill_mb, nightly_mb)
    nightly_ratio = nightly_time / floor_nightly

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    width = 58
    print()
    print(f"{'what':<{width}} {'seconds':>8} {'target':>16} {'':>6}")
    print(f"{'-' * width} {'-' * 8} {'-' * 16} {'-' * 6}")

    def row(label: str, value: str, target: str = "", result: str = "") -> None:
        print(f"{label:<{width}} {value:>8} {target:>16} {result:>6}")

    row(
        f"(a) backfill: data_source_pull, {slos:,} SLOs × {window_hours} h",
        f"{backfill['seconds']:.2f}",
    )
    row(f"(b) nightly: data_source_pull, {slos:,} SLOs × {NIGHTLY_HOURS} h", f"{nightly_time:.2f}")
    row("    the same, first task of a fresh worker process", f"{first_nightly['seconds']:.2f}")
    row(
        f"(c) floor: the nightly's {len(nightly_requests):,} query_range, httpx only",
        f"{floor_nightly:.2f}",
    )
    row(
        f"    floor: the backfill's {len(backfill_requests):,} query_range, httpx only",
        f"{floor_backfill:.2f}",
    )
    row(
        f"    reference: the nightly as {2 * slos:,} one-query requests",
        f"{floor_nightly_singles:.2f}",
    )
    row(
        f"    reference: the backfill as {2 * slos:,} one-query requests",
        f"{floor_backfill_singles:.2f}",
    )
    for mode, label in (
        ("parallel", f"(d) slo-generator 2.6.0, {slos:,} 28-day reports, {concurrency} threads"),
        ("serial", "    slo-generator, one report after another (as its CLI)"),
    ):
        result = generator[mode]
        row(label, f"{result['seconds']:.2f}" if result else "n/a")
    if generator["parallel"] is None:
        print(f"    slo-generator unavailable: {slo_generator_reason}")
    print()
    row(
        "nightly / floor",
        f"{nightly_ratio:.2f}×",
        f"≤ {TARGET_NIGHTLY_OVER_FLOOR:.2f}×",
        verdict(nightly_ratio <= TARGET_NIGHTLY_OVER_FLOOR),
    )
    # Each nightly over the floor timed just before it: how far the verdict is from
    # flipping on this host (the medians above decide it).
    pairs = sorted(
        result["seconds"] / floor for result, floor in zip(nightlies, floors, strict=True)
    )
    print(
        f"    each nightly over its own floor: {pairs[0]:.2f}× to {pairs[-1]:.2f}×, "
        f"median {statistics.median(pairs):.2f}×, "
        f"{sum(p <= TARGET_NIGHTLY_OVER_FLOOR for p in pairs)} of {len(pairs)} within target"
    )
    row("backfill / floor", f"{backfill['seconds'] / floor_backfill:.2f}×")
    if generator["parallel"]:
        ratio = backfill["seconds"] / generator["parallel"]["seconds"]
        row(
            f"backfill / slo-generator ({concurrency} threads)",
            f"{ratio:.2f}×",
            "< 1.00×",
            verdict(ratio < 1),
        )
        ratio = backfill["seconds"] / generator["serial"]["seconds"]
        row("backfill / slo-generator (serial)", f"{ratio:.2f}×")
    else:
        row("backfill / slo-generator", "n/a", "< 1.00×", "n/a")
    row(
        "peak worker memory (peak RSS of the pull process), MB",
        f"{worker_mb:.0f}",
        f"≤ {TARGET_WORKER_MB}",
        verdict(worker_mb <= TARGET_WORKER_MB),
    )
    print(f"    backfill worker {backfill_mb:.0f} MB, nightly worker {nightly_mb:.0f} MB", end="")
    if generator["parallel"]:
        print(f", slo-generator {generator['parallel']['peak_rss_kb'] / 1024:.0f} MB", end="")
    print()
    print()
    print(
        f"data: {sizes['series']:,} series × {SAMPLES:,} samples = {sizes['samples']:,} samples "
        f"({DAYS} days at {STEP_SECONDS // 60} min, {DATA_START:%Y-%m-%d} to {AT:%Y-%m-%d})"
    )
    print(
        f"      OpenMetrics {sizes['openmetrics_bytes'] / 1e6:,.0f} MB generated in "
        f"{sizes['generate_seconds']:.0f} s, promtool {sizes['promtool_seconds']:.0f} s, "
        f"one block of {sizes['block_bytes'] / 1e6:.0f} MB (cached in {WORKDIR})"
    )
    print(
        f"requests: the pull's own, {2 * slos:,} queries batched by "
        f"slos.ingestion.planning.request_batches "
        f"into {len(nightly_requests)} (nightly) and {len(backfill_requests)} (backfill)"
    )
    checked = "the generator's" + (" and slo-generator's" if generator["parallel"] else "")
    print(
        f"checked: {slos * window_hours:,} rows after the backfill, {slos * NIGHTLY_HOURS:,} "
        f"re-pulled by each nightly, per-SLO sums equal to {checked}"
    )
    print(
        f"evaluated at {AT:%Y-%m-%d %H:%M} UTC; concurrency {concurrency}; median of "
        f"{args.repeats} for the nightly and its floor, one backfill; load average (1 min) "
        f"before {load_before:.2f}, after {load_after:.2f}, on {os.cpu_count()} cores"
    )
    if stolen is not None:
        share = stolen / (run_seconds * (os.cpu_count() or 1))
        print(
            f"CPU time taken by the hypervisor for other guests (steal) during the run: "
            f"{stolen:.0f} s, {share:.0%} of the cores' time"
            + ("; times this noisy are not comparable" if share > 0.05 else "")
        )


if __name__ == "__main__":
    main()
