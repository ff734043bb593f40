"""Secrets at rest: the columns that hold a secret (data-source credentials, the Sentry
client secret, the Slack webhook URL) are stored encrypted with Fernet, keyed by
FIELD_ENCRYPTION_KEYS (settings; the first key encrypts, every key decrypts).

A stored value reads "enc:v1:<Fernet token>". A value without the prefix is a legacy plain
value, written before encryption: it is still read as it is, and the data migrations and
`manage.py rotate_secrets_key` encrypt it. The empty string stays empty, so "not set" can
still be filtered on (`exclude(slack_webhook_url="")`); equality lookups on a set value
cannot work, since each encryption of it differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

PREFIX = "enc:v1:"
MASK = "••••"


def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds no key.")
    return MultiFernet([Fernet(key) for key in keys])


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def encrypt(plain: str) -> str:
    """The stored form of `plain`. Already-stored values pass unchanged, so encrypting
    twice (a lookup, then a save) never nests."""
    if not plain:
        return plain
    if is_encrypted(plain):
        try:
            _fernet().decrypt(plain[len(PREFIX) :].encode())
            return plain
        except InvalidToken:
            pass  # a secret that merely starts like one: encrypt it
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    """The secret of a stored value; a legacy plain value is returned as it is. A value
    none of the keys opens stops with a message naming the setting, never silently."""
    if not is_encrypted(stored):
        return stored
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: "
            "the key that encrypted it was removed or changed."
        ) from None


def is_on_current_key(stored: str) -> bool:
    """Whether `stored` is encrypted with the first key (the one that encrypts)."""
    if not is_encrypted(stored):
        return False
    try:
        Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored[len(PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


def mask(secret: str) -> str:
    """Enough to tell which secret is stored, never enough to use it: the last four
    characters of a long secret, nothing of a short one."""
    if not secret:
        return ""
    return MASK + secret[-4:] if len(secret) >= 12 else MASK


class EncryptedTextField(models.TextField):
    """A text column holding a secret: encrypted on the way in, decrypted on the way out."""

    def from_db_value(self, value: str | None, expression, connection) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON value (a source's extra headers) kept as encrypted JSON text. Legacy plain
    JSON text, from before the column was encrypted, still reads."""

    def from_db_value(self, value: str | None, expression, connection) -> Any:
        return None if value is None else json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(decrypt(value))
            except json.JSONDecodeError:
                raise ValidationError(_("Enter valid JSON."), code="invalid") from None
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and is_encrypted(value):
            return value
        return encrypt(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)


def encrypted_field_names(model: type[models.Model]) -> list[str]:
    return [
        field.name for field in model._meta.concrete_fields if isinstance(field, ENCRYPTED_FIELDS)
    ]


@dataclass
class RotationCount:
    """What one pass over the secret columns did."""

    encrypted_plain: int = 0  # legacy plain values, now encrypted
    reencrypted: int = 0  # values on an older key, now on the first key
    current: int = 0  # already on the first key: left as they were

    def add(self, other: RotationCount) -> None:
        self.encrypted_plain += other.encrypted_plain
        self.reencrypted += other.reencrypted
        self.current += other.current


def _stored_values(model: type[models.Model], name: str) -> Iterator[tuple[Any, str]]:
    """(pk, the column's text as stored), read past the field's decryption."""
    rows = (
        model._base_manager.annotate(_stored=Cast(name, output_field=models.TextField()))
        .values_list("pk", "_stored")
        .order_by("pk")
    )
    for pk, stored in rows.iterator():
        if stored:
            yield pk, stored


def secrets_reencrypt(models_: Iterable[type[models.Model]]) -> RotationCount:
    """Every secret of `models_` encrypted with the first key: plain values encrypted,
    values on an older key re-encrypted, the rest left alone (so a second run does
    nothing). Used by the data migrations and `manage.py rotate_secrets_key`."""
    count = RotationCount()
    for model in models_:
        for name in encrypted_field_names(model):
            for pk, stored in _stored_values(model, name):
                if is_on_current_key(stored):
                    count.current += 1
                    continue
                if is_encrypted(stored):
                    count.reencrypted += 1
                else:
                    count.encrypted_plain += 1
                fresh = PREFIX + _fernet().encrypt(decrypt(stored).encode()).decode()
                model._base_manager.filter(pk=pk).update(
                    **{name: models.Value(fresh, output_field=models.TextField())}
                )
    return count


def secrets_decrypt_in_place(models_: Iterable[type[models.Model]]) -> int:
    """The reverse of the data migrations: every secret written back as plain text."""
    written = 0
    for model in models_:
        for name in encrypted_field_names(model):
            for pk, stored in _stored_values(model, name):
                if is_encrypted(stored):
                    model._base_manager.filter(pk=pk).update(
                        **{name: models.Value(decrypt(stored), output_field=models.TextField())}
                    )
                    written += 1
    return written
