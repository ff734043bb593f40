from django.urls import path

from slos import openslo_views, registry_views, views

app_name = "slos"
urlpatterns = [
    path("", views.slo_list, name="list"),
    path("<int:pk>/", views.slo_detail, name="detail"),
    path("<int:pk>/pull/", views.slo_pull_now, name="pull"),
    path("<int:pk>/what-if/", views.slo_what_if, name="what_if"),
    path("new/<slug:slug>/", views.slo_create, name="create"),
    path("sources/new/<slug:slug>/", views.data_source_create, name="source_create"),
    path("services/new/<slug:slug>/", views.service_create, name="service_create"),
    # The registry: edits, reviews, policy, annotations (registry_views).
    path("<int:pk>/edit/", registry_views.slo_edit, name="edit"),
    path("<int:pk>/review/", registry_views.slo_review, name="review"),
    path("<int:pk>/policy/", registry_views.policy_edit, name="policy"),
    path("<int:pk>/annotations/new/", registry_views.annotation_create, name="annotation_create"),
    path(
        "annotations/<int:pk>/delete/",
        registry_views.annotation_delete,
        name="annotation_delete",
    ),
    path("due/<slug:slug>/", registry_views.due_for_review, name="due"),
    # OpenSLO in and out (openslo_views).
    path("openslo/import/<slug:slug>/", openslo_views.openslo_import, name="openslo_import"),
    path("openslo/export/<slug:slug>/", openslo_views.openslo_export, name="openslo_export"),
]
