"""The SLO registry's write side: editing, reviews and the target history, the
error-budget policy, annotations and exclusions, and the team's list of SLOs due for
review. Permissions follow the rest of the portal: viewers 403, outsiders 404."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from slos.models import SLO, Annotation, BudgetPolicyStep, HourlyBucket, SLOReview
from slos.registry import services
from slos.registry.forms import SLOEditForm
from slos.registry.selectors import slo_with_budget
from tests.conftest import client_for, utc
from tests.factories import SLOFactory, hourly_buckets, hours_before

# 20:00 UTC on 2 November is already 05:00 on 3 November in Tokyo, the team's zone.
NOW = utc(2026, 11, 2, 20, 0)
TOKYO_TODAY = date(2026, 11, 3)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$window]))'
VALID = "sum(increase(http_requests_total[$window]))"


def edit_data(slo: SLO, **overrides) -> dict:
    """What the browser sends back from the pre-filled edit form, with `overrides`."""
    form = SLOEditForm(instance=slo, team=slo.service.team)
    data: dict = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def policy_data(*steps: tuple[str, str], initial: int = 0, delete: tuple[int, ...] = ()) -> dict:
    data = {
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(initial),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for index, (level, action) in enumerate(steps):
        data[f"steps-{index}-below_percent"] = level
        data[f"steps-{index}-action"] = action
        if index in delete:
            data[f"steps-{index}-DELETE"] = "on"
    return data


def annotation_data(**overrides) -> dict:
    data = {
        "scope": "slo",
        "kind": "deploy",
        "starts_at": "2026-11-02T09:00",
        "ends_at": "2026-11-02T09:30",
        "text": "Release 4.2",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


class RegistrySLOFactory(SLOFactory):
    good_query = GOOD
    valid_query = VALID


# Permissions ---------------------------------------------------------------------------


def _write_urls(slo: SLO, annotation: Annotation) -> list[tuple[str, str]]:
    return [
        ("get", reverse("slos:edit", args=[slo.pk])),
        ("post", reverse("slos:edit", args=[slo.pk])),
        ("get", reverse("slos:review", args=[slo.pk])),
        ("post", reverse("slos:review", args=[slo.pk])),
        ("get", reverse("slos:policy", args=[slo.pk])),
        ("post", reverse("slos:policy", args=[slo.pk])),
        ("get", reverse("slos:annotation_create", args=[slo.pk])),
        ("post", reverse("slos:annotation_create", args=[slo.pk])),
        ("post", reverse("slos:annotation_delete", args=[annotation.pk])),
    ]


@pytest.fixture
def annotation(team, slo, owner):
    return services.annotation_create(
        team=team,
        slo=slo,
        kind="deploy",
        starts_at=utc(2026, 11, 1, 0),
        ends_at=utc(2026, 11, 1, 1),
        text="Release 4.1",
        created_by=owner,
    )


def test_a_viewer_gets_403_on_every_registry_write(client, viewer, slo, annotation):
    client_for(client, viewer)
    for method, url in _write_urls(slo, annotation):
        assert getattr(client, method)(url).status_code == 403, (method, url)
    assert Annotation.objects.filter(pk=annotation.pk).exists()
    assert not SLOReview.objects.exists()


def test_an_outsider_gets_404_on_every_registry_page(client, outsider, team, slo, annotation):
    client_for(client, outsider)
    for method, url in [
        *_write_urls(slo, annotation),
        ("get", reverse("slos:due", args=[team.slug])),
    ]:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert Annotation.objects.filter(pk=annotation.pk).exists()


def test_registry_pages_need_a_login(client, team, slo):
    for url in [reverse("slos:edit", args=[slo.pk]), reverse("slos:due", args=[team.slug])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_team_page_links_to_the_due_list_and_annotations(client, viewer, team):
    client_for(client, viewer)
    page = client.get(reverse("team_detail", args=[team.slug])).content.decode()
    due_url = reverse("slos:due", args=[team.slug])
    assert f'href="{due_url}"' in page
    assert f'href="{due_url}#annotations"' in page


# Edit ----------------------------------------------------------------------------------


def test_the_edit_form_is_the_create_form_pre_filled_and_grouped(client, teammate, slo):
    client_for(client, teammate)
    page = client.get(reverse("slos:edit", args=[slo.pk])).content.decode()
    assert 'value="Clock-in availability"' in page
    assert 'value="99.9' in page
    for legend in ["Indicator (SLI)", "Ratio of event counts", "Threshold on a histogram"]:
        assert f"<strong>{legend}</strong>" in page
    create_page = client.get(reverse("slos:create", args=[slo.service.team.slug]))
    assert "<strong>Ratio of event counts</strong>" in create_page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_member_edits_an_slo_without_touching_its_target(client, teammate, slo):
    client_for(client, teammate)
    response = client.post(
        reverse("slos:edit", args=[slo.pk]),
        edit_data(slo, name="Clock-in success", why="People are paid by it.", owner=teammate.pk),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("slos:detail", args=[slo.pk])
    slo.refresh_from_db()
    assert (slo.name, slo.why, slo.owner) == (
        "Clock-in success",
        "People are paid by it.",
        teammate,
    )
    assert not SLOReview.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_target_changed_through_edit_is_kept_in_the_history(client, teammate, slo):
    next_review = slo.next_review_on
    client_for(client, teammate)
    url = reverse("slos:edit", args=[slo.pk])
    response = client.post(
        url, edit_data(slo, target="99.95", target_change_note="Six months at 99.97%.")
    )
    assert response.status_code == 302
    response = client.post(url, edit_data(slo, target="99.5", target_change_note="Too noisy."))
    assert response.status_code == 302
    slo.refresh_from_db()
    assert slo.target == Decimal("99.5")
    assert slo.next_review_on == next_review  # an edit is not a review
    history = [
        (r.decision, r.old_target, r.new_target, r.note, r.reviewed_by, r.reviewed_at)
        for r in SLOReview.objects.filter(slo=slo).order_by("pk")
    ]
    assert history == [
        ("tighten", Decimal("99.9"), Decimal("99.95"), "Six months at 99.97%.", teammate, NOW),
        ("loosen", Decimal("99.95"), Decimal("99.5"), "Too noisy.", teammate, NOW),
    ]
    page = client.get(reverse("slos:review", args=[slo.pk])).content.decode()
    assert "99.95% → 99.5%" in page
    assert "Six months at 99.97%." in page


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"target": "99.95"}, "say why, so the SLO&#x27;s history explains"),
        ({"target": "100", "target_change_note": "x"}, "not including, 100"),
        ({"valid_query": ""}, "needs a query for valid events"),
        ({"good_query": "sum(up)"}, "must contain $window"),
        ({"name": "Clock-in latency"}, "already has an SLO of that name"),
        ({"window_days": "0"}, "greater than or equal to 1"),
        ({"sli_kind": "gauge"}, "choose the Timeslices method"),
    ],
)
def test_bad_edits_are_refused_and_nothing_changes(
    client, teammate, slo, service, data_source, override, message
):
    RegistrySLOFactory(service=service, data_source=data_source, name="Clock-in latency")
    client_for(client, teammate)
    response = client.post(reverse("slos:edit", args=[slo.pk]), edit_data(slo, **override))
    assert response.status_code == 400
    assert message in response.content.decode()
    stored = SLO.objects.get(pk=slo.pk)
    assert (stored.name, stored.target, stored.valid_query) == (slo.name, slo.target, VALID)
    assert not SLOReview.objects.exists()


def test_an_slo_cannot_be_moved_to_another_teams_service(client, teammate, slo, other_team):
    foreign = services.service_create(team=other_team, name="Theirs")
    client_for(client, teammate)
    response = client.post(reverse("slos:edit", args=[slo.pk]), edit_data(slo, service=foreign.pk))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert SLO.objects.get(pk=slo.pk).service_id == slo.service_id


# Review --------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_keeping_an_slo_schedules_the_next_review_in_the_teams_calendar(client, teammate, slo):
    assert slo.provisional
    client_for(client, teammate)
    response = client.post(
        reverse("slos:review", args=[slo.pk]),
        {"decision": "keep", "new_target": "99.9", "note": ""},
    )
    assert response.status_code == 302
    slo.refresh_from_db()
    # Reviewed on 3 November in Tokyo (still 2 November in UTC), every 90 days.
    assert slo.next_review_on == TOKYO_TODAY + timedelta(days=90)
    assert not slo.provisional
    review = SLOReview.objects.get(slo=slo)
    assert (review.decision, review.reviewed_by, review.reviewed_at) == ("keep", teammate, NOW)
    assert review.old_target == review.new_target == Decimal("99.9")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("decision", "new_target"), [("tighten", Decimal("99.95")), ("loosen", Decimal("99.5"))]
)
def test_tightening_or_loosening_records_old_and_new_target(
    client, teammate, slo, decision, new_target
):
    slo.review_interval_days = 30
    slo.save()
    client_for(client, teammate)
    response = client.post(
        reverse("slos:review", args=[slo.pk]),
        {"decision": decision, "new_target": str(new_target), "note": "Looked at 3 months."},
    )
    assert response.status_code == 302
    slo.refresh_from_db()
    assert slo.target == new_target
    assert slo.next_review_on == TOKYO_TODAY + timedelta(days=30)
    review = SLOReview.objects.get(slo=slo)
    assert (review.decision, review.old_target, review.new_target) == (
        decision,
        Decimal("99.9"),
        new_target,
    )
    assert review.note == "Looked at 3 months."


@time_machine.travel(NOW, tick=False)
def test_retiring_records_the_decision_and_stops_the_reviews(client, owner, slo):
    client_for(client, owner)
    response = client.post(
        reverse("slos:review", args=[slo.pk]),
        {"decision": "retire", "new_target": "", "note": "Feature removed."},
    )
    assert response.status_code == 302
    slo.refresh_from_db()
    assert slo.next_review_on is None
    assert slo.retired_at == NOW
    assert slo.target == Decimal("99.9")
    assert not SLO.objects.active().filter(pk=slo.pk).exists()
    review = SLOReview.objects.get(slo=slo)
    assert (review.decision, review.old_target, review.new_target) == (
        "retire",
        Decimal("99.9"),
        Decimal("99.9"),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_target": "99.9"}, "Choose a decision"),
        ({"decision": "maybe", "new_target": "99.9"}, "Select a valid choice"),
        ({"decision": "tighten", "new_target": "99.5", "note": "n"}, "give a target above 99.9%"),
        ({"decision": "tighten", "new_target": "99.9", "note": "n"}, "give a target above 99.9%"),
        ({"decision": "tighten", "new_target": "", "note": "n"}, "Give the new target"),
        ({"decision": "loosen", "new_target": "99.95", "note": "n"}, "give a target below 99.9%"),
        ({"decision": "keep", "new_target": "99.5"}, "leaves the target at 99.9%"),
        ({"decision": "retire", "new_target": "99.5", "note": "n"}, "leaves the target at 99.9%"),
        ({"decision": "tighten", "new_target": "100", "note": "n"}, "not including, 100"),
        ({"decision": "tighten", "new_target": "99.9999", "note": "n"}, "less than or equal to"),
        ({"decision": "loosen", "new_target": "abc", "note": "n"}, "Enter a number"),
        ({"decision": "loosen", "new_target": "99.5", "note": " "}, "Say why the team decided"),
    ],
)
def test_bad_reviews_are_refused_and_nothing_is_recorded(client, teammate, slo, data, message):
    next_review = slo.next_review_on
    client_for(client, teammate)
    response = client.post(reverse("slos:review", args=[slo.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SLOReview.objects.exists()
    slo.refresh_from_db()
    assert (slo.target, slo.next_review_on, slo.provisional) == (Decimal("99.9"), next_review, True)


def test_the_review_service_refuses_a_target_that_contradicts_the_decision(teammate, slo):
    with pytest.raises(ValidationError, match="above 99.9"):
        services.slo_review_record(
            slo=slo,
            user=teammate,
            decision="tighten",
            note="",
            new_target=Decimal("99"),
            at=NOW,
        )
    with pytest.raises(ValidationError, match="less than or equal to 99.999"):
        services.slo_review_record(
            slo=slo,
            user=teammate,
            decision="tighten",
            note="",
            new_target=Decimal("99.9999"),
            at=NOW,
        )
    assert not SLOReview.objects.exists()


# Due for review ------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_due_list_shows_overdue_first_in_the_teams_calendar(
    client, viewer, teammate, team, service, data_source, other_team
):
    RegistrySLOFactory(
        service=service,
        data_source=data_source,
        name="Due today",
        next_review_on=TOKYO_TODAY,
        owner=teammate,
    )
    RegistrySLOFactory(
        service=service,
        data_source=data_source,
        name="Long overdue",
        next_review_on=date(2026, 10, 1),
    )
    RegistrySLOFactory(
        service=service,
        data_source=data_source,
        name="Slightly overdue",
        next_review_on=date(2026, 11, 1),
        provisional=False,
    )
    RegistrySLOFactory(
        service=service,
        data_source=data_source,
        name="Tomorrow",
        next_review_on=TOKYO_TODAY + timedelta(days=1),
    )
    retired = RegistrySLOFactory(
        service=service, data_source=data_source, name="Retired", next_review_on=date(2026, 1, 1)
    )
    SLO.objects.filter(pk=retired.pk).update(next_review_on=None)
    RegistrySLOFactory(
        service__team=other_team,
        service__name="Theirs",
        data_source__name="Prom",
        name="Their overdue",
        next_review_on=date(2026, 1, 1),
    )

    client_for(client, viewer)
    page = client.get(reverse("slos:due", args=[team.slug])).content.decode()
    table = page[page.index('id="due-slos"') : page.index("</table>")]
    names = ["Long overdue", "Slightly overdue", "Due today"]
    assert [table.index(name) for name in names] == sorted(table.index(name) for name in names)
    for absent in ["Tomorrow", "Retired", "Their overdue"]:
        assert absent not in table
    assert "33 days overdue" in table
    assert "2 days overdue" in table
    assert "due today" in table
    assert "teammate" in table  # the owner
    assert table.count("(provisional)") == 2
    assert "/review/" not in table  # viewers get no review buttons


@time_machine.travel(NOW, tick=False)
def test_members_see_review_links_and_an_empty_list_says_so(client, teammate, team, slo):
    client_for(client, teammate)
    page = client.get(reverse("slos:due", args=[team.slug])).content.decode()
    assert 'id="nothing-due"' in page
    SLO.objects.filter(pk=slo.pk).update(next_review_on=TOKYO_TODAY)
    page = client.get(reverse("slos:due", args=[team.slug])).content.decode()
    assert f'href="{reverse("slos:review", args=[slo.pk])}"' in page


@time_machine.travel(NOW, tick=False)
def test_the_due_list_runs_a_fixed_number_of_queries(
    client, teammate, team, service, data_source, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for _ in range(count):
            slo = RegistrySLOFactory(
                service=service,
                data_source=data_source,
                name=f"SLO {SLO.objects.count()}",
                next_review_on=date(2026, 10, 1),
                owner=teammate,
            )
            services.slo_review_record(
                slo=slo, user=teammate, decision="keep", note="", new_target=None, at=NOW
            )
            SLO.objects.filter(pk=slo.pk).update(next_review_on=date(2026, 10, 1))
            services.annotation_create(
                team=team,
                service=service,
                kind="note",
                starts_at=NOW - timedelta(hours=2),
                ends_at=NOW - timedelta(hours=1),
                text="Checked",
                created_by=teammate,
            )

    client_for(client, teammate)
    url = reverse("slos:due", args=[team.slug])
    add(2)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('<tr id="due-') == 22


# Error-budget policy -------------------------------------------------------------------


def test_a_member_sets_and_then_changes_the_policy(client, teammate, slo):
    client_for(client, teammate)
    url = reverse("slos:policy", args=[slo.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        policy_data(
            ("50", "Prefer reliability work in planning."),
            ("0", "Freeze feature releases."),
            ("", ""),  # an empty extra row is ignored
        ),
    )
    assert response.status_code == 302
    assert [(s.below_percent, s.action) for s in slo.policy_steps.all()] == [
        (Decimal("50"), "Prefer reliability work in planning."),
        (Decimal("0"), "Freeze feature releases."),
    ]
    changed = policy_data(
        ("50", "Prefer reliability work in planning."),
        ("0", "Freeze feature releases."),
        ("-100", "Postmortem with the PM."),
        initial=2,
        delete=(0,),
    )
    # Removing a step asks first, and changes nothing until confirmed.
    asked = client.post(url, changed)
    assert asked.status_code == 200
    question = asked.content.decode()
    assert "Remove this step from the error-budget policy?" in question
    assert "Below 50% left: Prefer reliability work in planning." in question
    assert 'name="steps-0-DELETE" value="on"' in question  # the form is posted again
    assert [s.below_percent for s in slo.policy_steps.all()] == [Decimal("50"), Decimal("0")]
    response = client.post(url, {**changed, "confirm": "yes"})
    assert response.status_code == 302
    assert [s.below_percent for s in slo.policy_steps.all()] == [Decimal("0"), Decimal("-100")]
    page = client.get(url).content.decode()
    assert "Postmortem with the PM." in page


@time_machine.travel(utc(2026, 11, 2, 9, 30), tick=False)
def test_a_step_can_freeze_releases_and_the_pages_say_so(client, teammate, slo):
    client_for(client, teammate)
    url = reverse("slos:policy", args=[slo.pk])
    data = policy_data(("50", "Prefer reliability work."), ("0", "Freeze feature releases."))
    data["steps-1-freezes_releases"] = "on"
    assert client.post(url, data).status_code == 302
    assert [(s.below_percent, s.freezes_releases) for s in slo.policy_steps.all()] == [
        (Decimal("50"), False),
        (Decimal("0"), True),
    ]
    edit_page = client.get(url).content.decode()
    assert "Freezes feature releases" in edit_page
    assert edit_page.count("data-freeze") == 1
    assert re.search(r'name="steps-1-freezes_releases"[^>]* checked', edit_page)
    assert not re.search(r'name="steps-0-freezes_releases"[^>]* checked', edit_page)
    slo_page = client.get(reverse("slos:detail", args=[slo.pk])).content.decode()
    assert slo_page.count("data-freeze") == 1


def test_the_policy_page_marks_the_steps_in_effect(client, teammate, slo, time_machine):
    time_machine.move_to(utc(2026, 11, 2, 9, 30), tick=False)
    services.policy_steps_replace(
        slo=slo,
        steps=[
            services.PolicyStep(below_percent=Decimal("75"), action="Slow down."),
            services.PolicyStep(below_percent=Decimal("25"), action="Freeze."),
        ],
    )
    end = utc(2026, 11, 2, 9)
    hourly_buckets(slo, hours_before(end, 100), good=9_995, valid=10_000)
    client_for(client, teammate)
    page = client.get(reverse("slos:policy", args=[slo.pk])).content.decode()
    assert "Error budget remaining now: 50.0%." in page
    table = page[page.index('id="policy-steps"') :]
    # The mark, not the words: the freeze checkbox's tooltip speaks of "in effect" too.
    mark = ">in effect</strong>"
    assert table.index("Slow down.") < table.index(mark) < table.index("Freeze.")
    assert table.count(mark) == 1


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((("101", "Too high"),), "from -1000% to 100%"),
        ((("-1001", "Too low"),), "from -1000% to 100%"),
        ((("abc", "Not a number"),), "Enter a number"),
        ((("25.123", "Too precise"),), "no more than 2 decimal places"),
        ((("25", ""),), "Say what the team does at this level"),
        ((("25", "   "),), "Say what the team does at this level"),
        ((("", "No level"),), "Give the level"),
        ((("25", "Slow down"), ("25.00", "Freeze")), "The level 25% appears twice"),
    ],
)
def test_bad_policies_are_refused_and_the_old_one_stays(client, teammate, slo, steps, message):
    services.policy_steps_replace(
        slo=slo, steps=[services.PolicyStep(below_percent=Decimal("10"), action="Old step.")]
    )
    client_for(client, teammate)
    response = client.post(reverse("slos:policy", args=[slo.pk]), policy_data(*steps))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(BudgetPolicyStep.objects.values_list("below_percent", "action")) == [
        (Decimal("10"), "Old step.")
    ]


def test_a_tampered_policy_form_is_refused(client, teammate, slo):
    client_for(client, teammate)
    response = client.post(reverse("slos:policy", args=[slo.pk]), {"steps-0-action": "x"})
    assert response.status_code == 400
    assert not BudgetPolicyStep.objects.exists()


def test_the_policy_service_refuses_duplicate_levels(slo):
    with pytest.raises(ValidationError, match="only once"):
        services.policy_steps_replace(
            slo=slo,
            steps=[
                services.PolicyStep(below_percent=Decimal("25"), action="a"),
                services.PolicyStep(below_percent=Decimal("25.0"), action="b"),
            ],
        )
    assert not BudgetPolicyStep.objects.exists()


# Annotations ---------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("scope", "on_slo", "on_service"),
    [("slo", True, False), ("service", False, True), ("team", False, False)],
)
def test_a_member_annotates_in_the_teams_time_zone(
    client, teammate, team, slo, scope, on_slo, on_service
):
    client_for(client, teammate)
    url = reverse("slos:annotation_create", args=[slo.pk])
    page = client.get(url).content.decode()
    assert 'value="2026-11-03T05:00"' in page  # now, in Tokyo
    response = client.post(url, annotation_data(scope=scope))
    assert response.status_code == 302
    annotation = Annotation.objects.get()
    # 09:00 in Tokyo is midnight UTC.
    assert (annotation.starts_at, annotation.ends_at) == (
        utc(2026, 11, 2, 0),
        utc(2026, 11, 2, 0, 30),
    )
    assert annotation.team == team
    assert (annotation.slo == slo, annotation.service == slo.service) == (on_slo, on_service)
    assert (annotation.kind, annotation.text, annotation.created_by) == (
        "deploy",
        "Release 4.2",
        teammate,
    )
    assert not annotation.excluded
    page = client.get(url).content.decode()
    assert "2 Nov 2026 09:00–09:30 JST" in page  # shown in Tokyo time


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"ends_at": "2026-11-02T08:00"}, "The end must be after the start."),
        ({"ends_at": "2026-11-02T09:00"}, "The end must be after the start."),
        ({"excluded": "on"}, "Only maintenance can be excluded from the error budget"),
        ({"kind": "incident", "excluded": "on"}, "Only maintenance can be excluded"),
        ({"starts_at": "yesterday"}, "Enter the start as a date and time"),
        ({"ends_at": None}, "Give the end"),
        ({"text": "  "}, "Say what happened"),
        ({"text": "x" * 301}, "at most 300 characters"),
        ({"kind": "party"}, "Select a valid choice"),
        ({"scope": "everywhere"}, "Select a valid choice"),
    ],
)
def test_bad_annotations_are_refused_with_a_message(client, teammate, slo, override, message):
    client_for(client, teammate)
    response = client.post(
        reverse("slos:annotation_create", args=[slo.pk]), annotation_data(**override)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Annotation.objects.exists()


def test_the_annotation_service_refuses_what_the_form_refuses(team, slo, teammate):
    with pytest.raises(ValidationError) as refused:
        services.annotation_create(
            team=team,
            slo=slo,
            kind="deploy",
            starts_at=utc(2026, 11, 2, 1),
            ends_at=utc(2026, 11, 2, 0),
            text="Backwards",
            excluded=True,
            created_by=teammate,
        )
    assert set(refused.value.message_dict) == {"ends_at", "excluded"}
    assert not Annotation.objects.exists()


def test_a_member_deletes_an_annotation(client, teammate, slo, annotation):
    client_for(client, teammate)
    url = reverse("slos:annotation_delete", args=[annotation.pk])
    assert client.get(url).status_code == 405
    back_to = reverse("slos:annotation_create", args=[slo.pk])
    response = client.post(url, {"next": back_to, "confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == back_to
    assert not Annotation.objects.exists()


def test_deleting_never_redirects_off_site(client, owner, team, annotation):
    team_note = services.annotation_create(
        team=team,
        kind="note",
        starts_at=utc(2026, 11, 1),
        ends_at=utc(2026, 11, 2),
        text="Team offsite",
        created_by=owner,
    )
    client_for(client, owner)
    response = client.post(
        reverse("slos:annotation_delete", args=[annotation.pk]),
        {"next": "https://evil.example/", "confirm": "yes"},
    )
    assert response["Location"] == reverse("slos:detail", args=[annotation.slo_id])
    response = client.post(
        reverse("slos:annotation_delete", args=[team_note.pk]), {"confirm": "yes"}
    )
    assert response["Location"] == reverse("slos:due", args=[team.slug]) + "#annotations"


@time_machine.travel(utc(2026, 11, 2, 9, 30), tick=False)
def test_only_an_excluded_maintenance_changes_the_budget(client, teammate, team, slo):
    end = utc(2026, 11, 2, 9)
    bad_hours = {utc(2026, 11, 1, 23), utc(2026, 11, 2, 0)}
    HourlyBucket.objects.bulk_create(
        [
            HourlyBucket(
                slo=slo,
                hour=hour,
                good=9_750 if hour in bad_hours else 10_000,
                valid=10_000,
            )
            for hour in (end - timedelta(hours=n) for n in range(1, 101))
        ]
    )
    # 1,000,000 valid events, 500 bad at 99.9%: half the budget left.
    before = slo_with_budget(slo.pk, at=utc(2026, 11, 2, 9, 30)).budget
    assert before.error_budget_remaining == pytest.approx(0.5)

    client_for(client, teammate)
    url = reverse("slos:annotation_create", args=[slo.pk])
    # The bad hours, 08:00 to 10:00 in Tokyo, as an incident and as maintenance.
    hours = {"starts_at": "2026-11-02T08:00", "ends_at": "2026-11-02T10:00"}
    for kind in ["incident", "maintenance"]:
        response = client.post(url, annotation_data(kind=kind, scope="team", **hours))
        assert response.status_code == 302
    unchanged = slo_with_budget(slo.pk, at=utc(2026, 11, 2, 9, 30)).budget
    assert unchanged.error_budget_remaining == pytest.approx(0.5)
    assert unchanged.excluded_hours == 0

    response = client.post(
        url, annotation_data(kind="maintenance", scope="service", excluded="on", **hours)
    )
    assert response.status_code == 302
    after = slo_with_budget(slo.pk, at=utc(2026, 11, 2, 9, 30)).budget
    assert after.excluded_hours == 2
    assert after.bad_events == 0
    assert after.error_budget_remaining == pytest.approx(1.0)
