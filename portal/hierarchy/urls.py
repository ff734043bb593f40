"""Under teams/<slug>/, namespace `hierarchy:`."""

from django.urls import path

from portal.hierarchy import views

app_name = "hierarchy"
urlpatterns = [
    path("hierarchy/", views.team_hierarchy, name="team"),
    path("hierarchy/<int:service_id>/", views.service_hierarchy, name="service"),
]
