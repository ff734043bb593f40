"""Sign-in throttling (django-axes): where a failed sign-in comes from, and the page a
locked-out client sees. The limits themselves are settings (AXES_FAILURE_LIMIT,
AXES_COOLOFF_TIME), read from the environment in settings.py."""

from __future__ import annotations

import ipaddress
import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted_proxies: int
) -> str | None:
    """The address a sign-in is counted against. With no trusted proxy that is the peer of
    the connection: X-Forwarded-For is then whatever the client chose to send. With n
    proxies in front, each appends the address it received the request from, so the
    client is the n-th entry from the right; entries to its left are the client's own."""
    if trusted_proxies <= 0 or not forwarded_for:
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if len(hops) < trusted_proxies:
        return remote_addr
    candidate = hops[-trusted_proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def request_client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE."""
    return client_address(
        request.META.get("REMOTE_ADDR"),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        settings.TRUSTED_PROXY_COUNT,
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page's message in the site's layout, 429."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = math.ceil(cool_off.total_seconds() / 60)
    return render(
        request,
        "registration/lockout.html",
        {"cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
