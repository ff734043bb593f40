from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.models import SLO, DataSource, Service


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
        label=_("Target"),
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
            "owner",
            "sli_kind",
            "ratio_of",
            "good_query",
            "bad_query",
            "valid_query",
            "histogram_metric",
            "histogram_labels",
            "gauge_query",
            "threshold_op",
            "threshold",
            "target",
            "budgeting_method",
            "timeslice_target",
            "timeslice_minutes",
            "window_kind",
            "window_days",
            "calendar_period",
            "provisional",
            "review_interval_days",
        ]
        widgets = {
            "why": forms.Textarea(attrs={"rows": 2}),
            "good_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "valid_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "bad_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "gauge_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["service"].queryset = Service.objects.filter(team=team)
        self.fields["data_source"].queryset = DataSource.objects.filter(team=team)
        self.fields["data_source"].required = True
        self.fields["owner"].queryset = team.members.order_by("username")

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
