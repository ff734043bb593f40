"""Writes for the reliability backlog: items and their history, pins, status, the team's
weights and reserved time, the work log and imports. Keyword-only, typed; views,
commands and other apps call these. Every change of an item or of a team's settings
leaves a record of who changed what and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Team
from slos.models import SLO, Notification
from toil.models import (
    CLOSED_STATUSES,
    BacklogItem,
    BacklogItemChange,
    BacklogSettings,
    BacklogSettingsChange,
    Status,
    WorkLogEntry,
)

# The fields an edit may change, in the order the history lists them.
EDITABLE_FIELDS = (
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
)
SETTINGS_FIELDS = (
    "weight_impact_likelihood",
    "weight_toil_relief",
    "weight_slo_risk",
    "weight_age",
    "age_horizon_weeks",
    "reserved_mode",
    "reserved_hours",
    "reserved_share_percent",
    "team_hours",
    "hours_per_point",
)


class BacklogError(ValueError):
    """A write the backlog refuses; the message is for the person who asked."""


def _check_links(
    team: Team, *, slo: SLO | None, ticket: Notification | None, owner: AbstractBaseUser | None
) -> None:
    if slo is not None and slo.service.team_id != team.pk:
        raise BacklogError(_("the SLO belongs to another team"))
    if ticket is not None and ticket.team_id != team.pk:
        raise BacklogError(_("the ticket belongs to another team"))
    if owner is not None and not team.memberships.filter(user=owner).exists():
        raise BacklogError(_("the owner is not a member of the team"))


def _shown(item: BacklogItem, field: str) -> str:
    """A field's value as the history shows it."""
    value = getattr(item, field)
    if value is None or value == "":
        return ""
    display = getattr(item, f"get_{field}_display", None)
    if display is not None:
        return str(display())
    return str(value)


def _setting_text(current: BacklogSettings, field: str) -> str:
    """A setting as the change record keeps it: decimals at the field's places, so a
    value typed as 12 and stored as 12.0 is the same value."""
    value = getattr(current, field)
    model_field = BacklogSettings._meta.get_field(field)
    if isinstance(model_field, models.DecimalField):
        value = model_field.to_python(value).quantize(
            Decimal(1).scaleb(-model_field.decimal_places)
        )
    return str(value)


def backlog_item_create(
    *,
    team: Team,
    title: str,
    kind: str,
    impact: int,
    likelihood: int,
    effort: str,
    toil_hours_per_month: Decimal = Decimal(0),
    description: str = "",
    status: str = Status.PROPOSED,
    owner: AbstractBaseUser | None = None,
    slo: SLO | None = None,
    ticket: Notification | None = None,
    tracker_url: str = "",
    created_by: AbstractBaseUser | None,
    at: datetime | None = None,
) -> BacklogItem:
    _check_links(team, slo=slo, ticket=ticket, owner=owner)
    at = at or timezone.now()
    closed = status in CLOSED_STATUSES
    return BacklogItem.objects.create(
        team=team,
        title=title,
        description=description,
        kind=kind,
        impact=impact,
        likelihood=likelihood,
        effort=effort,
        toil_hours_per_month=toil_hours_per_month,
        status=status,
        owner=owner,
        slo=slo,
        ticket=ticket,
        tracker_url=tracker_url,
        created_by=created_by,
        created_at=at,
        closed_by=created_by if closed else None,
        closed_at=at if closed else None,
    )


def backlog_item_update(
    *, item: BacklogItem, by: AbstractBaseUser | None, at: datetime, **values: Any
) -> BacklogItemChange | None:
    """Change the fields given (any of EDITABLE_FIELDS); a change of status to done or
    won't do records who closed it and when. Returns the history record, or None when
    nothing changed."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise BacklogError(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = BacklogItem.objects.select_for_update().get(pk=item.pk)
        _check_links(
            current.team,
            slo=values.get("slo", current.slo),
            ticket=values.get("ticket", current.ticket),
            owner=values.get("owner", current.owner),
        )
        changes: dict[str, list[str]] = {}
        for field in EDITABLE_FIELDS:
            if field not in values or getattr(current, field) == values[field]:
                continue
            before = _shown(current, field)
            setattr(current, field, values[field])
            changes[str(BacklogItem._meta.get_field(field).verbose_name)] = [
                before,
                _shown(current, field),
            ]
        if not changes:
            return None
        if "status" in values:
            closing = current.status in CLOSED_STATUSES
            current.closed_by = by if closing else None
            current.closed_at = at if closing else None
        current.save()
        change = BacklogItemChange.objects.create(
            item=current, changed_by=by, changed_at=at, changes=changes
        )
    item.refresh_from_db()
    return change


def backlog_item_pin(
    *, item: BacklogItem, reason: str, by: AbstractBaseUser | None, at: datetime
) -> None:
    """Put an item above the ranking, with the reason everyone sees."""
    reason = reason.strip()
    if not reason:
        raise BacklogError(_("a pin needs a written reason"))
    if not item.is_open:
        raise BacklogError(_("only an open item can be pinned"))
    with transaction.atomic():
        current = BacklogItem.objects.select_for_update().get(pk=item.pk)
        before = current.pinned_reason
        current.pinned_reason, current.pinned_by = reason, by
        current.pinned_at = current.pinned_at or at
        current.save(update_fields=["pinned_reason", "pinned_by", "pinned_at", "updated_at"])
        BacklogItemChange.objects.create(
            item=current, changed_by=by, changed_at=at, changes={"pinned": [before, reason]}
        )
    item.refresh_from_db()


def backlog_item_unpin(*, item: BacklogItem, by: AbstractBaseUser | None, at: datetime) -> None:
    with transaction.atomic():
        current = BacklogItem.objects.select_for_update().get(pk=item.pk)
        if current.pinned_at is None:
            return
        before = current.pinned_reason
        current.pinned_reason, current.pinned_by, current.pinned_at = "", None, None
        current.save(update_fields=["pinned_reason", "pinned_by", "pinned_at", "updated_at"])
        BacklogItemChange.objects.create(
            item=current, changed_by=by, changed_at=at, changes={"pinned": [before, ""]}
        )
    item.refresh_from_db()


def backlog_settings_update(
    *, team: Team, by: AbstractBaseUser | None, at: datetime, **values: Any
) -> BacklogSettingsChange | None:
    """Change a team's weights and reserved time (any of SETTINGS_FIELDS); every change
    is recorded with the values before and after. None when nothing changed."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise BacklogError(f"these settings do not exist: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current, _ = BacklogSettings.objects.select_for_update().get_or_create(team=team)
        before = {field: _setting_text(current, field) for field in SETTINGS_FIELDS}
        for field, value in values.items():
            setattr(current, field, value)
        current.full_clean(exclude=["team"])
        after = {field: _setting_text(current, field) for field in SETTINGS_FIELDS}
        if after == before:
            return None
        current.save()
        return BacklogSettingsChange.objects.create(
            team=team,
            changed_by=by,
            changed_at=at,
            before={
                field: before[field] for field in SETTINGS_FIELDS if before[field] != after[field]
            },
            after={
                field: after[field] for field in SETTINGS_FIELDS if before[field] != after[field]
            },
        )


def work_log_add(
    *,
    team: Team,
    person: AbstractBaseUser,
    on: date,
    hours: Decimal,
    item: BacklogItem | None = None,
    toil: bool = False,
    note: str = "",
    at: datetime,
) -> WorkLogEntry:
    if item is not None and item.team_id != team.pk:
        raise BacklogError(_("the item belongs to another team"))
    if not team.memberships.filter(user=person).exists():
        raise BacklogError(_("only a member of the team can log work for it"))
    entry = WorkLogEntry(
        team=team, person=person, item=item, on=on, hours=hours, toil=toil, note=note, created_at=at
    )
    entry.full_clean(exclude=["team", "person", "item"])
    entry.save()
    return entry


def work_log_delete(*, entry: WorkLogEntry) -> None:
    entry.delete()


@dataclass(frozen=True)
class ImportRow:
    """One item of an import, already checked (by the import's form)."""

    title: str
    kind: str
    impact: int
    likelihood: int
    effort: str
    toil_hours_per_month: Decimal
    status: str
    description: str
    tracker_url: str
    owner: AbstractBaseUser | None
    slo: SLO | None


def backlog_items_import(
    *, team: Team, rows: list[ImportRow], by: AbstractBaseUser | None, at: datetime
) -> list[BacklogItem]:
    """Every row becomes an item, or none does."""
    with transaction.atomic():
        return [
            backlog_item_create(
                team=team,
                title=row.title,
                kind=row.kind,
                impact=row.impact,
                likelihood=row.likelihood,
                effort=row.effort,
                toil_hours_per_month=row.toil_hours_per_month,
                status=row.status,
                description=row.description,
                tracker_url=row.tracker_url,
                owner=row.owner,
                slo=row.slo,
                created_by=by,
                at=at,
            )
            for row in rows
        ]
