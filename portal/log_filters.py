"""Intake URLs carry their source's token in the path (/api/v1/intake/<kind>/<token>):
whoever has it may post notifications. Django logs the path of every 404 and 500
(django.request) and runserver every request line (django.server); this filter masks the
token in those records, keeping its first characters, which the intake page shows too."""

from __future__ import annotations

import logging
import re

# The stored prefix is "rpi_" and 8 characters (slos/notifications/intake.py).
KEPT = 12
INTAKE_TOKEN_IN_PATH = re.compile(r"(/intake/[A-Za-z0-9_-]+/)([^/\s?#\"']+)")


def mask_intake_tokens(text: str) -> str:
    return INTAKE_TOKEN_IN_PATH.sub(lambda match: match[1] + match[2][:KEPT] + "…", text)


def _masked(value: object) -> object:
    return mask_intake_tokens(value) if isinstance(value, str) else value


class IntakeTokenFilter(logging.Filter):
    """Rewrites the record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(value) for key, value in record.args.items()}
        return True
