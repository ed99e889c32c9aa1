"""The HTML pages in a real browser: headless Chromium driven by Selenium against a live server.

Opens the landing page, runs a process through its form, watches the job page reach 100 %, downloads a
result, dismisses a running job and opens the operator's jobs page; a screenshot of each page goes to
docs/screenshots/ (shown in docs/ogcapi.md). Needs Debian's chromium and chromium-driver
(.ci/chromium.sh); under CI=true it never skips.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import IN_CI, ROOT

SHOTS = ROOT / "docs" / "screenshots"


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser(tmp_path):
    found = _binaries()
    if found is None:
        if IN_CI:
            pytest.fail("chromium and chromium-driver are required under CI=true (.ci/chromium.sh start)")
        pytest.skip("chromium / chromedriver not installed (.ci/chromium.sh start)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--force-device-scale-factor=1", "--lang=en-US"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_page_load_timeout(30)
    driver.downloads = downloads
    yield driver
    driver.quit()


def _shot(driver, name: str) -> None:
    """The whole page (up to 2400 px high) as docs/screenshots/NAME.png."""
    import base64

    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 2400), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                             "clip": clip})
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _until(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate``; the job page refreshes itself, so an element found just before a reload is stale
    (or not there yet) and the next poll looks again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout} s")


def test_pages_in_chromium(browser, live_server):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = live_server(ogcapi={"jobs_listing": "open"})
    base = f"http://127.0.0.1:{server.port}/ogcapi/"

    # the landing page, as a browser asks for it (Accept: text/html)
    browser.get(base)
    assert browser.find_element(By.TAG_NAME, "h1").text == "PyWPS Processing Service"
    _shot(browser, "landing")
    browser.find_element(By.LINK_TEXT, "Browse the processes").click()
    assert "Processes" in browser.title
    _shot(browser, "processes")

    # run a process through its form and watch its job page reach 100 %
    browser.find_element(By.LINK_TEXT, "Sleep").click()
    field = browser.find_element(By.ID, "in-delay")
    field.clear()
    field.send_keys("3")
    _shot(browser, "process")
    browser.find_element(By.ID, "run").click()
    _until(lambda: "/jobs/" in browser.current_url)
    seen = set()

    def done() -> bool:
        try:
            seen.add(browser.find_element(By.ID, "percent").text)
            return browser.find_element(By.ID, "status").text == "successful"
        except WebDriverException:  # the page is being reloaded by its refresh
            return False

    _until(done, 30, 0.1)
    assert browser.find_element(By.ID, "percent").text == "100 %"
    assert any(p not in ("0 %", "100 %") for p in seen), seen  # it showed progress on the way
    assert browser.find_element(By.CSS_SELECTOR, "output.result-value").text == "done sleeping"
    _shot(browser, "job-succeeded")

    # a result to download: echo some text, get the file through its link
    browser.get(f"{base}processes/echo_complex")
    browser.find_element(By.ID, "in-input").send_keys("downloaded through the browser")
    Select(browser.find_element(By.ID, "in-input-type")).select_by_visible_text("text/plain")
    browser.find_element(By.ID, "run").click()
    link = _until(lambda: browser.find_elements(By.CSS_SELECTOR, "a.result-link"), 30)[0]
    href = link.get_attribute("href")
    link.click()
    def downloaded() -> list[str] | None:  # Chromium may show the final name empty before the data is in
        try:
            return [p.read_text() for p in Path(browser.downloads).iterdir()
                    if not p.name.endswith(".crdownload") and p.stat().st_size > 0]
        except OSError:  # renamed while listed
            return None

    assert _until(downloaded, 20) == ["downloaded through the browser"]
    assert requests.get(href, timeout=10).text == "downloaded through the browser"

    # dismiss a running job
    browser.get(f"{base}processes/sleep")
    field = browser.find_element(By.ID, "in-delay")
    field.clear()
    field.send_keys("120")
    browser.find_element(By.ID, "run").click()
    _until(lambda: browser.find_elements(By.ID, "status") and browser.find_element(By.ID, "status").text == "running",
           30, 0.1)
    _shot(browser, "job-running")
    browser.find_element(By.ID, "dismiss").click()
    _until(lambda: browser.find_element(By.ID, "status").text == "dismissed", 20)
    assert not browser.find_elements(By.ID, "dismiss")
    job_id = browser.current_url.split("/jobs/")[1].split("?")[0]
    status = requests.get(f"{base}jobs/{job_id}", timeout=10).json()
    assert status["status"] == "dismissed"

    # the operator's page: counts per status, queue, running time
    browser.get(f"{base}jobs")
    assert browser.find_element(By.ID, "queue").text == "0"
    assert "dismissed" in browser.page_source and "sleep" in browser.page_source
    _shot(browser, "jobs")
