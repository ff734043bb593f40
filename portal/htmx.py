"""One way to swap a fragment: a view serves its page, and to htmx only the page's named
partial (django-template-partials, `page.html#partial`). A history restore (htmx found
no copy of the page in its cache) gets the whole page, as a plain GET does. The answer
varies on HX-Request, so no cache hands the fragment out as the page or the reverse."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from portal.access import AuthedRequest


def wants_partial(request: AuthedRequest) -> bool:
    """True when htmx asks for a fragment to swap in, not for the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page_or_partial(
    request: AuthedRequest,
    template_name: str,
    context: dict,
    *,
    partial: str,
    status: int = 200,
) -> HttpResponse:
    """`template_name` whole, or its partial `partial` when `wants_partial(request)`."""
    chosen = f"{template_name}#{partial}" if wants_partial(request) else template_name
    response = render(request, chosen, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
