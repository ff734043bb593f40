from django.urls import path

from toil.worklog import views

urlpatterns = [
    path("<slug:slug>/log/", views.work_log, name="worklog"),
    path("<slug:slug>/log/add/", views.work_log_add, name="worklog_add"),
    path("<slug:slug>/log/<int:pk>/delete/", views.work_log_delete, name="worklog_delete"),
]
