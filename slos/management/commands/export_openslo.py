from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.models import Team
from slos.openslo import dump_documents, export_documents


class Command(BaseCommand):
    help = (
        "Write services, data sources and SLOs as OpenSLO v1 YAML (all teams, or one). "
        "The output is stable: exporting, importing and exporting again gives the same text."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", metavar="SLUG", help="only this team")
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="write to FILE instead of standard output"
        )

    def handle(self, *args, team: str | None, output: str | None, **options) -> None:
        teams = list(Team.objects.order_by("slug"))
        if team is not None:
            teams = [candidate for candidate in teams if candidate.slug == team]
            if not teams:
                raise CommandError(_("No team with slug “%(slug)s”.") % {"slug": team})
        documents = export_documents(teams=teams)
        text = dump_documents(documents)
        counts = Counter(document["kind"] for document in documents)
        numbers = {
            "services": counts["Service"],
            "sources": counts["DataSource"],
            "slos": counts["SLO"],
            "team": team,
            "teams": len(teams),
        }
        if team:
            summary = (
                _(
                    "Exported %(services)d service(s), %(sources)d data source(s) and "
                    "%(slos)d SLO(s) of team %(team)s."
                )
                % numbers
            )
        else:
            summary = (
                _(
                    "Exported %(services)d service(s), %(sources)d data source(s) and "
                    "%(slos)d SLO(s) of %(teams)d team(s)."
                )
                % numbers
            )
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(summary)s Written to %(file)s.") % {"summary": summary, "file": output}
                )
            )
        else:
            self.stdout.write(text, ending="")
            # The YAML goes to standard output; the summary must not end up inside it.
            self.stderr.write(summary)
