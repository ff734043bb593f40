"""Copies plotly.js from the installed plotly package into static/, so the portal serves
the exact build that matches the Python figure builder, with no CDN."""

import shutil
from pathlib import Path

import plotly
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def plotly_js_source() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_js_target() -> Path:
    return Path(settings.BASE_DIR) / "static" / "vendor" / "plotly" / "plotly.min.js"


class Command(BaseCommand):
    help = "Copy plotly.min.js from the installed plotly package into static/vendor/plotly/."

    def handle(self, *args, **options) -> None:
        source, target = plotly_js_source(), plotly_js_target()
        if not source.is_file():
            raise CommandError(f"plotly.min.js not found in the plotly package at {source}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file() and target.read_bytes() == source.read_bytes():
            self.stdout.write(f"{target} is up to date")
            return
        shutil.copyfile(source, target)
        self.stdout.write(f"copied plotly.js {plotly.__version__} to {target}")
