"""A push-fed source, an SLO on it and the source's token, shared by the push tests."""

from __future__ import annotations

import pytest

from slos.ingestion.push import push_token_rotate
from slos.models import SLO, DataSource
from tests.factories import DataSourceFactory, SLOFactory


@pytest.fixture
def push_source(team) -> DataSource:
    return DataSourceFactory(team=team, name="Batch jobs", kind="push", url="")


@pytest.fixture
def availability(service, push_source) -> SLO:
    return SLOFactory(
        service=service,
        data_source=push_source,
        name="Availability",
        openslo_name="clock-in-availability",
    )


@pytest.fixture
def token(push_source) -> str:
    return push_token_rotate(source=push_source)
