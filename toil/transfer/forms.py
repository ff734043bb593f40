"""The import's two steps: the upload, and the confirmation carrying the checked text."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from toil.transfer.spreadsheet import MAX_IMPORT_BYTES, SAMPLE_HEADER, decode_upload


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        allow_empty_file=True,
        help_text=format_lazy(
            _("UTF-8, with a header line such as: {header}"), header=SAMPLE_HEADER
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"required": _("Choose a CSV file to import.")},
    )

    def clean_file(self) -> str:
        """The file's text: a UTF-8 CSV of at most MAX_IMPORT_BYTES, or a message."""
        upload = self.cleaned_data["file"]
        try:
            # One byte more than allowed is enough to tell the file is too big.
            return decode_upload(upload.read(MAX_IMPORT_BYTES + 1))
        except ValueError as refused:
            raise forms.ValidationError(str(refused), code="unreadable") from None


class ImportConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)
