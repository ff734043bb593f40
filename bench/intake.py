"""Benchmark: Alertmanager webhooks at rising rates against the portal under gunicorn.

A load generator on loopback posts Alertmanager webhook payloads (version 4) to
POST /api/v1/intake/alertmanager/{token} at fixed, rising rates of notifications (one
notification is one alert in a payload), once with 1 alert per payload and once with
10, each step for a fixed time, with fresh fingerprints so deduplication hides no
work; then one step at the target rate re-sends a small set of fingerprints (repeats).
Targets: ≥ 500 notifications/s sustained, p99 ≤ 100 ms, none lost; judged on 10-alert
payloads, as Alertmanager sends a group's alerts together (TARGET_BATCH); the 1-alert
series is printed as the capacity for ungrouped senders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_intake \\
        .venv/bin/python bench/intake.py [--workers 5] [--seconds 10]

Needs PostgreSQL and gunicorn in the venv (`pip install gunicorn`). The database is
created and migrated here; every run empties its intake tables and replaces the bench
team. gunicorn runs `portal.wsgi:application` with sync workers on a free loopback port,
DEBUG=false and no Celery broker (the embedded default: tasks in-process). The intake
queues Slack messages (slos.notifications.intake._queue_slack) only for a team with a Slack webhook;
the bench team has none, so no delivery runs inside the timed requests and nothing
leaves the machine. gunicorn is stopped at the end, also on failure; its log is kept
in /tmp/portal-bench-intake-gunicorn.log.

The generator is open-loop (wrk2's way): request i is due at start + i / rate whatever
happened to the others, and its latency runs from that due time to the last byte of the
answer, so a server that falls behind shows it in p99 rather than by slowing the
generator. At most --in-flight requests are open at once; a request still waiting for
a slot when the step ends is counted as unsent, one without an answer 10 s after the
step ends as failed. Each step has an intake source of its own, so after the server
goes idle the stored counts are the step's: every 200 answer's IntakeRequest must be
stored and processed with its alerts, and the Notification rows must hold every alert
sent (rows, sum of counts, and classes as the routing policy decides them). A series
stops rising after a step the server could not keep up with."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_intake")

TEAM_SLUG = "bench-intake"
GUNICORN_LOG = Path("/tmp/portal-bench-intake-gunicorn.log")
RATES = (100, 250, 500, 750, 1000)  # notifications per second
BATCHES = (1, 10)  # alerts per payload
REPEATED_FINGERPRINTS = 40  # the repeat step cycles through this many alerts
REQUEST_TIMEOUT = 10.0
DRAIN_SECONDS = 10.0
IDLE_TIMEOUT = 30.0

TARGET_RATE = 500
TARGET_P99_MS = 100
# Alertmanager sends the alerts of a group together (after group_wait, then every
# group_interval), so 500 alerts a second reach the portal as grouped webhooks, not as
# 500 single-alert ones: the targets are judged on payloads of this many alerts. The
# single-alert series is printed too, as the capacity for ungrouped senders.
TARGET_BATCH = 10
# A step is sustained when the server answered (nearly) everything offered, in time.
SUSTAINED_SHARE = 0.95


# --- Payloads (pure) -----------------------------------------------------------------


def alert(fingerprint: str, n: int) -> dict:
    """One firing SLO burn alert. Even n pages, odd n tickets; every fifth is from
    staging, which the bench team's first routing rule makes a log."""
    severity = "page" if n % 2 == 0 else "ticket"
    env = "staging" if n % 5 == 4 else "production"
    return {
        "status": "firing",
        "labels": {
            "alertname": "SLOErrorBudgetBurn",
            "env": env,
            "instance": f"clock-in-{n % 97}:8080",
            "long_window": "1h" if severity == "page" else "1d",
            "service": "clock-in-api",
            "severity": severity,
            "short_window": "5m" if severity == "page" else "2h",
            "slo": "clock-in-availability",
            "team": "kintai",
        },
        "annotations": {
            "description": f"Clock-in availability is burning its error budget ({n}).",
            "summary": "Clock-in availability: error budget burning",
        },
        "startsAt": "2026-11-02T09:12:30.123Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.internal:9090/graph?g0.expr=up&g0.tab=1",
        "fingerprint": fingerprint,
    }


def expected_class(n: int) -> str:
    if n % 5 == 4:
        return "log"
    return "alert" if n % 2 == 0 else "ticket"


def payload(alerts: list[dict]) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="SLOErrorBudgetBurn", slo="clock-in-availability"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "reliability-portal",
            "groupLabels": {"alertname": "SLOErrorBudgetBurn"},
            "commonLabels": {"alertname": "SLOErrorBudgetBurn", "team": "kintai"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example.internal:9093",
            "alerts": alerts,
        },
        separators=(",", ":"),
    ).encode()


def http_post(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: Alertmanager/0.28\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Plan:
    """One step: the raw requests, due evenly over `seconds`, and what they carry."""

    label: str
    batch: int
    rate: int  # notifications per second
    seconds: float
    requests: list[bytes]
    alerts_per_request: list[int]  # distinct fingerprints in each payload
    classes_per_request: list[dict[str, int]]  # expected class of each alert, when new
    repeats: bool = False

    @property
    def request_rate(self) -> float:
        return self.rate / self.batch


def plan_step(
    *, step: int, batch: int, rate: int, seconds: float, port: int, path: str, repeats: bool
) -> Plan:
    count = round(rate * seconds / batch)
    requests, alerts_per_request, classes = [], [], []
    for index in range(count):
        numbers = [index * batch + offset for offset in range(batch)]
        if repeats:
            numbers = [number % REPEATED_FINGERPRINTS for number in numbers]
        alerts = [alert(f"{step:02x}{number:014x}", number) for number in numbers]
        requests.append(http_post(port, path, payload(alerts)))
        alerts_per_request.append(len(set(numbers)))
        per_class: dict[str, int] = {}
        for number in numbers:
            per_class[expected_class(number)] = per_class.get(expected_class(number), 0) + 1
        classes.append(per_class)
    label = f"{batch} alert{'s' if batch > 1 else ''}/payload"
    return Plan(
        label=label + (", repeats" if repeats else ""),
        batch=batch,
        rate=rate,
        seconds=seconds,
        requests=requests,
        alerts_per_request=alerts_per_request,
        classes_per_request=classes,
        repeats=repeats,
    )


# --- The load generator --------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one request. Times are the loop's clock, in seconds."""

    due: float
    status: int | None = None  # HTTP status, or None when there was no answer
    error: str = ""  # "unsent", "timeout", "connect", "cancelled", …
    sent: float = 0.0
    done: float = 0.0
    answer: dict = field(default_factory=dict)


def parse_answer(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body) if body else {}
    except ValueError:
        return status, {}


async def drive(port: int, plan: Plan, in_flight: int) -> tuple[float, list[Outcome]]:
    """Send the plan's requests at its rate; returns the start time and the outcomes."""
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(in_flight)
    start = loop.time() + 0.1
    stop_sending = start + plan.seconds
    outcomes = [
        Outcome(due=start + index / plan.request_rate) for index in range(len(plan.requests))
    ]

    async def one(index: int) -> None:
        outcome = outcomes[index]
        async with slots:
            if loop.time() > stop_sending:
                outcome.error = "unsent"
                return
            outcome.sent = loop.time()
            writer = None
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(plan.requests[index])
                    raw = await reader.read()
                outcome.done = loop.time()
                outcome.status, outcome.answer = parse_answer(raw)
            except TimeoutError:
                outcome.error = "timeout"
            except (OSError, IndexError, ValueError) as exc:
                outcome.error = type(exc).__name__
            except asyncio.CancelledError:
                outcome.error = "cancelled"
                raise
            finally:
                if writer is not None:
                    writer.close()

    tasks = []
    for index, outcome in enumerate(outcomes):
        delay = outcome.due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    remaining = stop_sending + DRAIN_SECONDS - loop.time()
    _done, pending = await asyncio.wait(tasks, timeout=max(remaining, 0.1))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for outcome in outcomes:
        if outcome.status is None and not outcome.error:
            outcome.error = "cancelled"
    return start, outcomes


# --- The portal: database, gunicorn, stored counts -----------------------------------


def ensure_database() -> None:
    from bench.common import ensure_database as create

    create("bench/intake.py")


def create_team():
    """A fresh bench team: the service and SLO the alerts name, and a routing policy
    whose first rule makes staging alerts logs (the rest go by the default policy)."""
    from django.core.management import call_command
    from django.db import connection

    from portal.models import Team
    from slos.models import SLO, IntakeRequest, Notification, RoutingRule, Service

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        # Bench database: the intake tables hold nothing but this benchmark's rows.
        tables = f"{Notification._meta.db_table}, {IntakeRequest._meta.db_table}"
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    SLO.objects.filter(service__team__slug=TEAM_SLUG).delete()
    Team.objects.filter(slug=TEAM_SLUG).delete()
    team = Team.objects.create(name="Bench intake", slug=TEAM_SLUG)
    # No Slack webhook: with tasks in-process, a delivery would post inside the request.
    assert not getattr(team, "slack_webhook_url", ""), "the bench team must not post to Slack"
    service = Service.objects.create(team=team, name="Clock-in API", openslo_name="clock-in-api")
    # Created directly, not through slo_create: no backfill to enqueue, no data source.
    slo = SLO.objects.create(
        service=service,
        name="Clock-in availability",
        openslo_name="clock-in-availability",
        good_query="sum(increase(ok[$window]))",
        valid_query="sum(increase(all[$window]))",
        target="99.9",
        window_days=28,
    )
    RoutingRule.objects.create(
        team=team,
        position=1,
        name="Staging is a log",
        conditions=[{"field": "env", "op": "equals", "value": "staging"}],
        outcome="log",
    )
    RoutingRule.objects.create(
        team=team,
        position=2,
        name="Disk alerts are tickets",
        conditions=[{"field": "alertname", "op": "regex", "value": "^Disk"}],
        outcome="ticket",
    )
    return team, slo


def new_source(team, name: str):
    from slos.notifications.intake import intake_source_create

    return intake_source_create(team=team, name=name, kind="alertmanager")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn portal.wsgi:application` with sync workers on a free loopback port."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.binary = Path(sys.executable).parent / "gunicorn"

    def version(self) -> str:
        done = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True)
        return done.stdout.strip() or done.stderr.strip()

    def __enter__(self) -> Gunicorn:
        if not self.binary.exists():
            sys.exit(f"no gunicorn in {self.binary.parent}: pip install gunicorn")
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_BROKER_URL", None)
        with open(GUNICORN_LOG, "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary),
                    "portal.wsgi:application",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    str(self.workers),
                    "--log-level",
                    "warning",
                ],
                cwd=REPO_DIR,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self

    def post(self, path: str, body: bytes, timeout: float = 60) -> bytes:
        """One request, answered or raising OSError; returns the raw answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(http_post(self.port, path, body))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)

    def wait_ready(self) -> None:
        """Until gunicorn takes connections. Only a refused connection is retried, so no
        delivery is ever sent twice."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited; see {GUNICORN_LOG}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except ConnectionRefusedError:
                time.sleep(0.2)
        sys.exit(f"gunicorn did not listen within 60 s; see {GUNICORN_LOG}")

    def __exit__(self, *exc_info) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def wait_idle(source) -> None:
    """Until the source's stored deliveries stop changing and none is mid-processing:
    requests the generator gave up on may still be worked through."""
    from slos.models import IntakeRequest, IntakeStatus

    deadline = time.monotonic() + IDLE_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        rows = IntakeRequest.objects.filter(source=source)
        now = (rows.count(), rows.filter(status=IntakeStatus.RECEIVED).count())
        if now == last and now[1] == 0:
            return
        last = now
        time.sleep(0.5)


@dataclass
class Stored:
    requests: int
    processed: int
    lost_requests: int  # answered 200 but not stored as processed with all its alerts
    rows: int
    deliveries: int  # sum of Notification.count
    classes: dict[str, int]


def stored_for(source, answered: dict[int, int]) -> Stored:
    """What the database holds for one step's source; `answered` maps each 200
    answer's request id to the distinct alerts its payload carried."""
    from django.db.models import Count, Sum

    from slos.models import IntakeRequest, IntakeStatus, Notification

    rows = IntakeRequest.objects.filter(source=source)
    processed = dict(
        rows.filter(status=IntakeStatus.PROCESSED).values_list("pk", "notification_count")
    )
    lost = sum(1 for pk, alerts in answered.items() if processed.get(pk) != alerts)
    notifications = Notification.objects.filter(source=source)
    totals = notifications.aggregate(rows=Count("pk"), deliveries=Sum("count"))
    classes = dict(
        notifications.values_list("notification_class")
        .annotate(n=Count("pk"))
        .values_list("notification_class", "n")
    )
    return Stored(
        requests=rows.count(),
        processed=len(processed),
        lost_requests=lost,
        rows=totals["rows"],
        deliveries=totals["deliveries"] or 0,
        classes=classes,
    )


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each live process among `pids`, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return times


def server_pids(master: int) -> list[int]:
    """gunicorn's workers, and the PostgreSQL backends serving the bench database
    (persistent: CONN_MAX_AGE), but not this process's own connection."""
    from django.db import connection

    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            workers.append(int(stat.parent.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return workers + backends


# --- A step and its numbers ----------------------------------------------------------


@dataclass
class StepResult:
    plan: Plan
    scheduled: int
    ok: int
    http_errors: int
    failed: int
    unsent: int
    sent_alerts: int  # alerts in payloads answered 200
    achieved: float  # of those, per second
    p50_ms: float
    p99_ms: float
    service_p99_ms: float
    generator_cpu: float  # share of one core
    server_cpu_ms: float  # gunicorn workers + PostgreSQL backends, per request stored
    stored: Stored
    lost_alerts: int
    problems: list[str]

    @property
    def sustained(self) -> bool:
        return (
            self.achieved >= SUSTAINED_SHARE * self.plan.rate
            and self.unsent == self.failed == self.http_errors == 0
            and self.p99_ms <= TARGET_P99_MS
            and self.lost_alerts == 0
            and self.stored.lost_requests == 0
        )

    @property
    def saturated(self) -> bool:
        return self.achieved < 0.9 * self.plan.rate or self.unsent > 0 or self.failed > 0


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_step(plan: Plan, source, gunicorn: Gunicorn, in_flight: int) -> StepResult:
    pids = server_pids(gunicorn.process.pid)
    server_before = cpu_seconds(pids)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    start, outcomes = asyncio.run(drive(gunicorn.port, plan, in_flight))
    generator_cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    ok = [(i, o) for i, o in enumerate(outcomes) if o.status == 200]
    answered: dict[int, int] = {}
    problems: list[str] = []
    classes_sent: dict[str, int] = {}
    for index, outcome in ok:
        carried = plan.alerts_per_request[index]
        answered[outcome.answer["request"]] = carried
        if outcome.answer.get("notifications") != carried:
            problems.append(f"request {index}: answered {outcome.answer}, carried {carried}")
        for name, n in plan.classes_per_request[index].items():
            classes_sent[name] = classes_sent.get(name, 0) + n
    sent_alerts = sum(plan.batch for _index, _outcome in ok)
    last = max((o.done for _i, o in ok), default=start)
    achieved = sent_alerts / max(plan.seconds, last - start)
    latencies = [(o.done - o.due) * 1000 for _i, o in ok]
    service = [(o.done - o.sent) * 1000 for _i, o in ok]
    wait_idle(source.source)
    # Backends that started during the step count from zero; one that exited during
    # it (CONN_MAX_AGE) is missed, so this is a lower bound then.
    server_after = cpu_seconds(sorted(set(pids) | set(server_pids(gunicorn.process.pid))))
    server_cpu = sum(after - server_before.get(pid, 0.0) for pid, after in server_after.items())
    stored = stored_for(source.source, answered)
    lost_alerts = max(0, sent_alerts - stored.deliveries)
    failed = sum(1 for o in outcomes if o.error and o.error != "unsent")
    clean = failed == 0 and not any(o.status not in (None, 200) for o in outcomes)
    if clean:
        # Nothing abandoned or refused: the database must hold exactly what was sent.
        if stored.deliveries != sent_alerts:
            problems.append(f"stored {stored.deliveries} deliveries, sent {sent_alerts}")
        if stored.requests != len(ok):
            problems.append(f"stored {stored.requests} requests, {len(ok)} answered 200")
        if not plan.repeats:
            if stored.rows != sent_alerts:
                problems.append(f"{stored.rows} notification rows for {sent_alerts} alerts")
            if stored.classes != classes_sent:
                problems.append(f"classes {stored.classes}, expected {classes_sent}")
        elif ok and stored.rows != min(REPEATED_FINGERPRINTS, sent_alerts):
            problems.append(f"{stored.rows} rows for {REPEATED_FINGERPRINTS} fingerprints")
    return StepResult(
        plan=plan,
        scheduled=len(outcomes),
        ok=len(ok),
        http_errors=sum(1 for o in outcomes if o.status not in (None, 200)),
        failed=failed,
        unsent=sum(1 for o in outcomes if o.error == "unsent"),
        sent_alerts=sent_alerts,
        achieved=achieved,
        p50_ms=statistics.median(latencies) if latencies else float("nan"),
        p99_ms=percentile(latencies, 0.99),
        service_p99_ms=percentile(service, 0.99),
        generator_cpu=generator_cpu,
        server_cpu_ms=1000 * server_cpu / max(1, stored.requests),
        stored=stored,
        lost_alerts=lost_alerts,
        problems=problems,
    )


def warm_up(gunicorn: Gunicorn, team, slo, workers: int) -> None:
    """The fixture's payload once, checked end to end; then enough requests to load
    the app in every worker, untimed."""
    from django.urls import reverse

    from slos.models import Notification

    source = new_source(team, "Warm-up")
    path = reverse("api:intake_alertmanager", args=[source.token])
    payloads = REPO_DIR / "tests/slos/notifications/intake_payloads"
    fixture = (payloads / "alertmanager_firing.json").read_bytes()
    gunicorn.wait_ready()
    status, answer = parse_answer(gunicorn.post(path, fixture))
    assert status == 200 and answer["new"] == 2, (status, answer)
    assert answer["classes"] == {"alert": 1, "ticket": 1}, answer
    stored = Notification.objects.filter(source=source.source)
    assert {n.slo_id for n in stored} == {slo.pk}, "the fixture's SLO label did not resolve"

    body = payload([alert("ffffffffffffffff", 0)])
    plan = Plan(
        label="warm-up",
        batch=1,
        rate=50,
        seconds=30.0,  # no request goes unsent while the workers load the app
        requests=[http_post(gunicorn.port, path, body)] * max(100, workers * 20),
        alerts_per_request=[1] * max(100, workers * 20),
        classes_per_request=[{}] * max(100, workers * 20),
    )
    _start, outcomes = asyncio.run(drive(gunicorn.port, plan, 16))
    bad = [o for o in outcomes if o.status != 200]
    assert not bad, f"warm-up: {len(bad)} of {len(outcomes)} not answered 200: {bad[0]}"


# --- Main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--workers", type=int, default=2 * cores + 1, help="gunicorn sync workers (2 × cores + 1)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument(
        "--rates", default=",".join(map(str, RATES)), help="notifications per second"
    )
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="alerts per payload")
    parser.add_argument("--in-flight", type=int, default=64, help="open requests at most")
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]
    batches = [int(batch) for batch in args.batches.split(",")]

    import django

    django.setup()
    from django.urls import reverse

    load_before = os.getloadavg()
    ensure_database()
    team, slo = create_team()
    results: list[StepResult] = []
    skipped: list[str] = []
    step = 0
    with Gunicorn(args.workers) as gunicorn:
        print(
            f"gunicorn {gunicorn.version().split()[-1].strip('()')} on 127.0.0.1:{gunicorn.port}, "
            f"{args.workers} sync workers; warming up…",
            flush=True,
        )
        warm_up(gunicorn, team, slo, args.workers)
        for batch in batches:
            series = [(rate, False) for rate in rates] + [(TARGET_RATE, True)]
            saturated = False
            for rate, repeats in series:
                if saturated and not repeats:
                    skipped.append(f"{batch}/payload at {rate}/s")
                    continue
                step += 1
                source = new_source(team, f"Step {step}")
                path = reverse("api:intake_alertmanager", args=[source.token])
                plan = plan_step(
                    step=step,
                    batch=batch,
                    rate=rate,
                    seconds=args.seconds,
                    port=gunicorn.port,
                    path=path,
                    repeats=repeats,
                )
                result = run_step(plan, source, gunicorn, args.in_flight)
                results.append(result)
                saturated = saturated or result.saturated
                print(
                    f"  {plan.label:<26} {rate:>5}/s: achieved {result.achieved:7.1f}/s, "
                    f"p50 {result.p50_ms:7.1f} ms, p99 {result.p99_ms:7.1f} ms "
                    f"(from sending {result.service_p99_ms:.0f} ms), "
                    f"{result.ok}/{result.scheduled} answered 200, "
                    f"stored {result.stored.deliveries}/{result.sent_alerts} alerts",
                    flush=True,
                )
    load_after = os.getloadavg()

    problems = [f"{r.plan.label} {r.plan.rate}/s: {p}" for r in results for p in r.problems]
    if problems:
        print("\nCHECKS FAILED (the numbers below are not to be trusted):")
        for problem in problems[:20]:
            print(f"  {problem}")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def mark(ok: bool, *, judged: bool) -> str:
        return verdict(ok) if judged else "(reference)"

    print()
    header = (
        f"{'payloads':<22} {'offered':>7} {'req/s':>6} {'achieved':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'errors':>6} {'sent':>6} {'stored':>6} {'rows':>6} {'lost':>5} "
        f"{'cpu/req':>7} {'gen cpu':>7}  sustained"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        errors = r.http_errors + r.failed + r.unsent
        print(
            f"{r.plan.label:<22} {r.plan.rate:>7} {r.plan.request_rate:>6.0f} "
            f"{r.achieved:>8.1f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {errors:>6} "
            f"{r.sent_alerts:>6} {r.stored.deliveries:>6} {r.stored.rows:>6} "
            f"{r.lost_alerts + r.stored.lost_requests:>5} {r.server_cpu_ms:>5.1f}ms "
            f"{r.generator_cpu:>7.0%}  "
            f"{'yes' if r.sustained else 'no'}"
        )
    for item in skipped:
        print(f"{'skipped (saturated): ' + item}")
    if any(r.stored.deliveries > r.sent_alerts for r in results):
        print(
            "stored > sent: requests the generator gave up on (no answer within "
            f"{REQUEST_TIMEOUT:.0f} s, or the step's drain ended) were still worked through"
        )
    print()
    width = 52
    print(f"{'target':<{width}} {'value':>10} {'target':>10}")
    print(f"{'-' * width} {'-' * 10} {'-' * 10}")
    for batch in batches:
        rising = [r for r in results if r.plan.batch == batch and not r.plan.repeats]
        best = max((r.plan.rate for r in rising if r.sustained), default=0)
        at_target = [r for r in rising if r.plan.rate == TARGET_RATE]
        judged = batch == TARGET_BATCH

        print(
            f"{f'sustained notifications/s, {batch} alert(s)/payload':<{width}} "
            f"{best:>10} {f'≥ {TARGET_RATE}':>10} {mark(best >= TARGET_RATE, judged=judged)}"
        )
        label = f"p99 at {TARGET_RATE}/s, {batch} alert(s)/payload, ms"
        if at_target:
            p99 = at_target[0].p99_ms
            print(
                f"{label:<{width}} "
                f"{p99:>10.1f} {f'≤ {TARGET_P99_MS}':>10} "
                f"{mark(p99 <= TARGET_P99_MS, judged=judged)}"
            )
        else:
            never = mark(False, judged=judged)
            print(f"{label:<{width}} {'n/a':>10} {f'≤ {TARGET_P99_MS}':>10} {never}")
            print(f"{'':<{width}}  (not run: saturated at a lower rate)")
        sent = [r for r in rising if r.ok]
        if sent:
            per_request = statistics.median(r.server_cpu_ms for r in sent)
            ceiling = cores * 1000 / per_request * batch
            print(
                f"    server CPU (gunicorn workers + PostgreSQL backends) {per_request:.1f} ms "
                f"a request: {cores} idle cores would carry at most ~{ceiling:,.0f} "
                f"notifications/s"
            )
    lost = sum(r.lost_alerts + r.stored.lost_requests for r in results)
    print(
        f"{'lost (answered 200, not stored), all steps':<{width}} {lost:>10} {'0':>10} "
        f"{verdict(lost == 0 and not problems)}"
    )
    print()
    print(
        "offered/achieved: notifications (alerts) per second; latency from each request's "
        "due time to the last byte of its answer (open loop); errors: non-200 answers, "
        "failed and unsent requests; sent: alerts in payloads answered 200; stored: sum of "
        "Notification.count for the step's source; rows: Notification rows; lost: alerts "
        "and requests answered 200 but not stored; cpu/req: CPU time of the gunicorn workers "
        "and the bench database's PostgreSQL backends per request stored; gen cpu: the load "
        "generator's share of one core. A step is sustained when it achieved "
        f"≥ {SUSTAINED_SHARE:.0%} of the offered rate with no error, p99 ≤ {TARGET_P99_MS} ms "
        "and nothing lost."
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.seconds:.0f} s a step, at most {args.in_flight} requests open; repeats step: "
        f"{REPEATED_FINGERPRINTS} fingerprints at {TARGET_RATE}/s; generator peak RSS "
        f"{peak_mb:.0f} MB; load average (1 min) before {load_before[0]:.2f}, after "
        f"{load_after[0]:.2f}, on {cores} cores (generator, gunicorn and PostgreSQL share them)"
    )
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
