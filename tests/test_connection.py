"""Connections: which database they open, transactions, nesting, reconnects, error translation,
and connection.query with DataJoint's conventions."""

import json
import os

import pytest

import pipejoint as dj
from helpers import open_connection, server_settings
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


# --- which database a connection opens (no server configured: SQLite; a server: never SQLite) ---


@pytest.fixture
def fresh_process(monkeypatch, tmp_path):
    """dj.config and dj.conn() as in a process just started in an empty folder with no DJ_*
    variables; the process's own config and connection are restored afterwards."""
    from pipejoint.catalog import connection as connection_module
    from pipejoint.settings import config

    saved = config._values, config._sources, config.source_file, connection_module._connection
    for var in list(os.environ):
        if var.startswith("DJ_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / ".git").mkdir()  # the project's root: no config file above it is read
    monkeypatch.chdir(tmp_path)
    connection_module._connection = None

    def start():
        config.__init__()
        return config

    yield start
    if connection_module._connection is not None:
        connection_module._connection.close()
    config._values, config._sources, config.source_file, connection_module._connection = saved


def no_sqlite_file(folder):
    return not any(p.name.endswith((".db", ".db-wal", ".db-shm")) for p in folder.rglob("*"))


MYSQL = server_settings("mysql")
PG = server_settings("postgresql")


def mysql_or_skip():
    open_connection("mysql", ".")[0].close()  # skips (fails in CI) when the server is not reachable


def test_nothing_configured_opens_the_sqlite_file(fresh_process, tmp_path):
    fresh_process()
    connection = dj.conn()
    assert connection.backend_name == "sqlite" and (tmp_path / "pipejoint.db").exists()
    dj.config["database.name"] = str(tmp_path / "lab.db")
    assert dj.conn() is connection  # the process's connection stays until reset, as in DataJoint
    assert dj.conn(reset=True).backend.describe_target() == f"sqlite:{tmp_path / 'lab.db'}"
    assert (tmp_path / "lab.db").exists()


@pytest.mark.parametrize("how", ["DJ_HOST", "datajoint.json", "dj_local_conf.json", "dj.config"])
def test_a_configured_host_reaches_mysql(fresh_process, tmp_path, monkeypatch, how):
    mysql_or_skip()
    host = f"{MYSQL['host']}:{MYSQL['port']}"
    if how == "DJ_HOST":
        monkeypatch.setenv("DJ_HOST", host)
        monkeypatch.setenv("DJ_USER", MYSQL["user"])
        monkeypatch.setenv("DJ_PASS", MYSQL["password"])
    elif how == "dj.config":
        pass
    else:
        settings = {"database.host": host, "database.user": MYSQL["user"], "database.password": MYSQL["password"]}
        (tmp_path / how).write_text(json.dumps(settings))
    fresh_process()
    if how == "dj.config":
        dj.config["database.host"] = host
        dj.config["database.user"] = MYSQL["user"]
    connection = dj.conn()
    assert connection.backend_name == "mysql" and dj.config["database.backend"] == "mysql"
    assert connection.query("SELECT @@port").fetchone()[0] == MYSQL["port"]
    assert no_sqlite_file(tmp_path)


def test_connection_arguments_reach_mysql(fresh_process, tmp_path):
    """DataJoint's forms: dj.Connection(host, user, password) and dj.conn(host, user, password)."""
    mysql_or_skip()
    fresh_process()
    host = f"{MYSQL['host']}:{MYSQL['port']}"
    with dj.Connection(host, MYSQL["user"], MYSQL["password"]) as connection:
        assert connection.backend_name == "mysql" and connection.is_connected
        assert isinstance(connection.connection_id, int) and "@" in connection.get_user()
    assert not connection.is_connected
    first = dj.conn(host, MYSQL["user"], MYSQL["password"])
    assert first.backend_name == "mysql"
    assert (
        dj.conn() is first and dj.conn(host, MYSQL["user"], MYSQL["password"]) is first
    )  # one connection, as in DataJoint
    renewed = dj.conn(host, MYSQL["user"], MYSQL["password"], reset=True)
    assert renewed is not first and dj.conn() is renewed
    assert no_sqlite_file(tmp_path)


def test_localhost_without_a_backend_is_mysql(fresh_process, tmp_path):
    """Even "localhost" names a server: a closed port is an error naming it, never a SQLite file."""
    fresh_process()
    dj.config["database.host"] = "localhost"
    dj.config["database.port"] = 1
    with pytest.raises(LostConnectionError, match=r"MySQL at .*localhost:1.*database\.host.*set in code.*'sqlite'"):
        dj.conn()
    assert no_sqlite_file(tmp_path)


def test_unreachable_server_from_the_environment(fresh_process, tmp_path, monkeypatch):
    monkeypatch.setenv("DJ_HOST", "127.0.0.1:1")
    fresh_process()
    with pytest.raises(LostConnectionError, match=r"127\.0\.0\.1:1.*DJ_HOST.*DJ_BACKEND=sqlite"):
        dj.conn()
    with pytest.raises(LostConnectionError, match=r"127\.0\.0\.1:1"):
        dj.Connection("127.0.0.1:1", "root", "")
    assert no_sqlite_file(tmp_path)


def test_postgresql_backend_keeps_postgresql(fresh_process, tmp_path):
    open_connection("postgresql", ".")[0].close()  # skips (fails in CI) when the server is not reachable
    fresh_process()
    dj.config["database.backend"] = "postgresql"
    dj.config["database.name"] = PG["database_name"]
    connection = dj.Connection(f"{PG['host']}:{PG['port']}", PG["user"], PG["password"] or None)
    assert connection.backend_name == "postgresql" and connection.query("SELECT 1").fetchone()[0] == 1
    assert isinstance(connection.connection_id, int) and connection.get_user() == PG["user"]
    connection.close()
    assert no_sqlite_file(tmp_path)


def test_a_host_given_to_a_sqlite_configuration_is_refused(fresh_process, tmp_path):
    fresh_process()
    dj.config["database.backend"] = "sqlite"
    with pytest.raises(DataJointError, match="host.*database.backend is 'sqlite'"):
        dj.Connection("127.0.0.1:3306", "root", "")
    assert no_sqlite_file(tmp_path)


def test_init_function_runs_on_every_connection(fresh_process):
    """DataJoint 0.14's init_fun (the fifth argument) and connection.init_function."""
    mysql_or_skip()
    fresh_process()
    host = f"{MYSQL['host']}:{MYSQL['port']}"
    connection = dj.Connection(host, MYSQL["user"], MYSQL["password"], None, "SET @pj_init = 7")
    assert connection.query("SELECT @pj_init").fetchone()[0] == 7
    connection.close()
    connection.query("SELECT 1")  # reconnects
    assert connection.query("SELECT @pj_init").fetchone()[0] == 7
    connection.close()
    tls_off = dj.Connection(host, MYSQL["user"], MYSQL["password"], None, False)  # DataJoint 2.x's use_tls
    assert tls_off.settings["use_tls"] is False and tls_off.query("SELECT 1").fetchone()[0] == 1
    tls_off.close()


# --- connection.query: the user's SQL with DataJoint's %s / %% conventions, on every backend ---


@pytest.fixture
def names(schema):
    @schema
    class Name(dj.Manual):
        definition = """
        name : varchar(16)
        """

    Name.insert([("ann",), ("anna",), ("bob",), ("50%",)])
    return Name


def test_query_arguments_and_percent_signs(connection, names):
    table = names.full_table_name
    q = connection.query
    assert q("SELECT '100%%'").fetchone()[0] == "100%"  # no arguments: %% is still a literal %
    assert q("SELECT %s + %s", (2, 3)).fetchone()[0] == 5
    assert q("SELECT %(a)s * %(b)s", {"a": 4, "b": 5}).fetchone()[0] == 20
    like = f"SELECT name FROM {table} WHERE name LIKE %s ORDER BY name"
    assert [r[0] for r in q(like, ("an%",))] == ["ann", "anna"]
    literal = f"SELECT name FROM {table} WHERE name LIKE 'an%%' ORDER BY name"
    assert [r[0] for r in q(literal)] == ["ann", "anna"]
    both = f"SELECT name FROM {table} WHERE name LIKE '%%0%%' OR name = %s ORDER BY name"
    assert [r[0] for r in q(both, ("bob",))] == ["50%", "bob"]
    assert q("SELECT '100%%'", None).fetchone()[0] == "100%%"  # args=None: the text as written
    assert q(f"SELECT COUNT(*) AS n FROM {table} WHERE name <> %s", ("bob",), as_dict=True).fetchone() == {"n": 3}


def test_query_refuses_a_lone_percent_sign(connection):
    """PyMySQL refuses it, so every backend does: SQL that runs on one runs on all."""
    with pytest.raises(QuerySyntaxError, match="%% for a literal %"):
        connection.query("SELECT '100%'")
    with pytest.raises(QuerySyntaxError, match="%s for each argument"):
        connection.query("SELECT %s")
    assert connection.query("SELECT 1").fetchone()[0] == 1  # the connection is still usable


def test_query_inside_transactions(connection, names):
    table = names.full_table_name
    connection.start_transaction()
    assert connection.in_transaction
    connection.query(f"DELETE FROM {table} WHERE name = %s", ("bob",))
    connection.cancel_transaction()
    assert len(names) == 4 and not connection.in_transaction
    with connection.transaction as same:
        assert same is connection
        connection.query(f"DELETE FROM {table} WHERE name LIKE %s", ("an%",))
    assert sorted(names.fetch("name")) == ["50%", "bob"]


def test_closing_inside_a_transaction_is_reported(backend_connection, tmp_path):
    """DataJoint's rule: a connection closed inside a transaction does not silently reconnect."""
    _, settings = backend_connection
    connection, _ = open_connection(settings["backend"], str(tmp_path))
    with pytest.raises(LostConnectionError, match="during a transaction"):
        with connection.transaction:
            connection.close()
            connection.query("SELECT 1")
    assert not connection.in_transaction and connection.query("SELECT 1").fetchone()[0] == 1
    with connection.transaction:  # the loss caught inside the block: reported once, nothing to commit at its end
        connection.close()
        with pytest.raises(LostConnectionError, match="during a transaction"):
            connection.query("SELECT 1")
    assert not connection.in_transaction
    connection.close()


def test_connection_facts(connection):
    assert connection.is_connected
    connection.ping()
    assert isinstance(connection.connection_id, int) and isinstance(connection.get_user(), str)
