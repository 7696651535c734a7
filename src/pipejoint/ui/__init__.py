"""`pipejoint ui`: a web dashboard of the pipeline (schemas, diagram with progress, tables, jobs and
errors). Needs the extra: `pip install "pipejoint[ui]"`. Uses pipejoint's public API only.

`create_app` is loaded on first use, so `pipejoint --help` works without the extra."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("create_app", "WRITE_ROUTES"):
        from . import app

        return getattr(app, name)
    raise AttributeError(name)


__all__ = ["WRITE_ROUTES", "create_app"]
