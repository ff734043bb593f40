"""Pages for notifications: a team's ticket queue, where members decide each ticket
(dismiss, backlog, escalate); its intake sources, where admins make a source and see
its URL token once; its routing policy, where admins add, edit, reorder and remove
rules; its Slack deliveries that failed, which admins can retry; and its noise, with the
replay of a draft policy. Outsiders get 404 everywhere."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import AuthedRequest, team_membership_or_404, team_or_404
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.htmx import render_page_or_partial
from portal.models import Role, Team
from slos.access import outbox_message_for_user, routing_rule_for_user, ticket_for_user
from slos.charts import noise_by_day_figure
from slos.models import (
    SLO,
    IntakeKind,
    IntakeSource,
    NotificationClass,
    OutboxKind,
    OutboxStatus,
    RoutingRule,
    Service,
    TicketStatus,
)
from slos.notifications import delivery, intake, noise, routing, selectors, services
from slos.notifications.intake import team_rules
from slos.tasks import deliver_outbox, task_enqueue

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
    per_status = selectors.ticket_counts(team=team)
    return render(
        request,
        "slos/notifications/ticket_queue.html",
        {
            "team": team,
            "status": status,
            "statuses": [
                (value, label, per_status.get(value, 0)) for value, label in TicketStatus.choices
            ],
            "tickets": selectors.tickets_with_status(team=team, status=status),
            "can_decide": membership.allows(Role.MEMBER),
            "decisions": TicketStatus.choices,
        },
    )


@require_POST
def ticket_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    ticket, membership = ticket_for_user(request.user, pk, Role.MEMBER)
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
            "sources": selectors.intake_sources_with_last_received(team=team),
            "recent": selectors.intake_requests_recent(team=team, limit=RECENT_REQUESTS),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


MAX_RULE_POSITION = 10_000


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        # Positions are renumbered 1 to n after every write; a bigger one only means
        # "last", and 10^30 overflowed the column (a 500).
        max_value=MAX_RULE_POSITION,
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


PREFILLED_RULE_FIELDS = ("name", "source_kind", "slo", "conditions", "outcome")


def _policy_page(team: Team, rule: RoutingRule | None = None) -> HttpResponse:
    url = reverse("slos:routing_policy", args=[team.slug])
    return redirect(f"{url}#rule-{rule.pk}" if rule else url)


@require_http_methods(["GET", "POST"])
def routing_policy(request: AuthedRequest, slug: str) -> HttpResponse:
    """The team's rules in order, then the default policy. Admins add rules here (and
    edit, move and remove them, below); a rule decides only notifications first seen after
    it exists. Positions are kept 1 to n: a new rule goes before the one holding its
    position."""
    needed = Role.ADMIN if request.method == "POST" else Role.VIEWER
    membership = team_membership_or_404(request.user, slug, needed)
    team = membership.team
    # A link may pre-fill the new rule (the retro's "tune" on a ticket does): initial
    # values only, so nothing is checked or saved until the admin posts the form.
    prefill = {name: request.GET[name] for name in PREFILLED_RULE_FIELDS if name in request.GET}
    form = RoutingRuleForm(team=team, initial=prefill)
    status = 200
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, team=team)
        if form.is_valid():
            rule = services.routing_rule_create(
                team=team, user=request.user, at=timezone.now(), **form.cleaned_data
            )
            return _policy_page(team, rule)
        status = 400
    rules = selectors.routing_rules(team=team)
    return render(
        request,
        "slos/notifications/routing_policy.html",
        {
            "team": team,
            "form": form,
            "can_edit": membership.allows(Role.ADMIN),
            "can_replay": membership.allows(Role.MEMBER),
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
    rule, membership = routing_rule_for_user(request.user, slug, pk, Role.ADMIN)
    team = membership.team
    status = 200
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, team=team, editing=True)
        if form.is_valid():
            try:
                rule = services.routing_rule_update(
                    team=team,
                    rule_id=rule.pk,
                    user=request.user,
                    at=timezone.now(),
                    **form.cleaned_data,
                )
            except RoutingRule.DoesNotExist:  # removed meanwhile
                raise Http404("No such rule.") from None
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


def rule_delete_question(rule: RoutingRule) -> str:
    return _("Remove the rule “%(rule)s”?") % {"rule": rule.name}


@require_POST
def routing_rule_delete(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Removes the rule once confirmed, closing the gap in the positions; a post without
    the confirmation gets the page that asks."""
    rule, membership = routing_rule_for_user(request.user, slug, pk, Role.ADMIN)
    team = membership.team
    if not delete_confirmed(request):
        return delete_confirmation(
            request,
            question=rule_delete_question(rule),
            details=[
                _(
                    "Notifications it would have decided go to the rules after it, then to "
                    "the default policy. Notifications it decided keep their class."
                )
            ],
            action=request.path,
            cancel_url=f"{reverse('slos:routing_policy', args=[team.slug])}#rule-{rule.pk}",
            button=_("Remove the rule"),
        )
    services.routing_rule_delete(team=team, rule_id=rule.pk, user=request.user, at=timezone.now())
    messages.success(request, _("Rule “%(rule)s” removed.") % {"rule": rule.name})
    return after_delete(request, reverse("slos:routing_policy", args=[team.slug]))


@require_POST
def routing_rule_move(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    """Swap the rule with the one above (direction=up) or below (down). The first rule
    moved up, or the last moved down, stays where it is."""
    rule, membership = routing_rule_for_user(request.user, slug, pk, Role.ADMIN)
    team = membership.team
    direction = request.POST.get("direction")
    if direction not in {"up", "down"}:
        return HttpResponse(_("Move a rule up or down."), status=400)
    moved = services.routing_rule_move(
        team=team, rule_id=rule.pk, direction=direction, user=request.user, at=timezone.now()
    )
    return _policy_page(team, moved)  # None: removed meanwhile


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
            "error": _without_secret(delivery.error_shown(message.last_error), team),
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
    """Make one failing or failed message due now and send it. The retry's update has
    committed when it returns (no transaction is open here), so the task is enqueued at
    once and the page can say whether the broker took it: if not, the message stays due
    and the beat's minutely run sends it once the broker is back."""
    message, membership = outbox_message_for_user(request.user, slug, pk, Role.ADMIN)
    team = membership.team
    if delivery.outbox_retry_now(message_id=message.pk, team_id=team.pk, at=timezone.now()):
        if task_enqueue(deliver_outbox, message_ids=[message.pk]):
            messages.success(request, _("Retrying now: the message is due and being sent."))
        else:
            messages.warning(
                request,
                _(
                    "Retry queued, not sent yet: the task queue cannot be reached right now. "
                    "The message is due and is sent on its own once the queue is back."
                ),
            )
    else:
        messages.info(
            request,
            _("Not retried: the message is being sent right now, or was already sent."),
        )
    url = reverse("slos:slack_deliveries", args=[team.slug])
    return redirect(f"{url}#message-{message.pk}")


# --- Noise, and the replay of a draft policy ------------------------------------------
#
# The noise page: how many notifications a team gets, of which class and from where, the
# noisiest ones, alerts per week against the team's target, and the counts before and
# after each routing policy change. Any member, viewers included, sees it. The replay:
# what a draft policy would have made of the last N days, beside what live routing made
# of them; it saves nothing. Members and admins replay (a draft is a proposal to bring
# to the retro; only admins change the policy, on the routing page).

DEFAULT_DAYS = 28
MIN_DAYS = 7


def _window_start(team: Team, *, days: int, now: datetime) -> datetime:
    """Local midnight at the start of the window's first day, as an aware moment."""
    zone = ZoneInfo(team.time_zone)
    first_day = now.astimezone(zone).date() - timedelta(days=days - 1)
    return datetime.combine(first_day, time(0), tzinfo=zone)


def _days(raw: str | None) -> int:
    try:
        days = int(raw or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return min(max(days, MIN_DAYS), noise.MAX_REPLAY_DAYS)


@require_GET
def noise_page(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = team_membership_or_404(request.user, slug, Role.VIEWER)
    team = membership.team
    days = _days(request.GET.get("days"))
    now = timezone.now()
    zone = ZoneInfo(team.time_zone)
    start = _window_start(team, days=days, now=now)
    seen = selectors.noise_seen(team=team, since=start)
    changes = selectors.policy_changes(team=team, since=start)
    first_day, last_day = start.date(), now.astimezone(zone).date()
    by_class = noise.per_day(
        seen, start=first_day, end=last_day, time_zone=team.time_zone, by="class"
    )
    by_source = noise.per_day(
        seen, start=first_day, end=last_day, time_zone=team.time_zone, by="source_kind"
    )
    day_list = [row.day for row in by_class]
    change_days = [(at.astimezone(zone).date(), summary) for at, summary in changes]

    def figure(rows: list[noise.DayCounts], choices, title: str) -> dict:
        series = [(value, str(label), [row.get(value) for row in rows]) for value, label in choices]
        return noise_by_day_figure(
            day_list, series, title=title, changes=change_days
        ).to_plotly_json()

    figures = {
        "by_class": figure(
            by_class, NotificationClass.choices, _("New notifications per day, by class")
        ),
        "by_source": figure(
            by_source, IntakeKind.choices, _("New notifications per day, by source kind")
        ),
    }
    in_window = [item for item in seen if item.first_seen_at >= start]
    totals = {
        value: sum(1 for item in in_window if item.notification_class == value)
        for value in noise.CLASSES
    }
    class_labels = dict(NotificationClass.choices)
    return render_page_or_partial(
        request,
        "slos/noise/page.html",
        {
            "team": team,
            "days": days,
            "day_choices": (7, 14, 28, 56, 90),
            "start": start,
            "totals": totals,
            "figures": figures,
            "weeks": noise.alerts_per_week(by_class, target=team.alerts_per_week_target),
            "target": team.alerts_per_week_target,
            "segments": [
                {
                    "start": segment.start,
                    "change": segment.change,
                    "days": segment.days,
                    "classes": [
                        (value, segment.counts.get(value, 0), segment.per_day(value))
                        for value in noise.CLASSES
                    ],
                }
                for segment in noise.segments(in_window, start=start, end=now, changes=changes)
            ],
            "noisiest": [
                (item, class_labels.get(item.notification_class, item.notification_class))
                for item in noise.noisiest(seen)
            ],
            "can_replay": membership.allows(Role.MEMBER),
            "can_set_target": membership.allows(Role.ADMIN),
        },
        partial="window",
    )


class ReplayForm(forms.Form):
    draft = forms.CharField(
        label=gettext_lazy("Draft rules"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Rules tried in order, separated by a blank line. Each starts with "
            "alert: name, ticket: name or log: name; then one condition a line, as on the "
            "routing page (field = value, field ~ regular expression), and optionally "
            "@source = alertmanager / sentry / generic and @slo = the SLO's id or OpenSLO "
            "name. No rules: the default policy decides everything."
        ),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days"),
        min_value=1,
        max_value=noise.MAX_REPLAY_DAYS,
        initial=DEFAULT_DAYS,
        help_text=gettext_lazy("Replay the notifications first seen in this many last days."),
    )

    def __init__(self, *args, slos: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.slos = slos

    def clean_draft(self) -> list[routing.Rule]:
        try:
            return noise.rules_from_text(self.cleaned_data["draft"], slos=self.slos)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@require_http_methods(["GET", "POST"])
def noise_replay(request: AuthedRequest, slug: str) -> HttpResponse:
    """GET: the form, its draft the live policy. POST: the draft replayed over the last
    N days beside what live routing produced; nothing is written."""
    team = team_or_404(request.user, slug, Role.MEMBER)
    lookup, names = selectors.slo_names(team=team)
    result = None
    status = 200
    if request.method == "POST":
        form = ReplayForm(request.POST, slos=lookup)
        if form.is_valid():
            since = timezone.now() - timedelta(days=form.cleaned_data["days"])
            try:
                result = noise.replay(
                    selectors.stored_routing(team=team, since=since), form.cleaned_data["draft"]
                )
            except noise.ReplayTooSlow as slow:
                form.add_error(
                    "draft",
                    _(
                        "The replay was stopped after %(seconds)d seconds, %(done)d notifications "
                        "in: the draft's regular expressions are too slow. Simplify them, or "
                        "replay fewer days."
                    )
                    % {"seconds": noise.REPLAY_TIME_LIMIT, "done": slow.done},
                )
                status = 400
        else:
            status = 400
    else:
        form = ReplayForm(
            slos=lookup,
            initial={
                "draft": noise.policy_as_text(team_rules(team.pk), slo_names=names),
                "days": DEFAULT_DAYS,
            },
        )
    rows = []
    if result is not None:
        rows = [
            (
                str(label),
                result.live.get(value, 0),
                result.draft.get(value, 0),
                result.difference(value),
            )
            for value, label in NotificationClass.choices
        ]
    labels = dict(NotificationClass.choices)
    return render(
        request,
        "slos/noise/replay.html",
        {
            "team": team,
            "form": form,
            "result": result,
            "rows": rows,
            "moves": [
                (str(labels[live]), str(labels[draft]), n)
                for (live, draft), n in sorted((result.moves if result else {}).items())
            ],
        },
        status=status,
    )
