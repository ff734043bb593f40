from django.urls import path

from slos import views

app_name = "slos"
urlpatterns = [
    path("", views.slo_list, name="list"),
    path("<int:pk>/", views.slo_detail, name="detail"),
    path("<int:pk>/pull/", views.slo_pull_now, name="pull"),
    path("new/<slug:slug>/", views.slo_create, name="create"),
    path("sources/new/<slug:slug>/", views.data_source_create, name="source_create"),
    path("services/new/<slug:slug>/", views.service_create, name="service_create"),
]
