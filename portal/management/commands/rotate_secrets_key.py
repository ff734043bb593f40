"""Moves every secret stored in the database to the first key of FIELD_ENCRYPTION_KEYS.

To rotate: put a new key first and keep the old one after it
(FIELD_ENCRYPTION_KEYS=new,old), restart, run this command, then drop the old key. Plain
values left from before encryption are encrypted too. A second run changes nothing."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.encryption import encrypted_field_names, secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        models_with_secrets = [model for model in apps.get_models() if encrypted_field_names(model)]
        with transaction.atomic():
            count = secrets_reencrypt(models_with_secrets)
        self.stdout.write(
            f"Secrets re-encrypted with the first key: {count.reencrypted}; "
            f"plain values encrypted: {count.encrypted_plain}; "
            f"already on the first key: {count.current}."
        )
