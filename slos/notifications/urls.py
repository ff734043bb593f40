from django.urls import path

from slos.notifications import views

urlpatterns = [
    path("tickets/<slug:slug>/", views.ticket_queue, name="ticket_queue"),
    path("tickets/<int:pk>/decide/", views.ticket_decide, name="ticket_decide"),
    path("intake/<slug:slug>/", views.intake_sources, name="intake_sources"),
    path("routing/<slug:slug>/", views.routing_policy, name="routing_policy"),
    path("routing/<slug:slug>/<int:pk>/edit/", views.routing_rule_edit, name="routing_rule_edit"),
    path("routing/<slug:slug>/<int:pk>/move/", views.routing_rule_move, name="routing_rule_move"),
    path(
        "routing/<slug:slug>/<int:pk>/delete/",
        views.routing_rule_delete,
        name="routing_rule_delete",
    ),
    path("deliveries/<slug:slug>/", views.slack_deliveries, name="slack_deliveries"),
    path(
        "deliveries/<slug:slug>/<int:pk>/retry/",
        views.slack_delivery_retry,
        name="slack_delivery_retry",
    ),
    path("noise/<slug:slug>/", views.noise_page, name="noise"),
    path("noise/<slug:slug>/replay/", views.noise_replay, name="noise_replay"),
]
