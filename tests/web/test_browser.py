"""The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver`, installed by
`make browser`), driven by selenium: sign in with the token, see the ordered rows and a chart, apply a filter,
export a CSV, and keep screenshots (desktop and phone) as test artifacts.

Without Chromium the test skips, except in CI (`CI` set), where it fails. Screenshots go to
$OWNERBOT_TEST_ARTIFACTS (default: test-artifacts/ in the clone).
"""

from __future__ import annotations

import asyncio
import csv
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import RUNTIME, build_app
from bot.settings import Settings
from db import migrate
from db.models import Platform
from handlers import Invocation

from ..conftest import Clock
from ..test_cli import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "browser-dashboard-token-0123456789"
ARTIFACTS = Path(os.environ.get("OWNERBOT_TEST_ARTIFACTS", ROOT / "test-artifacts"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SEED = (
    ("U_ADMIN", "customer add Acme --tier premium"),
    ("U_ADMIN", "customer add Globex"),
    ("U_ADMIN", "customer add Initech --tier basic"),
    ("U1", "claim acme"),
    ("U2", "claim globex"),
    ("U1", "ticket open acme Typo in footer --priority low"),
    ("U2", "ticket open globex Checkout down --priority urgent"),
    ("U1", "ticket open acme Login broken --priority urgent"),
    ("U_ADMIN", "ticket open initech Export fails --priority high"),
    ("U1", "idea acme #exports a CSV export of invoices"),
)
ORDER = [3, 2, 1, 4]  # premium urgent, standard urgent, premium low, basic high


def chromium_or_skip() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    why = f"{CHROMIUM} and {CHROMEDRIVER} are needed (`make browser` installs Debian's chromium and chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {why}")
    pytest.skip(why)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The real app on a free port, served from a thread with its own loop (selenium blocks); the clock two days
    after the tickets were opened, so every one of them is past due."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'ownerbot.sqlite3'}"
    migrate.upgrade(url)
    port = free_port()
    ready, stop = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def run() -> None:
        from aiohttp import web

        os.environ["DASHBOARD_TOKEN"] = TOKEN
        clock = Clock()
        app, _ = await build_app(Settings(database_url=url, ownerbot_admins=frozenset({"U_ADMIN"})), clock=clock)
        handlers = app[RUNTIME].handlers
        for user, line in SEED:
            reply = await handlers.command(
                Invocation(platform=Platform.CONSOLE, workspace="local", user_id=user, text=line, user_name=user)
            )
            assert not reply.error, (line, reply.text)
        clock.advance(days=2)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    def main() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:  # reported to the test
            failure.append(error)
            ready.set()

    saved = os.environ.get("DASHBOARD_TOKEN")
    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    ready.wait(120)
    try:
        if failure:
            raise failure[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(60)
        if saved is None:
            os.environ.pop("DASHBOARD_TOKEN", None)
        else:
            os.environ["DASHBOARD_TOKEN"] = saved


def wait_until(check, seconds: float = 30):  # type: ignore[no-untyped-def]
    """Poll `check` until it returns something truthy (a download landing on disk)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError("gave up waiting")


def test_the_dashboard_in_a_real_browser(server: str, tmp_path: Path) -> None:
    chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get(f"{server}/dashboard")
        assert "Unauthorized" in driver.find_element(By.TAG_NAME, "body").text  # no token, no data
        driver.get(f"{server}/dashboard?token={TOKEN}")  # sets the cookie, redirects without the token
        assert "token=" not in driver.current_url
        assert driver.find_element(By.TAG_NAME, "h1").text == "The field in local"

        rows = driver.find_elements(By.CSS_SELECTOR, "#tickets tr[data-ticket]")
        assert [int(r.get_attribute("data-ticket") or 0) for r in rows] == ORDER
        first = rows[0].find_elements(By.TAG_NAME, "td")
        assert [c.text for c in first[:5]] == ["#3", "Acme", "Login broken", "premium", "urgent"]
        charts = driver.find_elements(By.CSS_SELECTOR, "#charts svg")
        assert len(charts) == 4 and all(c.is_displayed() and c.size["width"] > 100 for c in charts)
        assert "First-response service level met" in charts[0].get_attribute("outerHTML")
        driver.save_screenshot(str(ARTIFACTS / "dashboard-desktop.png"))

        Select(driver.find_element(By.ID, "filter-tier")).select_by_value("premium")
        driver.find_element(By.ID, "apply").click()
        wait_until(lambda: "tier=premium" in driver.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#tickets tr[data-ticket]")
        assert [int(r.get_attribute("data-ticket") or 0) for r in rows] == [3, 1]

        driver.find_element(By.ID, "csv-tickets").click()
        exported = wait_until(lambda: [p for p in downloads.glob("*.csv") if p.stat().st_size > 0])
        with exported[0].open(encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        assert table[0][0] == "ticket" and [int(r[0]) for r in table[1:]] == [3, 1]  # the filter carried over

        driver.set_window_size(390, 844)  # a phone
        driver.get(f"{server}/dashboard")
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0  # the page itself never scrolls sideways; wide tables scroll in their own box
        driver.save_screenshot(str(ARTIFACTS / "dashboard-phone.png"))
    finally:
        driver.quit()
    assert (ARTIFACTS / "dashboard-desktop.png").stat().st_size > 0
