"""Debian's Chromium under Playwright, and the screenshots the browser tests leave behind.

Playwright's own browser downloads are not reachable here, so we launch the system Chromium
(the Debian package ``chromium``; ``CHROMIUM_PATH`` overrides where it is).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO / "test-artifacts" / "screenshots"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
INSTALL_HINT = "install it with: apt-get install chromium (or set CHROMIUM_PATH)"

Shot = Callable[[str], Path]
"""The `shot` fixture: saves the current page under a name, returns the file."""


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def chromium_missing() -> str | None:
    """Why the browser tests cannot run, or None when Chromium is there."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    if shutil.which(path):
        return None
    return f"Chromium not found at {path}; {INSTALL_HINT}"


def safe_name(text: str) -> str:
    """A file name from a test id or a label: letters, digits, '-', '_' and '.' only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "shot"


_PROCESS_STARTED = time.time()
"""This test process's start (the module is imported at collection)."""


class Screenshots:
    """Full-page PNGs in one folder; a name may be used once per run, so none is overwritten."""

    def __init__(self, directory: Path = SCREENSHOT_DIR) -> None:
        self.directory = directory
        self._taken: set[str] = set()

    def clear(self) -> None:
        """Old PNGs would pass for this run's, so a run starts from an empty folder. Only files
        from before this process started go: under pytest-xdist another worker's shots of this
        run stay."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.png"):
            if old.stat().st_mtime < _PROCESS_STARTED:
                old.unlink(missing_ok=True)

    def take(self, page: Page, name: str) -> Path:
        file_name = safe_name(name)
        if file_name in self._taken:
            raise ValueError(f"screenshot name {file_name!r} already used in this run")
        self._taken.add(file_name)
        path = self.directory / f"{file_name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
