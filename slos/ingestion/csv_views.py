"""Pages for sources a team feeds itself (kind push or csv): the CSV upload, in two
steps, and the source's push token.

The upload writes nothing until it is confirmed: step 1 checks the file and shows a
preview; the file's text travels to step 2 signed (django.core.signing, compressed,
bound to the source and the user, valid for an hour), so the server keeps no state
between the steps and nobody can slip other content into the confirmation. Step 2
checks the text again, against the SLOs and the clock as they are then, and writes."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import AuthedRequest
from portal.formatting import count_text
from portal.models import Role
from slos import limits
from slos.access import data_source_for_user
from slos.budget import HOUR, align_to_hour
from slos.ingestion import push
from slos.models import DataSource

PREVIEW_MAX_AGE_SECONDS = 60 * 60
PREVIEW_ROWS = 20
ERRORS_SHOWN = 100


def _fed_only(source: DataSource) -> DataSource:
    """Only push and csv sources take uploads and push tokens."""
    if source.is_pulled:
        raise Http404(_("This source is pulled from Prometheus; it takes no uploads."))
    return source


class CSVUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        allow_empty_file=True,
        help_text=gettext_lazy(
            "UTF-8, with the header slo,hour,good,valid (optionally good_slices,total_slices)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > limits.MAX_CSV_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB; split it and upload the parts.")
                % {"size": limits.MAX_CSV_BYTES // (1024 * 1024)}
            )
        return upload.read()


def _salt(source: DataSource, request: AuthedRequest) -> str:
    return f"slos.csv_upload:{source.pk}:{request.user.pk}"


def _page(request: AuthedRequest, source: DataSource, *, status: int = 200, **context):
    context.setdefault("form", CSVUploadForm())
    errors = context.pop("errors", ())
    return render(
        request,
        "slos/csv/upload.html",
        {
            "source": source,
            "errors": errors[:ERRORS_SHOWN],
            "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
            "columns": push.FIELDS,
            "max_rows": f"{limits.MAX_CSV_ROWS:,}",
            "megabytes": limits.MAX_CSV_BYTES // (1024 * 1024),
            "earliest_hour": limits.EARLIEST_HOUR,
            "max_events": f"{limits.MAX_EVENTS_PER_HOUR:,}",
            **context,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def csv_upload(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET: the form. POST with a file: check it and show the preview (nothing is
    written). POST with the signed preview: check it again and store it."""
    source = _fed_only(data_source_for_user(request.user, pk, Role.MEMBER)[0])
    if request.method == "POST" and "preview" in request.POST:
        return _confirm(request, source)
    if request.method == "GET":
        return _page(request, source)
    form = CSVUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, source, form=form, status=400)
    slos = push.push_targets(source)
    batch = push.csv_check(form.cleaned_data["file"], slos=slos, now=timezone.now())
    if batch.errors:
        return _page(request, source, errors=batch.errors, status=400)
    text = form.cleaned_data["file"].decode("utf-8-sig")
    return _page(
        request,
        source,
        summary=push.batch_summary(batch, slos=slos),
        first_rows=[_preview_row(row, slos) for row in batch.rows[:PREVIEW_ROWS]],
        data_errors=[
            (row.index, slos[row.measurement.slo_id], push.data_error_message(row.measurement))
            for row in batch.data_errors[:ERRORS_SHOWN]
        ],
        data_error_count=len(batch.data_errors),
        replacing=push.hours_already_stored(batch.measurements),
        preview=signing.dumps(text, salt=_salt(source, request), compress=True),
    )


def _preview_row(row: push.CheckedRow, slos: push.SLOIndex) -> dict:
    measurement = row.measurement
    return {
        "line": row.index,
        "slo": slos[measurement.slo_id],
        "hour": measurement.hour,
        "good": count_text(measurement.good),
        "valid": count_text(measurement.valid),
        "good_slices": measurement.good_slices,
        "total_slices": measurement.total_slices,
    }


def _confirm(request: AuthedRequest, source: DataSource) -> HttpResponse:
    try:
        text = signing.loads(
            request.POST["preview"],
            salt=_salt(source, request),
            max_age=PREVIEW_MAX_AGE_SECONDS,
        )
    except signing.SignatureExpired:
        messages.error(request, _("The preview has expired; upload the file again."))
        return _page(request, source, status=400)
    except signing.BadSignature:
        messages.error(request, _("The preview could not be read; upload the file again."))
        return _page(request, source, status=400)
    slos = push.push_targets(source)
    batch = push.csv_check(text, slos=slos, now=timezone.now())
    if batch.errors:
        # The source's SLOs changed between the preview and the confirmation.
        return _page(request, source, errors=batch.errors, status=400)
    stored = push.measurements_store(
        source=source, measurements=batch.measurements, at=timezone.now()
    )
    slo_count = len({m.slo_id for m in batch.measurements})
    messages.success(
        request,
        ngettext(
            "Stored %(hours)d hour for %(slos)d SLO(s).",
            "Stored %(hours)d hours for %(slos)d SLO(s).",
            stored,
        )
        % {"hours": stored, "slos": slo_count},
    )
    if batch.data_errors:
        messages.warning(
            request,
            _(
                "%(count)d hour(s) have more good than valid events: stored as sent and "
                "flagged as data errors."
            )
            % {"count": len(batch.data_errors)},
        )
    return redirect("slos:source_detail", pk=source.pk)


@require_POST
def push_token_rotate(request: AuthedRequest, pk: int) -> HttpResponse:
    """Make a new push token (team admins); the old one stops working. The token is on
    this response only: no redirect, so the secret never travels through the session."""
    source = _fed_only(data_source_for_user(request.user, pk, Role.ADMIN)[0])
    raw = push.push_token_rotate(source=source)
    example_slo = source.slos.order_by("pk").values_list("openslo_name", "pk").first()
    response = render(
        request,
        "slos/csv/push_token.html",
        {
            "source": source,
            "new_token": raw,
            "example": json.dumps(
                {
                    "measurements": [
                        {
                            "slo": (example_slo[0] or example_slo[1]) if example_slo else 1,
                            "hour": (align_to_hour(timezone.now()) - HOUR).strftime(
                                "%Y-%m-%dT%H:%M:%SZ"
                            ),
                            "good": 990,
                            "valid": 1000,
                        }
                    ]
                }
            ),
            "push_url": request.build_absolute_uri(
                reverse("api:measurements_push", args=[source.pk])
            ),
        },
    )
    add_never_cache_headers(response)
    return response
