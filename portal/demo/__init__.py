"""The demo that `make run` opens: an attendance and payroll SaaS team ("Kintai Cloud")
with every page filled.

- slos: three services, four SLOs with 90 days of hourly data (a clock-in outage last
  week, a payroll incident six weeks ago), a review, budget policies, annotations, and
  the pulls that stored the data (nightly runs, one partial, one failed, a pull now);
- notifications: eight weeks of Alertmanager, Sentry and batch-job deliveries through
  the real intake, a routing policy and its changes, two failed Slack deliveries;
- retros: two closed weekly retros with decisions and actions, and this week's, planned;
- charter: an Enabling SRE, who does what and its history, and the hearing the first
  SLOs came from (one of its features still a candidate);
- survey: two closed rounds of the expectations survey (a misreading that improved)
  and one open;
- backlog: scored items in every status, a pin, reserved time, nine weeks of work logged;
- hierarchy: each service assessed twice, nine weeks ago and ten days ago.

Every time is relative to the moment it runs. A rerun rebuilds the demo team's history
from scratch (`demo_team_clear`), so running it twice leaves the same rows; the team,
its services, SLOs and sources are found again by name and keep their ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from portal.demo.backlog import demo_backlog_fill
from portal.demo.base import DEMO_PASSWORD, TEAM_SLUG, Demo, Timeline
from portal.demo.charter import demo_charter_fill
from portal.demo.hierarchy import demo_hierarchy_fill
from portal.demo.notifications import (
    demo_intake_sources,
    demo_notifications_plan,
    demo_slack_failures,
)
from portal.demo.retros import demo_retro_plan_this_week, demo_retros_plan
from portal.demo.slos import (
    demo_buckets_write,
    demo_incidents,
    demo_pull_runs_record,
    demo_registry_fill,
    demo_slos_build,
)
from portal.demo.survey import demo_survey_fill
from portal.demo.team import demo_team, demo_team_clear, demo_users
from portal.models import Team

__all__ = ["DEMO_PASSWORD", "TEAM_SLUG", "DemoBuilt", "seed_demo"]


@dataclass(frozen=True)
class DemoBuilt:
    team: Team
    hours: int
    notifications: int


@transaction.atomic
def seed_demo(*, now: datetime) -> DemoBuilt:
    """Build (or rebuild) the demo as of `now`."""
    users = demo_users()
    team = demo_team(users)
    demo_team_clear(team)
    demo = Demo(now=now, team=team, users=users)
    demo_slos_build(demo)
    incidents = demo_incidents(demo)
    hours = demo_buckets_write(demo, incidents)
    demo_pull_runs_record(demo)
    demo_registry_fill(demo, incidents)
    demo_charter_fill(demo)
    demo_survey_fill(demo)

    sources = demo_intake_sources(demo)
    timeline = Timeline(now=now)
    demo_backlog_fill(demo, timeline)
    demo_notifications_plan(demo, timeline, sources, outage=incidents.clockin_outage)
    demo_retros_plan(demo, timeline, sources["jobs"], outage=incidents.clockin_outage)
    timeline.run()
    demo_slack_failures(demo)
    demo_retro_plan_this_week(demo)
    demo_hierarchy_fill(demo)
    return DemoBuilt(team=team, hours=hours, notifications=team.notifications.count())
