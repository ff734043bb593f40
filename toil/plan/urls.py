from django.urls import path

from toil.plan import views

urlpatterns = [
    path("<slug:slug>/plan/", views.plan, name="plan"),
    path("<slug:slug>/plan/<int:pk>/pin/", views.pin, name="plan_pin"),
    path("<slug:slug>/plan/<int:pk>/unpin/", views.unpin, name="plan_unpin"),
    path("<slug:slug>/plan/settings/", views.settings_save, name="plan_settings"),
    path(
        "<slug:slug>/plan/settings/preview/",
        views.settings_preview,
        name="plan_settings_preview",
    ),
]
