from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.notifications.webhooks import slack_webhook_refusal

MAX_ALERTS_PER_WEEK_TARGET = 1000


def _retro_minutes_range() -> tuple[int, int]:
    """The retro's length bounds, as Team.retro_minutes's validators hold them."""
    validators = Team._meta.get_field("retro_minutes").validators
    low = next(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return low, high


RETRO_MINUTES = _retro_minutes_range()

SLACK_MENTION = re.compile(
    r"<!(?:channel|here|everyone)>|<!subteam\^[A-Z0-9]+(?:\|[^<>]*)?>|<@[UW][A-Z0-9]+>"
)


class TeamSettingsForm(forms.ModelForm):
    # The webhook URL is a secret: never rendered back, blank keeps the stored one.
    slack_webhook_url = forms.CharField(
        label=_("Slack incoming webhook URL"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    slack_webhook_clear = forms.BooleanField(
        label=_("Remove the Slack webhook (nothing is sent to Slack)"), required=False
    )

    class Meta:
        model = Team
        fields = [
            "name",
            "time_zone",
            "budget_at_risk_below",
            "no_data_after_hours",
            "alerts_per_week_target",
            "slack_webhook_url",
            "slack_mention",
            "ticket_delivery",
            "retro_weekday",
            "retro_time",
            "retro_minutes",
        ]
        widgets = {
            "retro_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget = forms.TextInput(attrs={"list": "time-zones"})
        self.fields["time_zone"].help_text = _(
            "An IANA time zone, e.g. Asia/Tokyo. Calendar windows and retro weeks use it."
        )
        self.time_zones = sorted(available_timezones())
        self.fields["ticket_delivery"].required = False
        # The range check is clean_alerts_per_week_target's, with one clear message.
        target = self.fields["alerts_per_week_target"]
        target.required = False
        target.validators = []
        target.widget.attrs.update({"min": 0, "max": MAX_ALERTS_PER_WEEK_TARGET})
        # The weekly retro's cadence; a form posted without these (an older page, a
        # script) keeps them. Range checks are clean_retro_minutes's, with one message.
        for name in ("retro_weekday", "retro_time", "retro_minutes"):
            self.fields[name].required = False
        self.fields["retro_weekday"].help_text = _("The next retro is planned on this day.")
        self.fields["retro_time"].help_text = _("In the team's time zone, e.g. 10:00.")
        self.fields["retro_time"].error_messages["invalid"] = _("Give a time like 10:00.")
        minutes = self.fields["retro_minutes"]
        minutes.validators = []
        minutes.widget.attrs.update({"min": RETRO_MINUTES[0], "max": RETRO_MINUTES[1]})
        minutes.help_text = _("The meeting screen splits this time between the sections.")
        self.stored_webhook_url = self.instance.slack_webhook_url
        if self.stored_webhook_url:
            self.fields["slack_webhook_url"].help_text = _(
                "Stored: %(masked)s. Leave blank to keep it; paste a new URL to replace it."
            ) % {"masked": self.instance.slack_webhook_masked}
        else:
            self.fields["slack_webhook_url"].help_text = _(
                "From a Slack app's Incoming Webhooks page. Alerts and tickets are posted there."
            )
            del self.fields["slack_webhook_clear"]

    def clean_slack_webhook_url(self) -> str:
        value = self.cleaned_data["slack_webhook_url"].strip()
        if not value:
            return self.stored_webhook_url
        try:
            URLValidator(schemes=["https", "http"])(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _("Enter the webhook's full URL, e.g. https://hooks.slack.com/services/…")
            ) from None
        refusal = slack_webhook_refusal(value)
        if refusal is not None:
            raise forms.ValidationError(refusal)
        return value

    def clean_slack_mention(self) -> str:
        # A form posted without the Slack fields (an older page, a script) keeps them.
        if self.add_prefix("slack_mention") not in self.data:
            return self.instance.slack_mention
        value = " ".join(self.cleaned_data["slack_mention"].split())
        if value and not all(SLACK_MENTION.fullmatch(part) for part in value.split(" ")):
            raise forms.ValidationError(
                _("Use <!channel>, <!here>, a user group as <!subteam^ID> or a user as <@ID>.")
            )
        return value

    def clean_alerts_per_week_target(self) -> int:
        value = self.cleaned_data["alerts_per_week_target"]
        # A form posted without the field (an older page, a script) keeps it.
        if value is None and self.add_prefix("alerts_per_week_target") not in self.data:
            return self.instance.alerts_per_week_target
        if value is None or not 0 <= value <= MAX_ALERTS_PER_WEEK_TARGET:
            raise forms.ValidationError(
                _("Give a number of alerts a week from 0 to %(max)d, e.g. 5."),
                params={"max": MAX_ALERTS_PER_WEEK_TARGET},
            )
        return value

    def _kept(self, name: str):
        """The posted value, or the stored one when the form did not post the field."""
        value = self.cleaned_data[name]
        if value in (None, "") and self.add_prefix(name) not in self.data:
            return getattr(self.instance, name)
        return value

    def clean_retro_weekday(self) -> int:
        value = self._kept("retro_weekday")
        if value in (None, ""):
            raise forms.ValidationError(_("Choose the retro's weekday."))
        return int(value)

    def clean_retro_time(self):
        value = self._kept("retro_time")
        if value is None:
            raise forms.ValidationError(_("Give a time like 10:00."))
        return value

    def clean_retro_minutes(self) -> int:
        value = self._kept("retro_minutes")
        low, high = RETRO_MINUTES
        if value is None or not low <= value <= high:
            raise forms.ValidationError(
                _("Give a length from %(low)d to %(high)d minutes, e.g. 30."),
                params={"low": low, "high": high},
            )
        return value

    def clean_ticket_delivery(self) -> str:
        return self.cleaned_data["ticket_delivery"] or self.instance.ticket_delivery

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("slack_webhook_clear"):
            cleaned["slack_webhook_url"] = ""
        return cleaned

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
