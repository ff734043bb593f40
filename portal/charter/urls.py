"""Under teams/<slug>/, namespace `charter:`."""

from django.urls import path

from portal.charter import views

app_name = "charter"
urlpatterns = [
    path("charter/", views.charter_detail, name="detail"),
    path("charter/edit/", views.charter_edit, name="edit"),
    path("charter/responsibilities/", views.responsibility_add, name="responsibility_add"),
    path(
        "charter/responsibilities/suggested/",
        views.responsibilities_adopt,
        name="responsibilities_adopt",
    ),
    path(
        "charter/responsibilities/<int:pk>/",
        views.responsibility_edit,
        name="responsibility_edit",
    ),
    path(
        "charter/responsibilities/<int:pk>/delete/",
        views.responsibility_delete,
        name="responsibility_delete",
    ),
    path("hearings/new/", views.hearing_create, name="hearing_create"),
    path("hearings/<int:pk>/", views.hearing_detail, name="hearing"),
    path("hearings/<int:pk>/edit/", views.hearing_edit, name="hearing_edit"),
    path("hearings/<int:pk>/delete/", views.hearing_delete, name="hearing_delete"),
    path("hearings/<int:pk>/features/", views.candidate_add, name="candidate_add"),
]
