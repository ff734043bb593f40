"""What a finished pull says: stored hours in green, nothing to pull as plain news, and
hours the source had no data for as a warning, never as a success."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.utils import translation

from slos.ingestion.views import pull_outcome
from slos.models import PullRun, PullStatus


@pytest.mark.parametrize(
    "missing, stored, level, text",
    [
        (24, 24, messages.SUCCESS, "Pulled: 24 hour(s) stored."),
        (0, 0, messages.INFO, "Nothing new to pull: every hour of the window is stored."),
        (
            24,
            0,
            messages.WARNING,
            "Pulled: 0 of 24 missing hour(s) stored; the source had no data for the rest.",
        ),
        (
            24,
            20,
            messages.WARNING,
            "Pulled: 20 of 24 missing hour(s) stored; the source had no data for the rest.",
        ),
    ],
)
def test_an_ok_pull_says_what_it_stored(missing, stored, level, text):
    run = PullRun(status=PullStatus.OK, hours_missing=missing, hours_stored=stored)
    with translation.override("en"):
        assert pull_outcome(run) == (level, text)


def test_the_messages_are_in_japanese_too():
    run = PullRun(status=PullStatus.OK, hours_missing=24, hours_stored=0)
    with translation.override("ja"):
        level, text = pull_outcome(run)
    assert level == messages.WARNING
    assert "24" in text and "Pulled" not in text
    with translation.override("ja"):
        _, text = pull_outcome(PullRun(status=PullStatus.OK))
    assert "Nothing" not in text
