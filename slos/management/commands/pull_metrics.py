from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from slos.ingestion.pull import data_source_pull
from slos.models import SLO, DataSource, DataSourceKind, PullStatus, PullTrigger


def parse_aware(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            f"--until must be an ISO 8601 time, like 2026-11-01T00:00Z: {exc}"
        ) from exc
    if moment.tzinfo is None:
        raise CommandError("--until needs a time zone, like 2026-11-01T00:00Z or +09:00.")
    return moment


class Command(BaseCommand):
    help = (
        "Fill every missing hour of each SLO's window from its metric source, up to the "
        "last complete hour before --until (default: now). Safe to rerun."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--until", help="ISO 8601 time with zone; default now")
        parser.add_argument("--source", type=int, help="only this data source id")
        parser.add_argument("--slo", type=int, help="only this SLO id")

    def handle(
        self, *args, until: str | None, source: int | None, slo: int | None, **options
    ) -> None:
        moment = parse_aware(until) if until else timezone.now()
        sources = DataSource.objects.filter(kind=DataSourceKind.PROMETHEUS).order_by("pk")
        slo_ids = None
        if slo is not None:
            found = SLO.objects.filter(pk=slo).first()
            if found is None or found.data_source_id is None:
                raise CommandError(f"No SLO with id {slo} and a data source.")
            sources, slo_ids = sources.filter(pk=found.data_source_id), [slo]
        if source is not None:
            sources = sources.filter(pk=source)
            if not sources.exists():
                raise CommandError(f"No Prometheus data source with id {source}.")
        failed = False
        for data_source in sources:
            run = data_source_pull(
                data_source=data_source,
                until=moment,
                slo_ids=slo_ids,
                trigger=PullTrigger.MANUAL if slo_ids or source else PullTrigger.NIGHTLY,
            )
            self.stdout.write(
                f"{data_source.name}: {run.status}, {run.hours_stored} hour(s) stored "
                f"(window ends {run.until.isoformat()}); SLOs ok {run.count_ok}, "
                f"partial {run.count_partial}, failed {run.count_failed}"
            )
            for outcome in run.outcomes:  # the SLOs worth a look
                line = (
                    f"  {outcome['slo_name']}: {outcome['status']}, "
                    f"{outcome['hours_stored']}/{outcome['hours_missing']} missing hour(s) stored"
                )
                if outcome["message"]:
                    line += f" — {outcome['message']}"
                self.stdout.write(line)
            failed = failed or run.status != PullStatus.OK
        if failed:
            raise CommandError("Some SLOs could not be pulled; stored data was left as it was.")
