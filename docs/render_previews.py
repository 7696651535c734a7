"""Screenshots of what a notebook shows: a table's preview, a job queue, and a diagram with its legend.

    python docs/render_previews.py

Writes docs/preview_table.png, docs/preview_jobs.png and docs/preview_diagram.png from a small
pipeline in a temporary SQLite file. A docs script, not a runtime dependency: the HTML previews
are photographed by headless Chromium (Debian package `chromium`) and trimmed with Pillow; the
diagram is rasterized by cairosvg.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import pipejoint as dj

HERE = Path(__file__).resolve().parent
WIDTH = 1200  # the width a notebook cell gives a preview


def build(schema):
    """A small pipeline with comments, blobs, floats, a renamed foreign key and failing jobs."""

    @schema
    class Rig(dj.Lookup):
        definition = """
        # recording setups
        rig : varchar(16)          # room and bench
        """
        contents = [("B2-left",), ("B2-right",)]

    @schema
    class Mouse(dj.Manual):
        definition = """
        # mice of the study
        mouse_id : uint16          # ear tag
        ---
        weight : float64           # grams at arrival
        genotype = "" : varchar(32)
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Mouse
        session : uint8            # count per mouse
        ---
        -> Rig
        -> [nullable] Mouse.proj(cage_mate='mouse_id')   # housed with
        """

    @schema
    class Recording(dj.Imported):
        definition = """
        # voltage traces of one session
        -> Session
        ---
        traces : longblob          # volts, electrodes x samples
        rate : float32             # samples per second
        settings = null : <blob>   # amplifier settings
        """

        def make(self, key):
            rng = np.random.default_rng(key["mouse_id"] * 10 + key["session"])
            traces = rng.normal(size=(4, 3000)) if key["session"] == 1 else rng.normal(size=(16, 1500))
            self.insert1(dict(key, traces=traces, rate=29999.7, settings={"gain": 200, "filter": "300-6000 Hz"}))

    @schema
    class SpikeCount(dj.Computed):
        definition = """
        # spikes above threshold
        -> Recording
        ---
        spikes : uint32            # over all electrodes
        rate_hz : float64          # spikes per second
        """

        class Electrode(dj.Part):
            definition = """
            -> master
            electrode : uint8
            ---
            spikes : uint32
            """

        def make(self, key):
            if key["mouse_id"] == 3:
                raise ValueError(f"mouse {key['mouse_id']}: electrode 2 saturated, cannot set a threshold")
            traces, rate = (Recording & key).fetch1("traces", "rate")
            counts = (traces > 2.5).sum(axis=1)
            self.insert1(dict(key, spikes=int(counts.sum()), rate_hz=counts.sum() / (traces.shape[1] / rate)))
            self.Electrode.insert(dict(key, electrode=e, spikes=int(n)) for e, n in enumerate(counts))

    Mouse.insert([(1, 23.6180339, "wild type"), (2, 1.2770833333333, "Pvalb-Cre"), (3, 25.0, "Sst-Cre")])
    Session.insert([(m, s, "B2-left" if s == 1 else "B2-right", None) for m in (1, 2, 3) for s in (1, 2)])
    Recording.populate()
    SpikeCount.populate(reserve_jobs=True, suppress_errors=True)
    return Mouse, Recording, SpikeCount


def page(body):
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        f'<body style="margin:16px;background:#fff;max-width:{WIDTH - 32}px">{body}</body></html>'
    )


def screenshot(html, path, folder):
    """Photograph `html` in headless Chromium at a notebook's width and trim the empty margin."""
    from PIL import Image, ImageChops

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("Install Chromium to take the screenshots: apt-get install -y chromium")
    source = Path(folder) / (path.stem + ".html")
    source.write_text(page(html))
    raw = Path(folder) / (path.stem + "-raw.png")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={WIDTH},1400",
            f"--screenshot={raw}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    image = Image.open(raw).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    left, top, right, bottom = box
    image.crop((0, 0, min(right + 16, image.width), min(bottom + 16, image.height))).save(path, optimize=True)


def main():
    with tempfile.TemporaryDirectory() as folder:
        dj.config["database.name"] = str(Path(folder) / "previews.db")
        schema = dj.Schema("lab")
        Mouse, Recording, SpikeCount = build(schema)
        screenshot(Mouse()._repr_html_() + Recording()._repr_html_(), HERE / "preview_table.png", folder)
        jobs = SpikeCount.jobs._repr_html_().replace("<details>", "<details open>", 1)  # one error unfolded
        screenshot(jobs + schema.jobs._repr_html_(), HERE / "preview_jobs.png", folder)
        (HERE / "preview_diagram.png").write_bytes(dj.Diagram(schema).make_png(scale=1.5).getvalue())
        dj.conn().close()
    for name in ("preview_table.png", "preview_jobs.png", "preview_diagram.png"):
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
