"""OpenSLO in and out through the browser: an upload form for team members and a
download for anyone in the team. The rules live in slos/openslo/."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

import slos.openslo as openslo
from portal.access import AuthedRequest, team_or_404
from portal.models import Role
from slos.openslo import OpenSLOError, SourceFile
from slos.registry.selectors import team_pulls_waiting


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".yaml,.yml"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class OpenSLOUploadForm(forms.Form):
    files = MultipleFileField(
        label=gettext_lazy("OpenSLO v1 YAML files"),
        help_text=gettext_lazy(
            "Service, DataSource, SLO and SLI documents; several per file, separated by ---."
        ),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Only check the files; write nothing"), required=False
    )

    def clean_files(self) -> list[SourceFile]:
        uploads = self.cleaned_data["files"]
        # Judged on the sizes alone, before a byte is decoded or parsed.
        problems = openslo.upload_problems([(upload.name, upload.size) for upload in uploads])
        if problems:
            raise forms.ValidationError(problems)
        sources = []
        for upload in uploads:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    _("%(name)s is not UTF-8 text.") % {"name": upload.name}
                ) from None
            sources.append(SourceFile(name=upload.name, text=text))
        return sources


def _pulls_delayed_note(request: AuthedRequest, team, *, dry_run: bool) -> None:
    """The imported SLOs are saved; say so when their backfills wait for the task queue."""
    waiting = 0 if dry_run else team_pulls_waiting(team)
    if waiting:
        messages.warning(
            request,
            ngettext(
                "%(count)d pull is delayed: the task queue cannot be reached right now. "
                "What was imported is saved; the pull starts on its own once the queue is back.",
                "%(count)d pulls are delayed: the task queue cannot be reached right now. "
                "What was imported is saved; the pulls start on their own once the queue is "
                "back.",
                waiting,
            )
            % {"count": waiting},
        )


@require_http_methods(["GET", "POST"])
def openslo_import(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)
    form = OpenSLOUploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "team": team, "report": None, "problems": []}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                context["report"] = openslo.openslo_import(
                    files=form.cleaned_data["files"],
                    team=team,
                    dry_run=form.cleaned_data["dry_run"],
                )
                status = 200
                _pulls_delayed_note(request, team, dry_run=form.cleaned_data["dry_run"])
            except OpenSLOError as exc:
                context["problems"] = exc.problems
    return render(request, "slos/openslo/import.html", context, status=status)


@require_GET
def openslo_export(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug)
    response = HttpResponse(
        openslo.openslo_export(teams=[team]), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="openslo-{team.slug}.yaml"'
    return response
