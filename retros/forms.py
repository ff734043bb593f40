"""The retro's forms: each cleans into the values its service takes, and refuses bad
input with a message for people before anything is written."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from retros.agenda import SECTION_SLUGS, SECTIONS
from retros.models import ActionOutcome, ReleaseDecision, TicketDecisionKind
from slos.models import SLO, ReviewDecision
from slos.registry.services import review_target_error
from toil.models import BacklogItem

NOTE_MAX_CHARS = 2000


class MoveForm(forms.Form):
    index = forms.TypedChoiceField(
        label=_("Section"),
        choices=[(str(index), section.title) for index, section in enumerate(SECTIONS)],
        coerce=int,
        error_messages={
            "required": _("Choose a section."),
            "invalid_choice": _("There is no such section."),
        },
    )


class NoteForm(forms.Form):
    section = forms.ChoiceField(
        label=_("Section"),
        choices=[(slug, slug) for slug in SECTION_SLUGS],
        error_messages={"invalid_choice": _("There is no such section.")},
    )
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_CHARS,
        error_messages={"required": _("Write the note first.")},
    )


class ReleaseForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Release decision"),
        choices=ReleaseDecision.choices,
        error_messages={
            "required": _("Choose keep shipping, slow down or reliability first."),
            "invalid_choice": _("Choose keep shipping, slow down or reliability first."),
        },
    )


TICKET_DECISIONS = [
    (value, label)
    for value, label in TicketDecisionKind.choices
    if value != TicketDecisionKind.UNDECIDED
]


class TicketDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=TICKET_DECISIONS,
        error_messages={
            "required": _("Choose dismiss, tune, escalate or backlog."),
            "invalid_choice": _("Choose dismiss, tune, escalate or backlog."),
        },
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_CHARS)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == TicketDecisionKind.DISMISS and not cleaned.get("note"):
            self.add_error("note", _("Say why the ticket is dismissed."))
        return cleaned


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=ReviewDecision.choices,
        error_messages={
            "required": _("Choose a decision: keep, tighten, loosen or retire."),
            "invalid_choice": _("Choose a decision: keep, tighten, loosen or retire."),
        },
    )
    new_target = forms.DecimalField(
        label=_("New target (%)"), required=False, max_digits=7, decimal_places=5
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_CHARS)

    def __init__(self, *args, slo: SLO | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slo = slo

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision is None or "new_target" not in cleaned or self.slo is None:
            return cleaned
        old: Decimal = self.slo.target
        keeps_target = decision in {ReviewDecision.KEEP, ReviewDecision.RETIRE}
        if keeps_target and cleaned["new_target"] is None:
            cleaned["new_target"] = old
        error = review_target_error(
            decision=decision, old_target=old, new_target=cleaned["new_target"]
        )
        if error:
            self.add_error("new_target", error)
        if decision != ReviewDecision.KEEP and not cleaned.get("note"):
            self.add_error("note", _("Say why; the SLO's review history keeps it."))
        return cleaned


class ActionForm(forms.Form):
    text = forms.CharField(
        label=_("Action"),
        max_length=NOTE_MAX_CHARS,
        error_messages={"required": _("Say what the action is.")},
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("nobody yet"),
        error_messages={"invalid_choice": _("The owner must be in the team.")},
    )
    due_on = forms.DateField(
        label=_("Due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Give the due date as YYYY-MM-DD.")},
    )
    backlog_item = forms.ModelChoiceField(
        label=_("Backlog item"),
        queryset=BacklogItem.objects.none(),
        required=False,
        empty_label=_("none"),
        error_messages={"invalid_choice": _("Choose one of the team's open backlog items.")},
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )
        self.fields["backlog_item"].queryset = (
            BacklogItem.objects.filter(team=team).open().order_by("title")
        )


class ActionReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=ActionOutcome.choices,
        error_messages={
            "required": _("Choose done, carried or dropped."),
            "invalid_choice": _("Choose done, carried or dropped."),
        },
    )


def first_error(form: forms.Form) -> str:
    """The form's first message, for a one-line answer."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return str(_("Check the form."))
