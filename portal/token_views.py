"""The page where a user makes and revokes their own API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.access import AuthedRequest
from portal.api_tokens import api_token_create, api_token_revoke
from portal.confirm import after_delete, delete_confirmation, delete_confirmed
from portal.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “weekly report script”."),
    )


def _page(request: AuthedRequest, *, form: ApiTokenForm, new_token: str | None = None, status=200):
    response = render(
        request,
        "portal/tokens.html",
        {
            "form": form,
            "tokens": request.user.api_tokens.all(),
            "new_token": new_token,
            "api_url": request.build_absolute_uri(reverse("api:slo_list")),
        },
        status=status,
    )
    # The one response that carries a token in full must not be kept by any cache.
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def token_list(request: AuthedRequest) -> HttpResponse:
    """GET lists the user's tokens; a valid POST makes one and shows it, this once.
    No redirect after the POST: the secret must not travel through the session."""
    if request.method == "GET":
        return _page(request, form=ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    created = api_token_create(user=request.user, name=form.cleaned_data["name"])
    return _page(request, form=ApiTokenForm(), new_token=created.raw, status=201)


@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    """Revokes once the person said yes (portal.confirm): a script that uses the token
    stops working at once, and there is no undo."""
    if not delete_confirmed(request):
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        return delete_confirmation(
            request,
            question=_("Revoke the token “%(name)s”?") % {"name": token.name},
            details=[_("Anything that calls the API with it is refused from now on.")],
            action=reverse("api_token_revoke", args=[token.pk]),
            cancel_url=reverse("api_tokens"),
            button=_("Revoke"),
        )
    token = api_token_revoke(user=request.user, token_id=pk, at=timezone.now())
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return after_delete(request, reverse("api_tokens"))


urlpatterns = [
    path("", token_list, name="api_tokens"),
    path("<int:pk>/revoke/", token_revoke, name="api_token_revoke"),
]
