"""The backlog in and out as CSV.

Export: the team's ranking with every factor and weight, for a spreadsheet or an audit
of the ranking. Import, in two steps that write nothing until confirmed: step 1 checks
every row and shows a preview with each row's errors; the checked text travels to step
2 signed (django.core.signing, compressed, bound to the team and the user, valid for an
hour), so the server keeps no state between the steps and nobody can slip other
content into the confirmation. (Asking for the file again instead would let the
second upload differ from what was previewed.) Step 2 checks it again against the team
as it is then and creates every item, or none."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_or_404
from portal.models import Role, Team
from toil import services
from toil.models import Impact, Kind, Likelihood, Status
from toil.services import ImportRow
from toil.transfer.forms import ImportConfirmForm, ImportUploadForm
from toil.transfer.selectors import backlog_export as ranked_export
from toil.transfer.selectors import import_lookups
from toil.transfer.spreadsheet import (
    MAX_IMPORT_ROWS,
    SAMPLE_HEADER,
    ImportCheck,
    export_csv,
    read_import,
)

PREVIEW_MAX_AGE_SECONDS = 60 * 60
PREVIEW_ROWS = 50
ERRORS_SHOWN = 100
PAGE = "toil/import.html"


@require_GET
def backlog_export(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug)
    at = timezone.now()
    ranked, weights = ranked_export(team, at=at)
    response = HttpResponse(export_csv(ranked, weights), content_type="text/csv; charset=utf-8")
    # The date the team reads on its calendar, as every date on its pages.
    filename = (
        f"backlog-{team.slug}-{timezone.localdate(at, ZoneInfo(team.time_zone)):%Y-%m-%d}.csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _salt(team: Team, request: AuthedRequest) -> str:
    return f"toil.import:{team.pk}:{request.user.pk}"


def _check(team: Team, text: str) -> ImportCheck:
    lookups = import_lookups(team)
    return read_import(
        text, members=lookups.members, slos=lookups.slos, open_titles=lookups.open_titles
    )


@dataclass(frozen=True)
class PreviewRow:
    """A checked row as the item page would show it: labels, not stored values."""

    row: ImportRow
    kind: str
    status: str
    impact: str
    likelihood: str


def _preview(rows: list[ImportRow]) -> list[PreviewRow]:
    return [
        PreviewRow(
            row=row,
            kind=Kind(row.kind).label,
            status=Status(row.status).label,
            impact=f"{row.impact} · {Impact(row.impact).label}",
            likelihood=f"{row.likelihood} · {Likelihood(row.likelihood).label}",
        )
        for row in rows
    ]


def _page(
    request: AuthedRequest,
    team: Team,
    *,
    upload_form: ImportUploadForm | None = None,
    check: ImportCheck | None = None,
    payload: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        PAGE,
        {
            "team": team,
            "upload_form": upload_form or ImportUploadForm(),
            "check": check,
            "preview": _preview(check.rows[:PREVIEW_ROWS]) if check else [],
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
    team = team_or_404(request.user, slug, Role.MEMBER)
    if request.method == "GET":
        return _page(request, team)
    if "payload" in request.POST:
        return _confirm(request, team)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(
            request,
            team,
            upload_form=form,
            error=_("Nothing was imported."),
            status=400,
        )
    text = form.cleaned_data["file"]
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
