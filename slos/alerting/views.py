"""Downloads of the generated Prometheus rules and Alertmanager routing for one team,
for anyone in the team. The rules themselves are built in slos/alerting/rules.py."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from portal.access import AuthedRequest, team_or_404
from portal.models import Team
from slos.alerting import rules
from slos.models import SLO


def rule_slos(slos: QuerySet[SLO]) -> list[rules.RuleSLO]:
    """These SLOs as rule definitions, in one query."""
    return [
        rules.rule_slo_from(slo, page_path=reverse("slos:detail", args=[slo.pk]))
        for slo in slos.select_related("service__team", "data_source")
    ]


def team_rule_slos(team: Team) -> list[rules.RuleSLO]:
    """The team's active SLOs as rule definitions, in one query."""
    return rule_slos(
        SLO.objects.active().filter(service__team=team).order_by("service__name", "name", "pk")
    )


def base_url_for(request: AuthedRequest) -> str:
    """The portal's public address: PORTAL_BASE_URL when set, else the request's own."""
    return getattr(settings, "PORTAL_BASE_URL", "") or request.build_absolute_uri("/")


def _attachment(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def rules_download(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug)
    text = rules.render_rules(team_rule_slos(team), base_url=base_url_for(request))
    return _attachment(text, f"slo-rules-{team.slug}.yaml")


@require_GET
def alertmanager_download(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug)
    text = rules.render_alertmanager(team_slug=team.slug, base_url=base_url_for(request))
    return _attachment(text, f"alertmanager-{team.slug}.yaml")
