"""The plan's settings widgets drawn without templates write what Django's templates
write, for every state a field can be in."""

from __future__ import annotations

import pytest
from django import forms
from django.test.signals import template_rendered

from toil.plan.forms import (
    BacklogSettingsForm,
    PlainNumberInput,
    PlainRadioSelect,
    PlanFilterForm,
)
from toil.plan.selectors import PlanFilters
from toil.services import SETTINGS_FIELDS


class Plain(forms.Form):
    weight = forms.DecimalField(
        min_value=0, max_value=5, widget=PlainNumberInput(attrs={"step": "0.1"}), help_text="x"
    )
    mode = forms.ChoiceField(
        choices=[("hours", "Hours <a week>"), ("share", "Share")], widget=PlainRadioSelect
    )


class Templated(forms.Form):
    weight = forms.DecimalField(
        min_value=0, max_value=5, widget=forms.NumberInput(attrs={"step": "0.1"}), help_text="x"
    )
    mode = forms.ChoiceField(
        choices=[("hours", "Hours <a week>"), ("share", "Share")], widget=forms.RadioSelect
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"weight": "2.5", "mode": "share"},
        {"weight": 'x"<y>&', "mode": "never"},
        {"weight": "", "mode": ""},
    ],
)
def test_the_plain_widgets_write_what_djangos_templates_write(data):
    plain, templated = Plain(data), Templated(data)
    if data is not None:
        plain.is_valid(), templated.is_valid()
    assert str(plain["weight"]) == str(templated["weight"])
    assert [radio.tag() for radio in plain["mode"]] == [radio.tag() for radio in templated["mode"]]
    assert [radio.tag(wrap_label=True) for radio in plain["mode"]] == [
        radio.tag(wrap_label=True) for radio in templated["mode"]
    ]
    assert str(plain["mode"]) == str(templated["mode"])


def test_the_settings_form_draws_its_inputs_without_templates():
    rendered = []

    def note(sender, template, **kwargs):
        rendered.append(template.name)

    form = BacklogSettingsForm({field: "1" for field in SETTINGS_FIELDS})
    form.is_valid()
    template_rendered.connect(note)
    try:
        numbers = [str(form[name]) for name in SETTINGS_FIELDS if name != "reserved_mode"]
        radios = [radio.tag() for radio in form["reserved_mode"]]
    finally:
        template_rendered.disconnect(note)
    assert rendered == []
    assert len(numbers) == 9 and all(html.startswith('<input type="number"') for html in numbers)
    assert [html.startswith('<input type="radio"') for html in radios] == [True, True]


def test_the_filter_selects_mark_the_choice_and_escape_the_labels():
    form = PlanFilterForm(
        {"kind": "toil", "slo": "7"}, owners=[(3, "ann")], slos=[(7, "API / <p99> & more")]
    )
    assert form.filters() == PlanFilters(kind="toil", slo="7")
    kind = str(form["kind"])
    assert '<option value="toil" selected>' in kind
    assert '<option value="">All kinds</option>' in kind
    slo = str(form["slo"])
    assert '<option value="7" selected>API / &lt;p99&gt; &amp; more</option>' in slo
    assert '<option value="none">No SLO</option>' in slo
    assert '<option value="3">ann</option>' in str(form["owner"])
