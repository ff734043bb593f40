from django.urls import path

from retros import views

app_name = "retros"
urlpatterns = [
    path("", views.retro_list, name="list"),
    path("<int:pk>/", views.retro_detail, name="detail"),
    path("<int:pk>/present/", views.retro_present, name="present"),
    path("<int:pk>/follow/", views.retro_follow, name="follow"),
    path("<int:pk>/start/", views.retro_start, name="start"),
    path("<int:pk>/close/", views.retro_close, name="close"),
    path("<int:pk>/move/", views.retro_move, name="move"),
    path("<int:pk>/notes/", views.retro_note_add, name="note_add"),
    path("<int:pk>/actions/", views.retro_action_add, name="action_add"),
    path("<int:pk>/summary.md", views.retro_summary_download, name="summary"),
    path("snapshots/<int:pk>/release/", views.retro_release_decide, name="release_decide"),
    path("tickets/<int:pk>/decide/", views.retro_ticket_decide, name="ticket_decide"),
    path("reviews/<int:pk>/record/", views.retro_review_record, name="review_record"),
    path("actions/<int:pk>/review/", views.retro_action_review, name="action_review"),
    path("kudos/<slug:slug>/", views.retro_kudos, name="kudos"),
    path("trends/<slug:slug>/", views.retro_trends, name="trends"),
]
