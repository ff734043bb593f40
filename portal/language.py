"""The language of the pages: the one a person chose and saved, else the browser's.

Django's LocaleMiddleware picks the browser's language (Accept-Language). A choice made
with the switch (templates/portal/language_switch.html) is saved on the person's
UserPreference and copied into their session when they sign in, so applying it on each
request reads only the session the request has loaded anyway: no query per page. The
choice of someone not signed in lives in their session alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.models import UserPreference

# The session's copy of the choice: a language code, or "" for the browser's language.
SESSION_KEY = "portal_language"


def supported_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[],
        error_messages={"invalid_choice": gettext_lazy("The portal has no language “%(value)s”.")},
    )
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", ""), *settings.LANGUAGES]


def user_language_set(*, user, language: str) -> UserPreference:
    """Save `user`'s language ("" for the browser's)."""
    if language and language not in supported_languages():
        raise ValueError(f"unsupported language {language!r}")
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference


def saved_language(user) -> str:
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""


@receiver(user_logged_in, dispatch_uid="portal.language.on_login")
def _apply_saved_language(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A saved choice wins over one made on the sign-in page, which in turn wins over
    the browser's language."""
    if request is None or not hasattr(request, "session"):
        return
    language = saved_language(user)
    if language:
        request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    """Activates the language in the session, if any, over the browser's; placed after
    LocaleMiddleware so that its choice from Accept-Language is the fallback."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Without a session cookie there is no choice to read; not touching the session
        # keeps such answers (the token API's) free of "Vary: Cookie".
        session = getattr(request, "session", None)
        has_session = session is not None and settings.SESSION_COOKIE_NAME in request.COOKIES
        language = session.get(SESSION_KEY, "") if has_session else ""
        if language and language in supported_languages():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def _back_to(request: HttpRequest, wanted: str) -> str:
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("home")


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The switch: saves the choice (for a signed-in person) and goes back to the page."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(
            _("The language was not changed: %(problem)s") % {"problem": problems},
            content_type="text/plain; charset=utf-8",
        )
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    request.session[SESSION_KEY] = language
    response = HttpResponseRedirect(_back_to(request, form.cleaned_data["next"]))
    if getattr(request, "htmx", False):
        # The switch posted by htmx: the whole page is reloaded in its new language.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
    return response
