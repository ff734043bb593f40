from django.apps import AppConfig


class SlosConfig(AppConfig):
    name = "slos"
    verbose_name = "SLOs"

    def ready(self) -> None:
        # A malformed SLACK_WEBHOOK_ALLOWED_HOSTS stops start-up with a message naming
        # it, as the env helpers do, instead of failing each Slack post later.
        from django.conf import settings

        from slos.notifications.webhooks import SETTING, allowed_origins

        allowed_origins(getattr(settings, SETTING, []))
