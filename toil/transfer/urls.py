from django.urls import path

from toil.transfer import views

urlpatterns = [
    path("<slug:slug>/plan.csv", views.backlog_export, name="export"),
    path("<slug:slug>/import/", views.backlog_import, name="import"),
]
