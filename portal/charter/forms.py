from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.charter.services import FeatureEdit, FeatureHeard
from portal.models import Hearing, Responsibility, ResponsibleParty, SLICandidate, SREShape


class CharterForm(forms.Form):
    mission = forms.CharField(
        label=_("Mission"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the team exists, for its users, in a sentence or two."),
    )
    sre_shape = forms.ChoiceField(
        label=_("SRE shape"),
        choices=SREShape.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how the team works with its SRE."),
            "invalid_choice": _("Choose core, embedded or enabling."),
        },
    )


class ResponsibilityForm(forms.Form):
    description = forms.CharField(
        label=_("Responsibility"),
        max_length=Responsibility._meta.get_field("description").max_length,
        error_messages={"required": _("Say what the responsibility is.")},
    )
    party = forms.ChoiceField(
        label=_("Who"),
        choices=ResponsibleParty.choices,
        error_messages={"invalid_choice": _("Choose SRE, developers or shared.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A row of the edit list shows no label of its own: the field says what it is.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = field.label

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(_("Say what the responsibility is."))
        return description


class HearingForm(forms.ModelForm):
    class Meta:
        model = Hearing
        fields = ["held_on", "heard", "pains"]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "pains": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"pains": _("What hurts today, in the words heard.")}


class CandidateForm(forms.ModelForm):
    """One feature heard, with what "working" means for it: an SLI candidate."""

    class Meta:
        model = SLICandidate
        fields = ["feature", "working_means", "service_name"]
        widgets = {
            "working_means": forms.Textarea(attrs={"rows": 2}),
            "service_name": forms.TextInput(attrs={"list": "team-services"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].error_messages["required"] = _("Name the feature.")
        self.fields["working_means"].error_messages["required"] = _(
            "Say what “working” means for this feature, as it was heard."
        )

    def feature_heard(self) -> FeatureHeard:
        data = self.cleaned_data
        return FeatureHeard(
            feature=data["feature"],
            working_means=data["working_means"],
            service_name=data.get("service_name", ""),
        )


FEATURE_ROWS = 3
MAX_FEATURES = 30


class _BaseCandidateFormSet(forms.BaseFormSet):
    def features_heard(self) -> list[FeatureHeard]:
        """The filled rows, in order; blank rows are left out."""
        return [
            form.feature_heard()
            for form in self.forms
            if form.has_changed() and not self._should_delete_form(form)
        ]


CandidateFormSet = forms.formset_factory(
    CandidateForm,
    formset=_BaseCandidateFormSet,
    extra=FEATURE_ROWS,
    max_num=MAX_FEATURES,
    validate_max=True,
    absolute_max=MAX_FEATURES,
)


class FeatureEditForm(CandidateForm):
    """A feature on the hearing's edit page: a recorded one (its `candidate`, a hidden
    id) to change or remove, or a blank row for a new one."""

    candidate = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class _BaseFeatureEditFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove this feature")

    def clean(self):
        super().clean()
        if any("candidate" in form.errors for form in self.forms):
            raise forms.ValidationError(_("A feature listed is not one of this hearing's."))
        ids = [pk for form in self.forms if (pk := self._with_id(form))]
        if len(ids) != len(set(ids)):
            raise forms.ValidationError(_("A feature is listed twice."))

    def _with_id(self, form) -> int | None:
        return (getattr(form, "cleaned_data", None) or {}).get("candidate")

    def edits(self) -> list[FeatureEdit]:
        """The recorded features as posted: changed, kept or removed."""
        edits = []
        for form in self.forms:
            candidate_id = self._with_id(form)
            if candidate_id and self._should_delete_form(form):
                edits.append(FeatureEdit(candidate_id, FeatureHeard("", ""), remove=True))
            elif candidate_id:
                edits.append(FeatureEdit(candidate_id, form.feature_heard()))
        return edits

    def added(self) -> list[FeatureHeard]:
        """The new rows filled in (blank ones and removed ones left out)."""
        return [
            form.feature_heard()
            for form in self.forms
            if not self._should_delete_form(form) and not self._with_id(form) and form.has_changed()
        ]


FeatureEditFormSet = forms.formset_factory(
    FeatureEditForm,
    formset=_BaseFeatureEditFormSet,
    extra=2,
    can_delete=True,
    max_num=MAX_FEATURES,
    validate_max=True,
    absolute_max=MAX_FEATURES,
)
