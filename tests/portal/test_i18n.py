"""Japanese (#17): every message translated, and the language a person chose.

The catalogue is locale/ja/LC_MESSAGES/django.po, refreshed with
    python manage.py makemessages -l ja --ignore=tests/* --ignore=bench/* \
        --ignore=staticfiles/* --ignore=static/vendor/*
and compiled by `make install`. The first test runs that same extraction on a copy of the
sources, merged into a copy of the committed catalogue, so a string marked anywhere
without a Japanese translation fails it, named with its file and line.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from portal.env import env_choice
from portal.language import SESSION_KEY, user_language_set
from portal.models import UserPreference
from slos.notifications.delivery import SlackNotice, slack_digest
from tests.conftest import client_for
from tests.realparts import executable, require

ROOT = Path(django_settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the apps' code and templates, and the scripts the pages load.
SOURCES = ("portal", "slos", "retros", "toil", "templates", "static/js", "static/retros")
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "vendor")


@pytest.fixture
def gettext_tools():
    """makemessages and msgfmt are GNU gettext's (Debian package gettext)."""
    require(executable("msgfmt") and executable("xgettext"), "GNU gettext (msgfmt, xgettext)")


def _entries(po: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr(s), flags, locations."""
    entries, entry, field = [], None, None
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#~"):
            continue
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry = None
            continue
        entry = entry if entry is not None else {"flags": "", "where": [], "msgstr": []}
        if line.startswith("#,"):
            entry["flags"] += line[2:]
        elif line.startswith("#:"):
            entry["where"] += line[2:].split()
        elif line.startswith("#"):
            continue
        elif match := re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line):
            field = match.group(1)
            value = ast.literal_eval(match.group(2))
            if field.startswith("msgstr"):
                entry["msgstr"].append(value)
            else:
                entry[field] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field.startswith("msgstr"):
                entry["msgstr"][-1] += value
            else:
                entry[field] += value
    return entries


def _untranslated(entries: list[dict]) -> list[str]:
    return [
        f"{entry['msgid']!r} ({', '.join(entry['where']) or 'no location'})"
        + (" [fuzzy]" if "fuzzy" in entry["flags"] else "")
        for entry in entries
        if entry["msgid"]
        and ("fuzzy" in entry["flags"] or not all(entry["msgstr"]) or not entry["msgstr"])
    ]


def test_every_message_has_a_japanese_translation(gettext_tools, tmp_path, settings, monkeypatch):
    for source in SOURCES:
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, tmp_path / source, ignore=LEFT_OUT)
    (tmp_path / "locale" / "ja" / "LC_MESSAGES").mkdir(parents=True)
    extracted = tmp_path / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    shutil.copy(CATALOGUE, extracted)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["ja"], verbosity=0, no_obsolete=True)

    missing = _untranslated(_entries(extracted))
    if missing:
        pytest.fail(
            f"{len(missing)} message(s) without a Japanese translation in "
            "locale/ja/LC_MESSAGES/django.po (run makemessages, then translate):\n"
            + "\n".join(missing),
            pytrace=False,
        )


def test_the_committed_catalogue_is_complete_and_compiles_cleanly(gettext_tools):
    entries = _entries(CATALOGUE)
    assert len(entries) > 1000
    assert not _untranslated(entries)
    header = next(entry for entry in entries if entry["msgid"] == "")["msgstr"][0]
    assert "Language: ja\n" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    # --check: the placeholders (%(name)s, {name}) of each translation match its msgid's.
    checked = subprocess.run(
        ["msgfmt", "--check", "--output-file=/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_translation_functions_keep_names_makemessages_knows():
    """xgettext finds only `_`, gettext, gettext_lazy, ngettext…: a string passed to
    `gettext_lazy as _lazy` is never extracted, so no test could see it untranslated."""
    renamed = []
    for app in ("portal", "slos", "retros", "toil"):
        for path in sorted((ROOT / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                    renamed += [
                        f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name} as {alias.asname}"
                        for alias in node.names
                        if alias.asname not in (None, "_")
                    ]
    assert not renamed, "\n".join(renamed)


@pytest.fixture
def japanese(gettext_tools, tmp_path_factory, settings):
    """The committed catalogue compiled afresh, so these tests read the .po as it is."""
    locale = tmp_path_factory.mktemp("locale")
    compiled = locale / "ja" / "LC_MESSAGES"
    compiled.mkdir(parents=True)
    subprocess.run(
        ["msgfmt", "--output-file", str(compiled / "django.mo"), str(CATALOGUE)], check=True
    )
    settings.LOCALE_PATHS = [locale]


def _teams_page(client, accept_language: str = "") -> str:
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client.get(reverse("team_list"), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_browsers_language_is_the_default(japanese, client, teammate):
    client_for(client, teammate)
    assert "あなたのチーム" in _teams_page(client, "ja,en;q=0.8")
    assert "Your teams" in _teams_page(client, "en-US,en;q=0.9")
    assert "Your teams" in _teams_page(client)


def test_the_login_page_follows_the_browser(japanese, client):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja"' in page
    assert "パスワード" in page


def test_a_saved_choice_wins_over_the_browsers_language(japanese, client, teammate):
    user_language_set(user=teammate, language="en")
    client_for(client, teammate)
    assert "Your teams" in _teams_page(client, "ja")

    user_language_set(user=teammate, language="ja")
    client.logout()
    client_for(client, teammate)
    response = client.get(reverse("team_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert "あなたのチーム" in response.content.decode()
    assert response["Content-Language"] == "ja"


def test_the_switch_saves_the_choice_and_goes_back(japanese, client, teammate):
    client_for(client, teammate)
    response = client.post(
        reverse("language_set"),
        {"language": "ja", "next": reverse("team_list")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("team_list")
    assert UserPreference.objects.get(user=teammate).language == "ja"
    assert "あなたのチーム" in _teams_page(client, "en")

    # Saved for the person, not the browser: a new sign-in elsewhere has it too.
    client.logout()
    client_for(client, teammate)
    assert "あなたのチーム" in _teams_page(client, "en")


def test_choosing_the_browsers_language_again_hands_back_to_accept_language(
    japanese, client, teammate
):
    user_language_set(user=teammate, language="ja")
    client_for(client, teammate)
    client.post(reverse("language_set"), {"language": ""})
    assert UserPreference.objects.get(user=teammate).language == ""
    assert "Your teams" in _teams_page(client, "en")
    assert "あなたのチーム" in _teams_page(client, "ja")


def test_an_unknown_language_is_refused_and_changes_nothing(japanese, client, teammate):
    user_language_set(user=teammate, language="en")
    client_for(client, teammate)
    response = client.post(reverse("language_set"), {"language": "xx", "next": "/teams/"})
    assert response.status_code == 400
    assert "The portal has no language “xx”" in response.content.decode()
    assert UserPreference.objects.get(user=teammate).language == "en"
    assert SESSION_KEY not in client.session or client.session[SESSION_KEY] == "en"


def test_the_switch_goes_back_only_within_the_portal(client, teammate):
    client_for(client, teammate)
    response = client.post(
        reverse("language_set"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_switch_from_htmx_reloads_the_page(client, teammate):
    client_for(client, teammate)
    response = client.post(reverse("language_set"), {"language": "ja"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_someone_not_signed_in_can_switch_for_their_session(japanese, client, db):
    response = client.post(reverse("language_set"), {"language": "ja", "next": reverse("login")})
    assert response.status_code == 302
    assert not UserPreference.objects.exists()
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "パスワード" in page


def test_the_switch_shows_the_choice(client, teammate):
    user_language_set(user=teammate, language="ja")
    client_for(client, teammate)
    request = RequestFactory().get("/teams/")
    request.session = client.session
    request.user = teammate
    html = render_to_string("portal/language_switch.html", request=request)
    assert re.search(r'<option value="ja" lang="ja" selected>日本語</option>', html)
    assert 'name="next" value="/teams/"' in html


def test_the_portals_language_writes_what_no_page_asks_for(japanese, settings, client, db):
    """LANGUAGE_CODE is the language of Slack messages (built by the intake and the beat,
    outside anyone's page) and of a browser that names no language."""
    settings.LANGUAGE_CODE = "ja"
    translation.deactivate()
    digest = slack_digest(team_name="Kintai", day=date(2026, 11, 2), tickets=[SlackNotice("x")])
    assert digest["text"] == ":ticket: *Kintai の新しいチケット 1件* （2026年11月2日）"
    assert "パスワード" in client.get(reverse("login")).content.decode()
    assert "Password" in client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_an_unknown_portal_language_stops_start_up(monkeypatch):
    monkeypatch.setenv("LANGUAGE_CODE", "fr")
    with pytest.raises(ImproperlyConfigured, match="LANGUAGE_CODE must be one of en, ja"):
        env_choice("LANGUAGE_CODE", "en", ["en", "ja"])
