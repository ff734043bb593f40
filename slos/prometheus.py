"""A small client for the Prometheus HTTP API. Every query is evaluated at explicit
times; answers are parsed strictly, and anything unexpected becomes a PrometheusError
with a message a person can act on."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx
from pydantic import BaseModel, ValidationError

WINDOW_PLACEHOLDER = "$window"
# Prometheus refuses a range query returning more than 11,000 points per series.
MAX_POINTS_PER_QUERY = 10_000


class PrometheusError(Exception):
    """The metric source could not answer, or answered something unusable."""


class _Series(BaseModel):
    metric: dict[str, str]
    values: list[tuple[float, str]]


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
            f"Prometheus answered HTTP {status} with a body that is not JSON."
        ) from None
    try:
        failure = _Failure.model_validate(payload)
    except ValidationError:
        raise PrometheusError(
            "Prometheus answered with something that is not a range-query result "
            f"({problem.error_count()} problem(s), first: {problem.errors()[0]['msg']})."
        ) from problem
    raise PrometheusError(f"Prometheus rejected the query: {failure.error}")


def render_query(query: str, window: str) -> str:
    return query.replace(WINDOW_PLACEHOLDER, window)


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

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                headers=self.headers, auth=self.auth, verify=self.verify, timeout=self.timeout
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def query_range(
        self, query: str, *, start: datetime, end: datetime, step_seconds: int
    ) -> dict[datetime, float]:
        """Values of a query that must return at most one series, keyed by evaluation
        time. Missing points are missing keys (no data), never zero."""
        params = {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": str(step_seconds),
        }
        status, body = self._get("/api/v1/query_range", params)
        answer = _parse(status, body)
        series = answer.data.result
        if len(series) > 1:
            raise PrometheusError(
                f"The query returned {len(series)} series; it must return one. Wrap it in sum(...)."
            )
        values: dict[datetime, float] = {}
        for series_item in series:
            for timestamp, raw in series_item.values:
                value = float(raw)
                if math.isnan(value) or math.isinf(value):
                    continue
                values[datetime.fromtimestamp(timestamp, tz=UTC)] = value
        return values

    def _get(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        url = self.base_url.rstrip("/") + path
        last_error = ""
        for attempt in range(self.attempts):
            if attempt:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                self.sleep(delay + random.uniform(0, delay / 2))
            try:
                response = self.http.get(url, params=params)
            except httpx.TimeoutException:
                last_error = f"timed out after {self.timeout:g} s"
                continue
            except httpx.TransportError as exc:
                last_error = f"could not connect ({exc.__class__.__name__}: {exc})"
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code in {401, 403}:
                raise PrometheusError(
                    f"Prometheus refused the credentials (HTTP {response.status_code}); "
                    "check the source's authentication."
                )
            return response.status_code, response.content
        raise PrometheusError(
            f"Prometheus at {self.base_url} failed after {self.attempts} attempts: {last_error}."
        )
