from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.access import AuthedRequest


@require_GET
def backlog_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "toil/list.html", {})
