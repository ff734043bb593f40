from django.urls import path

from slos.ingestion import csv_views, trial_views, views

urlpatterns = [
    path("<int:pk>/pull/", views.slo_pull_now, name="pull"),
    path("<int:pk>/pull/progress/", views.slo_pull_progress, name="pull_progress"),
    path("pulls/<int:pk>/", views.pull_run_live, name="pull_run"),
    path("sources/new/<slug:slug>/", views.source_form, name="source_create"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("sources/<slug:slug>/<int:pk>/edit/", views.source_form, name="source_edit"),
    path("sources/<int:pk>/pull/", views.source_pull_now, name="source_pull"),
    path("sources/<int:pk>/csv/", csv_views.csv_upload, name="source_csv"),
    path("sources/<int:pk>/push-token/", csv_views.push_token_rotate, name="push_token"),
    path("ingestion/", views.ingestion_health, name="ingestion"),
    path("try-queries/<slug:slug>/", trial_views.queries_try, name="queries_try"),
]
