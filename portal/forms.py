from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team


class TeamSettingsForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "mission", "time_zone", "budget_at_risk_below", "no_data_after_hours"]
        widgets = {"mission": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget = forms.TextInput(attrs={"list": "time-zones"})
        self.fields["time_zone"].help_text = _(
            "An IANA time zone, e.g. Asia/Tokyo. Calendar windows and retro weeks use it."
        )
        self.time_zones = sorted(available_timezones())

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                _("“%(value)s” is not a time zone; use a name like Asia/Tokyo or UTC."),
                params={"value": value},
            ) from None
        return value

    def clean_budget_at_risk_below(self):
        value = self.cleaned_data["budget_at_risk_below"]
        if not 0 < value <= 100:
            raise forms.ValidationError(_("Give a percentage above 0 and at most 100, e.g. 25."))
        return value

    def clean_no_data_after_hours(self) -> int:
        value = self.cleaned_data["no_data_after_hours"]
        if not 1 <= value <= 168:
            raise forms.ValidationError(_("Give a number of hours from 1 to 168."))
        return value
