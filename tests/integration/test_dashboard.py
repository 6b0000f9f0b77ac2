"""The web dashboard in headless Chromium against real servers on loopback.

Each test saves screenshots of the pages it visits, into $ZORDON_SCREENSHOTS
(else the test's own folder) with a copy in /tmp/zordon-screens.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import (
    DESKTOP,
    PHONE,
    have_chromium,
    save_screenshot,
    screenshots_dir,
    set_viewport,
    start_chromium,
)
from tests.helpers import ServerProcess, wait_for_job
from tests.release_site import ReleaseSite, serve
from zordon.client import RenderServerProxy

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(
        not have_chromium(),
        reason="needs Debian's chromium and chromium-driver: setup.sh --with-browser",
    ),
]

PAGE_TIMEOUT_S = 20.0
RENDER_TIMEOUT_S = 90.0
TOKEN = "open-sesame"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshots_dir(tmp_path_factory.mktemp("screens"))


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator:
    driver = start_chromium(downloads)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser):
    """The browser at the desktop size, with no token kept from an earlier test."""
    set_viewport(browser, DESKTOP)
    yield browser
    browser.execute_script("localStorage.clear(); sessionStorage.clear();")


def visit(driver, server: ServerProcess, route: str) -> None:
    driver.get(f"{server.url}/#/{route}")


def until(driver, condition, what: str, timeout_s: float = PAGE_TIMEOUT_S):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(
        lambda d: condition(d), message=f"timed out waiting for {what}"
    )


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0] if found else None


def row_status(driver, job_id: str) -> str | None:
    row = css(driver, f'tr[data-id="{job_id}"]')
    return row.get_attribute("data-status") if row else None


def confirm(driver) -> None:
    until(driver, lambda d: css(d, "#confirm-dialog[open]"), "the confirmation")
    css(driver, "#confirm-yes").click()


def test_a_dropped_blend_renders_and_shows_its_thumbnail(
    page, server, scene_blend, screens
):
    visit(page, server, "submit")
    until(page, lambda d: css(d, "#engine option"), "the engine list")

    css(page, "#file-input").send_keys(str(scene_blend))
    until(page, lambda d: css(d, "#end-frame").get_attribute("value"), "the frames")
    assert css(page, "#start-frame").get_attribute("value") == "1"
    assert css(page, "#end-frame").get_attribute("value") == "3"
    assert "64 \u00d7 36" in css(page, "#resolution").text
    assert css(page, "#engine").get_attribute("value") == "blender"
    save_screenshot(page, screens, "submit")

    until(page, lambda d: css(d, "#submit-job").is_enabled(), "the upload")
    css(page, "#submit-job").click()
    until(page, lambda d: "#/jobs/" in d.current_url, "the job page")
    until(
        page,
        lambda d: css(d, ".title-line [data-status=completed]"),
        "the render to complete",
        RENDER_TIMEOUT_S,
    )
    until(page, lambda d: css(d, ".preview img"), "the preview")
    until(page, lambda d: css(d, ".frame-grid").get_attribute("data-done") == "3", "3")
    save_screenshot(page, screens, "job-detail")

    job_id = page.current_url.rsplit("/", 1)[-1]
    visit(page, server, "jobs")
    until(page, lambda d: css(d, f'tr[data-id="{job_id}"] .thumb-box img'), "thumb")
    save_screenshot(page, screens, "jobs")
    set_viewport(page, PHONE)
    save_screenshot(page, screens, "jobs-phone")


def test_a_running_job_is_cancelled_from_the_list(page, server, heavy_blend, screens):
    proxy = server.proxy()
    job = proxy.create_job({"name": "to cancel", "end_frame": 3}, heavy_blend)
    wait_for_job(proxy, job["id"], ("running",))

    visit(page, server, "jobs")
    until(page, lambda d: row_status(d, job["id"]) == "running", "the running row")
    css(page, f'tr[data-id="{job["id"]}"] input[type=checkbox]').click()
    css(page, ".actions button:not(.danger)").click()
    confirm(page)

    until(page, lambda d: row_status(d, job["id"]) == "cancelled", "the cancel")
    assert proxy.get_job(job["id"])["status"] == "cancelled"
    save_screenshot(page, screens, "jobs-cancelled")


def test_files_download_one_by_one_and_all_at_once(
    page, server, scene_blend, downloads, screens
):
    proxy = server.proxy()
    job = proxy.create_job({"name": "to download", "end_frame": 1}, scene_blend)
    wait_for_job(proxy, job["id"], ("completed",), RENDER_TIMEOUT_S)

    visit(page, server, f"jobs/{job['id']}")
    until(page, lambda d: css(d, "[data-file]"), "the file list")
    name = css(page, "[data-file]").get_attribute("data-file")
    css(page, "[data-file]").click()
    until(page, lambda d: (downloads / name).is_file(), "the download")
    css(page, "#download-all").click()
    until(page, lambda d: list(downloads.glob(f"*{job['id']}.zip")), "the zip")

    assert (downloads / name).read_bytes()[:4] == b"\x89PNG"


def test_the_farm_page_shows_the_second_server(page, tmp_path, screens):
    first = ServerProcess(tmp_path / "a")
    second = ServerProcess(tmp_path / "b")
    first.extra_args = ["--peer", second.url]
    second.extra_args = ["--peer", first.url]
    try:
        first.start()
        second.start()
        visit(page, first, "farm")
        card = f'.server[data-url="{second.url}"]'
        until(page, lambda d: css(d, card), "the second server")
        until(page, lambda d: "not reachable" not in css(d, card).text, "its health")
        save_screenshot(page, screens, "farm")
        visit(page, first, "engines")
        until(page, lambda d: css(d, "#engines-here tr[data-engine]"), "the engines")
        peer = f'#engines-peers .peer[data-url="{second.url}"] tr[data-engine]'
        until(page, lambda d: css(d, peer), "the second server's engines")
        save_screenshot(page, screens, "engines")
    finally:
        first.stop()
        second.stop()


def test_the_farm_token_is_asked_for_once_and_kept(
    page, tmp_path, heavy_blend, scene_blend, screens
):
    server = ServerProcess(tmp_path / "data", env={"ZORDON_FARM_TOKEN": TOKEN})
    try:
        server.start()
        proxy = RenderServerProxy(server.url, farm_token=TOKEN)
        # The heavy one keeps the runner busy, so the other stays queued.
        jobs = [
            proxy.create_job({"name": "busy", "end_frame": 3}, heavy_blend),
            proxy.create_job({"name": "queued"}, scene_blend),
        ]
        visit(page, server, "jobs")
        until(page, lambda d: css(d, "#token-dialog[open]"), "the token prompt")
        css(page, "#token-input").send_keys(TOKEN)
        save_screenshot(page, screens, "token-prompt")
        css(page, "#token-ok").click()
        until(page, lambda d: row_status(d, jobs[1]["id"]), "the list")

        for job in jobs:
            visit(page, server, f"jobs/{job['id']}")
            page.refresh()  # a new page: the token comes from the browser's storage
            until(page, lambda d: css(d, ".title-line [data-status]"), "the job")
            css(page, "#cancel-job").click()
            confirm(page)
            wait_for_job(proxy, job["id"], ("cancelled",), PAGE_TIMEOUT_S)
            assert css(page, "#token-dialog[open]") is None
    finally:
        server.stop()


def test_the_job_list_follows_changes_without_reloading(page, server, scene_blend):
    proxy = server.proxy()
    visit(page, server, "jobs")
    until(page, lambda d: css(d, "body[data-jobs-shown]"), "the list")
    page.execute_script("window.stayedHere = true;")

    job = proxy.create_job({"name": "appears live", "end_frame": 1}, scene_blend)

    until(page, lambda d: row_status(d, job["id"]) == "completed", "the job", 60)
    assert page.execute_script("return window.stayedHere") is True


def test_an_engine_version_is_downloaded_then_deleted(page, tmp_path, screens):
    site = ReleaseSite()
    site.add_blender("9.1.2")
    with serve(site) as served:
        env = {"ZORDON_BLENDER_RELEASES_URL": f"{served.url}/blender/"}
        server = ServerProcess(tmp_path / "data", env=env)
        try:
            server.start()
            visit(page, server, "engines")
            until(page, lambda d: css(d, "#download-engine option"), "the engines")
            css(page, "#download-newest").click()
            version = css(page, "#download-version")
            until(page, lambda d: version.get_attribute("value") == "9.1.2", "newest")
            css(page, "#download-start").click()
            row = '#engines-here tr[data-version="9.1.2"]'
            until(page, lambda d: css(d, f"{row} button.danger"), "the download")
            save_screenshot(page, screens, "engines-downloaded")

            css(page, f"{row} button.danger").click()
            confirm(page)
            until(page, lambda d: css(d, row) is None, "the delete")
            blender = server.proxy().get_engine("blender")
            assert "9.1.2" not in [v["version"] for v in blender["versions"]]
            assert not blender["downloads"]
        finally:
            server.stop()


DROP_FILE = """
const [name, b64] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], name));
document.querySelector("main").dispatchEvent(
  new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
"""


def test_a_file_dropped_on_any_page_opens_the_submit_page_with_it(
    page, server, scene_blend
):
    visit(page, server, "jobs")
    until(page, lambda d: css(d, "body[data-jobs-shown]"), "the list")

    encoded = base64.b64encode(scene_blend.read_bytes()).decode()
    page.execute_script(DROP_FILE, "dropped.blend", encoded)

    until(page, lambda d: d.current_url.endswith("#/submit"), "the submit page")
    until(page, lambda d: css(d, "#end-frame").get_attribute("value"), "the frames")
    assert css(page, "#end-frame").get_attribute("value") == "3"
    assert "dropped.blend" in css(page, "#dropzone").text
