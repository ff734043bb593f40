"""Deletes ask first. A delete form carries `confirm=yes` only once the person said yes:
with htmx the browser asks (hx-confirm) and htmx adds the field (hx-vals); without
JavaScript the form posts without it, and the view answers with a page that asks, whose
button posts the field. A delete view deletes only when `delete_confirmed(request)`."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from portal.access import AuthedRequest

CONFIRM_FIELD = "confirm"
CONFIRMED = "yes"
PAGE = "confirm_delete.html"


def delete_confirmed(request: AuthedRequest) -> bool:
    """True when the person said yes (the page's button, or htmx after the browser asked)."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRMED


def delete_confirmation(
    request: AuthedRequest,
    *,
    question: str,
    action: str,
    cancel_url: str,
    button: str,
    details: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    """The page that asks: `question` as its title, `details` on what goes, a button
    posting `fields` and the confirmation to `action`, and a way back to `cancel_url`."""
    return render(
        request,
        PAGE,
        {
            "question": question,
            "details": [line for line in details or [] if line],
            "action": action,
            "cancel_url": cancel_url,
            "button": button,
            "fields": sorted((fields or {}).items()),
            "confirm_field": CONFIRM_FIELD,
            "confirmed": CONFIRMED,
        },
    )


def after_delete(request: AuthedRequest, url: str) -> HttpResponse:
    """Back to `url` once deleted; htmx loads it as a whole page (its message on top)."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
