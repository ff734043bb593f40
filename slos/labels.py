"""An SLO's labels: free key=value pairs a team sorts its SLOs by (tier=critical,
journey=clock-in), as OpenSLO's metadata.labels and Pyrra's list filters have them. Pure:
text in, a dict out, with the rules every way in (the form, OpenSLO, the model) shares."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

LABEL_KEY = re.compile(r"[a-z0-9]([a-z0-9_.\-/]{0,61}[a-z0-9])?")
LABEL_VALUE_MAX = 100
LABELS_MAX = 20


class LabelError(ValueError):
    """Labels that break a rule; the message says which, for a person."""


def label_problem(labels: object) -> str | None:
    """What is wrong with `labels` as stored (a dict of strings), or None."""
    if not isinstance(labels, dict):
        return _("Labels are key=value pairs.")
    if len(labels) > LABELS_MAX:
        return _("At most %(count)d labels.") % {"count": LABELS_MAX}
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY.fullmatch(key):
            return _(
                "“%(key)s” is not a label name: lower-case letters, digits and - _ . /, "
                "starting and ending with a letter or digit, at most 63 characters."
            ) % {"key": key}
        if not isinstance(value, str) or not value.strip() or len(value) > LABEL_VALUE_MAX:
            return _("The label “%(key)s” needs a value of at most %(max)d characters.") % {
                "key": key,
                "max": LABEL_VALUE_MAX,
            }
    return None


def parse_labels(text: str) -> dict[str, str]:
    """`tier=critical, journey=clock-in` (commas or new lines) as a dict; LabelError
    naming the first pair that is not one."""
    labels: dict[str, str] = {}
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        key, equals, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key:
            raise LabelError(_("“%(part)s” is not key=value.") % {"part": part})
        if key in labels:
            raise LabelError(_("The label “%(key)s” is given twice.") % {"key": key})
        labels[key] = value
    problem = label_problem(labels)
    if problem:
        raise LabelError(problem)
    return labels


def labels_text(labels: dict[str, str]) -> str:
    """The labels as the form shows them: `journey=clock-in, tier=critical`."""
    return ", ".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))
