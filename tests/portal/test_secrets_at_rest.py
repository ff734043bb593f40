"""Secrets at rest (issue #18, item 6): data-source credentials, the Sentry client secret
and the Slack webhook URL are stored encrypted, read as before, moved to a new key by
`rotate_secrets_key`, masked in the admin; intake tokens stay out of request logs."""

from __future__ import annotations

import importlib
import logging

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from portal.checks import check_field_encryption_key
from portal.encryption import PREFIX, decrypt
from portal.env import env_fernet_keys, fernet_key_derived_from
from portal.log_filters import IntakeTokenFilter
from slos.models import DataSource, IntakeSource
from slos.notifications.intake import intake_source_create
from tests.factories import UserFactory

BEARER = "bearer-s3cret-0123456789-WXYZ"
PASSWORD = "basic-pa55word-0123456789"
HEADER = "org-header-value-ABCDEFGHIJ"
CLIENT_SECRET = "sentry-client-secret-0123456789abcd"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXwxyz"

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def write_raw(table: str, column: str, pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def migration(app: str, name: str):
    return importlib.import_module(f"{app}.migrations.{name}")


@pytest.fixture
def secured_source(team) -> DataSource:
    return DataSource.objects.create(
        team=team,
        name="Secured",
        url="http://127.0.0.1:9",
        auth_kind="bearer",
        bearer_token=BEARER,
        basic_username="svc",
        basic_password=PASSWORD,
        extra_headers={"X-Scope-OrgID": HEADER},
    )


@pytest.fixture
def sentry_source(team) -> IntakeSource:
    return intake_source_create(
        team=team, name="Sentry", kind="sentry", client_secret=CLIENT_SECRET
    ).source


@pytest.fixture
def slack_team(team):
    team.slack_webhook_url = SLACK_URL
    team.save()
    return team


# Stored encrypted, read as before


def test_data_source_secrets_are_not_stored_in_plain_text(secured_source):
    for column, secret in [
        ("bearer_token", BEARER),
        ("basic_password", PASSWORD),
        ("extra_headers", HEADER),
    ]:
        stored = raw("slos_datasource", column, secured_source.pk)
        assert stored.startswith(PREFIX)
        assert secret not in stored
        assert secret in decrypt(stored)

    source = DataSource.objects.get(pk=secured_source.pk)
    assert source.bearer_token == BEARER
    assert source.basic_password == PASSWORD
    assert source.request_headers() == {
        "X-Scope-OrgID": HEADER,
        "Authorization": f"Bearer {BEARER}",
    }


def test_sentry_secret_and_slack_url_are_not_stored_in_plain_text(sentry_source, slack_team):
    stored_secret = raw("slos_intakesource", "client_secret", sentry_source.pk)
    stored_url = raw("portal_team", "slack_webhook_url", slack_team.pk)
    assert CLIENT_SECRET not in stored_secret and decrypt(stored_secret) == CLIENT_SECRET
    assert "hooks.slack.com" not in stored_url and decrypt(stored_url) == SLACK_URL

    assert IntakeSource.objects.get(pk=sentry_source.pk).client_secret == CLIENT_SECRET
    assert type(slack_team).objects.get(pk=slack_team.pk).slack_webhook_url == SLACK_URL


def test_an_unset_secret_stays_empty_and_can_be_filtered_on(team, slack_team):
    other = type(team).objects.create(name="No Slack", slug="no-slack")
    assert raw("portal_team", "slack_webhook_url", other.pk) == ""
    with_webhook = type(team).objects.exclude(slack_webhook_url="")
    assert list(with_webhook) == [slack_team]


# Legacy plain values and the data migrations


def test_legacy_plain_values_still_read_and_the_data_migration_encrypts_them(
    secured_source, sentry_source, slack_team
):
    write_raw("slos_datasource", "bearer_token", secured_source.pk, BEARER)
    write_raw("slos_datasource", "extra_headers", secured_source.pk, '{"X-Scope-OrgID": "1"}')
    write_raw("slos_intakesource", "client_secret", sentry_source.pk, CLIENT_SECRET)
    write_raw("portal_team", "slack_webhook_url", slack_team.pk, SLACK_URL)

    source = DataSource.objects.get(pk=secured_source.pk)
    assert source.bearer_token == BEARER
    assert source.extra_headers == {"X-Scope-OrgID": "1"}

    migration("slos", "0022_encrypt_secret_columns").encrypt_plain_secrets(apps, None)
    migration("portal", "0008_encrypt_team_secrets").encrypt_plain_secrets(apps, None)

    assert decrypt(raw("slos_datasource", "bearer_token", secured_source.pk)) == BEARER
    assert raw("slos_datasource", "bearer_token", secured_source.pk).startswith(PREFIX)
    assert raw("slos_datasource", "extra_headers", secured_source.pk).startswith(PREFIX)
    assert raw("slos_intakesource", "client_secret", sentry_source.pk).startswith(PREFIX)
    assert raw("portal_team", "slack_webhook_url", slack_team.pk).startswith(PREFIX)
    source = DataSource.objects.get(pk=secured_source.pk)
    assert source.bearer_token == BEARER
    assert source.extra_headers == {"X-Scope-OrgID": "1"}


def test_the_data_migration_reversed_writes_plain_text_back(secured_source):
    migration("slos", "0022_encrypt_secret_columns").decrypt_secrets(apps, None)
    assert raw("slos_datasource", "bearer_token", secured_source.pk) == BEARER
    assert raw("slos_datasource", "basic_password", secured_source.pk) == PASSWORD
    assert HEADER in raw("slos_datasource", "extra_headers", secured_source.pk)
    assert DataSource.objects.get(pk=secured_source.pk).bearer_token == BEARER


# Rotation


def test_rotate_secrets_key_moves_every_secret_to_the_new_key(
    secured_source, sentry_source, slack_team, capsys
):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        secured_source.save()
        sentry_source.save()
        slack_team.save()
        write_raw("slos_datasource", "basic_password", secured_source.pk, PASSWORD)  # legacy

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_secrets_key")
        first = capsys.readouterr().out
        call_command("rotate_secrets_key")
        second = capsys.readouterr().out
    # bearer token, headers, client secret and Slack URL were on the old key; the
    # password was plain.
    assert "re-encrypted with the first key: 4;" in first
    assert "plain values encrypted: 1;" in first
    assert "re-encrypted with the first key: 0; plain values encrypted: 0;" in second
    assert "already on the first key: 5." in second

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):  # the old key removed
        source = DataSource.objects.get(pk=secured_source.pk)
        assert source.bearer_token == BEARER
        assert source.basic_password == PASSWORD
        assert source.extra_headers == {"X-Scope-OrgID": HEADER}
        assert IntakeSource.objects.get(pk=sentry_source.pk).client_secret == CLIENT_SECRET
        assert type(slack_team).objects.get(pk=slack_team.pk).slack_webhook_url == SLACK_URL
        stored = raw("slos_datasource", "bearer_token", secured_source.pk)
        assert Fernet(NEW_KEY).decrypt(stored[len(PREFIX) :].encode()).decode() == BEARER


def test_a_value_no_key_opens_stops_with_a_message_naming_the_setting(secured_source):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
            DataSource.objects.get(pk=secured_source.pk)


# The key from the environment


def test_keys_come_from_the_environment_and_a_bad_one_stops_start_up(monkeypatch):
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{NEW_KEY}, {OLD_KEY}")
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS", embedded="x") == [NEW_KEY, OLD_KEY]
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", f"{NEW_KEY},not-a-key")
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS must list Fernet"):
        env_fernet_keys("FIELD_ENCRYPTION_KEYS", embedded="x")
    monkeypatch.delenv("FIELD_ENCRYPTION_KEYS")
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS", embedded="derived") == ["derived"]


def test_check_deploy_warns_while_the_key_is_derived_from_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [fernet_key_derived_from(settings.SECRET_KEY)]
    assert [message.id for message in check_field_encryption_key(None)] == ["portal.W002"]
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert check_field_encryption_key(None) == []


# The admin


@pytest.fixture
def superuser_client(db, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_admin_change_pages_never_show_a_secret(
    superuser_client, secured_source, sentry_source, slack_team
):
    pages = [
        reverse("admin:slos_datasource_change", args=[secured_source.pk]),
        reverse("admin:slos_intakesource_change", args=[sentry_source.pk]),
        reverse("admin:portal_team_change", args=[slack_team.pk]),
        reverse("admin:slos_datasource_changelist"),
        reverse("admin:slos_intakesource_changelist"),
        reverse("admin:portal_team_changelist"),
    ]
    for url in pages:
        page = superuser_client.get(url).content.decode()
        for secret in [BEARER, PASSWORD, HEADER, CLIENT_SECRET, SLACK_URL, "XXXXXXXX"]:
            assert secret not in page, (url, secret)
    page = superuser_client.get(pages[0]).content.decode()
    assert "••••WXYZ" in page  # the bearer token's last four, to tell it apart
    assert "X-Scope-OrgID" in page  # header names are shown, their values masked


def test_admin_add_pages_offer_empty_secret_inputs(superuser_client):
    for model in ["slos_datasource", "slos_intakesource", "portal_team"]:
        page = superuser_client.get(reverse(f"admin:{model}_add"))
        assert page.status_code == 200, model


def test_admin_view_only_user_sees_masked_values_alone(client, secured_source):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="auditor", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_datasource"))
    client.force_login(viewer)
    page = client.get(reverse("admin:slos_datasource_change", args=[secured_source.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert BEARER not in body and PASSWORD not in body and HEADER not in body
    assert "••••WXYZ" in body


def admin_form_data(source: DataSource, **changes) -> dict:
    data = {
        "team": source.team_id,
        "name": source.name,
        "openslo_name": "",
        "kind": source.kind,
        "url": source.url,
        "timeout_seconds": source.timeout_seconds,
        "verify_tls": "on",
        "auth_kind": source.auth_kind,
        "bearer_token": "",
        "basic_username": source.basic_username,
        "basic_password": "",
        "extra_headers": "",
    }
    data.update(changes)
    return data


def test_admin_edit_left_blank_keeps_the_stored_secrets(superuser_client, secured_source):
    url = reverse("admin:slos_datasource_change", args=[secured_source.pk])
    response = superuser_client.post(url, admin_form_data(secured_source, name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:3000]

    source = DataSource.objects.get(pk=secured_source.pk)
    assert source.name == "Renamed"
    assert source.bearer_token == BEARER
    assert source.basic_password == PASSWORD
    assert source.extra_headers == {"X-Scope-OrgID": HEADER}


def test_admin_edit_replaces_or_clears_a_secret(superuser_client, secured_source):
    url = reverse("admin:slos_datasource_change", args=[secured_source.pk])
    data = admin_form_data(
        secured_source,
        bearer_token="a-new-token-1234567890",
        basic_password_clear="on",
        extra_headers='{"X-Org": "2"}',
    )
    assert superuser_client.post(url, data).status_code == 302

    source = DataSource.objects.get(pk=secured_source.pk)
    assert source.bearer_token == "a-new-token-1234567890"
    assert source.basic_password == ""
    assert source.extra_headers == {"X-Org": "2"}
    assert raw("slos_datasource", "bearer_token", source.pk).startswith(PREFIX)


def test_admin_bad_headers_json_is_a_form_error_and_changes_nothing(
    superuser_client, secured_source
):
    url = reverse("admin:slos_datasource_change", args=[secured_source.pk])
    response = superuser_client.post(url, admin_form_data(secured_source, extra_headers="{nope"))
    assert response.status_code == 200
    assert "Enter valid JSON." in response.content.decode()
    assert DataSource.objects.get(pk=secured_source.pk).extra_headers == {"X-Scope-OrgID": HEADER}


# Intake tokens out of the logs


def test_a_logged_404_for_an_intake_url_does_not_carry_the_token(client, caplog, team):
    token = intake_source_create(team=team, name="Generic", kind="generic").token
    wrong = token[:-6] + "zzzzzz"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(
            f"/api/v1/intake/generic/{wrong}", data="{}", content_type="application/json"
        )
    assert response.status_code == 404
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged, "the 404 is logged"
    assert all(wrong not in r.getMessage() for r in logged)
    assert wrong not in caplog.text
    assert "/api/v1/intake/generic/" + wrong[:12] + "…" in caplog.text


def test_runserver_request_lines_for_intake_urls_are_masked():
    token = "rpi_" + "A1b2C3d4" + "secretpart-xyz"
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"POST /api/v1/intake/sentry/{token} HTTP/1.1", "500", "12"),
        None,
    )
    assert IntakeTokenFilter().filter(record)
    assert token not in record.getMessage()
    assert "/api/v1/intake/sentry/rpi_A1b2C3d4… HTTP/1.1" in record.getMessage()
    assert logging.getLogger("django.server").filters  # wired in LOGGING
    assert logging.getLogger("django.request").filters
