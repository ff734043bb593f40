from django.apps import AppConfig


class ToilConfig(AppConfig):
    name = "toil"
    verbose_name = "Reliability backlog"
