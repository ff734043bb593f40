"""factory-boy factories for the suite's data. SLOs and backlog items go through their
service functions, so they are validated and dated as every other way in makes them;
the rest are plain rows. Defaults are placeholders: a test names what it asserts on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify
from factory.django import DjangoModelFactory, Password

from portal.models import Membership, Role, Team
from slos.models import (
    SLO,
    Annotation,
    BudgetPolicyStep,
    DataSource,
    HourlyBucket,
    IntakeSource,
    Notification,
    OutboxMessage,
    PullRun,
    RoutingRule,
    Service,
    SLOReview,
)
from slos.registry import services as slo_services
from tests.prom import GOOD_QUERY, VALID_QUERY
from toil.models import BacklogItem, WorkLogEntry
from toil.services import backlog_item_create, work_log_add

PASSWORD = "correct-horse-battery"
START = datetime(2026, 10, 1, tzinfo=UTC)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = Password(PASSWORD)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.LazyAttribute(lambda team: slugify(team.name))


class MembershipFactory(DjangoModelFactory):
    """`MembershipFactory(team=team, user__username="owner", role=Role.ADMIN).user`"""

    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Service {n}")


class DataSourceFactory(DjangoModelFactory):
    """A Prometheus source on a port nobody listens on; `kind="push"` or `"csv"` for the
    others."""

    class Meta:
        model = DataSource

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Source {n}")
    url = "http://127.0.0.1:9"
    timeout_seconds = 2


class SLOFactory(DjangoModelFactory):
    """Made by `slo_create`, as the form, OpenSLO and the API make them."""

    class Meta:
        model = SLO

    service = factory.SubFactory(ServiceFactory)
    data_source = factory.SubFactory(
        DataSourceFactory, team=factory.SelfAttribute("..service.team")
    )
    name = factory.Sequence(lambda n: f"SLO {n}")
    good_query = "sum(increase(ok[$window]))"
    valid_query = "sum(increase(all[$window]))"
    target = Decimal("99.9")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> SLO:
        return slo_services.slo_create(**kwargs)


class HandFedSLOFactory(SLOFactory):
    """An SLO with no data source: the test writes its hours."""

    data_source = None
    target = Decimal("99.5")


class PrometheusSLOFactory(SLOFactory):
    """An SLO on the suite's Prometheus request counters (tests/prom.py)."""

    good_query = GOOD_QUERY
    valid_query = VALID_QUERY


class HourlyBucketFactory(DjangoModelFactory):
    """Keyed by (slo, hour), with no id: the manager's create() inserts it as is."""

    class Meta:
        model = HourlyBucket

    slo = factory.SubFactory(SLOFactory)
    hour = factory.Sequence(lambda n: START + timedelta(hours=n))
    good = 99
    valid = 100


def hourly_buckets(
    slo: SLO, hours: Iterable[datetime], *, good: float, valid: float
) -> list[HourlyBucket]:
    """One row per hour, in one INSERT."""
    return HourlyBucket.objects.bulk_create(
        HourlyBucketFactory.build(slo=slo, hour=hour, good=good, valid=valid) for hour in hours
    )


def hours_from(first: datetime, count: int) -> list[datetime]:
    """`count` hours, the first of them starting at `first`."""
    return [first + timedelta(hours=index) for index in range(count)]


def hours_before(end: datetime, count: int) -> list[datetime]:
    """The `count` whole hours that end at `end`, latest first."""
    return [end - timedelta(hours=index) for index in range(1, count + 1)]


class PullRunFactory(DjangoModelFactory):
    class Meta:
        model = PullRun

    data_source = factory.SubFactory(DataSourceFactory)
    started_at = START
    until = factory.SelfAttribute("started_at")


class AnnotationFactory(DjangoModelFactory):
    class Meta:
        model = Annotation

    team = factory.SubFactory(TeamFactory)
    kind = "note"
    starts_at = START
    ends_at = factory.LazyAttribute(lambda annotation: annotation.starts_at + timedelta(hours=1))
    text = factory.Sequence(lambda n: f"Annotation {n}")


class SLOReviewFactory(DjangoModelFactory):
    class Meta:
        model = SLOReview

    slo = factory.SubFactory(SLOFactory)
    reviewed_at = START
    decision = "keep"
    old_target = factory.SelfAttribute("slo.target")
    new_target = factory.SelfAttribute("old_target")


class BudgetPolicyStepFactory(DjangoModelFactory):
    class Meta:
        model = BudgetPolicyStep

    slo = factory.SubFactory(SLOFactory)
    below_percent = Decimal("50")
    action = factory.Sequence(lambda n: f"Step {n}")


class IntakeSourceFactory(DjangoModelFactory):
    """A source whose token nobody knows: for rows made by hand. Tests that post to a
    source make it with `intake_source_create`, which hands back the token."""

    class Meta:
        model = IntakeSource

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Intake {n}")
    kind = "generic"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    token_prefix = factory.Sequence(lambda n: f"t{n}")


class RoutingRuleFactory(DjangoModelFactory):
    class Meta:
        model = RoutingRule

    team = factory.SubFactory(TeamFactory)
    position = 1
    name = factory.Sequence(lambda n: f"Rule {n}")
    outcome = "log"


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    source = factory.SubFactory(IntakeSourceFactory)
    team = factory.SelfAttribute("source.team")
    fingerprint = factory.Sequence(lambda n: f"n{n}")
    title = factory.LazyAttribute(lambda notification: f"Notification {notification.fingerprint}")
    first_seen_at = START
    last_seen_at = factory.SelfAttribute("first_seen_at")
    notification_class = "log"
    decided_by_rule = "default"
    reason = "made by hand"


class OutboxMessageFactory(DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    team = factory.SubFactory(TeamFactory)
    kind = "alert"
    key = factory.Sequence(lambda n: f"m{n}")
    payload = factory.LazyAttribute(lambda message: {"text": message.key})
    next_attempt_at = START
    created_at = factory.SelfAttribute("next_attempt_at")


class BacklogItemFactory(DjangoModelFactory):
    """Made by `backlog_item_create`; the smallest score unless a test says otherwise."""

    class Meta:
        model = BacklogItem

    team = factory.SubFactory(TeamFactory)
    title = factory.Sequence(lambda n: f"Item {n}")
    kind = "toil"
    impact = 1
    likelihood = 1
    toil_hours_per_month = Decimal(0)
    effort = "M"
    status = "ready"
    slo = None
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> BacklogItem:
        return backlog_item_create(**kwargs)


class WorkLogEntryFactory(DjangoModelFactory):
    """Made by `work_log_add`; `person` must be a member of `team`."""

    class Meta:
        model = WorkLogEntry

    hours = Decimal(2)
    toil = False
    note = ""
    item = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> WorkLogEntry:
        kwargs.setdefault("at", START)
        return work_log_add(**kwargs)
