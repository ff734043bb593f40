from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/settings/", views.team_settings, name="team_settings"),
    path("slos/", include("slos.urls")),
    path("retros/", include("retros.urls")),
    path("backlog/", include("toil.urls")),
    path("api/", include("portal.api")),
    path("account/tokens/", include("portal.token_views")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
