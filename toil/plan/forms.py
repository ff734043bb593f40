"""The plan page's forms: its filters, a pin's reason, and the team's weights and
reserved time. Each cleans into what the selector or the service takes."""

from __future__ import annotations

import html

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from toil.models import OPEN_STATUSES, BacklogSettings, Kind, ReservedMode
from toil.plan.selectors import NONE, PlanFilters
from toil.scoring import Weights
from toil.services import SETTINGS_FIELDS

PIN_REASON_MAX = 1000


def first_error(form: forms.Form) -> str:
    """The form's first message, for a one-line answer."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return str(_("Check the form."))


class PlainSelect(forms.Select):
    """A select drawn in one pass, without a template per option: the SLO filter of a
    team lists hundreds of them, and Django's option templates cost a millisecond for
    every twenty."""

    # The choices kept as given, (value, label) pairs: Django normalizes each option (a
    # check for nested groups), which cost more than drawing it.
    @property
    def choices(self) -> list:
        return self._choices

    @choices.setter
    def choices(self, value) -> None:
        self._choices = list(value)

    def render(self, name, value, attrs=None, renderer=None) -> str:
        chosen = "" if value is None else str(value)
        # Each key and label escaped here (html.escape is what django.utils.html.escape
        # does, without its lazy-string wrapper), so the joined options are safe.
        options = "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) == chosen else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in self.choices
        )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            mark_safe(options),  # escaped above
        )


def _input_html(widget: dict) -> str:
    """Django's django/forms/widgets/input.html (with attrs.html), written in Python."""
    attrs = "".join(
        f" {html.escape(str(name))}"
        if value is True
        else f' {html.escape(str(name))}="{html.escape(str(value))}"'
        for name, value in widget["attrs"].items()
        if value is not False
    )
    value = "" if widget["value"] is None else f' value="{html.escape(str(widget["value"]))}"'
    # Every value escaped above, so the tag is safe.
    return mark_safe(
        f'<input type="{html.escape(str(widget["type"]))}" '
        f'name="{html.escape(str(widget["name"]))}"{value}{attrs}>'
    )


class PlainNumberInput(forms.NumberInput):
    """A number input drawn as Django's template draws it, without the templates: the
    settings form has nine, each two template renders (a millisecond on the plan page)."""

    def _render(self, template_name, context, renderer=None):
        return _input_html(context["widget"])


class PlainRadioSelect(forms.RadioSelect):
    """Radio buttons whose `{{ radio.tag }}` is drawn without templates, as PlainNumberInput;
    the whole group, or an option with its label wrapped, is drawn by Django's."""

    def _render(self, template_name, context, renderer=None):
        option = context["widget"]
        if template_name == self.option_template_name and not option.get("wrap_label"):
            return _input_html(option)
        return super()._render(template_name, context, renderer)


class IdOrNoneField(forms.CharField):
    """An id, NONE, or empty (no filter); the choices only label the select."""

    def __init__(self, *, choices: list[tuple[str, str]], **kwargs):
        super().__init__(required=False, max_length=20, **kwargs)
        self.widget = PlainSelect(choices=choices)

    def clean(self, value):
        value = super().clean(value)
        if value and value != NONE and not (value.isascii() and value.isdecimal()):
            raise forms.ValidationError(_("Choose from the list."), code="invalid")
        return value


class PlanFilterForm(forms.Form):
    """GET parameters that narrow the ranking; each item keeps its place in the whole."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *Kind.choices],
        widget=PlainSelect,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All open")), *((s.value, s.label) for s in OPEN_STATUSES)],
        widget=PlainSelect,
    )

    def __init__(self, *args, owners: list[tuple[int, str]], slos: list[tuple[int, str]], **kw):
        super().__init__(*args, **kw)
        self.fields["owner"] = IdOrNoneField(
            label=_("Owner"),
            choices=[("", _("Anyone")), (NONE, _("Nobody")), *((str(k), v) for k, v in owners)],
        )
        self.fields["slo"] = IdOrNoneField(
            label=_("SLO"),
            choices=[("", _("Any")), (NONE, _("No SLO")), *((str(k), v) for k, v in slos)],
        )

    def filters(self) -> PlanFilters:
        if not self.is_bound or not self.is_valid():
            return PlanFilters()
        return PlanFilters(**self.cleaned_data)


class PinForm(forms.Form):
    reason = forms.CharField(
        label=_("Why pin it above the ranking?"),
        max_length=PIN_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Write why the item is pinned: everyone on the team will read it."),
            "max_length": _("Keep the reason under %(limit_value)d characters."),
            "null_characters_not_allowed": _("The reason contains a character that is not text."),
        },
    )


def _bounds(name: str) -> tuple:
    """The lowest and highest value the model accepts for the settings field `name`."""
    validators = BacklogSettings._meta.get_field(name).validators
    low = next(v.limit_value for v in validators if isinstance(v, MinValueValidator))
    high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
    return low, high


def _settings_decimal(name: str, label, **kwargs) -> forms.DecimalField:
    """A form field with the model field's bounds and digits, and messages that say them."""
    model_field = BacklogSettings._meta.get_field(name)
    low, high = _bounds(name)
    between = _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
    return forms.DecimalField(
        label=label,
        min_value=low,
        max_value=high,
        max_digits=model_field.max_digits,
        decimal_places=model_field.decimal_places,
        error_messages={
            "required": between,
            "invalid": between,
            "min_value": between,
            "max_value": between,
            "max_digits": between,
            "max_whole_digits": between,
            "max_decimal_places": _("Use at most one decimal place, e.g. 1.5."),
        },
        widget=PlainNumberInput(attrs={"step": "0.1"}),
        **kwargs,
    )


class BacklogSettingsForm(forms.Form):
    """The team's weights and reserved time, with the bounds the model holds (the
    weights' and the horizon's come from the scoring)."""

    weight_impact_likelihood = _settings_decimal(
        "weight_impact_likelihood", _("Weight of impact × likelihood")
    )
    weight_toil_relief = _settings_decimal("weight_toil_relief", _("Weight of toil relief"))
    weight_slo_risk = _settings_decimal("weight_slo_risk", _("Weight of SLO risk"))
    weight_age = _settings_decimal("weight_age", _("Weight of age"))
    age_horizon_weeks = forms.IntegerField(
        label=_("Age horizon (weeks)"),
        min_value=_bounds("age_horizon_weeks")[0],
        max_value=_bounds("age_horizon_weeks")[1],
        help_text=_("After this many weeks an item gets its full age bonus."),
        widget=PlainNumberInput,
        error_messages={
            key: _("Enter a whole number of weeks from %(low)s to %(high)s.")
            % dict(zip(("low", "high"), _bounds("age_horizon_weeks"), strict=True))
            for key in ("required", "invalid", "min_value", "max_value")
        },
    )
    reserved_mode = forms.ChoiceField(
        label=_("Reserve"),
        choices=ReservedMode.choices,
        widget=PlainRadioSelect,
        error_messages={
            "required": _("Choose hours a week or a share of the team’s hours."),
            "invalid_choice": _("Choose hours a week or a share of the team’s hours."),
        },
    )
    reserved_hours = _settings_decimal("reserved_hours", _("Reserved hours a week"))
    reserved_share_percent = _settings_decimal(
        "reserved_share_percent", _("Reserved share of the team’s hours (%)")
    )
    team_hours = _settings_decimal("team_hours", _("The team’s hours a week"))
    hours_per_point = _settings_decimal(
        "hours_per_point",
        _("Hours per effort point"),
        help_text=_("XS is 1 point, S 2, M 3, L 5, XL 8."),
    )

    field_order = SETTINGS_FIELDS

    def __init__(self, *args, settings: BacklogSettings | None = None, **kwargs):
        if settings is not None and not args and "data" not in kwargs:
            kwargs["initial"] = {field: getattr(settings, field) for field in SETTINGS_FIELDS}
        super().__init__(*args, **kwargs)

    def weights(self) -> Weights:
        data = self.cleaned_data
        return Weights(
            impact_likelihood=data["weight_impact_likelihood"],
            toil_relief=data["weight_toil_relief"],
            slo_risk=data["weight_slo_risk"],
            age=data["weight_age"],
            age_horizon_weeks=data["age_horizon_weeks"],
        )
