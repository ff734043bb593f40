from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from slos.openslo import OpenSLOError, SourceFile, openslo_import


class Command(BaseCommand):
    help = (
        "Import OpenSLO v1 Service, DataSource, SLO and SLI documents from YAML files. "
        "Objects are matched by metadata.name, so a rerun updates instead of duplicating. "
        "Every file is checked first; if anything is invalid, nothing is written."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="OpenSLO v1 YAML file")
        parser.add_argument(
            "--team",
            metavar="SLUG",
            help="team for objects without a team label (created if missing)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, but write nothing"
        )

    def handle(self, *args, files: list[str], team: str | None, dry_run: bool, **options):
        sources = []
        unreadable = 0
        for name in files:
            try:
                sources.append(SourceFile(name=name, text=Path(name).read_text("utf-8-sig")))
            except (OSError, UnicodeDecodeError) as exc:
                unreadable += 1
                self.stderr.write(
                    _("%(file)s: cannot read: %(error)s") % {"file": name, "error": exc}
                )
        if unreadable:
            raise CommandError(
                _("%(count)d file(s) could not be read; nothing was imported.")
                % {"count": unreadable}
            )
        try:
            report = openslo_import(files=sources, default_team=team, dry_run=dry_run)
        except OpenSLOError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                _("%(count)d problem(s) found; nothing was imported.")
                % {"count": len(exc.problems)}
            ) from exc
        for change in report.changes:
            self.stdout.write(f"  {change}")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING("  " + _("note: %(note)s") % {"note": warning}))
        self.stdout.write(self.style.SUCCESS(report.summary()))
