"""The JSON API (django-ninja), mounted at /api/.

    GET /api/v1/slos            every SLO of the caller's teams, with its error budget
    GET /api/v1/slos/{slo_id}   one of them (another team's SLO is a 404)
    GET /api/openapi.json       the OpenAPI schema; /api/docs serves Swagger UI when
                                "ninja" is in INSTALLED_APPS (its files are then local)

Callers authenticate with `Authorization: Bearer <token>` (personal tokens, made on
/account/tokens/) or, from a logged-in browser, with the session. The schema and the
docs are public: they describe the API, not anyone's data.

`?at=` takes an ISO 8601 time *with a zone*; a time without one is refused (422), not
guessed. The window ends at the start of the hour containing `at` (the last complete
hour), exactly as the portal's pages compute it. The body of every SLO is built by
slos.registry.report.slo_budget_report, which `manage.py slo_report --json` prints too."""

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.validators import slug_re
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import WithJsonSchema

from portal.api_tokens import TokenProblem, TokenRefused, api_token_authenticate
from portal.models import Membership
from slos.budget import TARGET_PERCENT_MAX, TARGET_PERCENT_MIN, BudgetStatus
from slos.ingestion.api import router as push_router
from slos.models import SLO, CalendarPeriod, WindowKind
from slos.registry.report import parse_at, slo_budget_report
from slos.registry.selectors import slos_with_budgets


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest):
        # ninja's own parsing logs the whole header under DEBUG; a header may be a secret.
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str):
        check = api_token_authenticate(raw=token, at=timezone.now())
        if check.user is not None:
            return check.user
        if check.problem == TokenProblem.REVOKED:
            raise TokenRefused(message=_("This API token has been revoked."))
        raise TokenRefused(message=_("This API token is not valid."))


api = NinjaAPI(
    title="Reliability Portal API",
    version="1",
    description=(
        "SLOs and their error budgets, as the portal computes them. Ratios are fractions "
        "(0.9995) except `target`, a percentage (99.9). Times are UTC, ISO 8601."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    # Without the app installed, ninja would load Swagger from a CDN; we serve no CDN.
    docs_url="/docs" if "ninja" in settings.INSTALLED_APPS else None,
    auth=[BearerToken(), SessionAuth()],
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if isinstance(exc, TokenRefused):
        message, challenge = exc.message, 'Bearer realm="api", error="invalid_token"'
    else:
        message = _("Authentication required: send the header Authorization: Bearer <token>.")
        challenge = 'Bearer realm="api"'
    response = api.create_response(request, {"detail": message}, status=401)
    response["WWW-Authenticate"] = challenge
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or _("Not found.")}, status=404)


class SLOBudgetOut(Schema):
    id: int
    name: str
    service: str = Field(description="The service's name.")
    team: str = Field(description="The team's slug, as used by ?team=.")
    target: float = Field(
        description="The objective as a percentage, e.g. 99.9.",
        ge=float(TARGET_PERCENT_MIN),
        le=float(TARGET_PERCENT_MAX),
    )
    window: str = Field(description='Human label: "28d rolling", "month calendar".')
    window_kind: WindowKind
    window_days: int | None = Field(description="Length of a rolling window; null if calendar.")
    window_period: CalendarPeriod | None = Field(
        description="The period of a calendar window; null if rolling."
    )
    window_start: datetime = Field(description="First hour counted (UTC).")
    window_end: datetime = Field(
        description="End of the last complete hour counted (UTC), exclusive."
    )
    good: float = Field(description="Good events (or good slices) in the window.")
    valid: float = Field(description="Valid events (or slices) in the window.")
    sli: float | None = Field(description="good / valid as a fraction; null without data.")
    error_budget_remaining: float | None = Field(
        description="Fraction of the budget left; negative once breached; null without data."
    )
    bad_events_left: float = Field(description="Bad events the budget still allows.")
    burn_rate: float | None = Field(description="Burn rate over the whole window.")
    burn_rate_1d: float | None = Field(description="Burn rate over the last 24 hours.")
    burn_rate_7d: float | None = Field(description="Burn rate over the last 7 days.")
    coverage: float = Field(description="Hours with data / hours in the window so far.")
    status: BudgetStatus = Field(
        description="at_risk below the team's threshold; exhausted at or below zero."
    )
    minutes_left: float | None = Field(
        description="Budget left as minutes of full outage over the window."
    )
    time_to_exhaustion_seconds: float | None = Field(
        description="At the current (1d) burn rate; null when nothing burns or is left."
    )
    data_error: bool = Field(description="Some hour had more good than valid events.")


class ErrorOut(Schema):
    detail: str


class InvalidOut(Schema):
    detail: list[dict[str, Any]] = Field(description="One entry per bad parameter: loc, msg.")


AT_HELP = (
    "Evaluate the window ending at this time: ISO 8601 with a zone, e.g. "
    "2026-11-02T09:00Z. Default: now. The window ends at the start of its hour."
)
# Declared as an OpenAPI date-time; read by parse_at, which also takes 2026-11-02T09:00Z.
AtParam = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "format": "date-time"}),
    Query(None, description=AT_HELP, example="2026-11-02T09:00:00Z"),
]


def _at_or_422(value: str | None) -> datetime:
    if value is None:
        return timezone.now()
    try:
        return parse_at(value)
    except ValueError as exc:
        raise ValidationError(
            [{"type": "value_error", "loc": ["query", "at"], "msg": str(exc)}]
        ) from None


router = Router(tags=["SLOs"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 422: InvalidOut}


@router.get(
    "/slos",
    response={200: list[SLOBudgetOut], **ERRORS},
    operation_id="slo_list",
    summary="List SLOs with their error budgets",
)
def slo_list(
    request: HttpRequest,
    at: AtParam = None,
    team: Annotated[
        str | None, Query(None, description="Only this team's SLOs (its slug).")
    ] = None,
):
    """Every SLO of your teams with its error budget. A fixed number of queries."""
    moment = _at_or_422(at)
    slos = SLO.objects.visible_to(request.auth)
    if team is not None:
        # A slug is letters, digits, - and _: anything else names no team, and is never
        # sent to the database (PostgreSQL refuses NUL in a query: that was a 500).
        if not slug_re.fullmatch(team) or not (
            Membership.objects.filter(user=request.auth, team__slug=team).exists()
        ):
            raise Http404(_("No such team."))
        slos = slos.filter(service__team__slug=team)
    return [slo_budget_report(row) for row in slos_with_budgets(slos, at=moment)]


@router.get(
    "/slos/{slo_id}",
    response={200: SLOBudgetOut, **ERRORS},
    operation_id="slo_detail",
    summary="One SLO with its error budget",
)
def slo_detail(request: HttpRequest, slo_id: int, at: AtParam = None):
    """One SLO with its error budget; an SLO outside your teams is not found."""
    moment = _at_or_422(at)
    rows = slos_with_budgets(SLO.objects.visible_to(request.auth).filter(pk=slo_id), at=moment)
    if not rows:
        raise Http404(_("No such SLO."))
    return slo_budget_report(rows[0])


api.add_router("/v1/", router)
api.add_router("/v1/", push_router)
api.add_router("/v1/", "slos.notifications.api.router")


def _public(patterns: list) -> list:
    """The API answers 401 in JSON itself; the site's LoginRequiredMiddleware would
    redirect to the login form instead, so every route here opts out of it."""
    for pattern in patterns:
        if hasattr(pattern, "callback"):
            login_not_required(pattern.callback)
        else:
            _public(pattern.url_patterns)
    return patterns


api_patterns, api_app_name, api_namespace = api.urls
urlpatterns = [path("", include((_public(api_patterns), api_app_name), namespace=api_namespace))]
