"""The dashboard in a real browser (Playwright driving Debian's Chromium), on every backend: what a
person sees on each page, the restriction box, and with --allow-writes clearing an error and running
a populate to completion. One browser for the session; the server is uvicorn in a thread."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time

import pytest

from helpers import IN_CI, _free_port
from ui_pipeline import app_for, build

CHROMIUM = os.environ.get("PJ_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(message):
    if IN_CI:
        pytest.fail(message + " (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    try:
        import uvicorn  # noqa: F401
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _missing(
            f'the browser tests need playwright and the dashboard: pip install playwright "pipejoint[ui]" ({error})'
        )
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def serve(make_schema, settings, browser):
    """A function starting the dashboard on the test pipeline: (page, base URL, schema)."""
    import uvicorn

    started = []

    def start(**options):
        schema = make_schema()
        Animal, Scan = build(schema)
        app, connection = app_for(settings, schema, Scan, **options)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "the dashboard's server did not start"
        page = browser.new_page()
        page.set_default_timeout(15000)
        started.append((server, thread, app, connection, page))
        return page, f"http://127.0.0.1:{port}", schema

    yield start
    for server, thread, app, connection, page in started:
        page.close()
        server.should_exit = True
        thread.join(10)
        app.state.dashboard.runs.wait(30)
        connection.close()


def test_pages_show_the_pipeline(serve):
    page, base, schema = serve()
    page.goto(base + "/")
    scan_row = page.locator('tr[data-table="Scan"]')
    assert page.locator('tr[data-table="Animal"] .rows').inner_text() == "5"
    assert scan_row.locator(".made").inner_text() == "2/5"
    assert scan_row.locator(".errors").inner_text() == "1"
    assert scan_row.locator(".pending").inner_text() == "2"

    page.click(f"text={schema.database} >> .. >> text=diagram")
    assert page.locator("svg .badge").first.text_content() == "2/5 \u27171"
    page.locator("svg a[href$='/table/Scan']").click()
    page.wait_for_url(re.compile(r"/table/Scan$"))
    assert "one scan per animal" in page.inner_text("main")

    page.click(".links a:text-is('Animal')")  # the parent's link
    page.wait_for_url(re.compile(r"/table/Animal$"))
    assert "float64 (3, 4)" in page.inner_text("table.preview")
    page.fill("input[name=restrict]", "sex='F' AND animal > 1")
    page.click("button:has-text('apply')")
    assert "2 matching rows" in page.inner_text(".paging")
    assert page.locator("table.preview tbody tr").count() == 2
    page.fill("input[name=restrict]", "'; DROP TABLE animal; --")
    page.click("button:has-text('apply')")
    assert "The restriction was refused" in page.inner_text(".refused")

    page.goto(f"{base}/schema/{schema.database}/jobs")
    error = page.locator("table.errors td.message summary")
    assert error.inner_text() == "ValueError: no scan file for animal 3"
    assert not page.locator("table.errors pre").is_visible()  # the traceback is folded
    error.click()
    assert "Traceback" in page.locator("table.errors pre").inner_text()
    assert page.locator("form[method=post]").count() == 0  # read-only: no write buttons


def test_clear_an_error_and_populate_to_completion(serve):
    page, base, schema = serve(allow_writes=True)
    page.goto(f"{base}/schema/{schema.database}/jobs")
    page.locator("table.errors button:has-text('clear')").click()
    assert "cleared 1 error(s) of Scan" in page.inner_text(".note")
    assert "errors (0)" in page.inner_text("main")

    page.locator("form.populate button").click()
    status = page.locator("form.populate .run-status")
    status.filter(has_text="done").wait_for()
    assert status.inner_text() == "done: made 4/5, errors 1"  # animal 3 fails again
    page.reload()
    assert page.locator('tr[data-table="Scan"] .made').inner_text() == "4/5"
    assert "ValueError: no scan file for animal 3" in page.inner_text("table.errors")
