"""The noise page: how many notifications a team gets, of which class and from where,
the noisiest ones, alerts per week against the team's target, and the counts before and after
each routing policy change. And the replay: what a draft policy would have made of the
last N days, beside what live routing made of them. The replay saves nothing.

Who: any member of the team, viewers included, sees the noise page; members and admins
replay (a draft is a proposal to bring to the retro; only admins change the policy, on
the routing page). Outsiders get 404."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import AuthedRequest, team_membership_or_404, team_or_404
from portal.models import Role, Team
from slos.charts import noise_by_day_figure
from slos.models import (
    SLO,
    IntakeKind,
    Notification,
    NotificationClass,
    RoutingPolicyChange,
)
from slos.notifications import noise, routing
from slos.notifications.intake import team_rules

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
    seen = [
        noise.Seen(
            first_seen_at=first_seen_at,
            notification_class=notification_class,
            source_kind=source_kind,
            fingerprint=fingerprint,
            title=title,
            deliveries=deliveries,
            source_name=source_name,
        )
        for (
            first_seen_at,
            notification_class,
            source_kind,
            fingerprint,
            title,
            deliveries,
            source_name,
        ) in Notification.objects.filter(team=team, last_seen_at__gte=start)
        .order_by()
        .values_list(
            "first_seen_at",
            "notification_class",
            "source__kind",
            "fingerprint",
            "title",
            "count",
            "source__name",
        )
    ]
    changes = list(
        RoutingPolicyChange.objects.filter(team=team, changed_at__gte=start)
        .order_by("changed_at", "pk")
        .values_list("changed_at", "summary")
    )
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
    template = "slos/noise/page.html"
    if request.htmx:
        template += "#window"
    return render(
        request,
        template,
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


def _slo_names(team: Team) -> tuple[dict[str, int], dict[int, str]]:
    """Every way a draft may name one of the team's SLOs, and the name to write."""
    lookup: dict[str, int] = {}
    names: dict[int, str] = {}
    for pk, name, openslo_name in SLO.objects.filter(service__team=team).values_list(
        "pk", "name", "openslo_name"
    ):
        lookup[name.casefold()] = pk
        if openslo_name:
            lookup[openslo_name.casefold()] = pk
        lookup[str(pk)] = pk
        names[pk] = openslo_name or str(pk)
    return lookup, names


def _stored(team: Team, *, since: datetime) -> list[noise.StoredRouting]:
    return [
        noise.StoredRouting(
            source_kind=source_kind,
            labels=labels if isinstance(labels, dict) else {},
            title=title,
            severity=severity,
            resolved_when_first_seen=resolved_at is not None and resolved_at == first_seen_at,
            slo_id=slo_id,
            service_id=service_id,
            notification_class=notification_class,
            decided_by_default=rule_id is None and decided_by_rule == routing.DEFAULT_POLICY,
        )
        for (
            source_kind,
            labels,
            title,
            severity,
            first_seen_at,
            resolved_at,
            slo_id,
            service_id,
            notification_class,
            decided_by_rule,
            rule_id,
        ) in Notification.objects.filter(team=team, first_seen_at__gte=since)
        .order_by()
        .values_list(
            "source__kind",
            "labels",
            "title",
            "severity",
            "first_seen_at",
            "resolved_at",
            "slo_id",
            "service_id",
            "notification_class",
            "decided_by_rule",
            "rule_id",
        )
    ]


@require_http_methods(["GET", "POST"])
def noise_replay(request: AuthedRequest, slug: str) -> HttpResponse:
    """GET: the form, its draft the live policy. POST: the draft replayed over the last
    N days beside what live routing produced; nothing is written."""
    team = team_or_404(request.user, slug, Role.MEMBER)
    lookup, names = _slo_names(team)
    result = None
    status = 200
    if request.method == "POST":
        form = ReplayForm(request.POST, slos=lookup)
        if form.is_valid():
            since = timezone.now() - timedelta(days=form.cleaned_data["days"])
            result = noise.replay(_stored(team, since=since), form.cleaned_data["draft"])
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
