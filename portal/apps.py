from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Teams")

    def ready(self) -> None:
        # Registers the deploy checks, and the sign-in receiver that applies a saved language.
        from portal import checks, language  # noqa: F401
