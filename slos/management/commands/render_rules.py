from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.models import Team
from slos.alerting.rules import DEFAULT_BASE_URL, render_rules
from slos.alerting.views import rule_slos
from slos.models import SLO


class Command(BaseCommand):
    help = (
        "Write Prometheus recording and multi-window burn-rate alerting rules for the "
        "SLOs of all teams, or one. The output is stable: the same SLOs give the same text."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--team", metavar="SLUG", help="only this team")
        parser.add_argument(
            "--out", "-o", metavar="FILE", help="write to FILE instead of standard output"
        )
        parser.add_argument(
            "--base-url",
            default=DEFAULT_BASE_URL,
            help="the portal's address, for the SLO links in alerts (default %(default)s)",
        )

    def handle(self, *args, team: str | None, out: str | None, base_url: str, **options) -> None:
        slos = SLO.objects.active().order_by("service__team__slug", "service__name", "name", "pk")
        if team is not None:
            if not Team.objects.filter(slug=team).exists():
                raise CommandError(_("No team with slug “%(slug)s”.") % {"slug": team})
            slos = slos.filter(service__team__slug=team)
        definitions = rule_slos(slos)
        text = render_rules(definitions, base_url=base_url)
        skipped = sum(1 for definition in definitions if definition.skip_reason)
        summary = _("Rules for %(with)d SLO(s); %(skipped)d skipped (see the comments).") % {
            "with": len(definitions) - skipped,
            "skipped": skipped,
        }
        if out:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(
                self.style.SUCCESS(
                    _("%(summary)s Written to %(file)s.") % {"summary": summary, "file": out}
                )
            )
        else:
            self.stdout.write(text, ending="")
            # The YAML goes to standard output; the summary must not end up inside it.
            self.stderr.write(summary)
