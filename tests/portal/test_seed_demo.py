"""The demo data is believable and a rerun duplicates nothing."""

from django.core.management import call_command
from django.utils import timezone

from portal.models import Membership, Team
from retros.models import BudgetSnapshot, RetroSession
from slos.budget import BudgetStatus
from slos.models import SLO, HourlyBucket, Service
from slos.registry.selectors import slos_with_budgets
from toil.models import BacklogItem


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in [
            Team,
            Membership,
            Service,
            SLO,
            HourlyBucket,
            RetroSession,
            BudgetSnapshot,
            BacklogItem,
        ]
    }


def test_seed_demo_twice(db, capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")

    assert counts() == first
    assert first["Service"] == 3 and first["SLO"] == 4
    assert first["HourlyBucket"] == 4 * 90 * 24
    assert first["RetroSession"] == 1 and first["BudgetSnapshot"] == 4
    assert "demo / reliability-demo" in capsys.readouterr().out
    statuses = {row.budget.status for row in slos_with_budgets(SLO.objects, at=timezone.now())}
    # The incidents leave at least one SLO in trouble and at least one healthy.
    assert BudgetStatus.HEALTHY in statuses
    assert statuses & {BudgetStatus.AT_RISK, BudgetStatus.EXHAUSTED}
