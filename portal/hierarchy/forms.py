from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.hierarchy.levels import ENABLEMENTS, LEVELS, NOTE_MAX_CHARS, Level
from portal.hierarchy.rules import LevelAnswer, Round


def field_names(level: Level) -> tuple[str, str, str]:
    return f"{level.key}-checked", f"{level.key}-enablement", f"{level.key}-note"


class AssessmentForm(forms.Form):
    """A round: the date, then for every level its checklist, its enablement level and
    a note. Every level needs an enablement level (0, "not done", is an answer)."""

    assessed_on = forms.DateField(
        label=_("Assessed on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Give the date of the assessment."),
            "invalid": _("Enter the date as YYYY-MM-DD."),
        },
    )

    def __init__(self, *args, today: date, previous: Round | None = None, **kwargs):
        if previous is not None and "initial" not in kwargs:
            kwargs["initial"] = _initial_from(previous)
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["assessed_on"].initial = today
        for level in LEVELS:
            checked, enablement, note = field_names(level)
            self.fields[checked] = forms.MultipleChoiceField(
                label=level.label,
                required=False,
                choices=[(item.key, item.text) for item in level.checklist],
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "invalid_choice": _("Tick items of this level's checklist only."),
                    "invalid_list": _("Tick items of this level's checklist only."),
                },
            )
            self.fields[enablement] = forms.TypedChoiceField(
                label=_("Enablement level"),
                choices=[(e.value, f"{e.value} · {e.label}") for e in ENABLEMENTS],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose an enablement level, 0 to 3 (0: not done)."),
                    "invalid_choice": _("Choose an enablement level, 0 to 3 (0: not done)."),
                },
            )
            self.fields[note] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=NOTE_MAX_CHARS,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean_assessed_on(self) -> date:
        assessed_on = self.cleaned_data["assessed_on"]
        if assessed_on > self.today:
            raise forms.ValidationError(_("The date cannot be after today."))
        return assessed_on

    def answers(self) -> list[LevelAnswer]:
        data = self.cleaned_data
        answers = []
        for level in LEVELS:
            checked, enablement, note = field_names(level)
            answers.append(
                LevelAnswer(
                    level=level.key,
                    enablement=data[enablement],
                    checked=frozenset(data[checked]),
                    note=data[note].strip(),
                )
            )
        return answers

    def level_fields(self, level: Level) -> tuple:
        return tuple(self[name] for name in field_names(level))


def _initial_from(previous: Round) -> dict:
    """The last round's answers, so a new round starts from where the team stood."""
    initial = {}
    for level in LEVELS:
        answer = previous.answers.get(level.key)
        if answer is None:
            continue
        checked, enablement, _note = field_names(level)
        initial[checked] = [key for key in level.item_keys if key in answer.checked]
        initial[enablement] = answer.enablement
    return initial
