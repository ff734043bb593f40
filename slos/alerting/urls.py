from django.urls import path

from slos.alerting import views

urlpatterns = [
    path("rules/<slug:slug>/", views.rules_download, name="rules"),
    path("rules/<slug:slug>/alertmanager/", views.alertmanager_download, name="alertmanager"),
]
