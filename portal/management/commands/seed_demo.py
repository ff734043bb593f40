"""Build the demo `make run` opens (portal/demo/): a team with every page filled, its
history relative to now. A rerun rebuilds the demo team's history and duplicates
nothing."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = (
        "Build (or rebuild) the demo team: SLOs with 90 days of data, pulls, three weeks "
        "of notifications, retros and a backlog, all relative to now."
    )

    def handle(self, *args, **options) -> None:
        built = seed_demo(now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo team “{built.team.name}”: {built.hours} hourly rows, "
                f"{built.notifications} notifications."
            )
        )
        self.stdout.write(
            f"Log in at http://127.0.0.1:{os.environ.get('PORT', '8000')}/accounts/login/ as "
            f"demo / {DEMO_PASSWORD} "
            f"(also dev and pm, same password)."
        )
