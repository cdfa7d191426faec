"""The Chrome or Chromium that kaleido exports figures with, for the tests that need one."""

from __future__ import annotations

import os
import shutil

from archstat.report import figures

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def export_browser() -> str | None:
    """The browser kaleido will use (archstat's configured one first), or None when there is none."""
    figures.configure_browser()
    path = os.environ.get("BROWSER_PATH")
    if path and os.access(path, os.X_OK):
        return path
    return next(filter(None, map(shutil.which, NAMES)), None)
