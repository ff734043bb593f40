"""Typed readers for settings from the environment. A bad value stops start-up with a
message naming the variable, instead of surfacing later as a confusing failure."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_is_set(name: str) -> bool:
    return name in os.environ


def env_secret_key(name: str, *, required: bool, key_file: Path) -> str:
    """The key from the environment. Without one it is refused when `required` (a
    deployment); otherwise (the embedded default: `make run`, the tests) it is a key made
    for this machine on first start and kept in `key_file`, so no installation ever signs
    sessions with a key that is published in the source."""
    value = os.environ.get(name, "")
    if value.strip():
        return value
    if required:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is false: without it every session and CSRF "
            f"token would be signed with a key anyone can read. Generate one with "
            f"python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    return _machine_key(name, key_file)


def _machine_key(name: str, key_file: Path) -> str:
    if key_file.exists():
        return key_file.read_text().strip()
    # Written aside and linked into place, so a process starting at the same moment reads
    # either no file or the whole key, and the first one made wins.
    aside = key_file.with_name(f"{key_file.name}.{os.getpid()}")
    try:
        aside.write_text(secrets.token_urlsafe(50) + "\n")
        aside.chmod(0o600)
        try:
            os.link(aside, key_file)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
        return key_file.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{name} is not set and no key could be kept in {key_file} ({exc}); set {name}."
        ) from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {raw!r}).")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {raw!r}).") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {raw!r}).")
    return value


def env_origins(name: str) -> list[str]:
    """Comma-separated origins, each a scheme and a host: https://portal.example. A
    trailing slash is dropped, since a browser's Origin header never has one."""
    origins = [origin.rstrip("/") for origin in env_list(name, [])]
    for origin in origins:
        parts = urlsplit(origin)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
        ):
            raise ImproperlyConfigured(
                f"{name} must list origins like https://portal.example, "
                f"comma-separated (got {origin!r})."
            )
    return origins


_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """'X-Forwarded-Proto: https' → ('HTTP_X_FORWARDED_PROTO', 'https'): the header the TLS
    proxy sets, and its value on a request that came in over HTTPS. Unset means no proxy."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, colon, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not colon or not _HEADER_NAME.fullmatch(header) or not value or " " in value:
        raise ImproperlyConfigured(
            f"{name} must be a header and its value on HTTPS requests, like "
            f"'X-Forwarded-Proto: https' (got {raw!r})."
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def env_time_zone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} must be an IANA time zone (got {value!r}).") from exc
    return value


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)} (got {value!r}).")
    return value


@dataclass(frozen=True)
class Cron:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str


def env_cron(name: str, default: str) -> Cron:
    raw = os.environ.get(name, default)
    fields = raw.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"{name} must be a cron expression of five fields, like '0 2 * * *' (got {raw!r})."
        )
    cron = Cron(*fields)
    try:
        from celery.schedules import crontab

        crontab(
            minute=cron.minute,
            hour=cron.hour,
            day_of_month=cron.day_of_month,
            month_of_year=cron.month_of_year,
            day_of_week=cron.day_of_week,
        )
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is not a valid cron expression: {exc}") from exc
    return cron


def env_database(name: str, sqlite_path: Path) -> dict:
    """DATABASE_URL → Django DATABASES['default']. Unset means the embedded SQLite."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(sqlite_path)}
    parts = urlsplit(raw)
    if parts.scheme in {"postgres", "postgresql"}:
        if not parts.path.strip("/"):
            raise ImproperlyConfigured(f"{name} must name a database, like postgres://host/portal.")
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path) or ":memory:"}
    raise ImproperlyConfigured(
        f"{name} must start with postgres:// or sqlite:// (got scheme {parts.scheme!r})."
    )


def env_fernet_keys(name: str, *, embedded: str) -> list[str]:
    """Comma-separated Fernet keys (portal/encryption.py): the first encrypts, every one
    decrypts, so a new key goes first and an old one stays until rotate_secrets_key has
    run. Unset means [embedded]."""
    keys = env_list(name, [])
    for key in keys:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (ValueError, binascii.Error):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"{name} must list Fernet keys (32 url-safe base64-encoded bytes), "
                f"comma-separated; one is not. Generate one with python -c 'from "
                f"cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'."
            )
    return keys or [embedded]


def fernet_key_derived_from(secret_key: str) -> str:
    """The embedded default's Fernet key, derived from SECRET_KEY so `make run` and the
    tests work with nothing set. A deployment sets FIELD_ENCRYPTION_KEYS of its own: on
    this key, changing SECRET_KEY would leave every stored secret unreadable."""
    digest = hashlib.sha256(b"portal.encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def env_all_or_none(names: list[str]) -> dict[str, str] | None:
    """Settings that only work together (an identity provider's client and endpoints):
    all set turns the feature on, none leaves it off, and some but not all stop start-up
    naming the ones missing."""
    values = {name: os.environ.get(name, "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if len(missing) == len(names):
        return None
    if missing:
        present = [name for name in names if name not in missing]
        raise ImproperlyConfigured(
            f"{', '.join(missing)} must be set along with {', '.join(present)}."
        )
    return values
