"""Writes of the charter and the hearings. Every charter change (mission, SRE shape, a
responsibility added, changed or removed) is kept as a CharterChange with who and when,
in the same transaction as the change itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from portal.charter.defaults import DEFAULT_RESPONSIBILITIES
from portal.models import (
    Charter,
    CharterChange,
    CharterChangeKind,
    Hearing,
    Responsibility,
    SLICandidate,
    Team,
)


def _record(*, team: Team, kind: str, by, at: datetime, subject="", before="", after=""):
    return CharterChange.objects.create(
        team=team,
        kind=kind,
        subject=subject,
        before=before,
        after=after,
        changed_by=by,
        changed_at=at,
    )


def _locked_charter(team: Team) -> Charter:
    """The team's charter row, made on first write, locked until the transaction ends so
    two admins saving at once each record what they really changed."""
    Charter.objects.get_or_create(team=team)
    return Charter.objects.select_for_update().select_related("team").get(team=team)


@transaction.atomic
def charter_update(
    *, team: Team, by, at: datetime, mission: str, sre_shape: str
) -> list[CharterChange]:
    """Set the mission and the SRE shape; returns the changes recorded (none when both
    were already so)."""
    charter = _locked_charter(team)
    stored_team = charter.team
    mission = mission.strip()
    changes = []
    if mission != stored_team.mission:
        changes.append(
            _record(
                team=team,
                kind=CharterChangeKind.MISSION,
                by=by,
                at=at,
                before=stored_team.mission,
                after=mission,
            )
        )
        Team.objects.filter(pk=team.pk).update(mission=mission)
        team.mission = mission
    if sre_shape != charter.sre_shape:
        changes.append(
            _record(
                team=team,
                kind=CharterChangeKind.SRE_SHAPE,
                by=by,
                at=at,
                before=charter.sre_shape,
                after=sre_shape,
            )
        )
        charter.sre_shape = sre_shape
    if changes:
        charter.updated_at, charter.updated_by = at, by
        charter.save(update_fields=["sre_shape", "updated_at", "updated_by"])
    return changes


def _duplicate(team: Team, description: str, *, other_than: int | None = None) -> bool:
    same = Responsibility.objects.filter(team=team, description__iexact=description)
    if other_than is not None:
        same = same.exclude(pk=other_than)
    return same.exists()


def _refuse_duplicate() -> ValidationError:
    return ValidationError(_("The charter already lists that responsibility."), code="duplicate")


def _touch(team: Team, *, by, at: datetime) -> None:
    charter = _locked_charter(team)
    charter.updated_at, charter.updated_by = at, by
    charter.save(update_fields=["updated_at", "updated_by"])


@transaction.atomic
def responsibility_add(
    *, team: Team, by, at: datetime, description: str, party: str
) -> Responsibility:
    _touch(team, by=by, at=at)
    description = description.strip()
    if _duplicate(team, description):
        raise _refuse_duplicate()
    last = team.responsibilities.aggregate(last=Max("position"))["last"]
    responsibility = Responsibility.objects.create(
        team=team,
        description=description,
        party=party,
        position=0 if last is None else last + 1,
    )
    _record(
        team=team,
        kind=CharterChangeKind.RESPONSIBILITY_ADDED,
        by=by,
        at=at,
        subject=description,
        after=party,
    )
    return responsibility


@transaction.atomic
def responsibility_update(
    *, responsibility: Responsibility, by, at: datetime, description: str, party: str
) -> Responsibility:
    """Rename it or give it to someone else; the history keeps both sides."""
    team = responsibility.team
    charter = _locked_charter(team)
    stored = Responsibility.objects.select_for_update().get(pk=responsibility.pk)
    description = description.strip()
    if description == stored.description and party == stored.party:
        return stored
    if _duplicate(team, description, other_than=stored.pk):
        raise _refuse_duplicate()
    charter.updated_at, charter.updated_by = at, by
    charter.save(update_fields=["updated_at", "updated_by"])
    if description != stored.description:
        _record(
            team=team,
            kind=CharterChangeKind.RESPONSIBILITY_CHANGED,
            by=by,
            at=at,
            subject=description,
            before=stored.description,
            after=description,
        )
    if party != stored.party:
        _record(
            team=team,
            kind=CharterChangeKind.RESPONSIBILITY_CHANGED,
            by=by,
            at=at,
            subject=description,
            before=stored.party,
            after=party,
        )
    stored.description, stored.party = description, party
    stored.save(update_fields=["description", "party"])
    return stored


@transaction.atomic
def responsibility_remove(*, responsibility: Responsibility, by, at: datetime) -> None:
    team = responsibility.team
    _touch(team, by=by, at=at)
    _record(
        team=team,
        kind=CharterChangeKind.RESPONSIBILITY_REMOVED,
        by=by,
        at=at,
        subject=responsibility.description,
        before=responsibility.party,
    )
    responsibility.delete()


@transaction.atomic
def responsibilities_adopt_defaults(*, team: Team, by, at: datetime) -> list[Responsibility]:
    """The suggested split (defaults.py), in the adopting admin's language, for a charter
    that lists no responsibility yet; refused once it lists any."""
    _touch(team, by=by, at=at)
    if team.responsibilities.exists():
        raise ValidationError(
            _("The charter already lists responsibilities: edit them instead."),
            code="not_empty",
        )
    made = Responsibility.objects.bulk_create(
        Responsibility(team=team, description=str(description), party=party, position=position)
        for position, (description, party) in enumerate(DEFAULT_RESPONSIBILITIES)
    )
    # One entry, not one per line: the list itself is on the page above the history.
    _record(
        team=team,
        kind=CharterChangeKind.RESPONSIBILITIES_ADOPTED,
        by=by,
        at=at,
        after="\n".join(f"{r.party}: {r.description}" for r in made),
    )
    return made


@dataclass(frozen=True)
class FeatureHeard:
    """A feature that matters, as heard: a candidate SLI."""

    feature: str
    working_means: str
    service_name: str = ""


def _candidate_create(hearing: Hearing, heard: FeatureHeard, position: int) -> SLICandidate:
    return SLICandidate.objects.create(
        hearing=hearing,
        feature=heard.feature.strip(),
        working_means=heard.working_means.strip(),
        service_name=heard.service_name.strip(),
        position=position,
    )


@transaction.atomic
def hearing_record(
    *,
    team: Team,
    by,
    at: datetime,
    held_on: date,
    heard: str,
    pains: str,
    features: list[FeatureHeard],
) -> Hearing:
    hearing = Hearing.objects.create(
        team=team,
        held_on=held_on,
        heard=heard.strip(),
        pains=pains.strip(),
        recorded_by=by,
        recorded_at=at,
    )
    for position, feature in enumerate(features):
        _candidate_create(hearing, feature, position)
    return hearing


@transaction.atomic
def candidate_add(*, hearing: Hearing, feature: FeatureHeard) -> SLICandidate:
    """One more feature heard in `hearing` (remembered after it was recorded)."""
    Hearing.objects.select_for_update().get(pk=hearing.pk)
    last = hearing.candidates.aggregate(last=Max("position"))["last"]
    return _candidate_create(hearing, feature, 0 if last is None else last + 1)


@dataclass(frozen=True)
class FeatureEdit:
    """A change to a feature already recorded: its new words, or its removal."""

    candidate_id: int
    heard: FeatureHeard
    remove: bool = False


def hearing_label(hearing: Hearing) -> str:
    """How the charter's history names a hearing: its date and who was heard (stored
    values, so the history reads the same in every language)."""
    return f"{hearing.held_on.isoformat()} · {hearing.heard}"[:200]


def _feature_line(feature: str, working_means: str) -> str:
    return f"{feature.strip()}: {working_means.strip()}"


@transaction.atomic
def hearing_update(
    *,
    hearing: Hearing,
    by,
    at: datetime,
    held_on: date,
    heard: str,
    pains: str,
    edits: list[FeatureEdit],
    added: list[FeatureHeard],
) -> bool:
    """Changes who was heard, when, the pains and the features (`edits` name features of
    this hearing; `added` are new ones). A feature made into an SLO cannot be removed: the
    SLO points to it. One history entry with what changed before and after; False (and
    nothing written) when nothing changed."""
    hearing = Hearing.objects.select_for_update().get(pk=hearing.pk)
    stored = {c.pk: c for c in hearing.candidates.all()}
    unknown = [edit.candidate_id for edit in edits if edit.candidate_id not in stored]
    if unknown or len({edit.candidate_id for edit in edits}) != len(edits):
        raise ValidationError(_("A feature listed is not one of this hearing's."), code="unknown")
    removing = [edit.candidate_id for edit in edits if edit.remove]
    kept = SLICandidate.objects.filter(pk__in=removing, slos__isnull=False).distinct()
    if kept_names := [c.feature for c in kept]:
        raise ValidationError(
            _("“%(features)s” became an SLO, so it stays with the hearing.")
            % {"features": "”, “".join(kept_names)},
            code="has_slo",
        )
    before: list[str] = []
    after: list[str] = []
    label = hearing_label(hearing)
    new = {"held_on": held_on, "heard": heard.strip(), "pains": pains.strip()}
    changed_fields = [name for name, value in new.items() if getattr(hearing, name) != value]
    for name in changed_fields:
        before.append(str(getattr(hearing, name)))
        after.append(str(new[name]))
        setattr(hearing, name, new[name])
    for edit in edits:
        candidate = stored[edit.candidate_id]
        old_line = _feature_line(candidate.feature, candidate.working_means)
        if edit.remove:
            before.append(f"− {old_line}")
            candidate.delete()
            continue
        values = {
            "feature": edit.heard.feature.strip(),
            "working_means": edit.heard.working_means.strip(),
            "service_name": edit.heard.service_name.strip(),
        }
        fields = [name for name, value in values.items() if getattr(candidate, name) != value]
        if not fields:
            continue
        old_service = candidate.service_name
        for name in fields:
            setattr(candidate, name, values[name])
        candidate.save(update_fields=fields)
        new_line = _feature_line(candidate.feature, candidate.working_means)
        if new_line != old_line:
            before.append(old_line)
            after.append(new_line)
        if candidate.service_name != old_service:
            before.append(f"{candidate.feature} ({old_service or '–'})")
            after.append(f"{candidate.feature} ({candidate.service_name or '–'})")
    last = max((c.position for c in stored.values()), default=-1)
    for position, heard_now in enumerate(added, start=last + 1):
        _candidate_create(hearing, heard_now, position)
        after.append(f"+ {_feature_line(heard_now.feature, heard_now.working_means)}")
    if not (before or after):
        return False
    if changed_fields:
        hearing.save(update_fields=changed_fields)
    _record(
        team=hearing.team,
        kind=CharterChangeKind.HEARING_CHANGED,
        by=by,
        at=at,
        subject=label,
        before="\n".join(before),
        after="\n".join(after),
    )
    return True


@transaction.atomic
def hearing_delete(*, hearing: Hearing, by, at: datetime) -> None:
    """Deletes the hearing and its features. The SLOs made from them stay (their
    `candidate` is set to null; their "why it matters" is their own copy of the words
    heard). The history keeps the hearing's date, who was heard and its features."""
    hearing = Hearing.objects.select_for_update().get(pk=hearing.pk)
    _record(
        team=hearing.team,
        kind=CharterChangeKind.HEARING_DELETED,
        by=by,
        at=at,
        subject=hearing_label(hearing),
        before="\n".join(
            _feature_line(c.feature, c.working_means) for c in hearing.candidates.all()
        ),
    )
    hearing.delete()
