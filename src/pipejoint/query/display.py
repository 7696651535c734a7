"""Previews of query results: text for the terminal, HTML for Jupyter.

Both read only `display.limit` rows plus a count, so they stay cheap on million-row tables.
Blobs kept in the table are decoded for those rows (at most `display.limit` values) and shown
as their type and shape (`float64 (3, 1000)`); values that live in a store, or attachments that
would be written to disk, are not fetched: their column shows the codec (`<blob@raw>`).
Floats are rounded to 6 significant digits; columns are as wide as their content.
"""

from __future__ import annotations

import datetime
import decimal
import html
import json

import numpy as np

from .fetch import to_dicts
from .relation import settings_of

TEXT_CAP = 40  # the widest a text column gets in the text preview (longer values end with …)
LINE_WIDTH = 120  # the text preview shrinks its text columns to fit this many characters
HTML_TEXT_CAP = 60  # the longest text shown in an HTML cell (the cell's tooltip has all of it)


# --- which values a preview fetches -----------------------------------------------------------
def is_fetched(attr) -> bool:
    """Whether a preview fetches this attribute: everything kept in the table except attachments,
    whose decoding writes files (values in a store are not fetched either)."""
    return attr.store is None and attr.codec in (None, "blob")


def placeholder(attr) -> str:
    """What a preview shows for an attribute it does not fetch."""
    return f"<{attr.codec}{'@' + attr.store if attr.store else ''}>"


def preview_rows(expression, limit):
    """(rows as dicts, whether there are more): the first `limit` rows by primary key."""
    heading = expression.heading
    skipped = [n for n in heading.names if not is_fetched(heading[n])]
    query = expression.proj(*[n for n in heading.names if n not in skipped]) if skipped else expression
    rows = to_dicts(query, order_by="KEY", limit=limit + 1)
    return rows[:limit], len(rows) > limit


# --- one value as text ------------------------------------------------------------------------
def format_float(value) -> str:
    """6 significant digits, no exponent for ordinary magnitudes: 1.27708, 30000.1, 1e-07."""
    return format(float(value), ".6g")


def format_value(attr, value, fetched=True) -> str:
    """A value as the previews show it: NULL, rounded floats, blobs as type and shape."""
    if not fetched:
        return placeholder(attr)
    if value is None:
        return "NULL"
    if attr.is_blob or attr.codec:
        return describe_object(value)
    return format_plain(value)


def format_plain(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return format_float(value)
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact by design: never rounded
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, (dict, list)):  # json
        return json.dumps(value, default=str)
    return str(value)


def format_datetime(value) -> str:
    """Seconds, or milliseconds when there are any (datetime(3)), without trailing zeros."""
    if not value.microsecond:
        return value.isoformat(" ", "seconds")
    if not value.microsecond % 1000:
        return value.isoformat(" ", "milliseconds")
    return value.isoformat(" ")


def describe_object(value) -> str:
    """A short description of a decoded blob: `float64 (3, 1000)`, `dict (2 keys)`, `'text'`."""
    if isinstance(value, np.ndarray):
        kind = "struct" if value.dtype.names else value.dtype.name
        if value.ndim == 0 and not value.dtype.names:
            return f"{kind} {format_plain(value.item())}"
        return f"{kind} {tuple(value.shape)}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"bytes ({len(value)})"
    if isinstance(value, dict):
        return f"dict ({len(value)} {'key' if len(value) == 1 else 'keys'})"
    if isinstance(value, (list, tuple, set)):
        return f"{type(value).__name__} ({len(value)})"
    if isinstance(value, str):
        return shorten(repr(value), TEXT_CAP)
    if isinstance(value, (int, float, complex, bool, np.generic, decimal.Decimal, datetime.date)):
        return format_plain(value)
    return type(value).__name__


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "\u2026"


def is_text(attr) -> bool:
    """Columns that may be shortened in the text preview (numbers, dates and blobs never are)."""
    return attr.string or attr.json


# --- text ---------------------------------------------------------------------------------------
def text_table(columns, rows, more, total, title=None, width=None, fit=True):
    """Columns sized to their content. `columns`: [(title, attr)], `rows`: lists of cell texts.
    Text columns are capped at `width` (default TEXT_CAP) and, when `fit`, shrink, widest first,
    until the line fits LINE_WIDTH; other columns are never cut."""
    cap = max(width if width is not None else TEXT_CAP, 4)
    widths = [max([len(t)] + [len(r[i]) for r in rows]) for i, (t, _) in enumerate(columns)]
    widths = [min(w, max(cap, len(t))) if is_text(a) else w for w, (t, a) in zip(widths, columns)]
    gap = 2
    while fit and sum(widths) + gap * (len(widths) - 1) > LINE_WIDTH:
        shrinkable = [i for i, (t, a) in enumerate(columns) if is_text(a) and widths[i] > max(len(t), 12)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    sep = " " * gap
    lines = [title] if title else []
    lines.append(sep.join(t.ljust(w) for (t, _), w in zip(columns, widths)).rstrip())
    lines.append(sep.join("-" * w for w in widths))
    for row in rows:
        lines.append(sep.join(shorten(c, w).ljust(w) for c, w in zip(row, widths)).rstrip())
    if more:
        lines.append("...")
    if total is not None:
        lines.append(f" (Total: {total})")
    return "\n".join(lines) + "\n"


def text_preview(expression, limit=None, width=None, title=None):
    """`width` given (preview(width=...)): text columns up to that wide, however long the line;
    otherwise up to TEXT_CAP (or a larger `display.width`), shrunk to fit LINE_WIDTH."""
    settings = settings_of(expression)
    limit = settings["display.limit"] if limit is None else limit
    fit = width is None
    width = max(settings["display.width"], TEXT_CAP) if width is None else width
    heading = expression.heading
    names = heading.names
    rows, more = preview_rows(expression, limit)
    columns = [(("*" if heading[n].in_key else "") + n, heading[n]) for n in names]
    cells = [[format_value(heading[n], r.get(n), n in r) for n in names] for r in rows]
    total = len(expression) if settings["display.show_tuple_count"] else None
    return text_table(columns, cells, more, total, title, width, fit)


# --- HTML ---------------------------------------------------------------------------------------
STYLE = (
    "<style>.pj-preview{max-width:100%;overflow-x:auto;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:12px}"
    ".pj-table{border-collapse:collapse;font-size:12px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif}"
    ".pj-table th,.pj-table td{padding:3px 8px;border-bottom:1px solid #e2e2e2;text-align:left;"
    "vertical-align:top;white-space:nowrap}"
    ".pj-table th{background:#f3f3f3;font-weight:600}.pj-table th.pk{background:#e3efe6}"
    ".pj-table th .pj-comment{display:block;font-weight:normal;font-size:10.5px;color:#666;"
    "white-space:normal;max-width:18em}"
    ".pj-table td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".pj-table td.blob{color:#555;font-family:monospace}.pj-table td.null{color:#999}"
    ".pj-table details summary{cursor:pointer}.pj-table pre{margin:4px 0;font-size:11px;white-space:pre-wrap;"
    "max-width:60em}.pj-title{font-weight:600;margin:4px 0}.pj-footer{margin:4px 0;color:#555}"
    "@media (prefers-color-scheme: dark){.pj-table th{background:#3a3a3a}.pj-table th.pk{background:#2f4536}"
    ".pj-table th .pj-comment{color:#aaa}.pj-table td,.pj-table th{border-color:#555}}</style>"
)


def header_cell(name, attr) -> str:
    """A column header: the name (underlined in the key), its comment below, type and comment on hover."""
    tooltip = attr.type + (f" \u2014 {attr.comment}" if attr.comment else "")
    label = f"<u>{html.escape(name)}</u>" if attr.in_key else html.escape(name)
    comment = f'<span class="pj-comment">{html.escape(attr.comment)}</span>' if attr.comment else ""
    css = ' class="pk"' if attr.in_key else ""
    return f"<th{css} title={_attr(tooltip)}>{label}{comment}</th>"


def data_cell(attr, value, fetched=True) -> str:
    text = format_value(attr, value, fetched)
    if value is None or not fetched:
        return f'<td class="{"null" if fetched else "blob"}">{html.escape(text)}</td>'
    if attr.is_blob or attr.codec:
        return f'<td class="blob">{html.escape(text)}</td>'
    css = ' class="num"' if attr.numeric and not isinstance(value, bool) else ""
    if len(text) > HTML_TEXT_CAP:
        return f"<td{css} title={_attr(text)}>{html.escape(shorten(text, HTML_TEXT_CAP))}</td>"
    return f"<td{css}>{html.escape(text)}</td>"


def _attr(text) -> str:
    return '"' + html.escape(text, quote=True) + '"'


def html_table(head, body, more, total, title=None, caption=None) -> str:
    """The preview's frame: title, a scrollable table, and the count."""
    title_html = f'<div class="pj-title">{html.escape(title)}</div>' if title else ""
    caption_html = f"<caption style='text-align:left;color:#555'>{html.escape(caption)}</caption>" if caption else ""
    count = f"Total: {total}" if total is not None else ""
    ellipsis = "\u2026 " if more else ""
    footer = f'<div class="pj-footer">{ellipsis}{count}</div>' if (more or count) else ""
    return (
        f'{STYLE}<div class="pj-preview">{title_html}<table class="pj-table">{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{footer}</div>"
    )


def html_preview(expression, limit=None, title=None):
    settings = settings_of(expression)
    limit = settings["display.limit"] if limit is None else limit
    heading = expression.heading
    names = heading.names
    rows, more = preview_rows(expression, limit)
    head = "".join(header_cell(n, heading[n]) for n in names)
    body = "".join("<tr>" + "".join(data_cell(heading[n], r.get(n), n in r) for n in names) + "</tr>" for r in rows)
    total = len(expression) if settings["display.show_tuple_count"] else None
    return html_table(head, body, more, total, title=title, caption=None if title else heading.table_comment)
