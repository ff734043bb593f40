"""Production settings come from the environment: never a key published in the source, the settings
a TLS proxy needs, a Content-Security-Policy on every page, gunicorn serving the app and
whitenoise its static files, and `make deploy-check` clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_origins, env_proxy_ssl_header, env_secret_key
from tests.realparts import free_port

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-key-" + "q7Zp3xVb9L" * 6,
    "ALLOWED_HOSTS": "portal.example,127.0.0.1",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
names = ["DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
         "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
         "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def environment(**variables: str) -> dict[str, str]:
    """This process's environment without any production variable, plus `variables`, on
    an in-memory database (nothing here reads or writes one). The browser tests' switch
    for async safety goes too: `check --deploy` rightly refuses it."""
    dropped = {"STATIC_ROOT", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in PRODUCTION and name not in dropped
    }
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", DATABASE_URL="sqlite://")
    env.update(variables)
    return env


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=REPO, env=environment(**variables), capture_output=True, text=True, timeout=120
    )


def settings_in_a_new_process(**variables: str) -> dict:
    done = run([sys.executable, "-c", PRINT_SETTINGS], **variables)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# The secret key


def test_debug_false_without_a_secret_key_refuses_to_start():
    done = run([sys.executable, "-c", "import django; django.setup()"], DEBUG="false")
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is false" in done.stderr

    done = run([sys.executable, "manage.py", "check"], DEBUG="false", SECRET_KEY="  ")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in done.stderr


def test_the_embedded_default_starts_on_a_key_of_its_own_and_check_deploy_flags_it():
    key = settings_in_a_new_process()["SECRET_KEY"]
    assert len(key) >= 50
    assert key not in (REPO / "portal" / "settings.py").read_text()
    assert key == settings_in_a_new_process()["SECRET_KEY"]  # kept, so sessions survive
    assert settings_in_a_new_process(DEBUG="true")["DEBUG"] is True

    done = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert done.returncode != 0
    assert "portal.W001" in done.stderr


def test_secret_key_reader(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    made = env_secret_key("PORTAL_TEST_UNSET", required=False, key_file=key_file)
    assert len(made) >= 50
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert env_secret_key("PORTAL_TEST_UNSET", required=False, key_file=key_file) == made
    assert [path.name for path in tmp_path.iterdir()] == ["key"]  # nothing left aside
    other = tmp_path / "other"
    assert env_secret_key("PORTAL_TEST_UNSET", required=False, key_file=other) != made
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_UNSET must be set"):
        env_secret_key("PORTAL_TEST_UNSET", required=True, key_file=key_file)
    monkeypatch.setenv("PORTAL_TEST_SET", "from-the-environment")
    assert env_secret_key("PORTAL_TEST_SET", required=True, key_file=key_file) == (
        "from-the-environment"
    )
    with pytest.raises(ImproperlyConfigured, match="no key could be kept"):
        env_secret_key("PORTAL_TEST_UNSET", required=False, key_file=tmp_path / "no" / "key")


def test_the_settings_take_the_production_variables():
    values = settings_in_a_new_process(**PRODUCTION)
    assert values == {
        "DEBUG": False,
        "SECRET_KEY": PRODUCTION["SECRET_KEY"],
        "ALLOWED_HOSTS": ["portal.example", "127.0.0.1"],
        "CSRF_TRUSTED_ORIGINS": ["https://portal.example"],
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
    }


def test_unset_they_keep_plain_http_working():
    values = settings_in_a_new_process()
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CSRF_TRUSTED_ORIGINS"] == []
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be at least 0"),
        ("CSRF_TRUSTED_ORIGINS", "portal.example", "CSRF_TRUSTED_ORIGINS must list origins"),
        ("CSRF_TRUSTED_ORIGINS", "https://portal.example/app", "must list origins"),
        ("SECURE_PROXY_SSL_HEADER", "https", "SECURE_PROXY_SSL_HEADER must be a header"),
        ("SECURE_PROXY_SSL_HEADER", "X Forwarded: https", "must be a header"),
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto:", "must be a header"),
        ("SESSION_COOKIE_SECURE", "yes please", "SESSION_COOKIE_SECURE must be true or false"),
    ],
)
def test_bad_values_fail_loudly(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    readers = {
        "SECURE_HSTS_SECONDS": lambda: env_int(name, 0),
        "CSRF_TRUSTED_ORIGINS": lambda: env_origins(name),
        "SECURE_PROXY_SSL_HEADER": lambda: env_proxy_ssl_header(name),
        "SESSION_COOKIE_SECURE": lambda: env_bool(name, False),
    }
    with pytest.raises(ImproperlyConfigured, match=message):
        readers[name]()


def test_a_bad_value_stops_start_up_naming_the_variable():
    done = run([sys.executable, "manage.py", "check"], SECURE_HSTS_SECONDS="forever")
    assert done.returncode != 0
    assert "SECURE_HSTS_SECONDS must be a whole number (got 'forever')" in done.stderr


def test_origins_reader_drops_a_trailing_slash(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_ORIGINS", "https://portal.example/, https://*.example.org")
    assert env_origins("PORTAL_TEST_ORIGINS") == ["https://portal.example", "https://*.example.org"]


def test_proxy_header_reader(monkeypatch):
    assert env_proxy_ssl_header("PORTAL_TEST_UNSET") is None
    monkeypatch.setenv("PORTAL_TEST_PROXY", " x-forwarded-proto : https ")
    assert env_proxy_ssl_header("PORTAL_TEST_PROXY") == ("HTTP_X_FORWARDED_PROTO", "https")


# The Content-Security-Policy


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


# Served by gunicorn behind a TLS proxy, static files by whitenoise


@pytest.fixture
def gunicorn(tmp_path):
    """`gunicorn portal.wsgi` as the README runs it, after collectstatic, with the
    production variables; answers on a loopback port a proxy would forward to."""
    static_root = str(tmp_path / "static")
    collected = run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        **PRODUCTION,
        STATIC_ROOT=static_root,
    )
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    binary = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(binary), "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=REPO,
        env=environment(**PRODUCTION, STATIC_ROOT=static_root),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                httpx.get(base + "/static/js/charts.js", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_behind_an_https_proxy(gunicorn):
    proxied = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=gunicorn) as http:
        # Plain HTTP is sent to HTTPS.
        plain = http.get("/accounts/login/", headers={"Host": "portal.example"})
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://portal.example/accounts/login/"

        page = http.get("/accounts/login/", headers=proxied)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        cookie = page.headers["Set-Cookie"]
        assert "csrftoken=" in cookie and "Secure" in cookie
        token = page.cookies["csrftoken"]
        # httpx keeps a Secure cookie off plain HTTP, as a browser would; the proxy's leg is.
        with_token = {"X-CSRFToken": token, "Cookie": f"csrftoken={token}"}

        # A POST the browser sent to https://portal.example, which the proxy forwarded to
        # the app on 127.0.0.1: its Origin is trusted, so the CSRF check passes and the
        # login form answers (a wrong password), not a 403.
        answer = http.post(
            "/accounts/login/",
            headers={**proxied, **with_token, "Origin": "https://portal.example"},
            data={"username": "", "password": ""},
        )
        assert answer.status_code == 200, answer.text[:500]
        forged = http.post(
            "/accounts/login/",
            headers={**proxied, **with_token, "Origin": "https://evil.example"},
            data={"username": "", "password": ""},
        )
        assert forged.status_code == 403

        # Static files come from the collected copy, gzipped, with no Django view behind.
        script = http.get("/static/js/charts.js", headers={**proxied, "Accept-Encoding": "gzip"})
        assert script.status_code == 200
        assert script.headers["Content-Encoding"] == "gzip"
        assert "Plotly.newPlot" in script.text


# make deploy-check


def test_make_deploy_check_passes_with_the_documented_production_variables():
    # -o: the venv is there already; this checks the settings, not the install.
    done = run(["make", "--no-print-directory", "-o", ".venv/.installed", "deploy-check"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
