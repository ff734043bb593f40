"""Start the suite's OpenID Connect provider: python -m tests.oidc_provider.serve PORT.

Reads OIDC_PROVIDER_DB, OIDC_PROVIDER_RSA_KEY and OIDC_PROVIDER_REDIRECT_URI from the
environment, and OIDC_PROVIDER_CLIENT_ID / _SECRET; migrates a fresh SQLite file,
registers the portal as a confidential client that needs no consent screen, creates the
people of PEOPLE, then serves until killed."""

from __future__ import annotations

import os
import sys

PEOPLE = [
    # username, password, e-mail, given name, family name
    ("ayumi", "provider-password-1", "ayumi@example.com", "Ayumi", "Sato"),
    ("owner-at-idp", "provider-password-2", "owner@example.com", "Olive", "Owner"),
]


def main(port: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username, password, email, given, family in PEOPLE:
        get_user_model().objects.create_user(
            username, email=email, password=password, first_name=given, last_name=family
        )
    Application.objects.create(
        name="Reliability Portal",
        client_id=os.environ["OIDC_PROVIDER_CLIENT_ID"],
        client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_PROVIDER_REDIRECT_URI"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
