from django.urls import path

from slos.openslo import views

urlpatterns = [
    path("openslo/import/<slug:slug>/", views.openslo_import, name="openslo_import"),
    path("openslo/export/<slug:slug>/", views.openslo_export, name="openslo_export"),
]
