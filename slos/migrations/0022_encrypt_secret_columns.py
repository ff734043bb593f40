"""Encrypts the data-source credentials and Sentry client secrets stored in plain text
before 0021 (portal/encryption.py). Reversed, it writes them back in plain text, as the
columns held them before."""

from django.db import migrations

from portal.encryption import secrets_decrypt_in_place, secrets_reencrypt

MODELS_WITH_SECRETS = ["DataSource", "IntakeSource"]


def encrypt_plain_secrets(apps, schema_editor):
    secrets_reencrypt(apps.get_model("slos", name) for name in MODELS_WITH_SECRETS)


def decrypt_secrets(apps, schema_editor):
    secrets_decrypt_in_place(apps.get_model("slos", name) for name in MODELS_WITH_SECRETS)


class Migration(migrations.Migration):
    dependencies = [
        ("slos", "0021_secret_columns_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_plain_secrets, decrypt_secrets, elidable=False),
    ]
