from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.models import SLO
from toil.models import BacklogItem


class SLOChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SLO) -> str:
        return f"{obj.service.name} · {obj.name}"


class BacklogItemForm(forms.ModelForm):
    class Meta:
        model = BacklogItem
        fields = [
            "title",
            "description",
            "kind",
            "impact",
            "likelihood",
            "toil_hours_per_month",
            "effort",
            "slo",
        ]
        field_classes = {"slo": SLOChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "title": {"required": _("Give the item a short title.")},
            "kind": {"required": _("Choose what kind of work this is.")},
            "impact": {"required": _("Choose who is hurt when this goes wrong.")},
            "likelihood": {"required": _("Choose how often this goes wrong.")},
            "effort": {"required": _("Choose a size for the work, from XS to XL.")},
            "slo": {"invalid_choice": _("Choose one of your team's SLOs, or none.")},
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["slo"].queryset = SLO.objects.filter(service__team=team).select_related(
            "service"
        )
        self.fields["slo"].empty_label = _("No SLO")

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()
