"""Populate started from the dashboard: one background thread a table, calling the table's own
populate() on the connection its pipeline module declared it with (not the dashboard's), so the pages
keep answering while it runs; the page polls the progress."""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    """One populate run: `state` is running, done or failed; `result` what populate() returned."""

    table: str
    state: str = "running"
    made: int = 0
    failed: int = 0
    message: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)


class Runs:
    """The populate runs of one dashboard, by full table name; one at a time per table."""

    def __init__(self, classes: dict[str, Any]) -> None:
        self.classes = classes  # {full table name: the pipeline's class, with its make()}
        self.runs: dict[str, Run] = {}
        self.lock = threading.Lock()

    def can_populate(self, full_table_name: str) -> bool:
        return full_table_name in self.classes

    def start(self, full_table_name: str, name: str) -> Run:
        with self.lock:
            run = self.runs.get(full_table_name)
            if run is not None and run.state == "running":
                return run
            run = Run(name)
            run.thread = threading.Thread(
                target=self._populate, args=(self.classes[full_table_name], run), name=f"populate {name}", daemon=True
            )
            self.runs[full_table_name] = run
            run.thread.start()
            return run

    @staticmethod
    def _populate(table: Any, run: Run) -> None:
        try:
            result = table.populate(reserve_jobs=True, suppress_errors=True)
            run.made = result["success_count"]
            run.failed = len(result["error_list"])
            run.state = "done"
        except Exception as error:  # shown on the page: the worker must not die silently
            run.message = "".join(traceback.format_exception_only(type(error), error)).strip()
            run.state = "failed"

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every run (tests, shutdown)."""
        for run in list(self.runs.values()):
            if run.thread is not None:
                run.thread.join(timeout)
