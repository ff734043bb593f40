from django.urls import path

from slos import csv_views, openslo_views, registry_views, rules_views, source_views, views
from slos.noise_views import noise_page, noise_replay
from slos.notification_views import (
    intake_sources,
    routing_policy,
    routing_rule_edit,
    routing_rule_move,
    slack_deliveries,
    slack_delivery_retry,
    ticket_decide,
    ticket_queue,
)

app_name = "slos"
urlpatterns = [
    path("", views.slo_list, name="list"),
    path("<int:pk>/", views.slo_detail, name="detail"),
    path("<int:pk>/pull/", source_views.slo_pull_now, name="pull"),
    path("<int:pk>/pull/progress/", source_views.slo_pull_progress, name="pull_progress"),
    path("<int:pk>/what-if/", views.slo_what_if, name="what_if"),
    path("new/<slug:slug>/", views.slo_create, name="create"),
    path("sources/new/<slug:slug>/", source_views.source_form, name="source_create"),
    path("sources/<int:pk>/", source_views.source_detail, name="source_detail"),
    path("sources/<slug:slug>/<int:pk>/edit/", source_views.source_form, name="source_edit"),
    path("sources/<int:pk>/pull/", source_views.source_pull_now, name="source_pull"),
    path("sources/<int:pk>/csv/", csv_views.csv_upload, name="source_csv"),
    path("sources/<int:pk>/push-token/", csv_views.push_token_rotate, name="push_token"),
    path("ingestion/", source_views.ingestion_health, name="ingestion"),
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
    path("rules/<slug:slug>/", rules_views.rules_download, name="rules"),
    path("rules/<slug:slug>/alertmanager/", rules_views.alertmanager_download, name="alertmanager"),
    # Notifications: tickets, intake sources, routing policy (notification_views).
    path("tickets/<slug:slug>/", ticket_queue, name="ticket_queue"),
    path("tickets/<int:pk>/decide/", ticket_decide, name="ticket_decide"),
    path("intake/<slug:slug>/", intake_sources, name="intake_sources"),
    path("routing/<slug:slug>/", routing_policy, name="routing_policy"),
    path("routing/<slug:slug>/<int:pk>/edit/", routing_rule_edit, name="routing_rule_edit"),
    path("routing/<slug:slug>/<int:pk>/move/", routing_rule_move, name="routing_rule_move"),
    path("deliveries/<slug:slug>/", slack_deliveries, name="slack_deliveries"),
    path(
        "deliveries/<slug:slug>/<int:pk>/retry/",
        slack_delivery_retry,
        name="slack_delivery_retry",
    ),
    path("noise/<slug:slug>/", noise_page, name="noise"),
    path("noise/<slug:slug>/replay/", noise_replay, name="noise_replay"),
]
