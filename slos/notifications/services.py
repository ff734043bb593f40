"""Writes to a team's routing policy: add, edit, move and remove rules.

Each write locks the team's row first, so changes to one policy happen one at a time
(new rules included); keeps positions 1 to n; and puts a change on record for the noise
page's before and after (slos/notifications/noise.py). A rule decides only
notifications first seen after it exists."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import Team
from slos.models import SLO, RoutingPolicyChange, RoutingRule


def _policy_changed(*, team: Team, user, at: datetime, summary: str) -> None:
    RoutingPolicyChange.objects.create(
        team=team, changed_at=at, changed_by=user, summary=summary[:300]
    )


def _rules_locked(team: Team) -> list[RoutingRule]:
    """The team's rules in policy order, the team's row locked; call in a transaction."""
    Team.objects.select_for_update().filter(pk=team.pk).exists()
    return list(RoutingRule.objects.filter(team=team).order_by("position", "pk"))


def _rules_renumber(rules: list[RoutingRule]) -> None:
    """Positions 1 to n in the given order: unique and dense."""
    moved = []
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            rule.position = position
            moved.append(rule)
    RoutingRule.objects.bulk_update(moved, ["position"])


def _rule_terms(rule: RoutingRule) -> tuple:
    """What decides routing, to tell an edit that changes nothing."""
    return (rule.name, rule.source_kind, rule.slo_id, rule.conditions, rule.outcome)


@transaction.atomic
def routing_rule_create(
    *,
    team: Team,
    user,
    at: datetime,
    name: str,
    position: int,
    source_kind: str,
    slo: SLO | None,
    conditions: list[dict[str, str]],
    outcome: str,
) -> RoutingRule:
    """A new rule, before the rule holding `position` (last if none does)."""
    rules = _rules_locked(team)
    rule = RoutingRule.objects.create(
        team=team,
        position=position,
        name=name,
        source_kind=source_kind,
        slo=slo,
        conditions=conditions,
        outcome=outcome,
    )
    before = next(
        (index for index, held in enumerate(rules) if held.position >= position), len(rules)
    )
    rules.insert(before, rule)
    _rules_renumber(rules)
    _policy_changed(
        team=team, user=user, at=at, summary=_("Added rule “%(rule)s”") % {"rule": rule.name}
    )
    return rule


@transaction.atomic
def routing_rule_update(
    *,
    team: Team,
    rule_id: int,
    user,
    at: datetime,
    name: str,
    source_kind: str,
    slo: SLO | None,
    conditions: list[dict[str, str]],
    outcome: str,
) -> RoutingRule:
    """The rule changed in place, its position kept; an edit that changes nothing is
    not a policy change. RoutingRule.DoesNotExist if it was removed meanwhile."""
    _rules_locked(team)
    rule = RoutingRule.objects.get(team=team, pk=rule_id)
    old_name, before = rule.name, _rule_terms(rule)
    terms = {
        "name": name,
        "source_kind": source_kind,
        "slo": slo,
        "conditions": conditions,
        "outcome": outcome,
    }
    for field, value in terms.items():
        setattr(rule, field, value)
    if _rule_terms(rule) != before:
        rule.save(update_fields=list(terms))
        if rule.name == old_name:
            summary = _("Edited rule “%(rule)s”") % {"rule": rule.name}
        else:
            summary = _("Edited rule “%(old)s”, now “%(rule)s”") % {
                "old": old_name,
                "rule": rule.name,
            }
        _policy_changed(team=team, user=user, at=at, summary=summary)
    return rule


@transaction.atomic
def routing_rule_move(
    *, team: Team, rule_id: int, direction: Literal["up", "down"], user, at: datetime
) -> RoutingRule | None:
    """Swap the rule with the one above (up) or below (down); the first rule moved up,
    or the last moved down, stays where it is. None if it was removed meanwhile."""
    rules = _rules_locked(team)
    index = next((index for index, rule in enumerate(rules) if rule.pk == rule_id), None)
    if index is None:
        return None
    other = index - 1 if direction == "up" else index + 1
    rule = rules[index]
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        _rules_renumber(rules)
        summary = (
            _("Moved rule “%(rule)s” up, to position %(position)d")
            if direction == "up"
            else _("Moved rule “%(rule)s” down, to position %(position)d")
        )
        _policy_changed(
            team=team,
            user=user,
            at=at,
            summary=summary % {"rule": rule.name, "position": rule.position},
        )
    return rule


@transaction.atomic
def routing_rule_delete(*, team: Team, rule_id: int, user, at: datetime) -> None:
    """Remove the rule and close the gap; nothing happens if it is already gone."""
    rules = _rules_locked(team)
    rule = next((rule for rule in rules if rule.pk == rule_id), None)
    if rule is None:
        return
    rule.delete()
    _rules_renumber([kept for kept in rules if kept is not rule])
    _policy_changed(
        team=team, user=user, at=at, summary=_("Removed rule “%(rule)s”") % {"rule": rule.name}
    )
