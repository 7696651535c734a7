"""Drift: a class bound to a table its definition does not describe gets one warning per table that
names each difference and the call that applies it; schema.diff() lists the drift of a schema.
Spellings of the same table are no drift."""

from __future__ import annotations

import logging

import pipejoint as dj

ORIGINAL = {
    "Subject": """
        # experimental subjects
        subject_id : int
        ---
        name = "anonymous" : varchar(40)   # given   name
        weight = 20 : double
        born = null : date
        """,
    "Session": """
        -> Subject
        session : smallint unsigned
        ---
        started = CURRENT_TIMESTAMP : datetime(3)
        """,
    "Trial": """
        -> master
        trial : int16
        ---
        outcome : enum('hit', 'miss')
        """,
}


def _declare(schema, definitions):
    """Subject, Session (with its part Trial), declared or bound on `schema`."""

    class Subject(dj.Manual):
        definition = definitions["Subject"]

    class Session(dj.Manual):
        definition = definitions["Session"]

        class Trial(dj.Part):
            definition = definitions["Trial"]

    context = {"Subject": Subject, "Session": Session}
    schema(Subject, context=context)
    schema(Session, context=context)
    return Subject, Session, context


def _drift_warnings(caplog):
    return [r.getMessage() for r in caplog.records if "differs from the definition" in r.getMessage()]


def test_the_same_table_spelled_otherwise_is_no_drift(schema, connection, caplog):
    _declare(schema, ORIGINAL)
    respelled = {
        "Subject": """
            # experimental   subjects
            subject_id : int32
            ---
            name = 'anonymous' : varchar(40)   # given name
            weight = 20.0 : float64
            born = null : date
            """,
        "Session": """
            -> Subject
            session : uint16
            ---
            started = current_timestamp(3) : datetime(3)
            """,
        "Trial": ORIGINAL["Trial"].replace("int16", "smallint"),
    }
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        _, _, context = _declare(dj.Schema(schema.database, connection=connection), respelled)
    assert _drift_warnings(caplog) == []


def test_one_warning_per_table_names_each_difference_and_the_fix(schema, connection, caplog):
    Subject, Session, _ = _declare(schema, ORIGINAL)
    Subject.insert1(dict(subject_id=1, name="Ada"))
    changed = dict(ORIGINAL)
    changed["Subject"] = """
        # experimental subjects
        subject_id : int
        ---
        name = "anonymous" : varchar(60)   # given name
        weight = 25 : double
        sex = null : enum('F', 'M')
        """
    changed["Trial"] = ORIGINAL["Trial"].replace("enum('hit', 'miss')", "enum('hit', 'miss', 'late')")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        Subject2, Session2, context = _declare(dj.Schema(schema.database, connection=connection), changed)
    warnings = _drift_warnings(caplog)
    assert len(warnings) == 2  # Subject and Session.Trial; Session itself agrees
    subject = next(w for w in warnings if "`subject`" in w)
    for words in (
        "attribute `sex` (enum('F', 'M')) is in the definition but not in the table",
        "attribute `born` (date) is in the table but not in the definition",
        "attribute `name` is varchar(60) in the definition but varchar(40) in the table",
        "attribute `weight` defaults to 25 in the definition but defaults to 20 in the table",
        "Subject.alter()",
    ):
        assert words in subject
    trial = next(w for w in warnings if "`session__trial`" in w)
    assert "outcome" in trial and "Trial.alter()" in trial
    # schema.diff() says the same, for the classes of the context
    found = schema.diff(context=context)
    assert set(found) == {Subject2.node_name, Session2.Trial.node_name}
    assert any("`sex`" in s for s in found[Subject2.node_name])
    # applying the definitions ends the drift: no warning on the next binding, nothing in diff()
    Subject2.alter(prompt=False, context=context)
    Session2.Trial.alter(prompt=False, context=context)
    assert schema.diff(context=context) == {}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipejoint"):
        _declare(dj.Schema(schema.database, connection=connection), changed)
    assert _drift_warnings(caplog) == []
    assert (Subject2 & {"subject_id": 1}).fetch1("name", "weight", "sex") == ("Ada", 20.0, None)


def test_binding_reads_nothing_more_than_the_catalog(schema, connection, caplog):
    """Comparing the definition with the table uses the heading the catalog already loaded."""
    _declare(schema, ORIGINAL)
    other = dj.Schema(schema.database, connection=connection)
    _declare(other, ORIGINAL)  # warm the catalog cache of this connection
    statements = []
    original = connection.execute

    def counting(sql, *args, **kwargs):
        statements.append(sql)
        return original(sql, *args, **kwargs)

    connection.execute = counting
    try:
        changed = dict(ORIGINAL, Subject=ORIGINAL["Subject"].replace("varchar(40)", "varchar(50)"))
        with caplog.at_level(logging.WARNING, logger="pipejoint"):
            _declare(dj.Schema(schema.database, connection=connection), changed)
    finally:
        del connection.execute
    assert len(_drift_warnings(caplog)) == 1
    catalog = ("information_schema.columns", "pragma_table_info", "pg_attribute", "sqlite_master")
    assert not [s for s in statements if any(word in s.lower() for word in catalog)]
