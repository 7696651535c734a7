"""Iterating a query reads it page by page: as many statements as pages, each bounded by the page
size, and stopping early reads no further (issue 20). Statements are counted by a spy on the
session's one statement runner, which the real server still answers."""

import pytest

import pipejoint as dj
from pipejoint.query import fetch as fetch_module

PAGE = 50


@pytest.fixture
def statements(connection, monkeypatch):
    """Every SELECT the connection runs, as (sql, rows the cursor handed back)."""
    seen = []
    run = connection._execute

    def counting(sql, args, reconnect, keep):
        cursor = run(sql, args, reconnect, keep)
        if not sql.lstrip().upper().startswith("SELECT"):
            return cursor
        entry = [sql, 0]
        seen.append(entry)
        return _Counted(cursor, entry)

    monkeypatch.setattr(connection, "_execute", counting)
    monkeypatch.setattr(fetch_module, "PAGE", PAGE)
    return seen


class _Counted:
    """A cursor that adds the rows it returns to its statement's entry."""

    def __init__(self, cursor, entry):
        self._cursor = cursor
        self._entry = entry

    def fetchall(self):
        rows = self._cursor.fetchall()
        self._entry[1] += len(rows)
        return rows

    def fetchmany(self, size):
        rows = self._cursor.fetchmany(size)
        self._entry[1] += len(rows)
        return rows

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@pytest.fixture
def reading(make_schema):
    schema = make_schema()

    @schema
    class Reading(dj.Manual):
        definition = """
        group_id : int16
        seq : int32
        ---
        b : int16
        label : varchar(16)
        """

    # 2,000 rows in 4 groups; "b < 5" keeps every 20th row of each group: 100 rows
    Reading.insert({"group_id": i // 500, "seq": i % 500, "b": i % 100, "label": f"r{i}"} for i in range(2000))
    return Reading


def test_iterating_a_restricted_query_reads_one_page_per_statement(reading, statements):
    query = reading & "b < 5"
    expected = [(r["group_id"], r["seq"]) for r in query.to_dicts(order_by="KEY")]
    assert len(expected) == 100
    statements.clear()
    seen = [(r["group_id"], r["seq"]) for r in query]
    assert seen == expected  # every row once, in key order, across the groups of the key
    # 100 matching rows in pages of 50: two full pages and an empty one that ends the loop
    assert len(statements) == 3
    assert [rows for _, rows in statements] == [PAGE, PAGE, 0]
    assert all(f"LIMIT {PAGE}" in sql for sql, _ in statements)  # no statement asks for everything


def test_stopping_early_reads_only_the_first_page(reading, statements):
    query = reading & "b < 5"
    rows = iter(query)
    first = [next(rows) for _ in range(3)]
    rows.close()
    assert [(r["group_id"], r["seq"]) for r in first] == [(0, 0), (0, 1), (0, 2)]
    assert len(statements) == 1 and statements[0][1] == PAGE  # one page of 50 read, not 100 or 2,000


def test_statements_grow_with_the_pages_read(reading, statements):
    """The whole table (2,000 rows) takes 2,000 / 50 + 1 statements; a tenth of it a tenth as many."""
    assert sum(1 for _ in reading) == 2000
    assert len(statements) == 2000 // PAGE + 1 and max(rows for _, rows in statements) == PAGE
    statements.clear()
    assert sum(1 for _ in reading & "seq < 50") == 200
    assert len(statements) == 200 // PAGE + 1


def test_other_queries_run_inside_the_loop(reading, statements):
    """The connection stays free between pages: reads and writes inside the loop work."""
    seen = 0
    for row in reading & "b < 5" & {"group_id": 1}:
        assert (reading & row).fetch1("label") == row["label"]
        (reading & row).delete_quick()
        seen += 1
    assert seen == 25 and len(reading & "b < 5") == 75
