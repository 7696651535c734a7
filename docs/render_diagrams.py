"""Render the demo pipeline's diagram into docs/ (demo_pipeline.svg and demo_pipeline.png).

    python docs/render_diagrams.py

A docs script, not a runtime dependency: the PNG needs cairosvg (pip install cairosvg, which
uses the cairo library). The SVG needs nothing beyond pipejoint.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pipejoint as dj
from pipejoint import demo

HERE = Path(__file__).resolve().parent


def main():
    with tempfile.TemporaryDirectory() as folder:
        demo.run(database=str(Path(folder) / "demo.db"), out=lambda *args: None)
        diagram = dj.Diagram(demo.schema)
        svg_path = diagram.save(HERE / "demo_pipeline.svg")
        png = diagram.make_png(scale=2.0).getvalue()
        (HERE / "demo_pipeline.png").write_bytes(png)
        dj.conn().close()
    print(f"wrote {svg_path} and {HERE / 'demo_pipeline.png'}")


if __name__ == "__main__":
    main()
