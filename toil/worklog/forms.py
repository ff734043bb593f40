"""The work log's forms: an entry, and the feed's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from toil.capacity import ENTRY_HOURS_MAX
from toil.models import BacklogItem

HOURS_MESSAGE = _("Give the hours as a number from 0.25 to %(max)s, e.g. 1.5.") % {
    "max": ENTRY_HOURS_MAX
}


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: BacklogItem) -> str:
        return obj.title


class WorkLogForm(forms.Form):
    on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Give the date of the work."),
            "invalid": _("Give the date as YYYY-MM-DD."),
        },
    )
    hours = forms.DecimalField(
        label=_("Hours"),
        min_value=0.25,
        max_value=ENTRY_HOURS_MAX,
        max_digits=4,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0.25", "max": "24"}),
        error_messages={
            key: HOURS_MESSAGE
            for key in (
                "required",
                "invalid",
                "min_value",
                "max_value",
                "max_digits",
                "max_decimal_places",
                "max_whole_digits",
            )
        },
    )
    item = ItemChoiceField(
        label=_("Backlog item"),
        queryset=BacklogItem.objects.none(),
        required=False,
        empty_label=_("Other work (not on the backlog)"),
        error_messages={"invalid_choice": _("Choose one of the team's open backlog items.")},
    )
    toil = forms.BooleanField(
        label=_("This was toil"),
        required=False,
        help_text=_("Manual, repetitive work a machine could do: the SRE books cap it at 50%."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(),
        error_messages={
            "max_length": _("Keep the note under 2,000 characters."),
            "null_characters_not_allowed": _("The note contains a character that is not text."),
        },
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = (
            BacklogItem.objects.filter(team=team).open().order_by("title")
        )


class FeedFilterForm(forms.Form):
    person = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    item = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)
