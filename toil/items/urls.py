from django.urls import path

from toil.items import views

urlpatterns = [
    path("", views.backlog_list, name="list"),
    path("new/<slug:slug>/", views.backlog_item_create, name="create"),
    path("item/<int:pk>/", views.backlog_item_detail, name="item"),
    path("item/<int:pk>/edit/", views.backlog_item_edit, name="item_edit"),
    path("item/<int:pk>/status/", views.backlog_item_status, name="item_status"),
]
