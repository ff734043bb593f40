"""Writes for the SLO registry. Keyword-only, typed; views and commands call these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.formatting import target_text
from portal.models import Team
from slos.models import (
    MEASUREMENT_FIELDS,
    SLO,
    WINDOW_FIELDS,
    Annotation,
    AnnotationKind,
    BudgetPolicyStep,
    DataSource,
    HourlyBucket,
    PullTrigger,
    ReviewDecision,
    Service,
    SLOReview,
)
from slos.tasks import pull_enqueue


def data_source_create(*, team: Team, name: str, url: str, timeout_seconds: float) -> DataSource:
    return DataSource.objects.create(team=team, name=name, url=url, timeout_seconds=timeout_seconds)


def service_create(*, team: Team, name: str, description: str = "") -> Service:
    return Service.objects.create(team=team, name=name, description=description)


def slo_create(
    *,
    service: Service,
    data_source: DataSource | None,
    name: str,
    target: Decimal | str,
    today: date | None = None,
    backfill: bool = True,
    **definition: Any,
) -> SLO:
    """Create an SLO from its definition (the SLO model's fields: the indicator, the
    method, the window, the registry fields). Validates like the form does, so every
    way in (form, OpenSLO, API) gets the same rules and messages. Once committed, its
    whole window is backfilled in the background (progress shows on its page)."""
    if data_source is not None and data_source.team_id != service.team_id:
        raise ValueError("the data source belongs to another team")
    slo = SLO(service=service, data_source=data_source, name=name, target=target, **definition)
    if slo.next_review_on is None:
        slo.next_review_on = (today or timezone.localdate()) + timedelta(
            days=slo.review_interval_days
        )
    slo.full_clean(validate_unique=True)
    slo.save()
    if backfill:
        slo_backfill_enqueue(slo)
    return slo


def slo_backfill_enqueue(slo: SLO) -> None:
    """After the transaction commits, pull every missing or stale hour of the SLO. With
    the broker down the SLO stays saved and its backfill waits as a queued pull (see
    `slo_pull_waiting`), started once the broker is back."""
    source = slo.data_source
    if source is None or not source.is_pulled:
        return
    transaction.on_commit(
        lambda: pull_enqueue(
            source_id=source.pk, slo_id=slo.pk, trigger=PullTrigger.BACKFILL, at=timezone.now()
        ),
        robust=True,
    )


# The registry: edits, reviews, the error-budget policy and annotations.

EDITABLE_SLO_FIELDS = frozenset(
    field.name
    for field in SLO._meta.get_fields()
    if field.concrete and field.editable and not field.primary_key
) - {"created_at"}


def team_today(team: Team, *, at: datetime) -> date:
    """The date on the team's calendar at the moment `at`."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    return at.astimezone(ZoneInfo(team.time_zone)).date()


def _locked_slo(slo: SLO) -> SLO:
    return (
        SLO.objects.select_for_update(of=("self",)).select_related("service__team").get(pk=slo.pk)
    )


def slo_update(
    *,
    slo: SLO,
    user: AbstractBaseUser | None,
    at: datetime,
    target_change_note: str = "",
    **changes: Any,
) -> SLO:
    """Change an SLO's definition. A changed target is kept in the SLO's history as a
    tighten or loosen entry (who, when, old and new target, why); the periodic review
    stays scheduled as it was, because an edit is not a review of the SLO."""
    unknown = set(changes) - EDITABLE_SLO_FIELDS
    if unknown:
        raise TypeError(f"not editable SLO fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = _locked_slo(slo)
        old_target, team_id = current.target, current.service.team_id
        before = {field: getattr(current, field) for field in MEASUREMENT_FIELDS | WINDOW_FIELDS}
        for field, value in changes.items():
            setattr(current, field, value)
        if current.service.team_id != team_id:
            raise ValueError("an SLO cannot move to another team's service")
        if current.data_source is not None and current.data_source.team_id != team_id:
            raise ValueError("the data source belongs to another team")
        current.full_clean(validate_unique=True)
        current.save()
        measured_differently = any(
            getattr(current, field) != value
            for field, value in before.items()
            if field in MEASUREMENT_FIELDS
        )
        if measured_differently:
            HourlyBucket.objects.filter(slo=current).update(stale=True)
        if measured_differently or any(
            getattr(current, field) != value
            for field, value in before.items()
            if field in WINDOW_FIELDS
        ):
            slo_backfill_enqueue(current)
        new_target = Decimal(current.target)
        if new_target != old_target:
            SLOReview.objects.create(
                slo=current,
                reviewed_by=user,
                reviewed_at=at,
                decision=ReviewDecision.TIGHTEN
                if new_target > old_target
                else ReviewDecision.LOOSEN,
                note=target_change_note,
                old_target=old_target,
                new_target=new_target,
            )
    return current


def review_target_error(
    *, decision: str, old_target: Decimal, new_target: Decimal | None
) -> str | None:
    """What is wrong with the new target for this decision, or None. The form shows
    the message; the service refuses the same inputs."""
    if decision in {ReviewDecision.TIGHTEN, ReviewDecision.LOOSEN} and new_target is None:
        return _("Give the new target: tightening or loosening changes it.")
    if new_target is None:
        return None
    if decision == ReviewDecision.TIGHTEN and new_target <= old_target:
        return _("Tightening raises the target: give a target above %(old)s%%.") % {
            "old": target_text(old_target)
        }
    if decision == ReviewDecision.LOOSEN and new_target >= old_target:
        return _("Loosening lowers the target: give a target below %(old)s%%.") % {
            "old": target_text(old_target)
        }
    if decision in {ReviewDecision.KEEP, ReviewDecision.RETIRE} and new_target != old_target:
        return _(
            "Keeping or retiring leaves the target at %(old)s%%: leave the new target as it "
            "is, or choose Tighten or Loosen."
        ) % {"old": target_text(old_target)}
    return None


def slo_review_record(
    *,
    slo: SLO,
    user: AbstractBaseUser | None,
    decision: str,
    note: str,
    new_target: Decimal | None,
    at: datetime,
) -> SLOReview:
    """Record a review. Keep, tighten and loosen set the (new) target, make the SLO
    final (no longer provisional: the team has looked at it with data) and schedule the
    next review `review_interval_days` after the review's date in the team's time zone.
    Retire records the decision and stops the reviews (next review cleared)."""
    if decision not in ReviewDecision.values:
        raise ValueError(f"unknown review decision {decision!r}")
    with transaction.atomic():
        current = _locked_slo(slo)
        old_target = current.target
        error = review_target_error(decision=decision, old_target=old_target, new_target=new_target)
        if error:
            raise ValidationError({"new_target": error})
        target = old_target if new_target is None else new_target
        try:
            SLO._meta.get_field("target").run_validators(target)
        except ValidationError as invalid:
            raise ValidationError({"new_target": invalid.messages}) from None
        review = SLOReview.objects.create(
            slo=current,
            reviewed_by=user,
            reviewed_at=at,
            decision=decision,
            note=note,
            old_target=old_target,
            new_target=target,
        )
        if decision == ReviewDecision.RETIRE:
            current.next_review_on = None
            current.retired_at = at
        else:
            current.target = target
            current.provisional = False
            current.next_review_on = team_today(current.team, at=at) + timedelta(
                days=current.review_interval_days
            )
        current.save(update_fields=["target", "provisional", "next_review_on", "retired_at"])
    return review


@dataclass(frozen=True)
class PolicyStep:
    below_percent: Decimal
    action: str
    freezes_releases: bool = False


POLICY_LEVEL_MIN = Decimal(-1000)
POLICY_LEVEL_MAX = Decimal(100)


def policy_steps_replace(*, slo: SLO, steps: Sequence[PolicyStep]) -> list[BudgetPolicyStep]:
    """Replace the SLO's error-budget policy with `steps` (any order; none clears it)."""
    levels = [step.below_percent for step in steps]
    if len(set(levels)) != len(levels):
        raise ValidationError(_("Each level may appear only once in a policy."))
    for step in steps:
        if not POLICY_LEVEL_MIN <= step.below_percent <= POLICY_LEVEL_MAX:
            raise ValidationError(_("A level is a remaining budget from -1000% to 100%."))
        if not step.action.strip():
            raise ValidationError(_("Every level needs what the team will do."))
    with transaction.atomic():
        current = _locked_slo(slo)
        current.policy_steps.all().delete()
        BudgetPolicyStep.objects.bulk_create(
            [
                BudgetPolicyStep(
                    slo=current,
                    below_percent=step.below_percent,
                    action=step.action.strip(),
                    freezes_releases=step.freezes_releases,
                )
                for step in steps
            ]
        )
    return list(BudgetPolicyStep.objects.filter(slo=slo))


def annotation_errors(
    *, kind: str, starts_at: datetime | None, ends_at: datetime | None, excluded: bool
) -> dict[str, str]:
    """What is wrong with an annotation's times and exclusion, by field (empty: nothing).
    The form shows these messages; the service refuses the same inputs."""
    errors: dict[str, str] = {}
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if excluded and kind != AnnotationKind.MAINTENANCE:
        errors["excluded"] = _(
            "Only maintenance can be excluded from the error budget: choose the kind "
            "Maintenance, or untick the box."
        )
    return errors


def annotation_create(
    *,
    team: Team,
    slo: SLO | None = None,
    service: Service | None = None,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    text: str,
    excluded: bool = False,
    created_by: AbstractBaseUser | None,
) -> Annotation:
    """An annotation on one SLO (`slo`), on every SLO of a service (`service`) or on the
    whole team (neither). Times are aware; they are stored in UTC."""
    if slo is not None and service is not None:
        raise ValueError("an annotation is for one SLO or one service, not both")
    if slo is not None and slo.service.team_id != team.pk:
        raise ValueError("the SLO belongs to another team")
    if service is not None and service.team_id != team.pk:
        raise ValueError("the service belongs to another team")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("naive datetime: every time in the portal is aware")
    errors = annotation_errors(kind=kind, starts_at=starts_at, ends_at=ends_at, excluded=excluded)
    if errors:
        raise ValidationError(errors)
    annotation = Annotation(
        team=team,
        slo=slo,
        service=service,
        kind=kind,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        text=text.strip(),
        excluded=excluded,
        created_by=created_by,
    )
    annotation.full_clean()
    annotation.save()
    return annotation


def annotation_delete(*, annotation: Annotation) -> None:
    annotation.delete()
