from django.contrib import admin
from django.urls import include, path

from portal import language, oidc, views

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/settings/", views.team_settings, name="team_settings"),
    path("teams/<slug:slug>/", include("portal.charter.urls")),
    path("teams/<slug:slug>/", include("portal.survey.urls")),
    path("teams/<slug:slug>/", include("portal.hierarchy.urls")),
    path("slos/", include("slos.urls")),
    path("retros/", include("retros.urls")),
    path("backlog/", include("toil.urls")),
    path("api/", include("portal.api")),
    path("account/tokens/", include("portal.token_views")),
    path("account/language/", language.language_set, name="language_set"),
    path("accounts/login/", oidc.login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/authenticate/", oidc.oidc_authenticate, name="oidc_authentication_init"),
    path("oidc/callback/", oidc.oidc_callback, name="oidc_authentication_callback"),
    path("admin/", admin.site.urls),
]
