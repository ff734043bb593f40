"""A small client for the Prometheus HTTP API. Every query is evaluated at explicit
times; answers are parsed strictly, and anything unexpected becomes a PrometheusError
with a message a person can act on."""

from __future__ import annotations

import json
import math
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Literal

import httpcore  # noqa: F401  (httpx imports it on its first client: here, at worker start)
import httpx
from django.utils.translation import gettext as _
from pydantic import BaseModel, ValidationError

# Prometheus refuses a range query returning more than 11,000 points per series.
MAX_POINTS_PER_QUERY = 10_000
# Several queries sharing start, end and step travel in one request, each tagged with
# this label; a request carries at most this many queries and points in all. Prometheus
# evaluates the tags and the `or`s that join the queries at every step, so a long range
# wants fewer queries per request: at 1,000 SLOs (bench/ingest.py), 8 queries of 672
# points cost Prometheus 8 CPU-s where 32 cost 11, and 24-point nightly queries are
# cheapest 32 to a request.
BATCH_LABEL = "__portal_q"
# Answers come uncompressed: gzip costs Prometheus more than it saves. At 1,000 SLOs
# (bench/ingest.py) it was a sixth of Prometheus's CPU time in a backfill (1.5 of
# 8.5 CPU-s), to shrink 27 MB of JSON, and 1 MB a night.
ANSWER_ENCODING = "identity"
MAX_QUERIES_PER_REQUEST = 32
MAX_POINTS_PER_REQUEST = 6_000


class PrometheusError(Exception):
    """The metric source could not answer, or answered something unusable."""


class PrometheusQueryError(PrometheusError):
    """Prometheus answered, and refused the query itself (its own message says why)."""


class PrometheusTimeout(PrometheusError):
    """No answer in time: the client's timeout, or Prometheus's own query timeout."""


class _Series(BaseModel):
    metric: dict[str, str]
    # Prometheus sends each value as a string ("1.5", "NaN", "+Inf"): parsed here, in
    # pydantic-core, rather than by float() once per point afterwards.
    values: list[tuple[float, float]]


class _MatrixData(BaseModel):
    resultType: Literal["matrix"]
    result: list[_Series]


class _Success(BaseModel):
    status: Literal["success"]
    data: _MatrixData


class _Failure(BaseModel):
    status: Literal["error"]
    errorType: str = ""
    error: str = ""


def _parse(status: int, body: bytes) -> _Success:
    """Parse straight from bytes (pydantic-core's JSON parser: the hot path of a pull);
    only an answer that is not a result is looked at again to say what it is."""
    try:
        return _Success.model_validate_json(body)
    except ValidationError as exc:
        problem = exc
    try:
        payload = json.loads(body)
    except ValueError:
        raise PrometheusError(
            _("Prometheus answered HTTP %(status)d with a body that is not JSON.")
            % {"status": status}
        ) from None
    try:
        failure = _Failure.model_validate(payload)
    except ValidationError:
        raise PrometheusError(
            _(
                "Prometheus answered with something that is not a range-query result "
                "(%(count)d problem(s), first: %(first)s)."
            )
            % {"count": problem.error_count(), "first": problem.errors()[0]["msg"]}
        ) from problem
    raise PrometheusQueryError(
        _("Prometheus rejected the query: %(error)s") % {"error": failure.error}
    )


def _server_failure(body: bytes) -> _Failure | None:
    """Prometheus's own error in a 5xx answer (a query timeout is 503, errorType
    "timeout"), or None for a body that is not one."""
    try:
        return _Failure.model_validate_json(body)
    except ValidationError:
        return None


def batched_query(queries: list[str]) -> str:
    """One PromQL expression answering every query, each series tagged with its query's
    index. The `or`s nest as a balanced tree: a chain makes Prometheus copy the growing
    left side at every step (quadratic in the number of queries)."""
    # The newline ends a `#` comment the query may close with.
    tagged = [
        f'label_replace({query}\n, "{BATCH_LABEL}", "{index}", "", "")'
        for index, query in enumerate(queries)
    ]

    def tree(parts: list[str]) -> str:
        if len(parts) == 1:
            return parts[0]
        middle = len(parts) // 2
        return f"({tree(parts[:middle])} or {tree(parts[middle:])})"

    return tree(tagged)


@dataclass(frozen=True)
class RangeRequest:
    """The HTTP request for some queries over one range: a single query is a GET as
    the API documents it; a batch is a POST (its expression can outgrow a URL)."""

    method: str
    path: str
    params: dict[str, str]


def range_request(
    queries: list[str], *, start: datetime, end: datetime, step_seconds: int
) -> RangeRequest:
    params = {
        "query": queries[0] if len(queries) == 1 else batched_query(queries),
        "start": f"{start.timestamp():.3f}",
        "end": f"{end.timestamp():.3f}",
        "step": str(step_seconds),
    }
    return RangeRequest("GET" if len(queries) == 1 else "POST", "/api/v1/query_range", params)


def _values(series: _Series) -> dict[float, float]:
    """Values by evaluation time; NaN and ±Inf (no usable value) are left out. Built by
    dict() in C; only a series holding such a value is filtered in Python."""
    values = dict(series.values)
    if all(map(math.isfinite, values.values())):
        return values
    return {timestamp: value for timestamp, value in values.items() if math.isfinite(value)}


def _one_series(series: list[_Series]) -> dict[float, float] | PrometheusError:
    if len(series) > 1:
        return PrometheusQueryError(
            _("The query returned %(count)d series; it must return one. Wrap it in sum(...).")
            % {"count": len(series)}
        )
    return _values(series[0]) if series else {}


@cache
def _tls_context(verify: bool, *, plain_http: bool) -> ssl.SSLContext:
    """One TLS context per process and setting, shared by every client: httpx would load
    the CA bundle again for each (tens of milliseconds; a nightly makes one client per
    source). A plain-http source never speaks TLS, since redirects are not followed: its
    context loads no CA at all, and would refuse every certificate if it were ever used."""
    if plain_http:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return httpx.create_ssl_context(verify=verify)


@dataclass
class PrometheusClient:
    """One connection pool per pull, shared by its threads (httpx.Client is thread-safe)."""

    base_url: str
    timeout: float = 30.0
    attempts: int = 3
    backoff_seconds: float = 0.5
    headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    verify: bool = True
    sleep: Callable[[float], None] = time.sleep
    _http: httpx.Client | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def http(self) -> httpx.Client:
        # The first threads of a pull arrive together: make one pool, not one each.
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    headers={"Accept-Encoding": ANSWER_ENCODING, **self.headers},
                    auth=self.auth,
                    verify=_tls_context(self.verify, plain_http=self.base_url.startswith("http:")),
                    timeout=self.timeout,
                )
            return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def query_range_many(
        self, queries: list[str], *, start: datetime, end: datetime, step_seconds: int
    ) -> list[dict[float, float] | PrometheusError]:
        """For each query (each must return at most one series), its values keyed by
        evaluation time as a Unix timestamp, or the error that concerns that query alone.
        The queries travel in one request; when Prometheus refuses the batch, each is
        asked again alone, so a bad query's own message lands on that query; when the
        batch times out, it is asked again in halves, so one slow query does not fail
        the others. An error that concerns every query (the source is down, garbled,
        refuses credentials) is raised."""
        span = {"start": start, "end": end, "step_seconds": step_seconds}
        try:
            return self._ask(queries, attempts=self.attempts, **span)
        except PrometheusTimeout as exc:
            if len(queries) == 1:
                return [exc]
            return self._after_timeout(queries, exc, **span)

    def _ask(
        self, queries: list[str], *, start: datetime, end: datetime, step_seconds: int, attempts
    ) -> list[dict[float, float] | PrometheusError]:
        request = range_request(queries, start=start, end=end, step_seconds=step_seconds)
        if len(queries) == 1:
            try:
                return [_one_series(self._series(request, attempts))]
            except PrometheusQueryError as exc:
                return [exc]
        try:
            series = self._series(request, attempts)
        except PrometheusQueryError:
            results: list[dict[float, float] | PrometheusError] = []
            for query in queries:
                results.extend(
                    self.query_range_many([query], start=start, end=end, step_seconds=step_seconds)
                )
            return results
        tagged: list[list[_Series]] = [[] for _ in queries]
        for item in series:
            index = item.metric.get(BATCH_LABEL, "")
            if not index.isdigit() or int(index) >= len(queries):
                raise PrometheusError(
                    _("Prometheus answered a series without the %(label)s tag it was sent.")
                    % {"label": BATCH_LABEL}
                )
            tagged[int(index)].append(item)
        return [_one_series(group) for group in tagged]

    def _after_timeout(
        self, queries: list[str], error: PrometheusError, **span
    ) -> list[dict[float, float] | PrometheusError]:
        """Ask the halves of a batch that timed out, once each: a half that answers keeps
        its answers, a half that fails is split again down to single queries. When both
        halves fail, the source is too slow for anything: every query fails with the
        batch's error, and no more requests are spent on it."""
        if len(queries) == 1:
            return [error]
        middle = len(queries) // 2
        halves = [queries[:middle], queries[middle:]]
        answers: list[list[dict[float, float] | PrometheusError] | PrometheusError] = []
        for half in halves:
            try:
                answers.append(self._ask(half, attempts=1, **span))
            except PrometheusError as exc:
                answers.append(exc)
        if all(isinstance(answer, PrometheusError) for answer in answers):
            return [error] * len(queries)
        results: list[dict[float, float] | PrometheusError] = []
        for half, answer in zip(halves, answers, strict=True):
            if isinstance(answer, PrometheusError):
                results.extend(self._after_timeout(half, answer, **span))
            else:
                results.extend(answer)
        return results

    def _series(self, request: RangeRequest, attempts: int) -> list[_Series]:
        status, body = self._send(request, attempts)
        return _parse(status, body).data.result

    def _send(self, request: RangeRequest, attempts: int) -> tuple[int, bytes]:
        url = self.base_url.rstrip("/") + request.path
        last_error = ""
        timed_out = False
        for attempt in range(attempts):
            if attempt:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                self.sleep(delay + random.uniform(0, delay / 2))
            try:
                if request.method == "GET":
                    response = self.http.get(url, params=request.params)
                else:
                    response = self.http.post(url, data=request.params)
            except httpx.TimeoutException:
                last_error = _("timed out after %(seconds)s s") % {"seconds": f"{self.timeout:g}"}
                timed_out = True
                continue
            except httpx.TransportError as exc:
                last_error = _("could not connect (%(error)s)") % {
                    "error": f"{exc.__class__.__name__}: {exc}"
                }
                timed_out = False
                continue
            if response.status_code >= 500:
                failure = _server_failure(response.content)
                last_error = f"HTTP {response.status_code}"
                if failure is not None and failure.error:
                    last_error += f": {failure.error}"
                timed_out = failure is not None and failure.errorType == "timeout"
                continue
            if response.status_code in {401, 403}:
                raise PrometheusError(
                    _(
                        "Prometheus refused the credentials (HTTP %(status)d); check the "
                        "source's authentication."
                    )
                    % {"status": response.status_code}
                )
            return response.status_code, response.content
        failed = PrometheusTimeout if timed_out else PrometheusError
        raise failed(
            _("Prometheus at %(url)s failed after %(attempts)d attempts: %(error)s.")
            % {"url": self.base_url, "attempts": attempts, "error": last_error}
        )
