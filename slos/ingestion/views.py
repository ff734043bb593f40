"""Data sources and the health of their ingestion: the source page, its edit form,
"pull now" for a source or an SLO, the progress of a running pull, the health page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.messages.utils import get_level_tags
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, team_or_404, visible_team_ids
from portal.models import Role, Team
from slos.access import data_source_for_user, slo_for_user
from slos.ingestion.forms import DataSourceForm, masked
from slos.models import DataSource, PullRun, PullStatus, PullTrigger
from slos.registry.selectors import slo_last_run
from slos.tasks import pull_enqueue

RUNS_SHOWN = 20


def _enqueue(
    request: AuthedRequest, source: DataSource, *, slo_id: int | None, trigger: str
) -> PullRun | None:
    """Start a pull: None once the broker has it; with no broker, its run (running in
    the background, or skipped); with the broker down, the pull waiting for it (queued)."""
    return pull_enqueue(
        source_id=source.pk, slo_id=slo_id, trigger=trigger, at=timezone.now(), user=request.user
    )


def pull_outcome(run: PullRun) -> tuple[int, str]:
    """How a finished pull ended, as a message's level and text."""
    if run.status == PullStatus.OK:
        if not run.hours_missing:
            return messages.INFO, _("Nothing new to pull: every hour of the window is stored.")
        if run.hours_stored < run.hours_missing:
            # An answer with no samples is no data, never good: say so, not in green.
            return messages.WARNING, _(
                "Pulled: %(stored)d of %(missing)d missing hour(s) stored; the source had no "
                "data for the rest."
            ) % {"stored": run.hours_stored, "missing": run.hours_missing}
        return messages.SUCCESS, _("Pulled: %(count)d hour(s) stored.") % {
            "count": run.hours_stored
        }
    if run.status == PullStatus.SKIPPED:
        return messages.INFO, _("Another pull of this source is running; try again shortly.")
    reasons = "; ".join(o["message"] for o in run.outcomes if o.get("message")) or run.message
    return messages.ERROR, _("Pull failed: %(reason)s") % {"reason": reasons}


def _live(request: AuthedRequest, run: PullRun) -> str:
    """The progress of a running pull, which follows it from the message at the top of
    the page until it ends (slos/pull_progress.html#live)."""
    return render_to_string(
        "slos/pull_progress.html#live",
        {"run": run, "live_url": reverse("slos:pull_run", args=[run.pk])},
        request=request,
    )


def _report(request: AuthedRequest, run: PullRun | None) -> None:
    if run is None:
        messages.info(request, _("Pull queued; the numbers update when it finishes."))
    elif run.status == PullStatus.QUEUED:
        messages.warning(
            request,
            _(
                "Pull delayed: the task queue cannot be reached right now. The pull is kept "
                "and starts on its own once the queue is back; there is no need to ask again."
            ),
        )
    elif run.status == PullStatus.RUNNING:
        messages.info(request, _live(request, run))
    elif run.status == PullStatus.SKIPPED:
        # The pull that holds the source's lease: its progress, where it runs here.
        running = PullRun.objects.filter(
            data_source_id=run.data_source_id, status=PullStatus.RUNNING
        ).first()
        level, text = pull_outcome(run)
        if running is not None:
            text = format_html("{} {}", text, _live(request, running))
        messages.add_message(request, level, text)
    else:
        messages.add_message(request, *pull_outcome(run))


@require_GET
def source_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    source, membership = data_source_for_user(request.user, pk)
    return render(
        request,
        "slos/source_detail.html",
        {
            "source": source,
            "runs": source.runs.select_related("slo").defer("outcomes")[:RUNS_SHOWN],
            "slos": source.slos.select_related("service").order_by("service__name", "name"),
            "bearer_masked": masked(source.bearer_token),
            "password_masked": masked(source.basic_password),
            "header_names": sorted(source.extra_headers or {}),
            "can_pull": membership.allows(Role.MEMBER) and source.is_pulled,
            "can_upload": membership.allows(Role.MEMBER) and not source.is_pulled,
            "can_edit": membership.allows(Role.ADMIN),
        },
    )


@require_http_methods(["GET", "POST"])
def source_form(request: AuthedRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit a data source: team admins only."""
    team = team_or_404(request.user, slug, Role.ADMIN)
    instance = get_object_or_404(DataSource, pk=pk, team=team) if pk else None
    form = DataSourceForm(request.POST or None, instance=instance, team=team)
    if request.method == "POST" and form.is_valid():
        source = form.save(commit=False)
        source.team = team
        source.save()
        messages.success(request, _("Data source “%(name)s” saved.") % {"name": source.name})
        return redirect("slos:source_detail", pk=source.pk)
    title = _("Edit data source") if instance else _("New data source")
    return render(
        request,
        "slos/form.html",
        {"form": form, "team": team, "title": title},
        status=400 if form.is_bound else 200,
    )


@require_POST
def source_pull_now(request: AuthedRequest, pk: int) -> HttpResponse:
    source, membership = data_source_for_user(request.user, pk, Role.MEMBER)
    if not source.is_pulled:
        raise Http404(_("This source is not pulled."))
    _report(request, _enqueue(request, source, slo_id=None, trigger=PullTrigger.MANUAL))
    return redirect("slos:source_detail", pk=source.pk)


@require_POST
def slo_pull_now(request: AuthedRequest, pk: int) -> HttpResponse:
    slo, membership = slo_for_user(request.user, pk, Role.MEMBER)
    if slo.data_source is None or not slo.data_source.is_pulled:
        raise Http404(_("This SLO has no source to pull from."))
    _report(request, _enqueue(request, slo.data_source, slo_id=slo.pk, trigger=PullTrigger.MANUAL))
    return redirect("slos:detail", pk=slo.pk)


@require_GET
def slo_pull_progress(request: AuthedRequest, pk: int) -> HttpResponse:
    """The SLO's latest single-SLO pull (backfill or pull now), polled by htmx while it
    runs; it stops polling once the run has finished."""
    slo, membership = slo_for_user(request.user, pk)
    return render(request, "slos/pull_progress.html", {"slo": slo, "run": slo_last_run(slo)})


@require_GET
def pull_run_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """A pull's message at the top of the page while it runs in the background, asked
    for every second: its progress, then how it ended (slos/pull_progress.html#live)."""
    run = get_object_or_404(PullRun, pk=pk)
    data_source_for_user(request.user, run.data_source_id)
    if run.status == PullStatus.RUNNING:
        level, text = messages.INFO, ""
    else:
        level, text = pull_outcome(run)
    return render(
        request,
        "slos/pull_progress.html#message",
        {
            "run": run,
            "level": get_level_tags()[level],
            "text": text,
            "live_url": reverse("slos:pull_run", args=[run.pk]),
        },
    )


@require_GET
def ingestion_health(request: AuthedRequest) -> HttpResponse:
    teams = Team.objects.filter(pk__in=visible_team_ids(request.user)).prefetch_related(
        Prefetch("data_sources", queryset=DataSource.objects.order_by("name"))
    )
    runs = (
        PullRun.objects.filter(data_source__team__in=teams)
        .select_related("data_source__team", "slo")
        .defer("outcomes")  # the table shows the counts
        .order_by("-started_at")[:100]
    )
    return render(request, "slos/ingestion_health.html", {"teams": teams, "runs": runs})
