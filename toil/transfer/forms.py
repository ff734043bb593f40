"""The import's two steps: the upload, and the confirmation carrying the checked text."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from toil.transfer.spreadsheet import SAMPLE_HEADER


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        allow_empty_file=True,
        help_text=_("UTF-8, with a header line such as: %(header)s") % {"header": SAMPLE_HEADER},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": _("Choose a CSV file to import.")},
    )


class ImportConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)
