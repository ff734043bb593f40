"""The data source form: secrets are write-only (shown masked; left blank, they stay)."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.limits import ANY_CONTROL_CHARACTER
from slos.models import DataSource

SECRET_FIELDS = ["bearer_token", "basic_password"]


def masked(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= 12 else "••••"


class DataSourceForm(forms.ModelForm):
    extra_headers = forms.CharField(
        label=_("Extra headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=_('A JSON object, e.g. {"X-Scope-OrgID": "payroll"}. Values are kept secret.'),
    )

    class Meta:
        model = DataSource
        fields = [
            "name",
            "kind",
            "url",
            "timeout_seconds",
            "verify_tls",
            "auth_kind",
            "bearer_token",
            "basic_username",
            "basic_password",
            "extra_headers",
        ]
        widgets = {
            "bearer_token": forms.PasswordInput(render_value=False),
            "basic_password": forms.PasswordInput(render_value=False),
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        editing = self.instance.pk is not None
        for field in SECRET_FIELDS:
            current = getattr(self.instance, field)
            if editing and current:
                self.fields[field].help_text = _("Stored: %(masked)s. Leave blank to keep it.") % {
                    "masked": masked(current)
                }
        if editing and self.instance.extra_headers:
            self.initial["extra_headers"] = json.dumps(
                self._masked_headers(self.instance.extra_headers), ensure_ascii=False
            )
            self.fields["extra_headers"].help_text = _(
                "Stored headers are shown masked; leave them as they are to keep them, or "
                "give a new JSON object to replace them all."
            )

    @staticmethod
    def _masked_headers(headers: dict[str, str]) -> dict[str, str]:
        return {key: masked(value) or "••••" for key, value in headers.items()}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = DataSource.objects.filter(team=self.team, name=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("This team already has a data source of that name."))
        return name

    def clean_url(self) -> str:
        return self.cleaned_data["url"].strip().rstrip("/")

    def clean_extra_headers(self) -> dict:
        raw = self.cleaned_data["extra_headers"].strip()
        if not raw:
            return {}
        try:
            headers = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(
                _('Not valid JSON. Write an object like {"X-Org": "payroll"}.')
            ) from None
        stored = self.instance.extra_headers if self.instance.pk else {}
        if stored and headers == self._masked_headers(stored):
            return stored  # the masked display sent back unchanged: keep them
        if not isinstance(headers, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in headers.items()
        ):
            raise forms.ValidationError(_("Headers must be a JSON object of text values."))
        if any(ANY_CONTROL_CHARACTER.search(text) for item in headers.items() for text in item):
            # \u0000 is valid JSON that PostgreSQL's jsonb refuses (a 500).
            raise forms.ValidationError(
                _("Header names and values cannot hold control characters (NUL, line breaks…).")
            )
        return headers

    def _post_clean(self) -> None:
        # A blank secret on edit means "keep the stored one". The instance still holds
        # the stored values: super()._post_clean() is what copies cleaned_data onto it.
        if self.instance.pk:
            for field in SECRET_FIELDS:
                if not self.cleaned_data.get(field):
                    self.cleaned_data[field] = getattr(self.instance, field)
        super()._post_clean()
