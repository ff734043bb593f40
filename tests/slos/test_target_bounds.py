"""The SLO target's bounds and the burn thresholds each have one home (slos.budget);
the model, the forms, the what-if slider, the rules and the API read them from there."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portal.api import SLOBudgetOut
from slos.alerting import rules
from slos.budget import (
    BURN_ALERTS,
    DAY_TICKET,
    TARGET_PERCENT_MAX,
    TARGET_PERCENT_MIN,
    burn_threshold,
)
from slos.models import SLO
from slos.registry.forms import SLOReviewForm
from slos.registry.views import WhatIfForm


def run_target_validators(value: str) -> None:
    SLO._meta.get_field("target").run_validators(Decimal(value))


@pytest.mark.parametrize("value", ["50", "99.9", "99.999"])
def test_the_model_takes_targets_within_the_bounds_both_ends_included(value):
    run_target_validators(value)  # raises if refused


@pytest.mark.parametrize("value", ["49.999", "99.9991", "100"])
def test_the_model_refuses_targets_outside_the_bounds(value):
    with pytest.raises(ValidationError):
        run_target_validators(value)


def test_five_nines_is_a_target_the_what_if_form_takes_and_more_is_refused():
    assert WhatIfForm(data={"target": "99.999"}).is_valid()
    form = WhatIfForm(data={"target": "99.9995"})
    assert not form.is_valid()
    assert form.errors["target"] == [f"An SLO's target is at most {TARGET_PERCENT_MAX}%."]


def test_the_target_inputs_offer_the_same_bounds():
    field = SLOReviewForm.base_fields["new_target"]
    assert field.widget.attrs["min"] == TARGET_PERCENT_MIN
    assert field.widget.attrs["max"] == TARGET_PERCENT_MAX
    schema = SLOBudgetOut.model_json_schema()["properties"]["target"]
    assert (schema["minimum"], schema["maximum"]) == (50.0, 99.999)


def test_the_rules_use_the_engines_table_of_burn_thresholds():
    assert rules.BURN_ALERTS is BURN_ALERTS


@pytest.mark.parametrize(
    ("alert", "window_days", "threshold"),
    [
        (BURN_ALERTS[0], 30, 14.4),
        (BURN_ALERTS[1], 30, 6.0),
        (DAY_TICKET, 30, 3.0),
        (BURN_ALERTS[3], 30, 1.0),
        (DAY_TICKET, 28, 2.8),
    ],
)
def test_burn_thresholds_scale_with_the_window(alert, window_days, threshold):
    assert burn_threshold(alert, window=timedelta(days=window_days)) == pytest.approx(threshold)
