"""The kudos page's form and reads: SRE work someone noticed, who did it (a teammate,
or anyone named), what, and which practice of the reliability hierarchy it served."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from retros.models import HierarchyPractice, Kudos

KUDOS_SHOWN = 100
KUDOS_ON_TEAM_PAGE = 5
WHAT_MAX_CHARS = 2000
NAME_MAX_CHARS = Kudos._meta.get_field("person_name").max_length


class KudosForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("Who did it (a teammate)"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("someone else (name below)"),
        error_messages={"invalid_choice": _("Choose someone in the team, or write a name.")},
    )
    person_name = forms.CharField(
        label=_("Or their name"),
        max_length=NAME_MAX_CHARS,
        required=False,
        help_text=_("Someone outside the team, or a group."),
    )
    what = forms.CharField(
        label=_("What they did"),
        max_length=WHAT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what they did.")},
    )
    practice = forms.ChoiceField(
        label=_("Practice"),
        choices=HierarchyPractice.choices,
        error_messages={
            "required": _("Choose a practice of the reliability hierarchy."),
            "invalid_choice": _("Choose a practice of the reliability hierarchy."),
        },
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )

    def clean_what(self) -> str:
        what = self.cleaned_data["what"].strip()
        if not what:
            raise forms.ValidationError(_("Say what they did."))
        return what

    def clean(self) -> dict:
        cleaned = super().clean()
        person = cleaned.get("person")
        name = (cleaned.get("person_name") or "").strip()
        if person is None and not name and "person" not in self.errors:
            raise forms.ValidationError(_("Say who did it: a teammate, or a name."))
        if not name and person is not None:
            name = person.get_full_name() or person.get_username()
        cleaned["person_name"] = name
        return cleaned


def team_kudos(team: Team, *, limit: int = KUDOS_SHOWN) -> QuerySet[Kudos]:
    """The team's latest kudos, with who noted them and the session they were shown
    in: one query."""
    return Kudos.objects.filter(team=team).select_related("noted_by", "session")[:limit]
