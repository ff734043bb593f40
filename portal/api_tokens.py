"""Personal API tokens: create, revoke, and resolve a presented token to its user.

A token is `rpt_` followed by 256 random bits. Only its SHA-256 digest is stored: with
that much entropy a plain digest cannot be reversed, and a lookup by digest compares no
secret in Python, so there is nothing to time. The first characters are kept in clear
(`prefix`) so the owner can tell tokens apart, and secret scanners can spot `rpt_`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError

from portal.models import ApiToken

TOKEN_SCHEME = "rpt_"
PREFIX_LENGTH = len(TOKEN_SCHEME) + 8
# last_used_at is a hint for the owner, not an audit log: write it at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(AuthenticationError):
    """A bearer token (personal or a source's push token) was sent but is not valid: the
    API answers 401 at once rather than falling back to the session, so a script never
    silently acts as whoever is logged in."""


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str


def api_token_create(*, user, name: str) -> NewToken:
    """A new token for `user`; `raw` is the only copy of the secret there will be."""
    raw = TOKEN_SCHEME + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=raw[:PREFIX_LENGTH], token_hash=token_digest(raw)
    )
    return NewToken(token=token, raw=raw)


def api_token_revoke(*, user, token_id: int, at: datetime) -> ApiToken:
    """Revoke one of the user's own tokens; another user's token is a 404. Revoking
    twice keeps the first time."""
    ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=at)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404(_("No such token."))
    return token


class TokenProblem(StrEnum):
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    INACTIVE_USER = "inactive_user"


@dataclass(frozen=True)
class TokenCheck:
    user: object | None
    problem: TokenProblem | None = None


def api_token_authenticate(*, raw: str, at: datetime) -> TokenCheck:
    """The user a presented token belongs to, or why it is refused. An accepted token
    costs two queries: the lookup and the last-used update (which usually matches no
    row), so a request's query count does not depend on the clock."""
    token = (
        ApiToken.objects.select_related("user").filter(token_hash=token_digest(raw.strip())).first()
    )
    if token is None:
        return TokenCheck(user=None, problem=TokenProblem.UNKNOWN)
    if token.revoked_at is not None:
        return TokenCheck(user=None, problem=TokenProblem.REVOKED)
    if not token.user.is_active:
        return TokenCheck(user=None, problem=TokenProblem.INACTIVE_USER)
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - LAST_USED_RESOLUTION),
        pk=token.pk,
    ).update(last_used_at=at)
    return TokenCheck(user=token.user)
