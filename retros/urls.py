from django.urls import path

from retros import views

app_name = "retros"
urlpatterns = [
    path("", views.retro_list, name="list"),
]
