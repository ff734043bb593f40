"""What the benchmarks share: they run on PostgreSQL, in a database of their own."""

from __future__ import annotations

import sys


def ensure_database(script: str) -> None:
    """Create the benchmark's database (named by DATABASE_URL) if it does not exist."""
    import psycopg
    from django.conf import settings

    config = settings.DATABASES["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"{script} runs on PostgreSQL: set DATABASE_URL=postgres://...")
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')
