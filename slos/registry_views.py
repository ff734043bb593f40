"""Placeholder: the registry's write side (edit, review, policy, annotations, due list)
is being built; each view answers 404 until then."""

from django.http import Http404


def _not_yet(*args, **kwargs):
    raise Http404("Not built yet.")


slo_edit = slo_review = policy_edit = annotation_create = annotation_delete = _not_yet
due_for_review = _not_yet
