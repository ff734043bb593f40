from django.urls import path

from retros import views

app_name = "retros"
urlpatterns = [
    path("", views.retro_list, name="list"),
    path("start/<slug:slug>/", views.retro_start, name="start"),
    path("<int:pk>/", views.retro_detail, name="detail"),
]
