"""Connections: transactions, nesting, reconnects, error translation."""

import pytest

import pipejoint as dj
from helpers import open_connection
from pipejoint.errors import (
    DataJointError,
    LostConnectionError,
    MissingTableError,
    QuerySyntaxError,
    TransactionError,
)


@pytest.fixture
def counter(schema):
    @schema
    class Counter(dj.Manual):
        definition = """
        n : int32
        """

    return Counter


def test_transaction_commits(connection, counter):
    with connection.transaction:
        counter.insert1((1,))
        counter.insert1((2,))
    assert len(counter()) == 2


def test_transaction_rolls_back_on_any_exception(connection, counter):
    with pytest.raises(ZeroDivisionError):
        with connection.transaction:
            counter.insert1((1,))
            1 / 0
    assert len(counter()) == 0
    assert not connection.in_transaction


def test_nested_transaction_is_refused(connection, counter):
    with pytest.raises(TransactionError, match="nested"):
        with connection.transaction:
            counter.insert1((1,))
            with connection.transaction:
                pass
    assert len(counter()) == 0


def test_declaring_inside_a_transaction_is_refused(connection, schema):
    class Late(dj.Manual):
        definition = "x : int32"

    with connection.transaction:
        with pytest.raises(TransactionError):
            schema(Late)


def kill_session(connection, settings, tmp_path):
    """End the connection's session from the server side, as a restart or an admin would."""
    if settings["backend"] == "sqlite":
        connection._raw.close()  # a closed handle is SQLite's only way to 'lose' a connection
        return
    killer, _ = open_connection(settings["backend"], str(tmp_path))
    if settings["backend"] == "postgresql":
        pid = connection.query("SELECT pg_backend_pid()").fetchone()[0]
        killer.query("SELECT pg_terminate_backend(%s)", (pid,))
    else:
        thread_id = connection.query("SELECT CONNECTION_ID()").fetchone()[0]
        killer.query(f"KILL {int(thread_id)}")
    killer.close()


def test_reconnects_when_the_server_drops_the_connection(backend_connection, tmp_path):
    connection, settings = backend_connection
    kill_session(connection, settings, tmp_path)
    assert connection.query("SELECT 1").fetchone()[0] == 1


def test_lost_connection_inside_a_transaction_is_reported(backend_connection, tmp_path, counter):
    connection, settings = backend_connection
    if settings["backend"] == "sqlite":
        pytest.skip("an embedded SQLite file cannot be disconnected by a server; the other backends cover this")
    connection.start_transaction()
    counter.insert1((5,))
    kill_session(connection, settings, tmp_path)
    with pytest.raises(LostConnectionError, match="during a transaction"):
        counter.insert1((6,))
    assert not connection.in_transaction
    assert len(counter()) == 0  # the reconnected session sees nothing of the lost transaction


def test_driver_errors_are_translated(connection):
    with pytest.raises(QuerySyntaxError):
        connection.query("SELEC 1")
    with pytest.raises(MissingTableError):
        connection.query("SELECT * FROM no_such_table_anywhere")


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(LostConnectionError, match="Cannot connect"):
        dj.Connection("127.0.0.1", "nobody", "x", 1, backend="postgresql")
    with pytest.raises(LostConnectionError, match="Cannot connect"):
        dj.Connection("127.0.0.1", "nobody", "x", 1, backend="mysql")


def test_query_as_dict(connection):
    row = connection.query("SELECT 1 AS one, 2 AS two", as_dict=True).fetchone()
    assert row == {"one": 1, "two": 2}


def test_unknown_backend():
    with pytest.raises(DataJointError, match="choose one of"):
        dj.Connection(backend="oracle")
