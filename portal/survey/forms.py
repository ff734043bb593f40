from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import ExpectedAnswer, RoundStatement, SurveyChoice, SurveyStatement


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("Statement"),
        max_length=SurveyStatement._meta.get_field("text").max_length,
        error_messages={"required": _("Write the statement.")},
    )
    expected = forms.ChoiceField(
        label=_("Expected answer"),
        choices=ExpectedAnswer.choices,
        required=False,
        error_messages={"invalid_choice": _("Choose agree, disagree or no expected answer.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A row of the edit list shows no label of its own: the field says what it is.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write the statement."))
        return text


class SurveySettingsForm(forms.Form):
    anonymous_by_default = forms.BooleanField(
        label=_("New rounds are anonymous"),
        required=False,
        help_text=_("Each round can still be opened the other way."),
    )


class RoundOpenForm(forms.Form):
    anonymous = forms.BooleanField(
        label=_("Anonymous: nobody, admins included, sees who answered what"),
        required=False,
    )


class AnswerForm(forms.Form):
    """One agree / disagree / unsure question per statement of the round."""

    def __init__(self, statements: list[RoundStatement], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements = statements
        for statement in statements:
            self.fields[self.field_name(statement)] = forms.ChoiceField(
                label=statement.text,
                choices=SurveyChoice.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Answer this statement."),
                    "invalid_choice": _("Choose agree, disagree or unsure."),
                },
            )

    @staticmethod
    def field_name(statement: RoundStatement) -> str:
        return f"s{statement.pk}"

    def rows(self):
        return [(statement, self[self.field_name(statement)]) for statement in self.statements]

    def answers(self) -> dict[int, str]:
        return {s.pk: self.cleaned_data[self.field_name(s)] for s in self.statements}


class CompareForm(forms.Form):
    before = forms.TypedChoiceField(
        label=_("Earlier round"),
        coerce=int,
        error_messages={
            "required": _("Choose two closed rounds."),
            "invalid_choice": _("Choose a closed round of this team."),
        },
    )
    after = forms.TypedChoiceField(
        label=_("Later round"),
        coerce=int,
        error_messages={
            "required": _("Choose two closed rounds."),
            "invalid_choice": _("Choose a closed round of this team."),
        },
    )

    def __init__(self, numbers: list[int], *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, _("Round %(number)s") % {"number": n}) for n in numbers]
        self.fields["before"].choices = choices
        self.fields["after"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("before") is not None and data.get("before") == data.get("after"):
            raise forms.ValidationError(_("Choose two different rounds."))
        return data
