"""Placeholder for the JSON API (django-ninja), mounted at /api/."""

from django.http import Http404
from django.urls import path


def _not_yet(*args, **kwargs):
    raise Http404("Not built yet.")


urlpatterns = [path("openapi.json", _not_yet)]
