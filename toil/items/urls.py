from django.urls import path

from toil.items import views

urlpatterns = [
    path("", views.backlog_list, name="list"),
    path("new/<slug:slug>/", views.backlog_item_create, name="create"),
]
