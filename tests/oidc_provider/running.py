"""The suite's OpenID Connect provider as a context manager, and the portal settings that
point at it. Used by tests/portal/test_oidc_login.py and tests/browser/test_oidc_login.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.realparts import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "reliability-portal"
CLIENT_SECRET = "portal-client-secret-for-tests"
PROVIDER_NAME = "Company SSO"


@contextmanager
def provider_running(*, portal_url: str, workdir: Path) -> Iterator[str]:
    """Start the provider (serve.py) with a fresh RSA key and SQLite file, the portal's
    callback registered; yield its base URL once its discovery document answers."""
    port = free_port()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env = {
        **os.environ,
        "OIDC_PROVIDER_DB": str(workdir / "provider.sqlite3"),
        "OIDC_PROVIDER_RSA_KEY": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "OIDC_PROVIDER_CLIENT_ID": CLIENT_ID,
        "OIDC_PROVIDER_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_REDIRECT_URI": f"{portal_url}/oidc/callback/",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log_path = workdir / "provider.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider.serve", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    discovery = httpx.get(f"{base}/o/.well-known/openid-configuration")
                    if discovery.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"The OIDC provider did not start:\n{log_path.read_text()}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def point_portal_at(settings, provider: str) -> None:
    """What the six OIDC_* variables and OIDC_PROVIDER_NAME set, for this provider."""
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = PROVIDER_NAME
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/o/.well-known/jwks.json"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
