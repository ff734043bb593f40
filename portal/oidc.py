"""Sign-in through the company's OpenID Connect provider (mozilla-django-oidc), on only
when the provider's client and endpoints are set (settings.OIDC_ENABLED). A person is
matched to an account by a verified e-mail address, or an account is made for them; a
new account belongs to no team until a team admin adds it."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

_NOT_A_USERNAME_CHARACTER = re.compile(r"[^\w.@+-]")
_USERNAME_MAX = 150


def username_stem(claims: dict) -> str:
    """The provider's preferred_username, else the e-mail's local part, reduced to the
    characters Django's usernames allow."""
    wanted = claims.get("preferred_username") or claims.get("email", "").split("@")[0]
    return _NOT_A_USERNAME_CHARACTER.sub("", wanted)[: _USERNAME_MAX - 4] or "user"


def username_free(stem: str, taken: set[str]) -> str:
    """The stem, or the stem with -2, -3… when already taken."""
    candidate, suffix = stem, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{stem}-{suffix}"
    return candidate


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Listed in AUTHENTICATION_BACKENDS whatever the configuration: with OIDC off it
    reads no provider settings and authenticates nobody, so sessions it made earlier
    still resolve (get_user is ModelBackend's)."""

    def __init__(self, *args, **kwargs):
        if settings.OIDC_ENABLED:
            super().__init__(*args, **kwargs)
        else:
            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password sign-in is not ours to try.
        if not settings.OIDC_ENABLED or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict) -> bool:
        # An address the provider has not verified would let anyone claim an account.
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def create_user(self, claims: dict):
        stem = username_stem(claims)
        taken = self.UserModel.objects.filter(username__startswith=stem)
        return self.UserModel.objects.create_user(
            username_free(stem, set(taken.values_list("username", flat=True))),
            email=claims["email"],
            first_name=claims.get("given_name", "")[:150],
            last_name=claims.get("family_name", "")[:150],
        )


def _require_enabled() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404(_("OpenID Connect sign-in is not configured."))


@login_not_required
def oidc_authenticate(request: HttpRequest) -> HttpResponse:
    _require_enabled()
    return OIDCAuthenticationRequestView.as_view()(request)


class _CallbackView(OIDCAuthenticationCallbackView):
    def login_failure(self):
        messages.error(
            self.request,
            _("Sign-in with %(provider)s did not succeed. Try again, or log in with a password.")
            % {"provider": settings.OIDC_PROVIDER_NAME},
        )
        return redirect("login")


@login_not_required
def oidc_callback(request: HttpRequest) -> HttpResponse:
    _require_enabled()
    return _CallbackView.as_view()(request)


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    """Django's login view, with the provider's button when OIDC is on."""
    provider = settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else None
    return LoginView.as_view(extra_context={"oidc_provider_name": provider})(request)
