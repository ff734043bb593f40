"""Request-wide guards that must act before anything reads the request body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class RequestSizeLimitMiddleware:
    """Refuses a request whose body is larger than `settings.MAX_REQUEST_BYTES` with 413,
    before the CSRF check or a form reads it: a form's own bounds (the OpenSLO upload's
    file count and sizes, the CSV uploads) are judged only after Django has received the
    whole body, so without this a single request of 100 files of 1 MB held a worker and
    its memory. Django reads no more than the declared Content-Length, so the declared
    length is what counts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES and not request.path.startswith(
            settings.MAX_REQUEST_BYTES_EXEMPT
        ):
            return _too_large(request, length)
        return self.get_response(request)


def _too_large(request: HttpRequest, length: int) -> HttpResponse:
    megabytes = settings.MAX_REQUEST_BYTES / (1024 * 1024)
    message = _(
        "The request is too large (%(sent).1f MB); the portal takes at most %(limit).0f MB "
        "in one request. Nothing was read or changed."
    ) % {"sent": length / (1024 * 1024), "limit": megabytes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "portal/too_large.html", {"message": message}, status=413)
