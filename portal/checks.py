"""System checks of the portal's own settings, run by `check --deploy`."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.checks import Tags, Warning, register

from portal.env import fernet_key_derived_from


@register(Tags.security, deploy=True)
def check_secret_key_from_the_environment(app_configs, **kwargs) -> list[Warning]:
    if os.environ.get("SECRET_KEY", "").strip():
        return []
    return [
        Warning(
            "SECRET_KEY is not set: the portal signs sessions with a key made for this "
            "machine (.secret-key), which other servers of the same deployment do not share "
            "and a fresh install replaces.",
            hint="Set SECRET_KEY (and DEBUG=false) in the production environment.",
            id="portal.W001",
        )
    ]


@register(Tags.security, deploy=True)
def check_field_encryption_key(app_configs, **kwargs) -> list[Warning]:
    if settings.FIELD_ENCRYPTION_KEYS[:1] != [fernet_key_derived_from(settings.SECRET_KEY)]:
        return []
    return [
        Warning(
            "FIELD_ENCRYPTION_KEYS is not set: stored secrets are encrypted with a key "
            "derived from SECRET_KEY, and changing SECRET_KEY would make them unreadable.",
            hint="Set FIELD_ENCRYPTION_KEYS to a key of your own: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'.",
            id="portal.W002",
        )
    ]
