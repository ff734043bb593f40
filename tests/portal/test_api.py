"""The JSON API: hand-checked budgets, ?at, bearer tokens, team scoping, query counts and
the OpenAPI schema."""

from __future__ import annotations

import pytest
import time_machine

from portal.api_tokens import api_token_create, api_token_revoke
from portal.models import Role
from slos.models import SLO, CalendarPeriod, HourlyBucket, WindowKind
from slos.registry.budget_sums import kept_sums_forget
from tests.conftest import NOTHING_KEPT, client_for, utc
from tests.factories import HandFedSLOFactory, MembershipFactory, ServiceFactory

NOW = utc(2026, 11, 2, 9, 30)
LIST = "/api/v1/slos"
WINDOW_SECONDS = 28 * 86400


def detail(slo: SLO) -> str:
    return f"/api/v1/slos/{slo.pk}"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def token_for(user) -> str:
    return api_token_create(user=user, name="script").raw


def add_hand_checked_buckets(slo: SLO) -> None:
    """Hours around the 28-day window that ends at 2026-11-02 09:00 UTC (NOW's hour).

    In the window: 998/1000 in the last day, 3000/3000 three days back, 5996/6000 three
    weeks back. Outside it: an all-bad hour before the window and one in the hour still
    under way. So, for the 99.9% target (budget 0.001):
      window  9994 / 10000 → SLI 0.9994, burn 0.6, remaining 0.4, 4 bad events left,
              minutes left 28 × 1440 × 0.0004 = 16.128, coverage 3 / 672
      1 day   998 / 1000   → burn 2.0
      7 days  3998 / 4000  → burn 0.5
      exhaustion at the 1-day burn: 0.4 × 28 days / 2 = 5.6 days"""
    HourlyBucket.objects.bulk_create(
        [
            HourlyBucket(slo=slo, hour=utc(2026, 11, 2, 8), good=998, valid=1000),
            HourlyBucket(slo=slo, hour=utc(2026, 10, 30, 9), good=3000, valid=3000),
            HourlyBucket(slo=slo, hour=utc(2026, 10, 10, 0), good=5996, valid=6000),
            HourlyBucket(slo=slo, hour=utc(2026, 10, 1, 0), good=0, valid=1000),
            HourlyBucket(slo=slo, hour=utc(2026, 11, 2, 9), good=0, valid=1000),
        ]
    )


@pytest.fixture
def api(client, owner):
    """A client carrying the owner's token."""

    class Api:
        raw = token_for(owner)

        def get(self, url: str, **params):
            return client.get(url, params, headers=bearer(self.raw))

    return Api()


def test_an_slo_comes_with_its_hand_checked_budget(api, slo):
    add_hand_checked_buckets(slo)

    response = api.get(LIST, at="2026-11-02T09:30Z")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    [item] = response.json()
    assert item == {
        "id": slo.pk,
        "name": "Clock-in availability",
        "service": "Clock-in API",
        "team": "kintai",
        "target": 99.9,
        "window": "28d rolling",
        "window_kind": "rolling",
        "window_days": 28,
        "window_period": None,
        "window_start": "2026-10-05T09:00:00Z",
        "window_end": "2026-11-02T09:00:00Z",
        "good": 9994.0,
        "valid": 10000.0,
        "sli": pytest.approx(0.9994),
        "error_budget_remaining": pytest.approx(0.4),
        "bad_events_left": pytest.approx(4.0),
        "burn_rate": pytest.approx(0.6),
        "burn_rate_1d": pytest.approx(2.0),
        "burn_rate_7d": pytest.approx(0.5),
        "coverage": pytest.approx(3 / 672),
        "status": "healthy",
        "minutes_left": pytest.approx(16.128),
        "time_to_exhaustion_seconds": pytest.approx(5.6 * 86400),
        "data_error": False,
    }


def test_detail_is_the_same_object_as_in_the_list(api, slo):
    add_hand_checked_buckets(slo)

    [listed] = api.get(LIST, at="2026-11-02T09:30Z").json()
    response = api.get(detail(slo), at="2026-11-02T09:30Z")

    assert response.status_code == 200
    assert response.json() == listed


def test_at_moves_the_window(api, slo):
    """Ending at 2026-10-15 00:00 the window holds the all-bad hour of 1 October and the
    5996/6000 hour, and none of the later ones: 5996 / 7000, far past the budget."""
    add_hand_checked_buckets(slo)

    item = api.get(detail(slo), at="2026-10-15T00:59:59Z").json()

    assert item["window_start"] == "2026-09-17T00:00:00Z"
    assert item["window_end"] == "2026-10-15T00:00:00Z"
    assert (item["good"], item["valid"]) == (5996.0, 7000.0)
    assert item["burn_rate"] == pytest.approx(1004 / 7000 / 0.001)
    assert item["error_budget_remaining"] == pytest.approx(1 - 1004 / 7000 / 0.001)
    assert item["status"] == "exhausted"
    assert item["time_to_exhaustion_seconds"] is None
    assert item["burn_rate_1d"] is None  # no data in the day before


def test_without_at_the_window_ends_at_the_last_complete_hour(api, slo):
    add_hand_checked_buckets(slo)

    with time_machine.travel(NOW, tick=False):
        item = api.get(detail(slo)).json()

    assert item == api.get(detail(slo), at="2026-11-02T09:00Z").json()


@pytest.mark.parametrize(
    "at",
    ["2026-11-02T18:30+09:00", "2026-11-02T18:30 09:00", "2026-11-02T04:00-05:30"],
    ids=["offset", "unencoded-plus", "half-hour-offset"],
)
def test_an_at_with_any_offset_means_the_same_instant(api, slo, at):
    add_hand_checked_buckets(slo)

    item = api.get(detail(slo), at=at).json()

    assert item["window_end"] == "2026-11-02T09:00:00Z"
    assert item["sli"] == pytest.approx(0.9994)


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "is not an ISO 8601 time"),
        ("2026-11-02T09:30", "has no time zone"),
        ("2026-11-02", "has no time zone"),
        ("0001-01-01T00:00Z", "outside the years"),
    ],
)
def test_a_bad_at_is_refused_with_a_message(api, slo, at, message):
    for url in [LIST, detail(slo)]:
        response = api.get(url, at=at)

        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["query", "at"]
        assert message in error["msg"]


def test_an_slo_without_data_has_nulls_not_zeros(api, slo):
    item = api.get(detail(slo), at="2026-11-02T09:30Z").json()

    assert item["status"] == "no_data"
    assert item["coverage"] == 0
    for field in ["sli", "error_budget_remaining", "burn_rate", "minutes_left"]:
        assert item[field] is None, field


def test_a_calendar_window_is_labelled_and_structured(api, service):
    slo = HandFedSLOFactory(
        service=service, name="Monthly payroll", window_kind=WindowKind.CALENDAR
    )
    slo.calendar_period = CalendarPeriod.QUARTER
    slo.save()

    item = api.get(detail(slo), at="2026-11-02T09:30Z").json()

    assert item["window"] == "quarter calendar"
    assert (item["window_kind"], item["window_days"], item["window_period"]) == (
        "calendar",
        None,
        "quarter",
    )
    # The quarter began on 1 October in Tokyo, which is 30 September 15:00 UTC.
    assert item["window_start"] == "2026-09-30T15:00:00Z"


# Authentication


def test_without_a_token_the_answer_is_a_401_in_json(client, slo):
    for url in [LIST, detail(slo)]:
        response = client.get(url)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
        assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer rpt_not-a-real-token", "Bearer ", "Token abc", "Basic b3duZXI6cGFzcw=="],
)
def test_a_wrong_token_is_a_401(client, owner, slo, header):
    token_for(owner)

    response = client.get(LIST, headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_token_is_a_401_that_says_so(client, owner, slo):
    created = api_token_create(user=owner, name="old script")
    assert client.get(LIST, headers=bearer(created.raw)).status_code == 200

    api_token_revoke(user=owner, token_id=created.token.pk, at=NOW)
    response = client.get(LIST, headers=bearer(created.raw))

    assert response.status_code == 401
    assert response.json() == {"detail": "This API token has been revoked."}
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_token_of_an_inactive_user_is_a_401(client, owner, slo):
    raw = token_for(owner)
    owner.is_active = False
    owner.save()

    assert client.get(LIST, headers=bearer(raw)).status_code == 401


def test_a_bad_token_does_not_fall_back_to_the_session(client, owner, slo):
    client_for(client, owner)
    assert client.get(LIST).status_code == 200

    assert client.get(LIST, headers=bearer("rpt_wrong")).status_code == 401


def test_using_a_token_records_when(client, owner, slo):
    created = api_token_create(user=owner, name="script")
    assert created.token.last_used_at is None

    with time_machine.travel(NOW, tick=False):
        client.get(LIST, headers=bearer(created.raw))

    created.token.refresh_from_db()
    assert created.token.last_used_at == NOW


def test_a_viewer_reads_the_team_slos(client, viewer, slo):
    response = client.get(LIST, headers=bearer(token_for(viewer)))

    assert [item["id"] for item in response.json()] == [slo.pk]


# Scoping


def test_an_outsider_sees_neither_the_list_nor_the_slo(client, outsider, slo):
    raw = token_for(outsider)

    assert client.get(LIST, headers=bearer(raw)).json() == []
    response = client.get(detail(slo), headers=bearer(raw))
    assert response.status_code == 404
    assert response.json() == {"detail": "No such SLO."}


def test_an_unknown_slo_is_a_404(api):
    assert api.get("/api/v1/slos/999999").status_code == 404


def test_team_filter(api, owner, slo, other_team):
    MembershipFactory(team=other_team, user=owner, role=Role.VIEWER)
    other_slo = HandFedSLOFactory(
        service__team=other_team, service__name="Billing", name="Invoices"
    )

    everything = api.get(LIST).json()
    only_other = api.get(LIST, team="other").json()
    only_kintai = api.get(LIST, team="kintai").json()

    assert {item["id"] for item in everything} == {slo.pk, other_slo.pk}
    assert [item["id"] for item in only_other] == [other_slo.pk]
    assert [item["id"] for item in only_kintai] == [slo.pk]


def test_team_filter_for_a_team_you_are_not_in_is_a_404(api, slo, other_team):
    for team in ["other", "no-such-team", "\x00", "kintai\x00", "no such team"]:
        response = api.get(LIST, team=team)

        assert response.status_code == 404
        assert response.json() == {"detail": "No such team."}


def test_the_list_runs_a_fixed_number_of_queries(api, owner, service, django_assert_num_queries):
    """Token lookup, last-used update, SLOs, exclusions, bucket sums: five, whatever
    the number of SLOs, teams or buckets (and NOTHING_KEPT more, with no budget kept from
    an earlier read)."""
    add_hand_checked_buckets(HandFedSLOFactory(service=service, name="First"))
    kept_sums_forget()
    with django_assert_num_queries(5 + NOTHING_KEPT):
        assert len(api.get(LIST, at="2026-11-02T09:30Z").json()) == 1

    second = MembershipFactory(team__name="Payroll", user=owner, role=Role.MEMBER).team
    payroll = ServiceFactory(team=second, name="Payroll API")
    for index in range(6):
        slo = HandFedSLOFactory(
            service=payroll if index % 2 else service, name=f"SLO {index}", window_days=7 + index
        )
        add_hand_checked_buckets(slo)
    kept_sums_forget()
    with django_assert_num_queries(5 + NOTHING_KEPT):
        assert len(api.get(LIST, at="2026-11-02T09:30Z").json()) == 7


# Schema


def test_the_openapi_schema_is_public_and_lists_the_paths(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= {"/api/v1/slos", "/api/v1/slos/{slo_id}"}
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    parameters = {p["name"] for p in schema["paths"]["/api/v1/slos"]["get"]["parameters"]}
    assert parameters == {"at", "team"}
    fields = schema["components"]["schemas"]["SLOBudgetOut"]["properties"]
    assert {"error_budget_remaining", "burn_rate_1d", "time_to_exhaustion_seconds"} <= set(fields)
