"""The Django admin never shows a stored secret (portal/encryption.py): its input is empty,
its help text shows it masked, and left blank it keeps the stored value. A user who may
only view sees the masked values alone."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal.encryption import EncryptedJSONField, encrypted_field_names, mask

CLEAR_SUFFIX = "_clear"


def masked_value(value: Any) -> str:
    """A stored secret as the admin may show it: masked text, or header names with
    masked values."""
    if isinstance(value, dict):
        return ", ".join(f"{name}: {mask(str(item)) or '—'}" for name, item in value.items())
    return mask(value or "")


class SecretsAdminForm(forms.ModelForm):
    """Every encrypted field becomes write-only, with a box to clear it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secret_names = [
            name for name in encrypted_field_names(self._meta.model) if name in self.fields
        ]
        for name in self.secret_names:
            model_field = self._meta.model._meta.get_field(name)
            label = self.fields[name].label
            stored = getattr(self.instance, name) if self.instance.pk else None
            if isinstance(model_field, EncryptedJSONField):
                field = forms.CharField(
                    label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=model_field.max_length,
                    widget=forms.PasswordInput(render_value=False),
                )
            if stored:
                field.help_text = _("Stored: %(masked)s. Leave blank to keep it.") % {
                    "masked": masked_value(stored)
                }
            else:
                field.help_text = _("Not set.")
            self.fields[name] = field
            self.initial[name] = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in self.secret_names:
            model_field = self._meta.model._meta.get_field(name)
            is_json = isinstance(model_field, EncryptedJSONField)
            entered = (cleaned.get(name) or "").strip()
            if cleaned.get(name + CLEAR_SUFFIX):
                cleaned[name] = {} if is_json else ""
            elif not entered:
                cleaned[name] = getattr(self.instance, name) if self.instance.pk else None
                if cleaned[name] is None:
                    cleaned[name] = {} if is_json else ""
            elif is_json:
                try:
                    cleaned[name] = json.loads(entered)
                except json.JSONDecodeError:
                    self.add_error(name, _("Enter valid JSON."))
            else:
                cleaned[name] = entered
        return cleaned


class SecretsAdminMixin:
    """For a ModelAdmin of a model with encrypted fields."""

    form = SecretsAdminForm

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, change=False, **kwargs
    ):
        if obj is None or self.has_change_permission(request, obj):
            clear_boxes = {
                name + CLEAR_SUFFIX: forms.BooleanField(
                    label=_("Clear the stored %(field)s")
                    % {"field": self.model._meta.get_field(name).verbose_name},
                    required=False,
                )
                for name in encrypted_field_names(self.model)
            }
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(base.__name__, (base,), clear_boxes)
        return super().get_form(request, obj, change, **kwargs)

    def get_exclude(self, request: HttpRequest, obj: models.Model | None = None):
        excluded = list(super().get_exclude(request, obj) or [])
        if not self.has_change_permission(request, obj):
            excluded += encrypted_field_names(self.model)
        return excluded

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            readonly.append("stored_secrets")
        return readonly

    @admin.display(description=_("stored secrets"))
    def stored_secrets(self, obj: models.Model) -> str:
        return "; ".join(
            f"{obj._meta.get_field(name).verbose_name}: "
            f"{masked_value(getattr(obj, name)) or _('not set')}"
            for name in encrypted_field_names(type(obj))
        )
