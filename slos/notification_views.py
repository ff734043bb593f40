"""Pages for notifications: a team's ticket queue, where members decide each ticket
(dismiss, backlog, escalate), and its intake sources, where admins make a source and
see its URL token once."""

from __future__ import annotations

from django import forms
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, membership_or_404
from portal.models import Membership, Role, Team
from slos import intake, routing
from slos.models import (
    SLO,
    IntakeKind,
    IntakeRequest,
    IntakeSource,
    IntakeStatus,
    Notification,
    NotificationClass,
    RoutingPolicyChange,
    RoutingRule,
    Service,
    TicketStatus,
)

RECENT_REQUESTS = 20


def _membership(request: AuthedRequest, slug: str, needed: Role) -> Membership:
    team = get_object_or_404(Team, slug=slug)
    return membership_or_404(request.user, team, needed)


class TicketDecisionForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Decision"), choices=TicketStatus.choices)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


@require_GET
def ticket_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's tickets with one status (open by default), newest first."""
    membership = _membership(request, slug, Role.VIEWER)
    team = membership.team
    status = request.GET.get("status", TicketStatus.OPEN)
    if status not in TicketStatus.values:
        status = TicketStatus.OPEN
    tickets = Notification.objects.tickets().filter(team=team)
    per_status = dict(
        tickets.values_list("ticket_status")
        .annotate(n=Count("pk"))
        .values_list("ticket_status", "n")
    )
    rows = tickets.filter(ticket_status=status).select_related(
        "source", "service", "slo", "rule", "ticket_decided_by"
    )
    return render(
        request,
        "slos/notifications/ticket_queue.html",
        {
            "team": team,
            "status": status,
            "statuses": [
                (value, label, per_status.get(value, 0)) for value, label in TicketStatus.choices
            ],
            "tickets": rows,
            "can_decide": membership.allows(Role.MEMBER),
            "decisions": TicketStatus.choices,
        },
    )


@require_POST
def ticket_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Notification.objects.tickets().select_related("team"), pk=pk)
    membership_or_404(request.user, ticket.team_id, Role.MEMBER)
    form = TicketDecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose open, dismissed, backlogged or escalated."), status=400)
    intake.ticket_decide(
        ticket=ticket,
        status=form.cleaned_data["status"],
        note=form.cleaned_data["note"],
        user=request.user,
        at=timezone.now(),
    )
    return redirect(reverse("slos:ticket_queue", args=[ticket.team.slug]) + f"#ticket-{ticket.pk}")


class IntakeSourceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=IntakeKind.choices)
    service = forms.ModelChoiceField(
        label=gettext_lazy("Service"),
        queryset=Service.objects.none(),
        required=False,
        help_text=gettext_lazy("Errors from this source that name no service are this service's."),
    )
    client_secret = forms.CharField(
        label=gettext_lazy("Sentry client secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput,
        help_text=gettext_lazy(
            "Sentry only: the Client Secret of your internal integration, which signs "
            "each delivery. It is never shown again."
        ),
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["service"].queryset = Service.objects.filter(team=team)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if IntakeSource.objects.filter(team=self.team, name=name).exists():
            raise forms.ValidationError(_("This team already has a source with this name."))
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == IntakeKind.SENTRY and not cleaned.get("client_secret"):
            self.add_error(
                "client_secret", _("A Sentry source needs the integration's client secret.")
            )
        return cleaned


@require_http_methods(["GET", "POST"])
def intake_sources(request: AuthedRequest, slug: str) -> HttpResponse:
    """GET: the team's sources and their recent deliveries. POST: a new source, whose
    token is on this response only (no redirect: the secret never enters the session)."""
    membership = _membership(request, slug, Role.ADMIN)
    team = membership.team
    form = IntakeSourceForm(request.POST or None, team=team)
    new = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            new = intake.intake_source_create(team=team, **form.cleaned_data)
            form = IntakeSourceForm(team=team)
        else:
            status = 400
    response = render(
        request,
        "slos/notifications/intake_sources.html",
        {
            "team": team,
            "form": form,
            "new": new,
            "new_url": (
                request.build_absolute_uri(
                    reverse(f"api:intake_{new.source.kind}", args=[new.token])
                )
                if new
                else ""
            ),
            "sources": IntakeSource.objects.filter(team=team)
            .select_related("service")
            .annotate(
                last_received_at=Max(
                    "requests__received_at",
                    filter=~Q(requests__status=IntakeStatus.REJECTED),
                )
            ),
            "recent": IntakeRequest.objects.filter(source__team=team).select_related("source")[
                :RECENT_REQUESTS
            ],
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        initial=10,
        help_text=gettext_lazy("Rules are tried from the lowest position up."),
    )
    source_kind = forms.ChoiceField(
        label=gettext_lazy("Source kind"),
        choices=[("", gettext_lazy("Any"))] + IntakeKind.choices,
        required=False,
    )
    slo = forms.ModelChoiceField(
        label=gettext_lazy("SLO"),
        queryset=SLO.objects.none(),
        required=False,
        help_text=gettext_lazy("Only notifications about this SLO."),
    )
    conditions = forms.CharField(
        label=gettext_lazy("Conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One a line, all must hold: field = value, or field ~ regular expression "
            "(matching the whole value). Fields are labels, tags, title, severity, state."
        ),
    )
    outcome = forms.ChoiceField(label=gettext_lazy("Class"), choices=NotificationClass.choices)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slo"].queryset = SLO.objects.filter(service__team=team).select_related(
            "service"
        )

    def clean_conditions(self) -> list[dict[str, str]]:
        try:
            parsed = routing.conditions_from_text(self.cleaned_data["conditions"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return [{"field": c.field, "op": str(c.op), "value": c.value} for c in parsed]


def _policy_changed(request: AuthedRequest, team: Team, summary: str) -> None:
    """On record for the noise page's before and after (slos/noise.py)."""
    RoutingPolicyChange.objects.create(
        team=team, changed_at=timezone.now(), changed_by=request.user, summary=summary[:300]
    )


@require_http_methods(["GET", "POST"])
def routing_policy(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's rules in order, then the default policy. Admins add and remove rules;
    a rule decides only notifications first seen after it exists."""
    membership = _membership(request, slug, Role.VIEWER)
    team = membership.team
    form = RoutingRuleForm(team=team)
    status = 200
    if request.method == "POST":
        membership_or_404(request.user, team, Role.ADMIN)
        if "delete" in request.POST:
            doomed = request.POST["delete"]
            rule = RoutingRule.objects.filter(
                team=team, pk=int(doomed) if doomed.isdigit() else 0
            ).first()
            if rule is not None:
                rule.delete()
                _policy_changed(request, team, _("Removed rule “%(rule)s”") % {"rule": rule.name})
            return redirect("slos:routing_policy", slug=team.slug)
        form = RoutingRuleForm(request.POST, team=team)
        if form.is_valid():
            rule = RoutingRule.objects.create(team=team, **form.cleaned_data)
            _policy_changed(request, team, _("Added rule “%(rule)s”") % {"rule": rule.name})
            return redirect("slos:routing_policy", slug=team.slug)
        status = 400
    rules = RoutingRule.objects.filter(team=team).select_related("slo").order_by("position", "pk")
    return render(
        request,
        "slos/notifications/routing_policy.html",
        {
            "team": team,
            "form": form,
            "can_edit": membership.allows(Role.ADMIN),
            "rules": [
                (rule, routing.conditions_as_text(routing.conditions_from_json(rule.conditions)))
                for rule in rules
            ],
        },
        status=status,
    )
