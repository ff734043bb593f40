"""Where a team's Slack webhook may point: Slack's own host over HTTPS, or a relay the
operator has allowed. Checked when an admin saves the URL and again before every post,
so a URL stored earlier (or through the Django admin) that is no longer allowed is
never requested. Without this an admin could make the portal post to any internal
address and read its reply.

SLACK_WEBHOOK_ALLOWED_HOSTS lists what is allowed; it replaces the default, so a relay
is added beside Slack as `hooks.slack.com,relay.example.com`. An entry is

- a host name (`relay.example.com`): HTTPS to that host, on any port;
- an origin (`http://relay.internal`, `https://relay.example.com:8443`): that scheme and
  host, on the port given or, with none given, on any port.

Host names match exactly (no wildcards): `hooks.slack.com.example.net` is another host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

SLACK_WEBHOOK_HOST = "hooks.slack.com"
SETTING = "SLACK_WEBHOOK_ALLOWED_HOSTS"
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class AllowedOrigin:
    scheme: str
    host: str
    port: int | None  # None: any port

    def admits(self, *, scheme: str, host: str, port: int | None) -> bool:
        return (
            scheme == self.scheme and host == self.host and (self.port is None or port == self.port)
        )


def allowed_origin(entry: str) -> AllowedOrigin:
    """One entry of the setting; ImproperlyConfigured, naming the setting, if malformed."""
    text = entry.strip().lower()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{SETTING}: {entry!r} is not a host or origin.") from exc
    if (
        parts.scheme not in _SCHEMES
        or not parts.hostname
        or parts.username is not None
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
    ):
        raise ImproperlyConfigured(
            f"{SETTING}: {entry!r} must be a host name like relay.example.com or an origin "
            "like http://relay.internal:8080."
        )
    return AllowedOrigin(scheme=parts.scheme, host=parts.hostname, port=port)


def allowed_origins(entries: Iterable[str]) -> list[AllowedOrigin]:
    return [allowed_origin(entry) for entry in entries if entry.strip()]


def webhook_url_refusal(url: str, *, allowed: Iterable[AllowedOrigin]) -> str | None:
    """Why the portal will not post to `url`, or None if it may. Pure: the URL and the
    allowed origins in, a message out."""
    if any(ord(char) <= 32 or ord(char) >= 127 or char == "\\" for char in url):
        return _("The webhook URL may not contain spaces, backslashes or non-ASCII characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("Enter the webhook's full URL, e.g. https://hooks.slack.com/services/…")
    host = (parts.hostname or "").lower()
    if parts.scheme not in _SCHEMES or not host:
        return _("Enter the webhook's full URL, e.g. https://hooks.slack.com/services/…")
    if "@" in parts.netloc:
        # A user name before the host is a classic way to make one parser read another
        # host than the next one does.
        return _("The webhook URL may not contain a user name or password.")
    allowed = list(allowed)
    if any(origin.admits(scheme=parts.scheme, host=host, port=port) for origin in allowed):
        return None
    if any(origin.host == host and origin.scheme != parts.scheme for origin in allowed):
        return _("Use https:// for %(host)s: the webhook URL is a secret.") % {"host": host}
    return _(
        "Only Slack's webhook host (https://%(slack)s/…) is allowed; %(host)s is not. "
        "A self-hosted relay must be added to %(setting)s by the operator."
    ) % {"slack": SLACK_WEBHOOK_HOST, "host": host, "setting": SETTING}


def slack_webhook_refusal(url: str) -> str | None:
    """`webhook_url_refusal` against the configured allowlist."""
    return webhook_url_refusal(
        url, allowed=allowed_origins(getattr(settings, SETTING, [SLACK_WEBHOOK_HOST]))
    )
