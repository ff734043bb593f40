"""Pages for notifications: a team's ticket queue, where members decide each ticket
(dismiss, backlog, escalate); its intake sources, where admins make a source and see
its URL token once; its routing policy, where admins add, edit, reorder and remove
rules; and its Slack deliveries that failed, which admins can retry."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, membership_or_404, team_membership_or_404, team_or_404
from portal.models import Role, Team
from slos.models import (
    SLO,
    IntakeKind,
    IntakeRequest,
    IntakeSource,
    IntakeStatus,
    Notification,
    NotificationClass,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RoutingPolicyChange,
    RoutingRule,
    Service,
    TicketStatus,
)
from slos.notifications import delivery, intake, routing
from slos.tasks import deliver_outbox

RECENT_REQUESTS = 20


class TicketDecisionForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Decision"), choices=TicketStatus.choices)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


@require_GET
def ticket_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's tickets with one status (open by default), newest first."""
    membership = team_membership_or_404(request.user, slug, Role.VIEWER)
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
        "source", "service", "slo", "ticket_decided_by"
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
    team = team_or_404(request.user, slug, Role.ADMIN)
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
        help_text=gettext_lazy(
            "Rules are tried from the lowest position up; a new rule at a taken position "
            "goes before the rule there."
        ),
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

    def __init__(self, *args, team: Team, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slo"].queryset = SLO.objects.filter(service__team=team).select_related(
            "service"
        )
        if editing:
            # An edited rule keeps its place; the policy's arrows move it.
            del self.fields["position"]

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


def _rules_locked(team: Team) -> list[RoutingRule]:
    """The team's rules in policy order. Locks the team's row first, so changes to one
    policy happen one at a time (new rules included); call inside a transaction."""
    Team.objects.select_for_update().filter(pk=team.pk).exists()
    return list(RoutingRule.objects.filter(team=team).order_by("position", "pk"))


def _rules_renumber(rules: list[RoutingRule]) -> None:
    """Positions 1 to n in the given order: unique and dense."""
    moved = []
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            rule.position = position
            moved.append(rule)
    RoutingRule.objects.bulk_update(moved, ["position"])


def _rule_terms(rule: RoutingRule) -> tuple:
    """What decides routing, to tell an edit that changes nothing."""
    return (rule.name, rule.source_kind, rule.slo_id, rule.conditions, rule.outcome)


def _policy_page(team: Team, rule: RoutingRule | None = None) -> HttpResponse:
    url = reverse("slos:routing_policy", args=[team.slug])
    return redirect(f"{url}#rule-{rule.pk}" if rule else url)


@require_http_methods(["GET", "POST"])
def routing_policy(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's rules in order, then the default policy. Admins add and remove rules
    (and edit and move them, below); a rule decides only notifications first seen after
    it exists. Positions are kept 1 to n: a new rule goes before the one holding its
    position."""
    needed = Role.ADMIN if request.method == "POST" else Role.VIEWER
    membership = team_membership_or_404(request.user, slug, needed)
    team = membership.team
    form = RoutingRuleForm(team=team)
    status = 200
    if request.method == "POST":
        if "delete" in request.POST:
            doomed = request.POST["delete"]
            with transaction.atomic():
                rules = _rules_locked(team)
                rule = next((rule for rule in rules if str(rule.pk) == doomed), None)
                if rule is not None:
                    rule.delete()
                    _rules_renumber([kept for kept in rules if kept is not rule])
                    _policy_changed(
                        request, team, _("Removed rule “%(rule)s”") % {"rule": rule.name}
                    )
            return _policy_page(team)
        form = RoutingRuleForm(request.POST, team=team)
        if form.is_valid():
            terms = dict(form.cleaned_data)
            position = terms.pop("position")
            with transaction.atomic():
                rules = _rules_locked(team)
                rule = RoutingRule.objects.create(team=team, position=position, **terms)
                before = next(
                    (index for index, held in enumerate(rules) if held.position >= position),
                    len(rules),
                )
                rules.insert(before, rule)
                _rules_renumber(rules)
                _policy_changed(request, team, _("Added rule “%(rule)s”") % {"rule": rule.name})
            return _policy_page(team, rule)
        status = 400
    rules = RoutingRule.objects.filter(team=team).select_related("slo").order_by("position", "pk")
    return render(
        request,
        "slos/notifications/routing_policy.html",
        {
            "team": team,
            "form": form,
            "can_edit": membership.allows(Role.ADMIN),
            "rules": [(rule, _conditions_text(rule)) for rule in rules],
        },
        status=status,
    )


def _conditions_text(rule: RoutingRule) -> str:
    """The rule's conditions as people type them; stored conditions that no longer
    parse (intake skips such a rule) are shown as they are, to be fixed by an edit."""
    try:
        return routing.conditions_as_text(routing.conditions_from_json(rule.conditions))
    except ValueError as problem:
        return _("Unreadable, this rule is skipped: %(problem)s") % {"problem": problem}


@require_http_methods(["GET", "POST"])
def routing_rule_edit(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """GET: the add form, filled with the rule. POST: the rule changed in place, its
    position kept; an edit that changes nothing is not a policy change."""
    team = team_or_404(request.user, slug, Role.ADMIN)
    rule = get_object_or_404(RoutingRule.objects.select_related("slo"), team=team, pk=pk)
    status = 200
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, team=team, editing=True)
        if form.is_valid():
            with transaction.atomic():
                _rules_locked(team)
                rule = get_object_or_404(RoutingRule, team=team, pk=pk)
                old_name, before = rule.name, _rule_terms(rule)
                for field, value in form.cleaned_data.items():
                    setattr(rule, field, value)
                if _rule_terms(rule) != before:
                    rule.save(update_fields=list(form.cleaned_data))
                    if rule.name == old_name:
                        summary = _("Edited rule “%(rule)s”") % {"rule": rule.name}
                    else:
                        summary = _("Edited rule “%(old)s”, now “%(rule)s”") % {
                            "old": old_name,
                            "rule": rule.name,
                        }
                    _policy_changed(request, team, summary)
            return _policy_page(team, rule)
        status = 400
    else:
        form = RoutingRuleForm(
            team=team,
            editing=True,
            initial={
                "name": rule.name,
                "source_kind": rule.source_kind,
                "slo": rule.slo_id,
                "conditions": _conditions_text(rule),
                "outcome": rule.outcome,
            },
        )
    return render(
        request,
        "slos/notifications/routing_rule_edit.html",
        {"team": team, "rule": rule, "form": form},
        status=status,
    )


@require_POST
def routing_rule_move(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Swap the rule with the one above (direction=up) or below (down). The first rule
    moved up, or the last moved down, stays where it is."""
    team = team_or_404(request.user, slug, Role.ADMIN)
    get_object_or_404(RoutingRule, team=team, pk=pk)
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        return HttpResponse(_("Move a rule up or down."), status=400)
    with transaction.atomic():
        rules = _rules_locked(team)
        index = next((index for index, rule in enumerate(rules) if rule.pk == pk), None)
        if index is None:  # removed meanwhile
            return _policy_page(team)
        other = index - 1 if direction == "up" else index + 1
        rule = rules[index]
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
            _rules_renumber(rules)
            summary = (
                _("Moved rule “%(rule)s” up, to position %(position)d")
                if direction == "up"
                else _("Moved rule “%(rule)s” down, to position %(position)d")
            )
            _policy_changed(request, team, summary % {"rule": rule.name, "position": rule.position})
    return _policy_page(team, rule)


# --- Slack deliveries that failed ----------------------------------------------------


def _without_secret(text: str, team: Team) -> str:
    """An error never shows the webhook URL back, whatever the HTTP client put in it."""
    if team.slack_webhook_url and team.slack_webhook_url in text:
        return text.replace(team.slack_webhook_url, team.slack_webhook_masked)
    return text


@require_GET
def slack_deliveries(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's Slack messages whose posts failed: waiting for their next attempt, or
    given up on. Any member sees them; admins retry one now."""
    membership = team_membership_or_404(request.user, slug, Role.VIEWER)
    team = membership.team
    now = timezone.now()
    kinds = dict(OutboxKind.choices)
    rows = [
        {
            "message": message,
            "title": message.notification.title if message.notification else kinds[message.kind],
            "error": _without_secret(message.last_error, team),
            "sending": message.status == OutboxStatus.PENDING
            and delivery.outbox_being_sent(
                attempts=message.attempts,
                tried=message.tried,
                next_attempt_at=message.next_attempt_at,
                at=now,
            ),
        }
        for message in delivery.outbox_troubled(team_id=team.pk)
    ]
    return render(
        request,
        "slos/notifications/slack_deliveries.html",
        {
            "team": team,
            "rows": rows,
            "shown": delivery.TROUBLED_SHOWN,
            "max_attempts": delivery.MAX_ATTEMPTS,
            "can_retry": membership.allows(Role.ADMIN),
            "has_webhook": bool(team.slack_webhook_url),
        },
    )


@require_POST
def slack_delivery_retry(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Make one failing or failed message due now and send it once this commits, as
    intake does with a new one."""
    team = team_or_404(request.user, slug, Role.ADMIN)
    message = get_object_or_404(OutboxMessage, team=team, pk=pk)
    if delivery.outbox_retry_now(message_id=message.pk, team_id=team.pk, at=timezone.now()):
        transaction.on_commit(lambda: deliver_outbox.delay(message_ids=[message.pk]), robust=True)
        messages.success(request, _("Retrying now: the message is due and being sent."))
    else:
        messages.info(
            request,
            _("Not retried: the message is being sent right now, or was already sent."),
        )
    url = reverse("slos:slack_deliveries", args=[team.slug])
    return redirect(f"{url}#message-{message.pk}")
