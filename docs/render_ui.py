"""Screenshots of `pipejoint ui` for the README: a small pipeline in a temporary SQLite file, part
populated with one failing key, served by uvicorn and photographed by Playwright with Debian's
Chromium. Run from the repository root: `python docs/render_ui.py` (writes docs/ui_*.png)."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import uvicorn
from playwright.sync_api import sync_playwright

import pipejoint as dj
from pipejoint.ui import create_app

HERE = Path(__file__).parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def pipeline(connection):
    schema = dj.Schema("lab", connection=connection)

    @schema
    class Subject(dj.Manual):
        definition = """
        # an animal in an experiment
        subject_id : uint16      # lab-wide id
        ---
        sex : enum('F', 'M', 'U')
        """

    @schema
    class Session(dj.Manual):
        definition = """
        # a recording day
        -> Subject
        session : uint8
        ---
        session_date : date
        """

    @schema
    class Recording(dj.Imported):
        definition = """
        # traces read from the acquisition files
        -> Session
        ---
        traces : longblob        # channels x samples
        """

        def make(self, key):
            if key["subject_id"] == 3:
                raise FileNotFoundError(f"no acquisition file for subject {key['subject_id']}")
            self.insert1({**key, "traces": np.random.default_rng(0).normal(size=(4, 3000))})

    @schema
    class Spikes(dj.Computed):
        definition = """
        # spike counts per recording
        -> Recording
        ---
        count : uint32
        """

        def make(self, key):
            traces = (Recording & key).fetch1("traces")
            self.insert1({**key, "count": int((traces > 2.5).sum())})

    Subject.insert([(i, "FM"[i % 2]) for i in range(1, 7)])
    Session.insert([(i, s, f"2024-05-{i + s:02d}") for i in range(1, 7) for s in (1, 2)])
    Recording.populate(reserve_jobs=True, suppress_errors=True)
    Spikes.populate(Recording & "subject_id < 4", reserve_jobs=True)
    return schema


def main():
    folder = tempfile.mkdtemp()
    database = str(Path(folder) / "lab.db")
    pipeline(dj.Connection(backend="sqlite", database_name=database))
    app = create_app(dj.Connection(backend="sqlite", database_name=database), allow_writes=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    shots = {
        "overview": "/",
        "diagram": "/schema/lab/diagram",
        "table": "/schema/lab/table/Recording?order=subject_id&desc=1",
        "jobs": "/schema/lab/jobs",
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 700})
        for name, path in shots.items():
            page.goto(base + path)
            if name == "jobs":
                page.locator("table.errors summary").first.click()
            page.screenshot(path=str(HERE / f"ui_{name}.png"), full_page=False)
            print(f"wrote docs/ui_{name}.png")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
