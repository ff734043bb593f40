from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import AuthedRequest


@require_GET
def retro_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "retros/list.html", {})
