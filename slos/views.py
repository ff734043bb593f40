from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, membership_or_404, team_or_404
from portal.models import Role
from slos import services
from slos.budget import budget_burndown
from slos.charts import budget_burndown_figure
from slos.forms import DataSourceForm, ServiceForm, SLOForm
from slos.models import SLO, PullRun
from slos.selectors import slo_window_rows, slos_with_budgets
from slos.tasks import pull_source


def _slo_or_404(request: AuthedRequest, pk: int, needed: Role = Role.VIEWER) -> SLO:
    slo = get_object_or_404(SLO.objects.select_related("service__team", "data_source"), pk=pk)
    membership_or_404(request.user, slo.service.team_id, needed)
    return slo


@require_GET
def slo_list(request: AuthedRequest) -> HttpResponse:
    rows = slos_with_budgets(SLO.objects.visible_to(request.user), at=timezone.now())
    return render(request, "slos/slo_list.html", {"rows": rows})


@require_GET
def slo_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    slo = _slo_or_404(request, pk)
    now = timezone.now()
    row = slos_with_budgets(SLO.objects.filter(pk=slo.pk), at=now)[0]
    points = budget_burndown(slo_window_rows(slo, at=now), target=slo.target_fraction)
    figure = budget_burndown_figure(points, title=_("Error budget over the window"))
    last_run = PullRun.objects.filter(data_source_id=slo.data_source_id).first()
    membership = membership_or_404(request.user, slo.service.team_id)
    return render(
        request,
        "slos/slo_detail.html",
        {
            "slo": slo,
            "budget": row.budget,
            "figure": figure.to_plotly_json(),
            "has_points": bool(points),
            "last_run": last_run,
            "can_edit": membership.allows(Role.MEMBER),
        },
    )


@require_POST
def slo_pull_now(request: AuthedRequest, pk: int) -> HttpResponse:
    slo = _slo_or_404(request, pk, Role.MEMBER)
    if slo.data_source_id is None:
        raise Http404("This SLO has no data source.")
    requested_at = timezone.now()
    pull_source.delay(slo.data_source_id, requested_at.isoformat(), [slo.pk])
    # With in-process tasks the run has finished by now; with a worker it is queued.
    run = PullRun.objects.filter(
        data_source_id=slo.data_source_id, started_at__gte=requested_at, finished_at__isnull=False
    ).first()
    outcome = next((o for o in run.outcomes if o["slo_id"] == slo.pk), None) if run else None
    if outcome is None:
        messages.info(request, _("Pull queued; the numbers update when it finishes."))
    elif outcome["status"] == "ok":
        messages.success(
            request, _("Pulled: %(count)d hour(s) stored.") % {"count": outcome["hours_stored"]}
        )
    else:
        messages.error(request, _("Pull failed: %(reason)s") % {"reason": outcome["message"]})
    return redirect("slos:detail", pk=slo.pk)


def _form_page(request: AuthedRequest, *, form, team, title: str, save) -> HttpResponse:
    """GET shows the form; a valid POST hands cleaned_data to `save`, which answers."""
    if request.method == "POST" and form.is_valid():
        return save(form.cleaned_data)
    return render(
        request,
        "slos/form.html",
        {"form": form, "team": team, "title": title},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def data_source_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.ADMIN)

    def save(data: dict) -> HttpResponse:
        source = services.data_source_create(team=team, **data)
        messages.success(request, _("Data source “%(name)s” added.") % {"name": source.name})
        return redirect("team_detail", slug=team.slug)

    form = DataSourceForm(request.POST or None, team=team)
    return _form_page(request, form=form, team=team, title=_("New data source"), save=save)


@require_http_methods(["GET", "POST"])
def service_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)

    def save(data: dict) -> HttpResponse:
        service = services.service_create(team=team, **data)
        messages.success(request, _("Service “%(name)s” added.") % {"name": service.name})
        return redirect("team_detail", slug=team.slug)

    form = ServiceForm(request.POST or None, team=team)
    return _form_page(request, form=form, team=team, title=_("New service"), save=save)


@require_http_methods(["GET", "POST"])
def slo_create(request: AuthedRequest, slug: str) -> HttpResponse:
    team = team_or_404(request.user, slug, Role.MEMBER)

    def save(data: dict) -> HttpResponse:
        slo = services.slo_create(**data)
        messages.success(request, _("SLO “%(name)s” created.") % {"name": slo.name})
        return redirect("slos:detail", pk=slo.pk)

    form = SLOForm(request.POST or None, team=team)
    return _form_page(request, form=form, team=team, title=_("New SLO"), save=save)


def slo_what_if(request: AuthedRequest, pk: int) -> HttpResponse:
    raise Http404("Not built yet.")
