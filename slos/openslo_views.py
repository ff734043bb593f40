"""Placeholder: OpenSLO upload and download are being built; 404 until then."""

from django.http import Http404


def _not_yet(*args, **kwargs):
    raise Http404("Not built yet.")


openslo_import = openslo_export = _not_yet
