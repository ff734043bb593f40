"""Where the real parts the suite needs are, and whether they are up. Outside CI a
missing part skips the tests that need it, saying why; with CI=true it fails them."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/portal")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_up() -> bool:
    return port_open("127.0.0.1", 5432)


def redis_up() -> bool:
    return port_open("127.0.0.1", 6379)


def executable(path: str) -> bool:
    return bool(shutil.which(path))


def require(ok: bool, what: str) -> None:
    """Skip (locally) or fail (in CI) the calling test when a real part is missing."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"{what} is required in CI and is missing", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")
