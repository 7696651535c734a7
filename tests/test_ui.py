"""The dashboard's pages and rules through Starlette's TestClient, on every backend: what each page
shows, the restriction box refusing SQL, 403 on writes without --allow-writes, 401 without the token
off loopback, and the writes themselves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from helpers import _free_port, environment_for, require_extra, schema_state

require_extra("starlette", 'pip install "pipejoint[ui]"')
require_extra("httpx", "Starlette's TestClient needs it: pip install httpx")

import httpx
from starlette.testclient import TestClient

from pipejoint.cli import build_parser
from pipejoint.ui import WRITE_ROUTES
from pipejoint.ui.server import is_loopback
from ui_pipeline import app_for, build


@pytest.fixture
def dashboard(make_schema, settings):
    """A function making (client, schema, Animal, Scan) with the app's options; connections closed after."""
    opened = []

    def make(**options):
        schema = make_schema()
        Animal, Scan = build(schema)
        app, connection = app_for(settings, schema, Scan, **options)
        opened.append((app, connection))
        return TestClient(app), schema, Animal, Scan

    yield make
    for app, connection in opened:
        app.state.dashboard.runs.wait(30)
        connection.close()


def _text(html):
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_overview_lists_tables_rows_and_progress(dashboard):
    client, schema, _, _ = dashboard()
    page = client.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert schema.database in text
    assert "Animal manual 5" in text and "animals in the study" in text
    assert "Scan computed 2" in text and "2/5" in text  # made 2 of 5, animal 3 failed, 4 and 5 left
    scan_row = re.search(r'<tr data-table="Scan">.*?</tr>', page.text, re.S).group(0)
    assert re.search(r'class="num pending">2<', scan_row) and re.search(r'class="num errors bad">1<', scan_row)


def test_diagram_colours_and_links_nodes(dashboard):
    client, schema, _, _ = dashboard()
    page = client.get(f"/schema/{schema.database}/diagram")
    assert page.status_code == 200 and "<svg" in page.text
    assert f'<a href="/schema/{schema.database}/table/Scan">' in page.text
    assert f'<a href="/schema/{schema.database}/table/Animal">' in page.text
    assert "2/5 \u27171" in page.text and "#F6C6C6" in page.text  # the note and the error colour


def test_table_page_shows_definition_rows_blobs_and_links(dashboard):
    client, schema, _, _ = dashboard()
    page = client.get(f"/schema/{schema.database}/table/Animal")
    assert page.status_code == 200
    text = _text(page.text)
    assert "as recorded at arrival" in text  # the attribute's comment, in the definition
    assert "5 matching rows" in text and "float64 (3, 4)" in text  # the blob as dtype and shape
    assert f'children:</span> <a href="/schema/{schema.database}/table/Scan">Scan</a>' in page.text
    assert "one scan per animal" in _text(client.get(f"/schema/{schema.database}/table/Scan").text)
    scan = client.get(f"/schema/{schema.database}/table/Scan")
    assert f'parents:</span> <a href="/schema/{schema.database}/table/Animal">Animal</a>' in scan.text


def test_table_page_restricts_sorts_and_pages(dashboard):
    client, schema, _, _ = dashboard()
    url = f"/schema/{schema.database}/table/Animal"
    page = client.get(url, params={"restrict": "sex='F'", "order": "animal", "desc": "1"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "3 matching rows" in text
    cells = re.findall(r"<tr><td>(\d+)</td>", page.text)
    assert cells == ["5", "3", "1"]
    bad_order = client.get(url, params={"order": "animal; DROP TABLE x"})  # not a column: primary-key order
    assert re.findall(r"<tr><td>(\d+)</td>", bad_order.text) == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    "restriction",
    ["'; DROP TABLE animal; --", "animal = 1; DROP TABLE animal", "animal IN (SELECT 1); DELETE FROM animal"],
)
def test_sql_in_the_restriction_box_is_refused_and_changes_nothing(dashboard, connection, restriction):
    client, schema, _, _ = dashboard()
    before = schema_state(connection, schema.database)
    page = client.get(f"/schema/{schema.database}/table/Animal", params={"restrict": restriction})
    assert page.status_code == 400
    assert "The restriction was refused" in _text(page.text)
    assert schema_state(connection, schema.database) == before


def test_every_write_route_is_forbidden_without_allow_writes(dashboard, connection):
    client, schema, _, _ = dashboard()
    before = schema_state(connection, schema.database)
    form_key = client.app.state.dashboard.form_key
    for route in WRITE_ROUTES:
        answer = client.post(
            route, data={"form_key": form_key, "schema": schema.database, "table": "Scan", "key": '{"animal": 3}'}
        )
        assert answer.status_code == 403, route
        assert "--allow-writes" in answer.text
    assert (
        "read-only" in client.get("/").text
        and '<form method="post"' not in client.get(f"/schema/{schema.database}/jobs").text
    )
    assert schema_state(connection, schema.database) == before


def test_a_token_is_needed_for_every_request_when_given(dashboard):
    client, schema, _, _ = dashboard(token="s3cret-token")
    for url in ("/", f"/schema/{schema.database}/diagram", f"/schema/{schema.database}/jobs", "/static/ui.js"):
        assert client.get(url).status_code == 401, url
    assert client.get("/", params={"token": "wrong"}).status_code == 401
    assert client.post(WRITE_ROUTES[0]).status_code == 401
    assert client.get("/", headers={"X-Pipejoint-Token": "s3cret-token"}).status_code == 200
    first = client.get("/", params={"token": "s3cret-token"})
    assert first.status_code == 200
    assert client.get(f"/schema/{schema.database}/jobs").status_code == 200  # the cookie carries it on


def test_a_loopback_dashboard_answers_only_loopback_host_names(dashboard):
    client, schema, _, _ = dashboard(hosts=["127.0.0.1", "localhost"])
    assert client.get("http://127.0.0.1/").status_code == 200
    assert client.get("http://attacker.example/").status_code == 400  # DNS rebinding
    assert client.post("http://attacker.example/action/populate").status_code == 400


def test_loopback_rule_of_the_command():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    args = build_parser().parse_args(["ui", "--host", "0.0.0.0", "--no-browser", "--allow-writes"])
    assert (args.host, args.port, args.no_browser, args.allow_writes) == ("0.0.0.0", 8000, True, True)


def test_jobs_page_lists_errors_and_filters(dashboard):
    client, schema, _, _ = dashboard()
    url = f"/schema/{schema.database}/jobs"
    text = _text(client.get(url).text)
    assert "ValueError: no scan file for animal 3" in text and "Traceback" in text
    assert "errors (1)" in text
    assert "errors (0)" in _text(client.get(url, params={"message": "disk full"}).text)
    assert "errors (1)" in _text(client.get(url, params={"table": "Scan", "message": "SCAN FILE"}).text)
    assert client.get(url, params={"table": "Nope"}).status_code == 400


def test_unknown_schema_and_table_answer_404(dashboard):
    client, schema, _, _ = dashboard()
    assert client.get("/schema/no_such_schema_here/diagram").status_code == 404
    page = client.get(f"/schema/{schema.database}/table/Nope")
    assert page.status_code == 404 and "Its tables: Animal, Scan" in page.text


def test_writes_clear_ignore_and_populate(dashboard, connection):
    client, schema, Animal, Scan = dashboard(allow_writes=True)
    board = client.app.state.dashboard
    form = {"form_key": board.form_key, "schema": schema.database, "table": "Scan"}
    assert client.post("/action/clear-errors", data={**form, "form_key": "forged"}).status_code == 403
    answer = client.post("/action/clear-errors", data={**form, "key": '{"animal": 3}'}, follow_redirects=False)
    assert answer.status_code == 303 and "cleared+1+error" in answer.headers["location"]
    assert len(Scan.jobs.errors) == 0

    assert client.post("/action/ignore", data={**form, "key": '{"animal": 5}'}).status_code == 200
    assert len(Scan.jobs.ignored & {"animal": 5}) == 1

    assert client.post("/action/populate", data=form).status_code == 200
    board.runs.wait(60)
    progress = client.get(f"/api/progress/{schema.database}/Scan").json()
    assert progress["run"] == {"state": "done", "made": 1, "failed": 1, "message": ""}  # 4 made, 3 fails again
    assert progress["progress"]["made"] == 3 and progress["progress"]["errors"] == 1
    assert progress["progress"]["ignored"] == 1
    refused = client.post("/action/populate", data={**form, "table": "Animal"})
    assert refused.status_code == 400 and "cannot be populated here" in refused.text


def test_the_command_off_loopback_prints_a_token_and_requires_it(make_schema, settings):
    """`pipejoint ui --host 0.0.0.0` as a user starts it: the URL with its token, 401 without it."""

    schema = make_schema()
    build(schema, populate=False)
    port = _free_port()
    command = [sys.executable, "-m", "pipejoint.cli", "ui", "--host", "0.0.0.0", "--port", str(port), "--no-browser"]
    env = {**os.environ, **environment_for(settings)}
    server = subprocess.Popen(command + ["--schema", schema.database], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        token = re.search(r"\?token=(\S+)", line).group(1)
        assert "read-only" in line
        base = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                answer = httpx.get(base, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer.status_code == 401
        shown = httpx.get(base, params={"token": token}, timeout=10)
        assert shown.status_code == 200 and "animals in the study" in shown.text
        assert httpx.post(base + "action/populate", headers={"X-Pipejoint-Token": token}).status_code == 403
    finally:
        server.terminate()
        server.wait(10)
