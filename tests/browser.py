"""Debian's Chromium, headless, driven by Selenium through the system chromedriver."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESKTOP = (1280, 800)
PHONE = (390, 844)


def have_chromium() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def start_chromium(download_dir: Path | None = None, size: tuple[int, int] = DESKTOP):
    """A headless Chromium; Selenium Manager is never asked to fetch anything."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # The driver is named outright, so Selenium has nothing to look up; and
    # should it try, offline mode stops it from reaching any other host.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(flag)
    if download_dir is not None:
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
            },
        )
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    set_viewport(driver, size)
    return driver


def set_viewport(driver, size: tuple[int, int]) -> None:
    """Make the page itself ``size`` CSS pixels, whatever the window adds."""
    metrics = {
        "width": size[0],
        "height": size[1],
        "deviceScaleFactor": 1,
        "mobile": size[0] < DESKTOP[0] // 2,
    }
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def screenshots_dir(fallback: Path) -> Path:
    """$ZORDON_SCREENSHOTS if set, else ``fallback``; made if missing."""
    folder = Path(os.environ.get("ZORDON_SCREENSHOTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(driver, folder: Path, name: str) -> Path:
    """Save a PNG of the page into ``folder``, and a copy in /tmp/zordon-screens."""
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    spare = Path("/tmp/zordon-screens")
    spare.mkdir(exist_ok=True)
    shutil.copyfile(path, spare / path.name)
    return path
