"""The import rules hold for the project, and the checker catches each kind of break."""

from pathlib import Path

import pytest

from tests.architecture import violations


def test_the_project_keeps_its_import_rules():
    assert violations() == []


def write(root: Path, module: str, text: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("module", "text", "problem"),
    [
        ("slos.budget", "from django.db import models\n", "a pure module imports the ORM"),
        (
            "slos.notifications.routing",
            "from slos.models import Notification\n",
            "a pure module imports a module that is not pure",
        ),
        (
            "slos.registry.views",
            "from slos.ingestion import pull\n",
            "subpackage reaches a sibling only through",
        ),
        (
            "slos.alerting.views",
            "def f():\n    from slos.openslo.importing import openslo_import\n",
            "subpackage reaches a sibling only through",
        ),
        ("slos.registry.selectors", "import toil.models\n", "slos imports toil"),
        ("toil.views", "from retros.models import Retro\n", "toil imports retros"),
        (
            "toil.plan.views",
            "from toil.worklog.charts import toil_share_figure\n",
            "a toil part reaches a sibling only through",
        ),
        ("toil.plan.charts", "from toil.models import BacklogItem\n", "a pure module imports"),
        ("portal.access", "from slos.models import SLO\n", "a portal base module imports"),
    ],
)
def test_a_forbidden_import_is_reported(tmp_path, module, text, problem):
    write(tmp_path, module, text)
    found = violations(tmp_path)
    assert len(found) == 1
    assert problem in found[0]
    assert found[0].startswith(f"{module}:")


@pytest.mark.parametrize(
    ("module", "text"),
    [
        ("slos.registry.views", "from slos.models import SLO\nfrom slos import budget\n"),
        ("slos.ingestion.pull", "from slos.registry.selectors import slo_window\n"),
        ("slos.ingestion.planning", "if TYPE_CHECKING:\n    from slos.models import SLO\n"),
        ("slos.notifications.views", "from . import services\nfrom .routing import Rule\n"),
        ("toil.selectors", "from slos.registry.selectors import slos_with_budgets\n"),
        ("toil.plan.views", "from toil.selectors import capacity\nfrom toil.plan import charts\n"),
    ],
)
def test_allowed_imports_pass(tmp_path, module, text):
    write(tmp_path, module, text)
    assert violations(tmp_path) == []
