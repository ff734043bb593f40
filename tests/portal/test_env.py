"""Settings helpers fail loudly, naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_cron, env_database, env_time_zone


def test_database_url_unset_is_the_embedded_sqlite(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert env_database("DATABASE_URL", tmp_path / "db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "db.sqlite3"),
    }


def test_database_url_for_postgres(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://portal:s%40cret@db.internal:6543/portal")
    config = env_database("DATABASE_URL", tmp_path / "x")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("portal", "s@cret")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", "6543", "portal")


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host", "nonsense"])
def test_bad_database_urls_fail_loudly(monkeypatch, tmp_path, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", tmp_path / "x")


def test_booleans_time_zones_and_cron(monkeypatch):
    monkeypatch.setenv("DEBUG", "yes")
    assert env_bool("DEBUG", False) is True
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false"):
        env_bool("DEBUG", False)
    monkeypatch.setenv("TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="TIME_ZONE must be an IANA time zone"):
        env_time_zone("TIME_ZONE", "UTC")
    monkeypatch.setenv("NIGHTLY_PULL_CRON", "61 2 * * *")
    with pytest.raises(ImproperlyConfigured, match="NIGHTLY_PULL_CRON is not a valid cron"):
        env_cron("NIGHTLY_PULL_CRON", "0 2 * * *")
