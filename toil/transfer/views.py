"""The backlog in and out as CSV.

Export: the team's ranking with every factor and weight, for a spreadsheet or an audit
of the ranking. Import, in two steps that write nothing until confirmed: step 1 checks
every row and shows a preview with each row's errors; the checked text travels to step
2 signed (django.core.signing, compressed, bound to the team and the user, valid for an
hour), so the server keeps no state between the steps and nobody can slip other
content into the confirmation. Step 2 checks it again against the team as it is then
and creates every item, or none."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_membership_or_404
from portal.models import Role, Team
from slos.models import SLO
from toil import services
from toil.models import BacklogItem
from toil.selectors import backlog_settings, ranked_backlog
from toil.transfer.forms import ImportConfirmForm, ImportUploadForm
from toil.transfer.spreadsheet import (
    MAX_IMPORT_ROWS,
    SAMPLE_HEADER,
    ImportCheck,
    decode_upload,
    export_csv,
    read_import,
)

PREVIEW_MAX_AGE_SECONDS = 60 * 60
PREVIEW_ROWS = 50
ERRORS_SHOWN = 100
PAGE = "toil/import.html"


@require_GET
def backlog_export(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_membership_or_404(request.user, slug).team
    at = timezone.now()
    ranked = ranked_backlog(BacklogItem.objects.filter(team=team), at=at)
    response = HttpResponse(
        export_csv(ranked, backlog_settings(team).weights()), content_type="text/csv; charset=utf-8"
    )
    filename = f"backlog-{team.slug}-{timezone.localdate(at):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _salt(team: Team, request: AuthedRequest) -> str:
    return f"toil.import:{team.pk}:{request.user.pk}"


def _check(team: Team, text: str) -> ImportCheck:
    return read_import(
        text,
        members={
            user.get_username(): user
            for user in get_user_model().objects.filter(memberships__team=team)
        },
        slos={slo.name: slo for slo in SLO.objects.filter(service__team=team)},
        open_titles=BacklogItem.objects.filter(team=team).open().values_list("title", flat=True),
    )


def _page(request, team, *, upload_form=None, check=None, payload="", error="", status=200):
    return render(
        request,
        PAGE,
        {
            "team": team,
            "upload_form": upload_form or ImportUploadForm(),
            "check": check,
            "preview": check.rows[:PREVIEW_ROWS] if check else [],
            "errors": check.errors[:ERRORS_SHOWN] if check else [],
            "payload": payload,
            "error": error,
            "sample_header": SAMPLE_HEADER,
            "max_rows": MAX_IMPORT_ROWS,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def backlog_import(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_membership_or_404(request.user, slug, Role.MEMBER).team
    if request.method == "GET":
        return _page(request, team)
    if "payload" in request.POST:
        return _confirm(request, team)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, team, upload_form=form, error=_("Nothing was imported."), status=400)
    upload = form.cleaned_data["file"]
    try:
        text = decode_upload(upload.read(1_000_001))
    except ValueError as refused:
        return _page(request, team, upload_form=form, error=str(refused), status=400)
    check = _check(team, text)
    if not check.ok:
        return _page(
            request,
            team,
            upload_form=form,
            check=check,
            error=check.problem
            or _("Nothing was imported: correct the rows below and upload the file again."),
            status=400,
        )
    payload = signing.dumps(text, salt=_salt(team, request), compress=True)
    return _page(request, team, check=check, payload=payload)


def _confirm(request: AuthedRequest, team: Team) -> HttpResponse:
    form = ImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise signing.BadSignature
        text = signing.loads(
            form.cleaned_data["payload"], salt=_salt(team, request), max_age=PREVIEW_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return _page(
            request,
            team,
            error=_("The preview has expired or was changed. Upload the file again."),
            status=400,
        )
    check = _check(team, text)
    if not check.ok:
        return _page(
            request,
            team,
            check=check,
            error=check.problem
            or _("The backlog changed since the preview; nothing was imported."),
            status=400,
        )
    created = services.backlog_items_import(
        team=team, rows=check.rows, by=request.user, at=timezone.now()
    )
    messages.success(
        request,
        ngettext(
            "%(count)d item imported into the backlog.",
            "%(count)d items imported into the backlog.",
            len(created),
        )
        % {"count": len(created)},
    )
    return redirect("toil:plan", team.slug)
