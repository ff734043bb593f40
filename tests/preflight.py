"""Run by `make test` before pytest. Prints the DATABASE_URL the suite should use:
PostgreSQL when it is up (always in CI), else nothing (the embedded SQLite). In CI it
exits non-zero, naming what is missing, when any real part is not there."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.realparts import (  # noqa: E402
    CHROMIUM,
    POSTGRES_URL,
    PROMETHEUS,
    PROMTOOL,
    executable,
    in_ci,
    postgres_up,
    redis_up,
)


def main() -> int:
    if os.environ.get("DATABASE_URL"):
        print(os.environ["DATABASE_URL"])
        return 0
    missing = [
        what
        for what, ok in [
            ("PostgreSQL on 127.0.0.1:5432", postgres_up()),
            ("Redis on 127.0.0.1:6379", redis_up()),
            (f"Prometheus at {PROMETHEUS}", executable(PROMETHEUS)),
            (f"promtool at {PROMTOOL}", executable(PROMTOOL)),
            (f"Chromium at {CHROMIUM}", executable(CHROMIUM)),
        ]
        if not ok
    ]
    for what in missing:
        print(f"preflight: missing {what}", file=sys.stderr)
    if missing and in_ci():
        print("preflight: CI requires every real part; failing.", file=sys.stderr)
        return 1
    print(POSTGRES_URL if postgres_up() else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
