"""What the retro's screens need beyond the agenda: the sections with their timers and
notes, and the follow state a meeting screen polls every second (one query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from retros.agenda import SECTIONS, section_budget
from retros.models import RetroSession
from retros.selectors import Agenda, NoteRow


@dataclass(frozen=True)
class SectionView:
    index: int
    number: int  # 1-based, the key that shows it
    slug: str
    title: str
    budget_seconds: int
    notes: tuple[NoteRow, ...]

    @property
    def budget_text(self) -> str:
        """The section's time as the timer shows it: 4:30."""
        minutes, seconds = divmod(self.budget_seconds, 60)
        return f"{minutes}:{seconds:02d}"


def section_views(agenda: Agenda) -> list[SectionView]:
    minutes = agenda.session.length_minutes
    return [
        SectionView(
            index=index,
            number=index + 1,
            slug=section.slug,
            title=str(section.title),
            budget_seconds=int(section_budget(index, session_minutes=minutes).total_seconds()),
            notes=agenda.notes_for(section.slug),
        )
        for index, section in enumerate(SECTIONS)
    ]


@dataclass(frozen=True)
class FollowState:
    version: int
    section: int
    status: str
    facilitator_id: int | None
    # Seconds the facilitator has been on the section, by the server's clock (a
    # laptop's clock may be off; the screen counts on from this).
    elapsed: int | None

    def as_json(self) -> dict:
        return {
            "version": self.version,
            "section": self.section,
            "status": self.status,
            "facilitator": self.facilitator_id,
            "elapsed": self.elapsed,
        }


def follow_state(session_id: int, *, at: datetime) -> tuple[FollowState, int]:
    """What a follower compares with what it shows, and the session's team (for the
    access check). One query; DoesNotExist if there is no such session."""
    version, section, status, facilitator_id, started, team_id = RetroSession.objects.values_list(
        "version",
        "current_section",
        "status",
        "facilitator_id",
        "section_started_at",
        "team_id",
    ).get(pk=session_id)
    elapsed = None if started is None else max(0, int((at - started).total_seconds()))
    return FollowState(version, section, status, facilitator_id, elapsed), team_id
