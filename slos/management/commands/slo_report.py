from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Team
from slos.budget import align_to_hour
from slos.models import SLO
from slos.registry.report import parse_at, slo_budget_report, utc_iso
from slos.registry.selectors import slos_with_budgets


def _percent(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table_rows(reports: list[dict]) -> list[list[str]]:
    header = [
        _("Team"),
        _("Service"),
        _("SLO"),
        _("Target"),
        _("Window"),
        _("SLI"),
        _("Budget left"),
        _("Burn 1d"),
        _("Burn 7d"),
        _("Coverage"),
        _("Status"),
    ]
    rows = [header]
    for report in reports:
        rows.append(
            [
                report["team"],
                report["service"],
                report["name"],
                f"{report['target']:g}%",
                report["window"],
                _percent(report["sli"], 3),
                _percent(report["error_budget_remaining"], 1),
                _rate(report["burn_rate_1d"]),
                _rate(report["burn_rate_7d"]),
                _percent(report["coverage"], 1),
                report["status"],
            ]
        )
    return rows


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    # Numbers are right-aligned so their digits line up: target, SLI, budget, burns, coverage.
    numeric = {3, 5, 6, 7, 8, 9}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Print every SLO with its error budget, as of --at (default: now). With --json, one "
        "JSON object per line (JSON Lines), the same object the API returns for the SLO."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON Lines")
        parser.add_argument(
            "--at", help="ISO 8601 time with a zone, e.g. 2026-11-02T09:00Z; default now"
        )
        parser.add_argument("--team", help="only this team's SLOs (its slug)")

    def handle(self, *args, as_json: bool, at: str | None, team: str | None, **options) -> None:
        try:
            moment = parse_at(at) if at is not None else timezone.now()
        except ValueError as exc:
            raise CommandError(f"--at: {exc}") from None
        slos = SLO.objects.all()
        if team is not None:
            if not Team.objects.filter(slug=team).exists():
                raise CommandError(_("No team with the slug “%(slug)s”.") % {"slug": team})
            slos = slos.filter(service__team__slug=team)
        reports = [slo_budget_report(row) for row in slos_with_budgets(slos, at=moment)]
        if as_json:
            for report in reports:
                self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        if not reports:
            self.stdout.write(_("No SLOs."))
            return
        self.stdout.write(
            _("Error budgets for windows ending %(end)s") % {"end": utc_iso(align_to_hour(moment))}
        )
        self.stdout.write(format_table(table_rows(reports)))
