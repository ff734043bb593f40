"""What every part of the demo shares: the moment it is built for, its people, team,
SLOs and data source, and the timeline that replays the demo's history in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portal.models import Team
from portal.weeks import week_monday
from retros.agenda import session_time
from slos.models import SLO, DataSource, Service

DEMO_PASSWORD = "reliability-demo"
TEAM_SLUG = "kintai"


@dataclass
class Demo:
    """The demo as it is being built. `now` is the moment every time is relative to."""

    now: datetime
    team: Team
    users: dict
    services: dict[str, Service] = field(default_factory=dict)
    slos: dict[str, SLO] = field(default_factory=dict)  # by the DemoSLO's key
    data_source: DataSource | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.team.time_zone)

    def local_day_start(self, days_ago: int) -> datetime:
        """Midnight in the team's zone, `days_ago` local days before today."""
        today = self.now.astimezone(self.zone).date()
        day = today - timedelta(days=days_ago)
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def retro_held(self, weeks_ago: int) -> datetime:
        """When the team's weekly retro of `weeks_ago` weeks back began."""
        monday = week_monday(self.now, self.team.time_zone) - timedelta(days=7 * weeks_ago)
        return session_time(
            monday,
            weekday=self.team.retro_weekday,
            at=self.team.retro_time,
            time_zone=self.team.time_zone,
        )


@dataclass
class Timeline:
    """The demo's history, replayed in the order it happened: routing rules decide only
    what is first seen after them, and a retro freezes what exists when it starts, so a
    notification, a policy change and a retro must meet the services in time order.
    Events after `now` are left out: the demo never holds the future."""

    now: datetime
    events: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, moment: datetime, action: Callable[[], object]) -> None:
        if moment <= self.now:
            self.events.append((moment, len(self.events), action))

    def run(self) -> None:
        for _moment, _order, action in sorted(self.events, key=lambda event: event[:2]):
            action()
        self.events.clear()
