"""A closed retro's summary in Markdown: the numbers, the release, ticket and review
decisions, the actions with their owners, the kudos and the notes.

Pure: `session_markdown` takes a `RetroSummary` of plain values and returns text; no
ORM, no clock. `summary_from_agenda` builds one from the plain rows of a session's
agenda (retros.selectors.Agenda), so closing a session reads nothing twice:

    session_markdown(summary_from_agenda(retro_agenda(session, at=at)))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.formatting import budget_percent_text, target_text, time_span_text
from retros.agenda import SECTION_SLUGS, SECTIONS

if TYPE_CHECKING:
    from retros.selectors import Agenda


@dataclass(frozen=True)
class BudgetLine:
    """One SLO's budget at the start of the session. Fractions, not percents."""

    service: str
    slo: str
    status: str  # the status's label: "at risk"
    remaining: float | None  # error budget remaining, None without data
    previous_remaining: float | None = None  # last week's session's, None if absent
    policy_step: str = ""
    release_decision: str = ""  # the decision's label, "" when none was recorded

    @property
    def change(self) -> float | None:
        """Change of the remaining budget since last week's session, as a fraction."""
        if self.remaining is None or self.previous_remaining is None:
            return None
        return self.remaining - self.previous_remaining


@dataclass(frozen=True)
class TicketLine:
    title: str
    service: str = ""
    slo: str = ""
    decision: str = ""  # the decision's label, "" while undecided
    note: str = ""
    carried: bool = False  # on an earlier retro's agenda already
    backlog_item_id: int | None = None  # the backlog item it became


@dataclass(frozen=True)
class ReviewLine:
    service: str
    slo: str
    target: Decimal  # in percent, as the registry stores it: 99.9
    decision: str = ""  # the review decision's label, "" when not reviewed
    new_target: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class ActionLine:
    text: str
    owner: str = ""
    due_on: date | None = None
    outcome: str = ""  # this session's review of it (done/carried/dropped label), or ""


@dataclass(frozen=True)
class KudosLine:
    person: str
    what: str
    practice: str  # the practice's label


@dataclass(frozen=True)
class NoteLine:
    section: str  # a slug of retros.agenda.SECTIONS
    text: str
    author: str = ""


@dataclass(frozen=True)
class RetroSummary:
    team: str
    week_of: date
    time_zone: str = "UTC"
    started_at: datetime | None = None
    closed_at: datetime | None = None
    facilitator: str = ""
    attendees: tuple[str, ...] = ()
    budgets: tuple[BudgetLine, ...] = ()
    tickets: tuple[TicketLine, ...] = ()
    reviews: tuple[ReviewLine, ...] = ()
    actions_reviewed: tuple[ActionLine, ...] = ()  # open actions from earlier retros
    actions_new: tuple[ActionLine, ...] = ()  # opened in this session
    kudos: tuple[KudosLine, ...] = ()
    notes: tuple[NoteLine, ...] = ()
    url: str = ""  # the session's page, absolute, when known


# --- Markdown ------------------------------------------------------------------------


def _inline(text: str) -> str:
    """One line of user text: no line breaks, no table pipes."""
    return " ".join(text.split()).replace("|", "\\|")


def _slo_name(service: str, slo: str) -> str:
    return _inline(" / ".join(name for name in (service, slo) if name))


def _percent(fraction: float | None) -> str:
    if fraction is None:
        return "–"
    return f"{budget_percent_text(fraction * 100)}%"


def _change(change: float | None) -> str:
    if change is None:
        return "–"
    points = budget_percent_text(change * 100)
    sign = "+" if change > 0 and not points.startswith("+") else ""
    return _("%(points)s pts") % {"points": f"{sign}{points}"}


def _section_title(slug: str) -> str:
    if slug in SECTION_SLUGS:
        return str(SECTIONS[SECTION_SLUGS.index(slug)].title)
    return slug


def _burning_first(budgets: Iterable[BudgetLine]) -> list[BudgetLine]:
    """Least budget left first; SLOs without data last, then by name."""
    return sorted(
        budgets,
        key=lambda line: (
            line.remaining is None,
            line.remaining if line.remaining is not None else 0.0,
            line.service,
            line.slo,
        ),
    )


def _numbers(summary: RetroSummary) -> list[str]:
    lines = [f"## {_('The numbers')}", ""]
    if not summary.budgets:
        return [*lines, f"_{_('No SLOs.')}_", ""]
    header = (
        _("SLO"),
        _("Status"),
        _("Budget left"),
        _("Change since last week"),
        _("Policy step"),
    )
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for line in _burning_first(summary.budgets):
        cells = (
            _slo_name(line.service, line.slo),
            _inline(line.status),
            _percent(line.remaining),
            _change(line.change),
            _inline(line.policy_step) or "–",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _release_decisions(summary: RetroSummary) -> list[str]:
    decided = [line for line in _burning_first(summary.budgets) if line.release_decision]
    lines = [f"## {_('Release decisions')}", ""]
    if not decided:
        return [*lines, f"_{_('None recorded.')}_", ""]
    for line in decided:
        lines.append(f"- **{_slo_name(line.service, line.slo)}**: {_inline(line.release_decision)}")
    return [*lines, ""]


def _ticket(line: TicketLine) -> str:
    where = _slo_name(line.service, line.slo) if (line.service or line.slo) else ""
    text = f"- **{_inline(line.title)}**"
    if where:
        text += f" ({where})"
    if line.carried:
        text += " " + _("(carried)")
    text += f": {_inline(line.decision)}"
    if line.backlog_item_id is not None:
        text += " → " + _("backlog item #%(id)d") % {"id": line.backlog_item_id}
    if line.note:
        text += f": {_inline(line.note)}"
    return text


def _tickets(summary: RetroSummary) -> list[str]:
    lines = [f"## {_('Ticket decisions')}", ""]
    if not summary.tickets:
        return [*lines, f"_{_('No error tickets since the last retro.')}_", ""]
    decided = [line for line in summary.tickets if line.decision]
    undecided = [line for line in summary.tickets if not line.decision]
    lines.extend(_ticket(line) for line in decided)
    if undecided:
        if decided:
            lines.append("")
        count = len(undecided)
        lines.append(_("Undecided, carried to the next retro (%(count)d):") % {"count": count})
        lines.append("")
        for line in undecided:
            where = _slo_name(line.service, line.slo) if (line.service or line.slo) else ""
            lines.append(f"- {_inline(line.title)}" + (f" ({where})" if where else ""))
    return [*lines, ""]


def _reviews(summary: RetroSummary) -> list[str]:
    lines = [f"## {_('SLO reviews')}", ""]
    if not summary.reviews:
        return [*lines, f"_{_('No SLO was due for review.')}_", ""]
    for line in summary.reviews:
        head = f"- **{_slo_name(line.service, line.slo)}** ({target_text(line.target)}%)"
        if not line.decision:
            lines.append(f"{head}: _{_('not reviewed')}_")
            continue
        text = f"{head}: {_inline(line.decision)}"
        if line.new_target is not None and line.new_target != line.target:
            text += f" → {target_text(line.new_target)}%"
        if line.note:
            text += f": {_inline(line.note)}"
        lines.append(text)
    return [*lines, ""]


def _action(line: ActionLine) -> str:
    details = [
        _("owner: %(name)s") % {"name": _inline(line.owner)} if line.owner else _("no owner"),
    ]
    if line.due_on is not None:
        details.append(_("due %(day)s") % {"day": date_format(line.due_on, "DATE_FORMAT")})
    text = f"- {_inline(line.text)} ({', '.join(details)})"
    if line.outcome:
        text += f": **{_inline(line.outcome)}**"
    return text


def _actions(summary: RetroSummary) -> list[str]:
    lines = [f"## {_('Actions')}", ""]
    if not summary.actions_reviewed and not summary.actions_new:
        return [*lines, f"_{_('No actions.')}_", ""]
    if summary.actions_reviewed:
        lines.extend([f"### {_('From earlier retros')}", ""])
        lines.extend(_action(line) for line in summary.actions_reviewed)
        lines.append("")
    if summary.actions_new:
        lines.extend([f"### {_('New')}", ""])
        lines.extend(_action(line) for line in summary.actions_new)
        lines.append("")
    return lines


def _kudos(summary: RetroSummary) -> list[str]:
    lines = [f"## {_('Kudos')}", ""]
    if not summary.kudos:
        return [*lines, f"_{_('No kudos this week.')}_", ""]
    for line in summary.kudos:
        person, practice = _inline(line.person), _inline(line.practice)
        lines.append(f"- **{person}** ({practice}): {_inline(line.what)}")
    return [*lines, ""]


def _notes(summary: RetroSummary) -> list[str]:
    if not summary.notes:
        return []
    lines = [f"## {_('Notes')}", ""]
    order = {slug: index for index, slug in enumerate(SECTION_SLUGS)}
    by_section: dict[str, list[NoteLine]] = {}
    for note in summary.notes:
        by_section.setdefault(note.section, []).append(note)
    for section in sorted(by_section, key=lambda slug: (order.get(slug, len(order)), slug)):
        lines.extend([f"### {_section_title(section)}", ""])
        for note in by_section[section]:
            author = f" ({_inline(note.author)})" if note.author else ""
            lines.append(f"- {_inline(note.text)}{author}")
        lines.append("")
    return lines


def session_markdown(summary: RetroSummary) -> str:
    """The summary of one session, as Markdown (tables in GitHub's flavour)."""
    title = _("Retro of %(team)s, week of %(day)s") % {
        "team": _inline(summary.team),
        "day": date_format(summary.week_of, "DATE_FORMAT"),
    }
    lines = [f"# {title}", ""]
    held = []
    if summary.started_at is not None:
        span = time_span_text(summary.started_at, summary.closed_at, summary.time_zone)
        held.append(_("held %(span)s (%(zone)s)") % {"span": span, "zone": summary.time_zone})
    if summary.facilitator:
        held.append(_("facilitator: %(name)s") % {"name": _inline(summary.facilitator)})
    if summary.attendees:
        names = ", ".join(_inline(name) for name in summary.attendees)
        held.append(_("attendees: %(names)s") % {"names": names})
    if held:
        lines.extend([f"_{'; '.join(held)}_", ""])
    if summary.url:
        lines.extend([f"[{_('The session')}]({summary.url})", ""])
    for part in (
        _numbers,
        _release_decisions,
        _tickets,
        _reviews,
        _actions,
        _kudos,
        _notes,
    ):
        lines.extend(part(summary))
    return "\n".join(lines).rstrip() + "\n"


# --- From the agenda ------------------------------------------------------------------


def summary_from_agenda(agenda: Agenda, *, url: str = "") -> RetroSummary:
    """The summary of what a session's agenda (retros.selectors.retro_agenda) shows:
    plain values already, so this reads no database either. `agenda.session` needs its
    team loaded."""
    session = agenda.session
    return RetroSummary(
        team=session.team.name,
        week_of=session.week_of,
        time_zone=session.team.time_zone,
        started_at=session.started_at,
        closed_at=session.closed_at,
        facilitator=agenda.facilitator_name,
        attendees=tuple(agenda.attendee_names),
        budgets=tuple(
            BudgetLine(
                service=row.service_name,
                slo=row.slo_name,
                status=str(row.status_label),
                remaining=row.error_budget_remaining,
                previous_remaining=row.previous_remaining,
                policy_step=row.policy_step,
                release_decision=str(row.release_decision_label) if row.release_decision else "",
            )
            for row in agenda.budgets
        ),
        tickets=tuple(
            TicketLine(
                title=row.title,
                service=row.service_name,
                slo=row.slo_name,
                decision=str(row.decision_label) if row.decision else "",
                note=row.note,
                carried=row.carried,
                backlog_item_id=row.backlog_item_id,
            )
            for row in agenda.tickets
        ),
        reviews=tuple(
            ReviewLine(
                service=row.service_name,
                slo=row.slo_name,
                target=row.target,
                decision=str(row.decision_label) if row.decision else "",
                new_target=row.new_target,
                note=row.note,
            )
            for row in agenda.reviews
        ),
        actions_reviewed=tuple(
            ActionLine(
                text=row.text,
                owner=row.owner_name,
                due_on=row.due_on,
                outcome=str(row.outcome_label) if row.outcome else "",
            )
            for row in agenda.actions
        ),
        actions_new=tuple(
            ActionLine(text=row.text, owner=row.owner_name, due_on=row.due_on)
            for row in agenda.new_actions
        ),
        kudos=tuple(
            KudosLine(person=row.person_name, what=row.what, practice=str(row.practice_label))
            for row in agenda.kudos
        ),
        notes=tuple(
            NoteLine(section=row.section, text=row.text, author=row.author_name)
            for rows in agenda.notes.values()
            for row in rows
        ),
        url=url,
    )
