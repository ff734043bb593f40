"""What the retro's screens need beyond the agenda: the sections with their timers and
notes."""

from __future__ import annotations

from dataclasses import dataclass

from retros.agenda import SECTIONS, section_budget
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
