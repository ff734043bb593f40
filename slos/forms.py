from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.models import SLO, DataSource, Service
from slos.prometheus import WINDOW_PLACEHOLDER


class DataSourceForm(forms.ModelForm):
    class Meta:
        model = DataSource
        fields = ["name", "url", "timeout_seconds"]

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_url(self) -> str:
        return self.cleaned_data["url"].strip().rstrip("/")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if DataSource.objects.filter(team=self.team, name=name).exists():
            raise forms.ValidationError(_("This team already has a data source of that name."))
        return name


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name", "description"]

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Service.objects.filter(team=self.team, name=name).exists():
            raise forms.ValidationError(_("This team already has a service of that name."))
        return name


class SLOForm(forms.ModelForm):
    target = forms.DecimalField(
        label=_("target"),
        help_text=_("As a percentage, e.g. 99.9."),
        decimal_places=5,
        widget=forms.NumberInput(attrs={"step": "0.001", "min": "50", "max": "99.999"}),
    )

    class Meta:
        model = SLO
        fields = [
            "service",
            "data_source",
            "name",
            "why",
            "good_query",
            "valid_query",
            "target",
            "window_days",
            "provisional",
        ]
        widgets = {
            "why": forms.Textarea(attrs={"rows": 2}),
            "good_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "valid_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["service"].queryset = Service.objects.filter(team=team)
        self.fields["data_source"].queryset = DataSource.objects.filter(team=team)
        self.fields["data_source"].required = True

    def _clean_query(self, field: str) -> str:
        query = self.cleaned_data[field].strip()
        if WINDOW_PLACEHOLDER not in query:
            raise forms.ValidationError(
                _(
                    "The query must contain %(placeholder)s where the range goes, e.g. "
                    "sum(increase(http_requests_total[%(placeholder)s]))."
                ),
                params={"placeholder": WINDOW_PLACEHOLDER},
            )
        return query

    def clean_good_query(self) -> str:
        return self._clean_query("good_query")

    def clean_valid_query(self) -> str:
        return self._clean_query("valid_query")

    def clean_target(self) -> Decimal:
        target: Decimal = self.cleaned_data["target"]
        if not Decimal("50") <= target < Decimal("100"):
            raise forms.ValidationError(
                _(
                    "The target is a percentage from 50 up to, but not including, 100, "
                    "e.g. 99.9 (100% leaves no error budget)."
                )
            )
        return target

    def clean(self):
        cleaned = super().clean()
        service = cleaned.get("service")
        name = cleaned.get("name")
        if service and name and SLO.objects.filter(service=service, name=name.strip()).exists():
            self.add_error("name", _("This service already has an SLO of that name."))
        return cleaned
