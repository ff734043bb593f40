"""The weekly retro's agenda: its sections in order, how long each may take out of the
session's length, and when the next session of a team falls. Pure: plain values in and
out, no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    # Share of the session's length (the shares add up to 1); the meeting screen's timer.
    share: float


SECTIONS: tuple[Section, ...] = (
    Section("kudos", _("Kudos"), 0.05),
    Section("budgets", _("Budgets at a glance"), 0.15),
    Section("dashboard", _("The dashboard"), 0.20),
    Section("tickets", _("Error tickets"), 0.20),
    Section("reviews", _("SLOs due for review"), 0.10),
    Section("work", _("Reliability work"), 0.10),
    Section("actions", _("Actions"), 0.15),
    Section("summary", _("Summary"), 0.05),
)
SECTION_SLUGS = tuple(section.slug for section in SECTIONS)

DEFAULT_WEEKDAY = 2  # Wednesday: far from the weekend on both sides
DEFAULT_TIME = time(10, 0)
DEFAULT_MINUTES = 30
MIN_MINUTES, MAX_MINUTES = 10, 180


def section_index(slug: str) -> int:
    """The position (0-based) of a section; ValueError for an unknown slug."""
    return SECTION_SLUGS.index(slug)


def section_budget(index: int, *, session_minutes: int) -> timedelta:
    """How long section `index` may take in a session of `session_minutes`."""
    return timedelta(minutes=session_minutes * SECTIONS[index].share)


def session_time(monday: date, *, weekday: int, at: time, time_zone: str) -> datetime:
    """When the session of the week starting `monday` is held: the team's weekday and
    time in its zone, as an aware datetime in UTC."""
    local = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=ZoneInfo(time_zone))
    return local.astimezone(ZoneInfo("UTC"))
