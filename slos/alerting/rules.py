"""Prometheus recording and alerting rules for SLOs, and the Alertmanager routing that
goes with them (DESIGN.md, "Multi-window, multi-burn-rate alerting").

Pure: SLO definitions come in as frozen dataclasses of plain values (`rule_slo_from`
copies them off a model object already loaded with its service, team and data source;
it runs no query), YAML text comes out. The same definitions always give the same text.

Per SLO, one rule group:
- recording rules `slo:sli_error:ratio_rate<range>` for 5m, 30m, 1h, 2h, 6h, 1d and 3d:
  the error ratio 1 − good/valid (or bad/valid) from the SLO's own queries with $window
  replaced by the range, labelled slo, service and team;
- four alerting rules, each `error_ratio_long > factor × (1 − T) and error_ratio_short >
  factor × (1 − T)`: pages for 2% of the budget in 1h (checked against 5m) and 5% in 6h
  (30m), tickets for 10% in 1d (2h) and 10% in 3d (6h).

The SRE Workbook's factors (14.4, 6, 3, 1) are for a 30-day window. Here each is
`budget_fraction × window_hours / long_window_hours`, so a 28-day window pages at
13.44 rather than 14.4. Calendar windows use the period's nominal length: 30 days for a
month, 90 for a quarter (rules cannot know how far into the month they run, and a
nominal length keeps the thresholds the same all year).

Only occurrence-based ratio and histogram SLIs on a Prometheus source get rules; the
others are listed as YAML comments that say why they are skipped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import yaml
from django.utils.text import slugify

from slos.budget import BURN_ALERTS, BurnAlert
from slos.sli import EventQueries, render_query
from slos.yaml_block import BlockDumper

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
RECORD_PREFIX = "slo:sli_error:ratio_rate"
RANGES = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
RANGE_HOURS = {"5m": 5 / 60, "30m": 0.5, "1h": 1, "2h": 2, "6h": 6, "1d": 24, "3d": 72}
CALENDAR_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 90}
SLACK_WEBHOOK_PLACEHOLDER = "https://hooks.slack.com/services/REPLACE/WITH/WEBHOOK"
INTAKE_TOKEN_PLACEHOLDER = "REPLACE_WITH_INTAKE_TOKEN"


ALERT_NAMES = {"page": "SLOErrorBudgetBurnPage", "ticket": "SLOErrorBudgetBurnTicket"}


@dataclass(frozen=True)
class RuleSLO:
    """What rule generation needs to know about one SLO. `skip_reason` set means no
    rules: the reason is written into the file instead."""

    pk: int
    name: str
    slo_label: str
    service_label: str
    team_label: str
    service_name: str
    target_percent: Decimal
    window_days: int
    page_path: str
    queries: EventQueries | None = None
    skip_reason: str | None = None


def window_days_of(*, window_kind: str, window_days: int, calendar_period: str) -> int:
    if window_kind == "calendar":
        return CALENDAR_DAYS[calendar_period]
    return window_days


def burn_rate_factor(*, budget_fraction: Fraction, window_days: int, long_window: str) -> float:
    """The burn rate that spends `budget_fraction` of the SLO window's budget within
    `long_window`: 0.02 × 720 h / 1 h = 14.4 for a 30-day window."""
    exact = budget_fraction * window_days * 24 / Fraction(RANGE_HOURS[long_window])
    return float(exact)


def error_budget(target_percent: Decimal) -> Decimal:
    """1 − T as an exact decimal (99.9 → 0.001), so thresholds read as written."""
    return ((Decimal(100) - Decimal(target_percent)) / 100).normalize()


def _number(value: float | Decimal) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return f"{value:.10g}"


def _skip_reason(
    *, sli_kind: str, budgeting_method: str, source_kind: str | None, source_name: str
) -> str | None:
    if source_kind is None:
        return "it has no data source, so Prometheus has no series to evaluate."
    if source_kind != "prometheus":
        return (
            f"its data source {source_name} is not Prometheus (data arrives by "
            f"{source_kind}), so Prometheus has no series to evaluate."
        )
    if sli_kind == "gauge":
        return (
            "a gauge SLI is judged per timeslice; burn-rate rules need event counts "
            "(a ratio or histogram SLI)."
        )
    if budgeting_method == "timeslices":
        return (
            "its budget counts good timeslices, not events; burn-rate rules over event "
            "ratios would measure something else."
        )
    return None


def label_value(text: str) -> str:
    return slugify(text) or "unnamed"


def rule_slo_from(slo: Any, *, page_path: str) -> RuleSLO:
    """Copy the fields rules need off an SLO model object. Reads only loaded attributes:
    the caller selects service__team and data_source with it."""
    source = slo.data_source
    return RuleSLO(
        pk=slo.pk,
        name=slo.name,
        slo_label=slo.openslo_name or label_value(slo.name),
        service_label=slo.service.openslo_name or label_value(slo.service.name),
        team_label=slo.service.team.slug,
        service_name=slo.service.name,
        target_percent=Decimal(slo.target),
        window_days=window_days_of(
            window_kind=slo.window_kind,
            window_days=slo.window_days,
            calendar_period=slo.calendar_period,
        ),
        page_path=page_path,
        queries=slo.event_queries(),
        skip_reason=_skip_reason(
            sli_kind=slo.sli_kind,
            budgeting_method=slo.budgeting_method,
            source_kind=None if source is None else source.kind,
            source_name="" if source is None else source.name,
        ),
    )


def error_ratio_expr(queries: EventQueries, window: str) -> str:
    valid = render_query(queries.valid, window).strip()
    if queries.bad is not None:
        return f"({render_query(queries.bad, window).strip()})\n/\n({valid})"
    good = render_query(queries.good or "", window).strip()
    return f"1 - (\n  ({good})\n  /\n  ({valid})\n)"


_TEMPLATE_DELIMITERS = re.compile(r"\{\{|\}\}")


def _template_literal(text: str) -> str:
    """Annotations are Go templates: a name containing {{ must print as written."""
    return _TEMPLATE_DELIMITERS.sub(lambda match: '{{ "' + match.group(0) + '" }}', text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _labels(slo: RuleSLO) -> dict[str, str]:
    return {"slo": slo.slo_label, "service": slo.service_label, "team": slo.team_label}


def _selector(record: str, labels: dict[str, str]) -> str:
    matchers = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return f"{record}{{{matchers}}}"


def _percent(fraction: Fraction) -> str:
    return _number(float(fraction * 100))


def rule_group(slo: RuleSLO, *, base_url: str = DEFAULT_BASE_URL) -> dict[str, Any]:
    """The recording and alerting rules of one SLO, as the rule file's group mapping."""
    if slo.queries is None:
        raise ValueError(f"SLO {slo.name} has no event queries to record")
    labels = _labels(slo)
    budget = error_budget(slo.target_percent)
    rules: list[dict[str, Any]] = [
        {
            "record": f"{RECORD_PREFIX}{window}",
            "expr": error_ratio_expr(slo.queries, window),
            "labels": dict(labels),
        }
        for window in RANGES
    ]
    url = base_url.rstrip("/") + slo.page_path
    name = _template_literal(_one_line(slo.name))
    service = _template_literal(_one_line(slo.service_name))
    for alert in BURN_ALERTS:
        factor = burn_rate_factor(
            budget_fraction=alert.budget_fraction,
            window_days=slo.window_days,
            long_window=alert.long_window,
        )
        threshold = f"({_number(factor)} * {_number(budget)})"
        long_series = _selector(f"{RECORD_PREFIX}{alert.long_window}", labels)
        short_series = _selector(f"{RECORD_PREFIX}{alert.short_window}", labels)
        percent = _percent(alert.budget_fraction)
        rules.append(
            {
                "alert": ALERT_NAMES[alert.severity],
                "expr": (f"{long_series} > {threshold}\nand\n{short_series} > {threshold}"),
                "labels": {
                    "severity": alert.severity,
                    "long_window": alert.long_window,
                    **labels,
                },
                "annotations": {
                    "summary": (
                        f"{name} ({service}) is burning its error budget: at this "
                        f"rate {percent}% of its {slo.window_days}-day budget goes in "
                        f"{alert.long_window}."
                    ),
                    "description": (
                        f"The error ratio is above {_number(factor)} × the budget "
                        f"({_number(budget)}) over both the last {alert.long_window} and "
                        f"the last {alert.short_window}; the SLO's target is "
                        f"{_number(Decimal(slo.target_percent).normalize())}%."
                    ),
                    "slo_url": url,
                },
            }
        )
    return {"name": f"slo:{slo.team_label}:{slo.service_label}:{slo.slo_label}", "rules": rules}


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=BlockDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


def _ordered(slos: Iterable[RuleSLO]) -> list[RuleSLO]:
    return sorted(slos, key=lambda slo: (slo.team_label, slo.service_label, slo.slo_label, slo.pk))


def _distinct_labels(slos: Sequence[RuleSLO]) -> list[RuleSLO]:
    """Two SLOs whose names slugify alike would write the same series: the later one
    gets its id appended to its slo label."""
    seen: set[tuple[str, str, str]] = set()
    distinct = []
    for slo in slos:
        key = (slo.team_label, slo.service_label, slo.slo_label)
        if key in seen:
            slo = RuleSLO(**{**slo.__dict__, "slo_label": f"{slo.slo_label}-{slo.pk}"})
        seen.add((slo.team_label, slo.service_label, slo.slo_label))
        distinct.append(slo)
    return distinct


def unreachable_alerts(slo: RuleSLO) -> list[BurnAlert]:
    """Alerts whose threshold factor × (1 − T) is 1 or more: an error ratio never exceeds
    it, so they can never fire (a low target on a long window)."""
    budget = error_budget(slo.target_percent)
    return [
        alert
        for alert in BURN_ALERTS
        if Fraction(budget)
        * burn_rate_factor(
            budget_fraction=alert.budget_fraction,
            window_days=slo.window_days,
            long_window=alert.long_window,
        )
        >= 1
    ]


def _unreachable_notes(slo: RuleSLO) -> list[str]:
    return [
        f"# Note: the {alert.severity} alert of {slo.slo_label} over {alert.long_window} can "
        f"never fire: its threshold is 1 or more (target "
        f"{_number(Decimal(slo.target_percent).normalize())}%)."
        for alert in unreachable_alerts(slo)
    ]


def render_rules(slos: Iterable[RuleSLO], *, base_url: str = DEFAULT_BASE_URL) -> str:
    """A Prometheus rule file (`groups:`), one group per SLO, ordered by team, service
    and SLO; skipped SLOs appear as comments saying why."""
    ordered = _distinct_labels(_ordered(slos))
    lines = [
        "# Prometheus rules generated by the Reliability Portal (render_rules).",
        "# Multi-window, multi-burn-rate SLO alerts; regenerate instead of editing.",
        "# Factors: budget_fraction x window_hours / long_window_hours (calendar month",
        "# = 30 days, quarter = 90 days).",
    ]
    groups = [slo for slo in ordered if slo.skip_reason is None]
    lines.append("groups:" if groups else "groups: []")
    for slo in ordered:
        if slo.skip_reason is not None:
            lines.append(
                f"# Skipped {_one_line(slo.team_label)}/{_one_line(slo.service_label)}/"
                f"{_one_line(slo.slo_label)} ({_one_line(slo.name)}): "
                f"{_one_line(slo.skip_reason)}"
            )
            continue
        lines.extend(_unreachable_notes(slo))
        lines.append(_dump([rule_group(slo, base_url=base_url)]).rstrip("\n"))
    return "\n".join(lines) + "\n"


def intake_url(*, base_url: str, token: str | None) -> str:
    return f"{base_url.rstrip('/')}/api/v1/intake/alertmanager/{token or INTAKE_TOKEN_PLACEHOLDER}"


def render_alertmanager(
    *, team_slug: str, base_url: str = DEFAULT_BASE_URL, intake_token: str | None = None
) -> str:
    """An Alertmanager configuration routing the team's SLO alerts: pages to the team's
    Slack, tickets to the portal's intake (which queues them for the next retro).
    Complete on its own; to merge, take the team's route and its two receivers."""
    slack = f"{team_slug}-slack"
    intake = f"{team_slug}-portal-intake"
    config = {
        "route": {
            "receiver": intake,
            "group_by": ["alertname", "team", "service", "slo"],
            "routes": [
                {
                    "matchers": [f'team="{team_slug}"'],
                    "receiver": intake,
                    "routes": [
                        {
                            "matchers": ['severity="page"'],
                            "receiver": slack,
                            "group_wait": "30s",
                            "repeat_interval": "1h",
                        },
                        {
                            "matchers": ['severity="ticket"'],
                            "receiver": intake,
                            "group_wait": "5m",
                            "repeat_interval": "24h",
                        },
                    ],
                }
            ],
        },
        "receivers": [
            {
                "name": slack,
                "slack_configs": [
                    {
                        "api_url": SLACK_WEBHOOK_PLACEHOLDER,
                        "channel": f"#{team_slug}-alerts",
                        "send_resolved": True,
                        "title": "{{ .CommonAnnotations.summary }}",
                        "text": (
                            "{{ .CommonAnnotations.description }} {{ .CommonAnnotations.slo_url }}"
                        ),
                    }
                ],
            },
            {
                "name": intake,
                "webhook_configs": [
                    {
                        "url": intake_url(base_url=base_url, token=intake_token),
                        "send_resolved": True,
                    }
                ],
            },
        ],
    }
    header = [
        f"# Alertmanager routing for team {team_slug}, generated by the Reliability Portal.",
        "# severity=page goes to the team's Slack, severity=ticket to the portal's intake.",
        "# Replace the Slack webhook URL"
        + ("" if intake_token else " and the intake token")
        + " before use.",
    ]
    return "\n".join(header) + "\n" + _dump(config)
