from django.urls import path

from slos.registry import edit_views, views

urlpatterns = [
    path("", views.slo_list, name="list"),
    path("<int:pk>/", views.slo_detail, name="detail"),
    path("<int:pk>/what-if/", views.slo_what_if, name="what_if"),
    path("new/<slug:slug>/", edit_views.slo_create, name="create"),
    path("services/new/<slug:slug>/", views.service_create, name="service_create"),
    path("<int:pk>/edit/", edit_views.slo_edit, name="edit"),
    path("<int:pk>/backfill/", edit_views.slo_backfill_live, name="backfill_live"),
    path("<int:pk>/review/", edit_views.slo_review, name="review"),
    path("<int:pk>/policy/", edit_views.policy_edit, name="policy"),
    path("<int:pk>/annotations/new/", edit_views.annotation_create, name="annotation_create"),
    path("annotations/<int:pk>/delete/", edit_views.annotation_delete, name="annotation_delete"),
    path("due/<slug:slug>/", edit_views.due_for_review, name="due"),
]
