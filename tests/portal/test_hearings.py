"""Team hearings: members record who was heard, the pains and the features that matter;
each feature is an SLI candidate that becomes a provisional SLO through the new-SLO form,
opened pre-filled; the SLO remembers its candidate, which then leaves the charter's list
of features not yet measured."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from portal.charter.selectors import candidates_unmeasured
from portal.charter.services import FeatureHeard, hearing_record
from portal.models import CharterChange, CharterChangeKind, Hearing, SLICandidate
from slos.models import SLO
from tests.conftest import client_for, utc
from tests.factories import DataSourceFactory, ServiceFactory

NOW = utc(2026, 11, 2, 9, 30)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$window]))'
VALID = "sum(increase(http_requests_total[$window]))"


def hearing_post(**overrides) -> dict:
    data = {
        "held_on": "2026-10-20",
        "heard": "Payroll PM, two support leads",
        "pains": "Support hears about failed clock-ins before we do.",
        "features-TOTAL_FORMS": "3",
        "features-INITIAL_FORMS": "0",
        "features-MIN_NUM_FORMS": "0",
        "features-MAX_NUM_FORMS": "30",
        "features-0-feature": "Clocking in",
        "features-0-working_means": "a tap is accepted the first time, within half a second",
        "features-0-service_name": "Clock-in API",
        "features-1-feature": "Payroll export",
        "features-1-working_means": "the bank file is ready by the 25th",
        "features-1-service_name": "",
        "features-2-feature": "",
        "features-2-working_means": "",
        "features-2-service_name": "",
    }
    return data | overrides


def slo_post(service, data_source, **overrides) -> dict:
    data = {
        "service": service.pk,
        "data_source": data_source.pk,
        "name": "Clocking in",
        "why": "From the hearing.",
        "sli_kind": "ratio",
        "ratio_of": "good",
        "good_query": GOOD,
        "valid_query": VALID,
        "target": "99.5",
        "budgeting_method": "occurrences",
        "timeslice_minutes": "5",
        "window_kind": "rolling",
        "window_days": "28",
        "calendar_period": "month",
        "provisional": "on",
        "review_interval_days": "90",
    }
    return data | overrides


def record(team, by=None, features=None) -> Hearing:
    return hearing_record(
        team=team,
        by=by,
        at=NOW,
        held_on=date(2026, 10, 20),
        heard="Payroll PM",
        pains="Closing day is a week of fear.",
        features=features
        or [
            FeatureHeard("Clocking in", "a tap is accepted within half a second", "clock-in api"),
            FeatureHeard("Payroll export", "the bank file is ready by the 25th"),
        ],
    )


@time_machine.travel(NOW, tick=False)
def test_a_member_records_a_hearing_with_its_features(client, team, teammate):
    client_for(client, teammate)
    form = client.get(reverse("charter:hearing_create", args=[team.slug]))
    assert form.status_code == 200
    response = client.post(reverse("charter:hearing_create", args=[team.slug]), hearing_post())
    hearing = Hearing.objects.get(team=team)
    assert response.status_code == 302
    assert response["Location"] == reverse("charter:hearing", args=[team.slug, hearing.pk])
    assert (hearing.held_on, hearing.heard, hearing.recorded_by) == (
        date(2026, 10, 20),
        "Payroll PM, two support leads",
        teammate,
    )
    assert list(hearing.candidates.values_list("feature", "service_name")) == [
        ("Clocking in", "Clock-in API"),
        ("Payroll export", ""),
    ]  # the empty third row is left out
    page = client.get(response["Location"]).content.decode()
    assert "Support hears about failed clock-ins before we do." in page
    assert "the bank file is ready by the 25th" in page
    assert page.count("Make it a provisional SLO") == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"features-1-working_means": ""}, "Say what “working” means for this feature"),
        ({"features-2-service_name": "Admin console"}, "Name the feature."),
        ({"held_on": "20/10/2026"}, "Enter a valid date."),
        ({"heard": ""}, "This field is required."),
        ({"features-TOTAL_FORMS": "31"}, "Please submit at most 30 forms."),
    ],
)
def test_a_bad_hearing_is_refused_and_nothing_is_stored(client, team, teammate, overrides, message):
    response = client_for(client, teammate).post(
        reverse("charter:hearing_create", args=[team.slug]), hearing_post(**overrides)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Hearing.objects.exists()
    assert not SLICandidate.objects.exists()


def test_viewers_read_hearings_but_do_not_record_and_outsiders_get_404(
    client, team, owner, viewer, outsider
):
    hearing = record(team, by=owner)
    create = reverse("charter:hearing_create", args=[team.slug])
    detail = reverse("charter:hearing", args=[team.slug, hearing.pk])
    add = reverse("charter:candidate_add", args=[team.slug, hearing.pk])
    feature = {"feature": "Reports", "working_means": "they open", "service_name": ""}

    client_for(client, viewer)
    page = client.get(detail)
    assert page.status_code == 200
    assert "Make it a provisional SLO" not in page.content.decode()
    assert client.get(create).status_code == 403
    assert client.post(create, hearing_post()).status_code == 403
    assert client.post(add, feature).status_code == 403

    client_for(client, outsider)
    assert client.get(detail).status_code == 404
    assert client.post(add, feature).status_code == 404
    assert client.get(reverse("charter:hearing", args=["other", hearing.pk])).status_code == 404
    assert Hearing.objects.count() == 1
    assert hearing.candidates.count() == 2


def test_a_member_adds_a_feature_to_a_hearing_and_a_bad_one_is_refused(
    client, team, owner, teammate
):
    hearing = record(team, by=owner)
    client_for(client, teammate)
    add = reverse("charter:candidate_add", args=[team.slug, hearing.pk])
    refused = client.post(add, {"feature": "Reports", "working_means": "  "})
    assert refused.status_code == 400
    assert "Say what “working” means" in refused.content.decode()
    assert hearing.candidates.count() == 2
    added = client.post(add, {"feature": "Reports", "working_means": "they open in 3 s"})
    assert added.status_code == 302
    assert list(hearing.candidates.values_list("feature", flat=True)) == [
        "Clocking in",
        "Payroll export",
        "Reports",
    ]


def test_a_candidate_opens_the_new_slo_form_pre_filled(client, team, owner, teammate):
    service = ServiceFactory(team=team, name="Clock-in API")
    ServiceFactory(team=team, name="Payroll export")
    hearing = record(team, by=owner)
    clocking_in = hearing.candidates.get(feature="Clocking in")
    client_for(client, teammate)

    charter = client.get(reverse("charter:detail", args=[team.slug])).content.decode()
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={clocking_in.pk}"
    assert f'href="{url}"' in charter

    form = client.get(url).context["form"]
    assert form.initial["name"] == "Clocking in"
    assert form.initial["service"] == service.pk  # "clock-in api" heard, any case
    assert form.initial["provisional"] is True
    assert "2026-10-20" in form.initial["why"] and "Payroll PM" in form.initial["why"]
    assert "a tap is accepted within half a second" in form.initial["why"]
    page = client.get(url).content.decode()
    assert "New SLO for “Clocking in”" in page
    assert 'value="Clocking in"' in page

    export = hearing.candidates.get(feature="Payroll export")
    assert (
        "service"
        not in client.get(reverse("slos:create", args=[team.slug]) + f"?candidate={export.pk}")
        .context["form"]
        .initial
    )  # no service of that name heard: left to choose


def test_the_slo_made_from_a_candidate_remembers_it_and_leaves_the_unmeasured_list(
    client, team, owner, teammate
):
    service = ServiceFactory(team=team, name="Clock-in API")
    source = DataSourceFactory(team=team, kind="push", url="")
    hearing = record(team, by=owner)
    clocking_in, export = hearing.candidates.all()
    assert list(candidates_unmeasured(team)) == [clocking_in, export]

    client_for(client, teammate)
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={clocking_in.pk}"
    why = client.get(url).context["form"].initial["why"]
    response = client.post(url, slo_post(service, source, why=why))
    slo = SLO.objects.get(name="Clocking in")
    assert response.status_code == 302
    assert response["Location"] == reverse("slos:detail", args=[slo.pk])
    assert slo.candidate == clocking_in
    assert slo.provisional is True
    assert "a tap is accepted within half a second" in slo.why

    assert list(candidates_unmeasured(team)) == [export]
    charter = client.get(reverse("charter:detail", args=[team.slug])).content.decode()
    unmeasured = charter[charter.index('id="unmeasured"') : charter.index('id="hearings"')]
    assert "Payroll export" in unmeasured and "Clocking in" not in unmeasured
    hearing_page = client.get(reverse("charter:hearing", args=[team.slug, hearing.pk]))
    assert reverse("slos:detail", args=[slo.pk]) in hearing_page.content.decode()

    # A retired SLO measures nothing: the feature is listed again.
    SLO.objects.filter(pk=slo.pk).update(retired_at=NOW)
    assert list(candidates_unmeasured(team)) == [clocking_in, export]


def test_a_plain_new_slo_has_no_candidate(client, team, teammate):
    service = ServiceFactory(team=team, name="Clock-in API")
    source = DataSourceFactory(team=team, kind="push", url="")
    client_for(client, teammate).post(
        reverse("slos:create", args=[team.slug]), slo_post(service, source)
    )
    assert SLO.objects.get(name="Clocking in").candidate is None


def test_a_bad_slo_post_from_a_candidate_changes_nothing(client, team, owner, teammate):
    service = ServiceFactory(team=team, name="Clock-in API")
    source = DataSourceFactory(team=team, kind="push", url="")
    candidate = record(team, by=owner).candidates.first()
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={candidate.pk}"
    response = client_for(client, teammate).post(url, slo_post(service, source, target="100"))
    assert response.status_code == 400
    assert not SLO.objects.exists()
    assert candidate in candidates_unmeasured(team)


@pytest.mark.parametrize("raw", ["abc", "-1", "999999", "1.5"])
def test_a_bad_candidate_in_the_url_is_404(client, team, teammate, raw):
    response = client_for(client, teammate).get(
        reverse("slos:create", args=[team.slug]) + f"?candidate={raw}"
    )
    assert response.status_code == 404


def test_another_teams_candidate_cannot_be_used(client, team, other_team, teammate, owner):
    service = ServiceFactory(team=team, name="Clock-in API")
    source = DataSourceFactory(team=team, kind="push", url="")
    theirs = record(other_team).candidates.first()
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={theirs.pk}"
    client_for(client, teammate)
    assert client.get(url).status_code == 404
    assert client.post(url, slo_post(service, source)).status_code == 404
    assert not SLO.objects.exists()


def test_a_viewer_cannot_turn_a_candidate_into_an_slo(client, team, owner, viewer):
    candidate = record(team, by=owner).candidates.first()
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={candidate.pk}"
    assert client_for(client, viewer).get(url).status_code == 403


@pytest.mark.parametrize("count", [1, 12])
def test_the_hearing_page_reads_a_fixed_number_of_queries(
    client, team, owner, count, django_assert_num_queries
):
    service = ServiceFactory(team=team, name="Clock-in API")
    features = [FeatureHeard(f"Feature {i}", "works") for i in range(count)]
    hearing = record(team, by=owner, features=features)
    for candidate in hearing.candidates.all():
        SLO.objects.create(
            service=service, name=candidate.feature, target="99.9", candidate=candidate
        )
    client_for(client, owner)
    # session, user, team, membership, hearing; candidates, their SLOs, service names
    with django_assert_num_queries(8):
        response = client.get(reverse("charter:hearing", args=[team.slug, hearing.pk]))
    assert response.content.decode().count('class="candidate-row"') == count


# Editing and deleting a hearing ------------------------------------------------------


def edit_post(hearing, rows=None, extra=None, **overrides) -> dict:
    """The edit page's post: the recorded features as they are (or `rows`, each a dict of
    a row's fields) then `extra` new rows."""
    if rows is None:
        rows = [
            {
                "candidate": str(c.pk),
                "feature": c.feature,
                "working_means": c.working_means,
                "service_name": c.service_name,
            }
            for c in hearing.candidates.all()
        ]
    rows = rows + (extra or [])
    data = {
        "held_on": hearing.held_on.isoformat(),
        "heard": hearing.heard,
        "pains": hearing.pains,
        "features-TOTAL_FORMS": str(len(rows)),
        "features-INITIAL_FORMS": str(hearing.candidates.count()),
        "features-MIN_NUM_FORMS": "0",
        "features-MAX_NUM_FORMS": "30",
    }
    for i, row in enumerate(rows):
        data |= {f"features-{i}-{name}": value for name, value in row.items()}
    return data | overrides


def measure(candidate) -> SLO:
    service = ServiceFactory(team=candidate.hearing.team, name=f"svc {candidate.pk}")
    return SLO.objects.create(
        service=service,
        name=candidate.feature,
        target="99.9",
        candidate=candidate,
        why="Team hearing: clocking in is working when a tap is accepted.",
    )


def history(team):
    return list(
        CharterChange.objects.filter(team=team).values_list("kind", "subject", "before", "after")
    )


@time_machine.travel(NOW, tick=False)
def test_a_member_edits_a_hearing_and_its_features_and_the_history_says_so(
    client, team, owner, teammate
):
    hearing = record(team, by=owner)
    clocking_in, export = hearing.candidates.all()
    client_for(client, teammate)
    url = reverse("charter:hearing_edit", args=[team.slug, hearing.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="Clocking in"' in page.content.decode()

    data = edit_post(
        hearing,
        rows=[
            {
                "candidate": str(clocking_in.pk),
                "feature": "Clocking in",
                "working_means": "a tap is accepted within a second",
                "service_name": "clock-in api",
            },
            {
                "candidate": str(export.pk),
                "feature": "Payroll export",
                "working_means": "x",
                "service_name": "",
                "DELETE": "on",
            },
        ],
        extra=[
            {
                "candidate": "",
                "feature": "Reports",
                "working_means": "they open",
                "service_name": "",
            },
            {"candidate": "", "feature": "", "working_means": "", "service_name": ""},
        ],
        heard="Payroll PM, two support leads",
        held_on="2026-10-21",
    )
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("charter:hearing", args=[team.slug, hearing.pk])
    hearing.refresh_from_db()
    assert (hearing.held_on, hearing.heard) == (date(2026, 10, 21), "Payroll PM, two support leads")
    assert list(hearing.candidates.values_list("feature", "working_means")) == [
        ("Clocking in", "a tap is accepted within a second"),
        ("Reports", "they open"),
    ]
    assert SLICandidate.objects.filter(pk=clocking_in.pk).exists()  # edited in place
    [(kind, subject, before, after)] = history(team)
    assert kind == CharterChangeKind.HEARING_CHANGED
    assert subject == "2026-10-20 · Payroll PM"
    assert "Payroll PM" in before and "Payroll PM, two support leads" in after
    assert "− Payroll export: the bank file is ready by the 25th" in before
    assert "Clocking in: a tap is accepted within a second" in after
    assert "+ Reports: they open" in after
    charter = client.get(reverse("charter:detail", args=[team.slug])).content.decode()
    assert "Hearing edited" in charter

    # Saving again as it is changes nothing and writes no history.
    assert client.post(url, edit_post(hearing)).status_code == 302
    assert len(history(team)) == 1


def test_a_feature_that_became_an_slo_cannot_be_removed_but_can_be_reworded(
    client, team, owner, teammate
):
    hearing = record(team, by=owner)
    clocking_in, export = hearing.candidates.all()
    slo = measure(clocking_in)
    client_for(client, teammate)
    url = reverse("charter:hearing_edit", args=[team.slug, hearing.pk])
    page = client.get(url).content.decode()
    assert page.count("This feature became an SLO, so it stays with the hearing") == 1
    assert page.count("Remove this feature") == 1  # only the export offers it

    data = edit_post(hearing) | {"features-0-DELETE": "on", "features-1-DELETE": "on"}
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "“Clocking in” became an SLO, so it stays with the hearing." in refused.content.decode()
    assert hearing.candidates.count() == 2  # the export was not removed either
    assert not history(team)

    reworded = edit_post(hearing) | {"features-0-feature": "Clock-in"}
    assert client.post(url, reworded).status_code == 302
    slo.refresh_from_db()
    assert slo.candidate == clocking_in
    assert SLICandidate.objects.get(pk=clocking_in.pk).feature == "Clock-in"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"heard": ""}, "This field is required."),
        ({"held_on": "21/10/2026"}, "Enter a valid date."),
        ({"features-0-feature": ""}, "Name the feature."),
        ({"features-1-working_means": " "}, "Say what “working” means for this feature"),
        ({"features-0-candidate": "abc"}, "A feature listed is not one of this hearing"),
        ({"features-1-candidate": "FIRST"}, "A feature is listed twice."),
        ({"features-0-candidate": "OTHER"}, "A feature listed is not one of this hearing"),
        ({"features-TOTAL_FORMS": "31"}, "Please submit at most 30 forms."),
    ],
)
def test_a_bad_edit_is_refused_and_nothing_changes(
    client, team, other_team, owner, teammate, change, message
):
    hearing = record(team, by=owner)
    theirs = record(other_team).candidates.first()
    first = hearing.candidates.first()
    values = {"FIRST": str(first.pk), "OTHER": str(theirs.pk)}
    change = {key: values.get(value, value) for key, value in change.items()}
    data = edit_post(hearing, heard="Someone else") | change
    response = client_for(client, teammate).post(
        reverse("charter:hearing_edit", args=[team.slug, hearing.pk]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    hearing.refresh_from_db()
    assert hearing.heard == "Payroll PM"
    assert list(hearing.candidates.values_list("feature", flat=True)) == [
        "Clocking in",
        "Payroll export",
    ]
    assert SLICandidate.objects.filter(pk=theirs.pk).exists()
    assert not history(team)


def test_deleting_a_hearing_asks_first_and_keeps_its_slos(client, team, owner, teammate):
    hearing = record(team, by=owner)
    clocking_in = hearing.candidates.first()
    slo = measure(clocking_in)
    client_for(client, teammate)
    url = reverse("charter:hearing_delete", args=[team.slug, hearing.pk])
    page = client.get(reverse("charter:hearing", args=[team.slug, hearing.pk])).content.decode()
    assert f'action="{url}"' in page and 'hx-vals=\'{"confirm": "yes"}\'' in page

    asked = client.post(url)  # no JavaScript: the page that asks
    assert asked.status_code == 200
    text = asked.content.decode()
    assert "Delete the hearing of" in text and "Payroll PM" in text
    assert "1 feature became an SLO: the SLO stays" in text
    assert 'name="confirm" value="yes"' in text
    assert Hearing.objects.filter(pk=hearing.pk).exists()
    assert not history(team)

    deleted = client.post(url, {"confirm": "yes"})
    assert deleted.status_code == 302
    assert deleted["Location"] == reverse("charter:detail", args=[team.slug]) + "#hearings"
    assert not Hearing.objects.filter(pk=hearing.pk).exists()
    assert not SLICandidate.objects.filter(hearing_id=hearing.pk).exists()
    slo.refresh_from_db()  # the SLO stays, with its own words on why it matters
    assert slo.candidate is None
    assert "a tap is accepted" in slo.why
    [(kind, subject, before, after)] = history(team)
    assert (kind, subject, after) == (
        CharterChangeKind.HEARING_DELETED,
        "2026-10-20 · Payroll PM",
        "",
    )
    assert "Clocking in: a tap is accepted within half a second" in before
    charter = client.get(reverse("charter:detail", args=[team.slug])).content.decode()
    assert "Hearing deleted" in charter


def test_deleting_through_htmx_goes_back_to_the_charter(client, team, owner):
    hearing = record(team, by=owner)
    response = client_for(client, owner).post(
        reverse("charter:hearing_delete", args=[team.slug, hearing.pk]),
        {"confirm": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("charter:detail", args=[team.slug]) + "#hearings"
    assert not Hearing.objects.exists()


def test_viewers_cannot_edit_or_delete_hearings_and_outsiders_get_404(
    client, team, owner, viewer, outsider, other_team
):
    hearing = record(team, by=owner)
    edit = reverse("charter:hearing_edit", args=[team.slug, hearing.pk])
    delete = reverse("charter:hearing_delete", args=[team.slug, hearing.pk])
    data = edit_post(hearing, heard="Changed")

    client_for(client, viewer)
    page = client.get(reverse("charter:hearing", args=[team.slug, hearing.pk])).content.decode()
    assert "Edit the hearing" not in page and "Delete the hearing" not in page
    assert client.get(edit).status_code == 403
    assert client.post(edit, data).status_code == 403
    assert client.post(delete, {"confirm": "yes"}).status_code == 403

    client_for(client, outsider)
    assert client.get(edit).status_code == 404
    assert client.post(edit, data).status_code == 404
    assert client.post(delete, {"confirm": "yes"}).status_code == 404

    theirs = record(other_team)  # another team's hearing under this team's address
    client_for(client, owner)
    other = reverse("charter:hearing_delete", args=[team.slug, theirs.pk])
    assert client.post(other, {"confirm": "yes"}).status_code == 404
    assert (
        client.get(reverse("charter:hearing_edit", args=[team.slug, theirs.pk])).status_code == 404
    )
    assert client.get(delete).status_code == 405

    hearing.refresh_from_db()
    assert hearing.heard == "Payroll PM"
    assert Hearing.objects.count() == 2
    assert not CharterChange.objects.exists()


@pytest.mark.parametrize("count", [1, 12])
def test_the_edit_page_reads_a_fixed_number_of_queries(
    client, team, owner, count, django_assert_num_queries
):
    features = [FeatureHeard(f"Feature {i}", "works") for i in range(count)]
    hearing = record(team, by=owner, features=features)
    for candidate in hearing.candidates.all()[:1]:
        measure(candidate)
    client_for(client, owner)
    # session, user, team, membership, hearing; candidates, their SLOs, service names
    with django_assert_num_queries(8):
        response = client.get(reverse("charter:hearing_edit", args=[team.slug, hearing.pk]))
    assert response.content.decode().count('class="form-group hearing-feature"') == count + 2


def test_a_long_why_gets_a_tall_enough_box(client, team, owner, teammate):
    hearing = record(
        team,
        by=owner,
        features=[FeatureHeard("Clocking in", "a tap is accepted within half a second " * 12)],
    )
    url = reverse("slos:create", args=[team.slug]) + f"?candidate={hearing.candidates.get().pk}"
    form = client_for(client, teammate).get(url).context["form"]
    assert int(form.fields["why"].widget.attrs["rows"]) >= 6
    plain = client.get(reverse("slos:create", args=[team.slug])).context["form"]
    assert plain.fields["why"].widget.attrs["rows"] == 2
