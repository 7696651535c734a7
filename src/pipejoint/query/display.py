"""Previews of query results: text for the terminal, HTML for Jupyter.

Both read only `display.limit` rows plus a count, so they stay cheap on million-row tables.
"""

from __future__ import annotations

import html

from ..settings import config
from .fetch import to_dicts


def _preview_rows(expression, limit):
    rows = to_dicts(expression, order_by="KEY", limit=limit + 1)
    return rows[:limit], len(rows) > limit


def _cell(attr, value, width):
    if attr.is_blob or attr.codec:
        return "=BLOB=" if value is not None else "NULL"
    if value is None:
        return "NULL"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def text_preview(expression, limit=None, width=None):
    limit = config["display.limit"] if limit is None else limit
    width = config["display.width"] if width is None else width
    heading = expression.heading
    names = heading.names
    rows, more = _preview_rows(expression, limit)
    titles = [("*" if heading[n].in_key else "") + n for n in names]
    widths = [max(len(t), width) for t in titles]
    lines = ["    ".join(t.ljust(w) for t, w in zip(titles, widths))]
    lines.append("    ".join("+" + "-" * (w - 1) for w in widths))
    for row in rows:
        lines.append("    ".join(_cell(heading[n], row[n], w).ljust(w) for n, w in zip(names, widths)))
    if more:
        lines.append("   ...")
    if config["display.show_tuple_count"]:
        lines.append(f" (Total: {len(expression)})")
    return "\n".join(lines) + "\n"


def html_preview(expression, limit=None):
    limit = config["display.limit"] if limit is None else limit
    heading = expression.heading
    names = heading.names
    rows, more = _preview_rows(expression, limit)
    cells = []
    for n in names:
        attr = heading[n]
        title = html.escape(attr.type)
        label = html.escape(n)
        if attr.in_key:
            cells.append(f'<th class="pk" title="{title}"><u>{label}</u></th>')
        else:
            cells.append(f'<th title="{title}">{label}</th>')
    head = "".join(cells)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(heading[n], r[n], 60))}</td>" for n in names) + "</tr>" for r in rows
    )
    comment = html.escape(heading.table_comment or "")
    style = (
        "<style>.pj-table{border-collapse:collapse;font-size:12px}.pj-table th,.pj-table td{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:left}.pj-table th.pk{background:#eef4ee}</style>"
    )
    footer = f"<p>{'… ' if more else ''}Total: {len(expression)}</p>"
    caption = f"<caption>{comment}</caption>" if comment else ""
    return (
        f"{style}<table class='pj-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{footer}"
    )
