"""The import rules of README.md's architecture section, checked on the source itself.

Every `import` and `from … import` of the project's own packages is read with `ast`
(imports inside functions included, `if TYPE_CHECKING:` blocks left out: those are
types, not dependencies) and checked against the rules below. `python tests/architecture.py`
prints the violations; `tests/test_architecture.py` fails on any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "slos", "toil", "retros")

# Pure modules: plain values in and out. They import neither the ORM nor any models
# module, and of the project only other pure modules (and the Prometheus client, which
# holds no ORM either: planning reads its request limits).
PURE = frozenset(
    {
        "slos.budget",
        "slos.sli",
        "slos.charts",
        "slos.yaml_block",
        "slos.limits",
        "slos.labels",
        "slos.burn_spell",
        "slos.ingestion.planning",
        "slos.notifications.routing",
        "slos.notifications.noise",
        "slos.notifications.parsers",
        "slos.alerting.rules",
        "toil.scoring",
        "toil.capacity",
        "toil.plan.charts",
        "toil.worklog.charts",
        "portal.weeks",
        "portal.formatting",
        "portal.survey.results",
        "portal.survey.defaults",
        "portal.hierarchy.levels",
        "portal.hierarchy.rules",
        "portal.hierarchy.charts",
        "retros.agenda",
        "retros.summary",
        "retros.charts",
    }
)
PURE_MAY_ALSO_IMPORT = frozenset({"slos.ingestion.prometheus"})

# What a subpackage of slos may import from outside itself within slos: the models, the
# pure core, the registry's services and selectors, the app's access helpers, and
# slos.tasks (the Celery interface: a subpackage enqueues work through it, by task, never
# by calling a sibling's code).
SLOS_SHARED = frozenset(
    {
        "slos.models",
        "slos.budget",
        "slos.sli",
        "slos.charts",
        "slos.yaml_block",
        "slos.limits",
        "slos.labels",
        "slos.registry.services",
        "slos.registry.selectors",
        "slos.tasks",
        "slos.access",
    }
)
SLOS_SUBPACKAGES = ("registry", "ingestion", "openslo", "alerting", "notifications")

# The same rule in toil: its parts (items, the PM's plan, the work log, CSV in and out)
# share the models, the pure score and capacity, and the services and selectors.
TOIL_SHARED = frozenset(
    {"toil.models", "toil.scoring", "toil.capacity", "toil.services", "toil.selectors"}
)
TOIL_SUBPACKAGES = ("items", "plan", "worklog", "transfer")
SUBPACKAGES = {"slos": SLOS_SUBPACKAGES, "toil": TOIL_SUBPACKAGES}
SHARED = {"slos": SLOS_SHARED, "toil": TOIL_SHARED}

# portal's base modules, which every app may import: they import no feature app.
PORTAL_BASE = frozenset(
    {
        "portal.models",
        "portal.access",
        "portal.api_tokens",
        "portal.env",
        "portal.formatting",
        "portal.weeks",
        "portal.htmx",
        "portal.confirm",
        "portal.settings",
        "portal.celery",
        "portal.templatetags",
    }
)

# retros → toil → slos → portal: an app imports only the apps to its right.
MAY_IMPORT_APPS = {
    "retros": {"retros", "toil", "slos", "portal"},
    "toil": {"toil", "slos", "portal"},
    "slos": {"slos", "portal"},
    "portal": set(APPS),  # portal's pages read every app (its base modules: see above)
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or a name inside one)
    line: int


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_in(tree: ast.AST, module: str, is_package: bool) -> Iterator[Import]:
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", node.lineno)
        pending.extend(ast.iter_child_nodes(node))


def project_imports(root: Path = ROOT) -> list[Import]:
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name_under(path, root)
            tree = ast.parse(path.read_text(), filename=str(path))
            found.extend(_imports_in(tree, module, path.name == "__init__.py"))
    return found


def _module_name_under(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _subpackage(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in SUBPACKAGES.get(parts[0], ()):
        return f"{parts[0]}.{parts[1]}"
    return None


def violation(found: Import) -> str | None:
    """What rule `found` breaks, or None."""
    module, target = found.module, found.target
    top = target.split(".")[0]
    if _within(module, PURE):
        if top == "django" and (_within(target, ["django.db"]) or ".models" in target):
            return "a pure module imports the ORM"
        if top in APPS and not _within(target, PURE | PURE_MAY_ALSO_IMPORT):
            return "a pure module imports a module that is not pure"
    if top not in APPS:
        return None
    app = module.split(".")[0]
    if top not in MAY_IMPORT_APPS[app]:
        return f"{app} imports {top} (the direction is retros → toil → slos → portal)"
    if _within(module, PORTAL_BASE) and top != "portal":
        return "a portal base module imports a feature app"
    mine = _subpackage(module)
    theirs = _subpackage(target)
    app = mine.split(".")[0] if mine else None
    if mine and top == app and theirs != mine and not _within(target, SHARED[app]):
        if app == "slos":
            return (
                "a slos subpackage reaches a sibling only through slos.models, the pure "
                "core, registry services/selectors, slos.access and slos.tasks"
            )
        return (
            "a toil part reaches a sibling only through toil.models, scoring, capacity, "
            "services and selectors"
        )
    return None


def violations(root: Path = ROOT) -> list[str]:
    return [
        f"{found.module}:{found.line} imports {found.target}: {problem}"
        for found in project_imports(root)
        if (problem := violation(found)) is not None
    ]


if __name__ == "__main__":
    problems = violations()
    print("\n".join(problems) or "import rules: no violation")
    sys.exit(1 if problems else 0)
