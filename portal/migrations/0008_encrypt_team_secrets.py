"""Encrypts the Slack webhook URLs stored in plain text before 0007 (portal/encryption.py).
Reversed, it writes them back in plain text, as the column held them before."""

from django.db import migrations

from portal.encryption import secrets_decrypt_in_place, secrets_reencrypt


def encrypt_plain_secrets(apps, schema_editor):
    secrets_reencrypt([apps.get_model("portal", "Team")])


def decrypt_secrets(apps, schema_editor):
    secrets_decrypt_in_place([apps.get_model("portal", "Team")])


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_team_slack_webhook_url_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_plain_secrets, decrypt_secrets, elidable=False),
    ]
