"""The item form (new and edit) and the quick status change. Each cleans into what the
services take; links to another team's SLO, ticket or people are refused here."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from portal.models import Team
from slos.models import SLO, Notification
from toil.models import BacklogItem, Status

# The ticket choices: the team's newest tickets (an item links to recent work).
TICKET_CHOICES = 200


class SLOChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SLO) -> str:
        return f"{obj.service.name} · {obj.name}"


class TicketChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Notification) -> str:
        return f"{obj.title[:80]} ({obj.last_seen_at:%Y-%m-%d})"


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_username()


class BacklogItemForm(forms.ModelForm):
    # A link typed without a scheme is taken as https (Django 6's default too).
    tracker_url = forms.URLField(
        label=BacklogItem._meta.get_field("tracker_url").verbose_name,
        help_text=BacklogItem._meta.get_field("tracker_url").help_text,
        max_length=500,
        required=False,
        assume_scheme="https",
        error_messages={"invalid": _("Give the tracker link as an http:// or https:// URL.")},
    )

    class Meta:
        model = BacklogItem
        fields = [
            "title",
            "description",
            "kind",
            "status",
            "owner",
            "impact",
            "likelihood",
            "effort",
            "toil_hours_per_month",
            "slo",
            "ticket",
            "tracker_url",
        ]
        field_classes = {
            "slo": SLOChoiceField,
            "ticket": TicketChoiceField,
            "owner": OwnerChoiceField,
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "title": {"required": _("Give the item a short title.")},
            "kind": {"required": _("Choose what kind of work this is.")},
            "status": {"required": _("Choose a status.")},
            "impact": {"required": _("Choose who is hurt when this goes wrong.")},
            "likelihood": {"required": _("Choose how often this goes wrong.")},
            "effort": {"required": _("Choose a size for the work, from XS to XL.")},
            "toil_hours_per_month": {
                "invalid": _("Give the hours of toil a month as a number, e.g. 4 or 1.5."),
            },
            "slo": {"invalid_choice": _("Choose one of your team's SLOs, or none.")},
            "ticket": {"invalid_choice": _("Choose one of your team's recent tickets, or none.")},
            "owner": {"invalid_choice": _("The owner must be a member of the team.")},
            "tracker_url": {"invalid": _("Give the tracker link as an http:// or https:// URL.")},
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["slo"].queryset = SLO.objects.filter(service__team=team).select_related(
            "service"
        )
        self.fields["slo"].empty_label = _("No SLO")
        recent = (
            Notification.objects.filter(team=team)
            .tickets()
            .order_by("-last_seen_at")
            .values_list("pk", flat=True)[:TICKET_CHOICES]
        )
        tickets = Notification.objects.filter(pk__in=list(recent)).order_by("-last_seen_at")
        if self.instance.ticket_id is not None:
            tickets = tickets | Notification.objects.filter(pk=self.instance.ticket_id)
        self.fields["ticket"].queryset = tickets
        self.fields["ticket"].empty_label = _("No ticket")
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )
        self.fields["owner"].empty_label = _("Nobody yet")
        self.fields["status"].required = self.instance.pk is not None
        # Only web links: Django's URLValidator also takes ftp(s). The field's other
        # validators (NUL characters, length) stay.
        tracker_url = self.fields["tracker_url"]
        tracker_url.validators = [
            validator
            for validator in tracker_url.validators
            if not isinstance(validator, URLValidator)
        ] + [URLValidator(schemes=["http", "https"], message=tracker_url.error_messages["invalid"])]

    def clean_status(self) -> str:
        # A new item may leave the status out: it starts as proposed.
        return self.cleaned_data.get("status") or Status.PROPOSED

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()


class StatusForm(forms.Form):
    BACK_TO_LIST = "list"

    status = forms.ChoiceField(
        label=_("Status"),
        choices=Status.choices,
        error_messages={
            "required": _("Choose a status."),
            "invalid_choice": _("Choose one of the statuses."),
        },
    )
    back_to = forms.ChoiceField(
        choices=[("", ""), (BACK_TO_LIST, "")], required=False, widget=forms.HiddenInput
    )
