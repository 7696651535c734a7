"""How job queues look in the terminal and in Jupyter: one title, the key as values, a short error.

A queue's preview shows the columns that say what happened (key, status, priority, when, how
long, where, the error) and leaves out the bookkeeping ones (connection id, version, the other
timestamps); all of them stay queryable. The error is its first line, shortened; in HTML the
whole message and the traceback unfold under it (a <details> element), so the table stays
about 1,200 px wide.
"""

from __future__ import annotations

import datetime
import html
from typing import Any

from ..query import display

SHOWN = ("status", "priority", "reserved_time", "duration", "host", "pid")  # 2.x queues
SHOWN_014 = ("table_name", "key", "status", "timestamp", "host", "pid")  # 0.14's `~jobs`
ERROR_WIDTH = 60  # characters of the error's first line in the text table
HTML_ERROR_WIDTH = 90  # and in the HTML table (the whole error unfolds under it)


def title_of(job: Any) -> str:
    """The one title of a 2.x queue: `Jobs of Score (`lab`.`__score`)`."""
    target = job.target
    return f"Jobs of {target.class_name} ({target.node_name})"


def _columns(job, legacy):
    heading = job.heading
    if legacy:
        return [n for n in SHOWN_014 if n in heading.names]
    return list(heading.primary_key) + [n for n in SHOWN if n in heading.names]


def _rows(job, names, limit):
    wanted = [n for n in names + ["error_message", "error_stack"] if n not in job.heading.primary_key]
    rows, more = display.preview_rows(job.proj(*dict.fromkeys(wanted)), limit)
    return rows, more


def _cell_text(attr, name, value):
    if name == "key" and isinstance(value, dict):  # 0.14 keeps the key as a blob of a dict
        return ", ".join(f"{k}={display.format_plain(v)}" for k, v in value.items())
    if name == "duration" and value is not None:
        return format_duration(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ", "seconds")  # when a job ran: to the second is enough here
    return display.format_value(attr, value)


def format_duration(seconds: float) -> str:
    """`0.756 ms`, `1.25 s`, `3.5 min`, `2.1 h`: three digits in a unit that suits."""
    for unit, size in (("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds * 1000:.3g} ms"


def short_error(message: str | None, width: int = ERROR_WIDTH) -> str:
    """The error's first line, shortened: `ValueError: subject 2 has a broken trace…`."""
    if not message:
        return ""
    return display.shorten(message.strip().splitlines()[0], width)


def job_text(job: Any, title: str | None = None, legacy: bool = False, limit: int | None = None) -> str:
    settings = job._connection.config
    limit = settings["display.limit"] if limit is None else limit
    heading = job.heading
    names = _columns(job, legacy)
    rows, more = _rows(job, names, limit)
    columns = [(("*" if heading[n].in_key else "") + n, heading[n]) for n in names]
    columns.append(("error_message", heading["error_message"]))
    cells = [[_cell_text(heading[n], n, r.get(n)) for n in names] + [short_error(r.get("error_message"))] for r in rows]
    total = len(job) if settings["display.show_tuple_count"] else None
    return display.text_table(columns, cells, more, total, title=title, width=ERROR_WIDTH)


def job_html(job: Any, title: str | None = None, legacy: bool = False, limit: int | None = None) -> str:
    settings = job._connection.config
    limit = settings["display.limit"] if limit is None else limit
    heading = job.heading
    names = _columns(job, legacy)
    rows, more = _rows(job, names, limit)
    head = "".join(display.header_cell(n, heading[n]) for n in names)
    head += display.header_cell("error_message", heading["error_message"])
    body = []
    for row in rows:
        cells = []
        for n in names:
            value = row.get(n)
            if value is not None and (n in ("key", "duration") or isinstance(value, datetime.datetime)):
                cells.append(f"<td>{html.escape(_cell_text(heading[n], n, row[n]))}</td>")
            else:
                cells.append(display.data_cell(heading[n], row.get(n)))
        cells.append(_error_cell(row.get("error_message"), row.get("error_stack")))
        body.append("<tr>" + "".join(cells) + "</tr>")
    total = len(job) if settings["display.show_tuple_count"] else None
    return display.html_table(head, "".join(body), more, total, title=title)


def _error_cell(message, stack):
    """The first line of the error; the traceback (which ends with the whole message) folds out
    under it, or the whole message when there is no traceback."""
    if not message:
        return "<td></td>"
    if isinstance(stack, (list, tuple)):
        stack = "".join(map(str, stack))
    full = stack.rstrip() if stack else message.strip()
    summary = html.escape(short_error(message, HTML_ERROR_WIDTH))
    return (
        f'<td style="white-space:normal;min-width:22em"><details><summary>{summary}</summary>'
        f"<pre>{html.escape(full)}</pre></details></td>"
    )


def queues_text(queues: Any) -> str:
    """`schema.jobs`: one line of counts per queue."""
    if not queues:
        return "Job queues: none (no table of this schema has used reserve_jobs yet)\n"
    columns, cells = _queue_table(queues)
    return display.text_table(columns, cells, False, None, title="Job queues")


def queues_html(queues: Any) -> str:
    if not queues:
        return "<p>Job queues: none (no table of this schema has used reserve_jobs yet)</p>"
    columns, cells = _queue_table(queues)
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if i else ""}">{html.escape(c)}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in cells
    )
    return display.html_table(head, body, False, None, title="Job queues")


def _queue_table(queues):
    from ..core.heading import Attribute
    from ..core.types import parse_type

    statuses = ("pending", "reserved", "error", "ignore", "success", "total")
    text = Attribute("table", parse_type("varchar(255)"))
    number = Attribute("n", parse_type("int64"))
    columns = [("table", text)] + [(s, number) for s in statuses]
    cells = []
    for job in queues:
        counts = job.progress()
        cells.append([f"{job.target.class_name}"] + [str(counts.get(s, 0)) for s in statuses])
    return columns, cells
