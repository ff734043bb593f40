from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.formatting import target_text
from portal.models import SLICandidate, Team
from slos.budget import TARGET_PERCENT_MAX, TARGET_PERCENT_MIN
from slos.labels import LabelError, labels_text, parse_labels
from slos.models import (
    SLO,
    AnnotationKind,
    BudgetingMethod,
    DataSource,
    RatioOf,
    ReviewDecision,
    Service,
    SLIKind,
    WindowKind,
)
from slos.registry import services


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name", "description"]

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Service.objects.filter(team=self.team, name=name).exists():
            raise forms.ValidationError(_("This team already has a service of that name."))
        return name


@dataclass(frozen=True)
class ShownWhen:
    """A part of a form shown only while a radio field (the switch) has one of `values`:
    the page marks it `data-when-<switch>="<values>"` and static/slos/slo_form.css hides
    it while another value is checked (CSS :has(), so no script runs). Where a browser
    cannot apply :has(), every part stays shown, and the form still works."""

    switch: str
    values: tuple[str, ...]

    @property
    def attribute(self) -> str:
        return f"data-when-{self.switch}"

    @property
    def value_list(self) -> str:
        return " ".join(self.values)


@dataclass(frozen=True)
class FieldRow:
    field: forms.BoundField
    when: ShownWhen | None = None

    @property
    def shown_when(self) -> ShownWhen | None:
        """A field with an error is always shown, whatever the switch says."""
        return None if self.field.errors else self.when


@dataclass(frozen=True)
class Fieldset:
    key: str
    legend: str
    explanation: str
    rows: list[FieldRow]
    when: ShownWhen | None = None

    @property
    def shown_when(self) -> ShownWhen | None:
        """A group holding an error is always shown, whatever the switch says."""
        return None if any(row.field.errors for row in self.rows) else self.when


@dataclass(frozen=True)
class Group:
    """A group of the form's fields, with the line saying what it is for; `when`: the
    switch value(s) it belongs to, if it is shown only then."""

    key: str
    legend: str
    explanation: str
    names: tuple[str, ...]
    when: ShownWhen | None = None


def _grouped(
    form: forms.BaseForm, groups: list[Group], field_when: dict[str, ShownWhen]
) -> list[Fieldset]:
    placed = {name for group in groups for name in group.names}

    def rows(names) -> list[FieldRow]:
        return [FieldRow(form[n], field_when.get(n)) for n in names if n in form.fields]

    fieldsets = [
        Fieldset(
            group.key, str(group.legend), str(group.explanation), rows(group.names), group.when
        )
        for group in groups
    ]
    leftover = [name for name in form.fields if name not in placed]
    if leftover:
        fieldsets.append(Fieldset("more", str(_("More")), "", rows(leftover)))
    return [fieldset for fieldset in fieldsets if fieldset.rows]


_TARGET_INPUT = forms.NumberInput(
    attrs={"step": "0.001", "min": TARGET_PERCENT_MIN, "max": TARGET_PERCENT_MAX}
)


def _checked_target(target: Decimal) -> Decimal:
    if not TARGET_PERCENT_MIN <= target < 100:
        raise forms.ValidationError(
            _(
                "The target is a percentage from %(min)s up to, but not including, 100, "
                "e.g. 99.9 (100%% leaves no error budget)."
            )
            % {"min": TARGET_PERCENT_MIN}
        )
    return target


# The fields that choose which others apply, drawn as radio buttons: the checked one is
# what the page's CSS reads (ShownWhen).
SLO_FORM_SWITCHES = ("sli_kind", "ratio_of", "budgeting_method", "window_kind")


def _when(switch: str, *values: str) -> ShownWhen:
    if switch not in SLO_FORM_SWITCHES:
        raise ValueError(f"{switch} is not one of the form's switches")
    return ShownWhen(switch, tuple(str(value) for value in values))


class SLOForm(forms.ModelForm):
    # Groups of fields, in the page's order. A group or field with `when` is shown only
    # for that SLI kind, ratio, budgeting method or window kind (ShownWhen).
    FIELDSETS = [
        Group(
            "what",
            _("What and why"),
            _("The user-facing feature this SLO protects, and what the team hearing said."),
            ("service", "data_source", "name", "why", "owner"),
        ),
        Group(
            "indicator",
            _("Indicator (SLI)"),
            _("How good service is measured. Fill in the group below that matches the kind."),
            ("sli_kind",),
        ),
        Group(
            "ratio",
            _("Ratio of event counts"),
            _(
                "For the kind “Ratio”: counters of good (or bad) events and of all valid "
                "events, e.g. requests answered without a 5xx."
            ),
            ("ratio_of", "good_query", "bad_query", "valid_query"),
            _when("sli_kind", SLIKind.RATIO),
        ),
        Group(
            "histogram",
            _("Threshold on a histogram"),
            _(
                "For the kind “Histogram”: requests faster than a bucket boundary are good, "
                "e.g. le=0.3 for 300 ms. Give the threshold below."
            ),
            ("histogram_metric", "histogram_labels"),
            _when("sli_kind", SLIKind.HISTOGRAM),
        ),
        Group(
            "gauge",
            _("Threshold on a gauge"),
            _(
                "For the kind “Gauge”: a value per timeslice compared with a threshold, e.g. "
                "queue lag under 60 s. Needs the Timeslices budgeting method."
            ),
            ("gauge_query", "threshold_op"),
            _when("sli_kind", SLIKind.GAUGE),
        ),
        Group(
            "threshold",
            _("Threshold"),
            _("For histograms and gauges only; leave empty for a ratio."),
            ("threshold",),
            _when("sli_kind", SLIKind.HISTOGRAM, SLIKind.GAUGE),
        ),
        Group(
            "objective",
            _("Objective"),
            _(
                "The target and how the budget is counted: events, or good slices of time "
                "(a slice is good when its own SLI reaches the timeslice target)."
            ),
            ("target", "budgeting_method", "timeslice_target", "timeslice_minutes"),
        ),
        Group(
            "window",
            _("Window"),
            _(
                "Rolling: the last N days. Calendar: the current month or quarter in the "
                "team's time zone."
            ),
            ("window_kind", "window_days", "calendar_period"),
        ),
        Group(
            "registry",
            _("Registry"),
            _(
                "A provisional SLO was set without much data; the team revisits every SLO "
                "at its review interval."
            ),
            ("provisional", "review_interval_days", "labels"),
        ),
    ]
    FIELD_WHEN = {
        "good_query": _when("ratio_of", RatioOf.GOOD),
        "bad_query": _when("ratio_of", RatioOf.BAD),
        "timeslice_target": _when("budgeting_method", BudgetingMethod.TIMESLICES),
        "timeslice_minutes": _when("budgeting_method", BudgetingMethod.TIMESLICES),
        "window_days": _when("window_kind", WindowKind.ROLLING),
        "calendar_period": _when("window_kind", WindowKind.CALENDAR),
    }
    target = forms.DecimalField(
        label=_("Target"),
        help_text=_("As a percentage, e.g. 99.9."),
        decimal_places=5,
        widget=_TARGET_INPUT,
    )
    labels = forms.CharField(
        label=_("Labels"),
        required=False,
        max_length=2000,
        help_text=_(
            "key=value pairs, separated by commas, to sort and filter SLOs by: "
            "tier=critical, journey=clock-in."
        ),
    )

    class Meta:
        model = SLO
        fields = [
            "service",
            "data_source",
            "name",
            "why",
            "owner",
            "sli_kind",
            "ratio_of",
            "good_query",
            "bad_query",
            "valid_query",
            "histogram_metric",
            "histogram_labels",
            "gauge_query",
            "threshold_op",
            "threshold",
            "target",
            "budgeting_method",
            "timeslice_target",
            "timeslice_minutes",
            "window_kind",
            "window_days",
            "calendar_period",
            "provisional",
            "review_interval_days",
            "labels",
        ]
        widgets = {
            "why": forms.Textarea(attrs={"rows": 2}),
            "good_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "valid_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "bad_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "gauge_query": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            **dict.fromkeys(SLO_FORM_SWITCHES, forms.RadioSelect),
        }

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["service"].queryset = Service.objects.filter(team=team)
        self.fields["data_source"].queryset = DataSource.objects.filter(team=team)
        self.fields["data_source"].required = True
        self.fields["owner"].queryset = team.members.order_by("username")
        if not self.is_bound and self.instance.pk is not None:
            self.initial["labels"] = labels_text(self.instance.labels)
        # Tall enough for the words in it (a hearing's quote is long); CSS field-sizing
        # (static/slos/slo_form.css) does the same where the browser has it.
        why = self["why"].value() or ""
        self.fields["why"].widget.attrs["rows"] = why_rows(why)

    def clean_labels(self) -> dict[str, str]:
        try:
            return parse_labels(self.cleaned_data["labels"])
        except LabelError as problem:
            raise forms.ValidationError(str(problem)) from None

    def clean_target(self) -> Decimal:
        return _checked_target(self.cleaned_data["target"])

    def clean(self):
        cleaned = super().clean()
        service = cleaned.get("service")
        name = cleaned.get("name")
        same_name = SLO.objects.filter(service=service, name=(name or "").strip())
        if self.instance.pk is not None:
            same_name = same_name.exclude(pk=self.instance.pk)
        if service and name and same_name.exists():
            self.add_error("name", _("This service already has an SLO of that name."))
        return cleaned

    def fieldsets(self) -> list[Fieldset]:
        """The fields in groups, for the page: one group per part of the definition and
        one per SLI kind, each with a line saying when it applies."""
        return _grouped(self, self.FIELDSETS, self.FIELD_WHEN)


WHY_CHARS_PER_ROW = 70


def why_rows(text: str) -> int:
    """Rows for the "why it matters" box: one per line, long lines wrapped, 2 to 12."""
    rows = sum(1 + len(line) // WHY_CHARS_PER_ROW for line in str(text).splitlines() or [""])
    return max(2, min(12, rows))


def candidate_initial(candidate: SLICandidate, team: Team) -> dict:
    """The new-SLO form's starting values for a feature heard in a hearing: its name,
    its service when the team has one of the name heard, the hearing's words as why it
    matters, and provisional (set from a hearing, before much data)."""
    hearing = candidate.hearing
    why = _("Team hearing of %(date)s (%(heard)s): “%(feature)s” is working when %(working)s") % {
        "date": hearing.held_on.isoformat(),
        "heard": hearing.heard,
        "feature": candidate.feature,
        "working": candidate.working_means,
    }
    initial = {"name": candidate.feature, "why": why, "provisional": True}
    if candidate.service_name:
        service = Service.objects.filter(team=team, name__iexact=candidate.service_name).first()
        if service is not None:
            initial["service"] = service.pk
    return initial


def _with_note_after_target(name: str) -> list[str]:
    return [name, "target_change_note"] if name == "target" else [name]


class SLOEditForm(SLOForm):
    """The create form, pre-filled, plus the reason for a target change: the SLO's
    history keeps every change of target with who, when and why."""

    FIELDSETS = [
        replace(
            group,
            names=tuple(name for old in group.names for name in _with_note_after_target(old)),
        )
        for group in SLOForm.FIELDSETS
    ]

    target_change_note = forms.CharField(
        label=_("Why the target changes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only when you change the target; kept in the SLO's history."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original_target = self.instance.target

    def clean(self):
        cleaned = super().clean()
        target = cleaned.get("target")
        note = cleaned.get("target_change_note", "").strip()
        cleaned["target_change_note"] = note
        if target is not None and target != self.original_target and not note:
            self.add_error(
                "target_change_note",
                _(
                    "You changed the target from %(old)s%% to %(new)s%%: say why, so the "
                    "SLO's history explains the change."
                )
                % {
                    "old": target_text(self.original_target),
                    "new": target_text(target),
                },
            )
        return cleaned


class SLOReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=ReviewDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision: keep, tighten, loosen or retire.")},
    )
    new_target = forms.DecimalField(
        label=_("New target"),
        required=False,
        decimal_places=5,
        help_text=_(
            "As a percentage. Higher to tighten, lower to loosen; unchanged to keep or retire."
        ),
        widget=_TARGET_INPUT,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the team saw and decided. Needed unless you keep the SLO as it is."),
    )

    def __init__(self, *args, slo: SLO, **kwargs):
        kwargs.setdefault("initial", {"new_target": slo.target})
        super().__init__(*args, **kwargs)
        self.slo = slo

    def clean_new_target(self) -> Decimal | None:
        target = self.cleaned_data["new_target"]
        if target is None:
            return None
        SLO._meta.get_field("target").run_validators(_checked_target(target))
        return target

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision is None or "new_target" not in cleaned:
            return cleaned
        if decision in {ReviewDecision.KEEP, ReviewDecision.RETIRE} and (
            cleaned["new_target"] is None
        ):
            cleaned["new_target"] = self.slo.target
        error = services.review_target_error(
            decision=decision, old_target=self.slo.target, new_target=cleaned["new_target"]
        )
        if error:
            self.add_error("new_target", error)
        if decision != ReviewDecision.KEEP and not cleaned.get("note"):
            self.add_error(
                "note",
                _("Say why the team decided to %(decision)s this SLO; the history keeps it.")
                % {"decision": ReviewDecision(decision).label.lower()},
            )
        return cleaned


class PolicyStepForm(forms.Form):
    below_percent = forms.DecimalField(
        label=_("When remaining budget is below (%)"),
        max_digits=6,
        decimal_places=2,
        min_value=services.POLICY_LEVEL_MIN,
        max_value=services.POLICY_LEVEL_MAX,
        widget=forms.NumberInput(
            attrs={
                "step": "0.01",
                "min": "-1000",
                "max": "100",
                "aria-label": _("When remaining budget is below (%)"),
            }
        ),
        error_messages={
            "required": _("Give the level: the remaining budget in %, e.g. 25."),
            "min_value": _("A level is a remaining budget from -1000%% to 100%%."),
            "max_value": _("A level is a remaining budget from -1000%% to 100%%."),
        },
    )
    action = forms.CharField(
        label=_("The team will"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "aria-label": _("The team will")}),
        error_messages={"required": _("Say what the team does at this level.")},
    )

    freezes_releases = forms.BooleanField(
        label=_("Freezes feature releases"),
        required=False,
        help_text=_("Backlog items on this SLO are flagged while the step is in effect."),
    )

    def clean_action(self) -> str:
        action = self.cleaned_data["action"].strip()
        if not action:
            raise forms.ValidationError(_("Say what the team does at this level."))
        return action


class BasePolicyStepFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[Decimal] = set()
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            level = form.cleaned_data.get("below_percent")
            if level is None:
                continue
            if level in seen:
                form.add_error(
                    "below_percent",
                    _("The level %(level)s%% appears twice: give each level once.")
                    % {"level": target_text(level)},
                )
            seen.add(level)

    def steps(self) -> list[services.PolicyStep]:
        """The steps to keep, for the service (call after is_valid)."""
        return [
            services.PolicyStep(
                below_percent=form.cleaned_data["below_percent"],
                action=form.cleaned_data["action"],
                freezes_releases=form.cleaned_data.get("freezes_releases", False),
            )
            for form in self.forms
            if form.cleaned_data
            and not (self.can_delete and self._should_delete_form(form))
            and form.cleaned_data.get("below_percent") is not None
        ]


PolicyStepFormSet = forms.formset_factory(
    PolicyStepForm,
    formset=BasePolicyStepFormSet,
    extra=3,
    can_delete=True,
    max_num=20,
    validate_max=True,
)


class AnnotationScope(models.TextChoices):
    SLO = "slo", _("This SLO")
    SERVICE = "service", _("Every SLO of its service")
    TEAM = "team", _("Every SLO of the team")


DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class AnnotationForm(forms.Form):
    """Times are typed in the team's time zone and cleaned into aware datetimes."""

    scope = forms.ChoiceField(
        label=_("Shown on"),
        choices=AnnotationScope.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose where the annotation shows.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=AnnotationKind.choices,
        error_messages={"required": _("Choose a kind: deploy, incident, maintenance or note.")},
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={
            "required": _("Give the start, e.g. 2026-11-02 09:30."),
            "invalid": _("Enter the start as a date and time, e.g. 2026-11-02 09:30."),
        },
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={
            "required": _("Give the end, e.g. 2026-11-02 10:30."),
            "invalid": _("Enter the end as a date and time, e.g. 2026-11-02 10:30."),
        },
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=300,
        error_messages={"required": _("Say what happened, in a few words.")},
    )
    excluded = forms.BooleanField(
        label=_("Exclude from the error budget"),
        required=False,
        help_text=_("Only for planned maintenance: its hours count neither as good nor as bad."),
    )

    def __init__(self, *args, slo: SLO, at: datetime, **kwargs):
        self.slo = slo
        self.zone = ZoneInfo(slo.service.team.time_zone)
        local_now = at.astimezone(self.zone).replace(second=0, microsecond=0)
        kwargs.setdefault(
            "initial",
            {"scope": AnnotationScope.SLO, "starts_at": local_now.strftime(DATETIME_LOCAL)},
        )
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [
            (AnnotationScope.SLO, _("This SLO: %(name)s") % {"name": slo.name}),
            (
                AnnotationScope.SERVICE,
                _("Every SLO of the service %(name)s") % {"name": slo.service.name},
            ),
            (
                AnnotationScope.TEAM,
                _("Every SLO of the team %(name)s") % {"name": slo.service.team.name},
            ),
        ]
        zone_name = slo.service.team.time_zone
        for name in ["starts_at", "ends_at"]:
            self.fields[name].help_text = _("In the team's time zone, %(zone)s.") % {
                "zone": zone_name
            }

    def full_clean(self) -> None:
        # Naive times typed in the form are read in the team's zone, not the server's.
        with timezone.override(self.zone):
            super().full_clean()

    def clean_text(self) -> str:
        return self.cleaned_data["text"].strip()

    def clean(self):
        cleaned = super().clean()
        errors = services.annotation_errors(
            kind=cleaned.get("kind", ""),
            starts_at=cleaned.get("starts_at"),
            ends_at=cleaned.get("ends_at"),
            excluded=bool(cleaned.get("excluded")),
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned

    def annotation_data(self) -> dict:
        """The cleaned form as annotation_create's keywords (call after is_valid)."""
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "team": self.slo.service.team,
            "slo": self.slo if scope == AnnotationScope.SLO else None,
            "service": self.slo.service if scope == AnnotationScope.SERVICE else None,
            "kind": data["kind"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "text": data["text"],
            "excluded": data["excluded"],
        }
