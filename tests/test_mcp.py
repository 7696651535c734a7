"""`pipejoint mcp` driven as an assistant drives it: the server runs as a subprocess and the MCP
SDK's client talks to it over stdio, on a small pipeline on each backend. Every tool's answer is
checked against the database; refused expressions and writes leave the data unchanged."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import pipejoint as dj
from helpers import connect, drop_schema, environment_for, require_extra, schema_state, server_settings, unique_name

require_extra("mcp", 'pip install "pipejoint[mcp]"')

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

PIPELINE = Path(__file__).with_name("mcp_pipeline.py")
SOURCE = str(Path(__file__).resolve().parents[1] / "src")


class Client:
    """An MCP client session on its own event loop thread, so that sync tests can call the server."""

    def __init__(self, settings, schema_name, *options):
        env = {**os.environ, **environment_for(settings), "PJ_MCP_SCHEMA": schema_name}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (SOURCE, env.get("PYTHONPATH")) if p)
        args = ["-m", "pipejoint.cli", "mcp", "--module", str(PIPELINE), *options]
        self.params = StdioServerParameters(command=sys.executable, args=args, env=env)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ready = threading.Event()
        self.failure = None
        self.done = asyncio.run_coroutine_threadsafe(self._serve(), self.loop)
        if not self.ready.wait(60) or self.failure:
            raise RuntimeError(f"the MCP server did not start: {self.failure}")

    async def _serve(self):
        self.stop = asyncio.Event()
        try:
            async with stdio_client(self.params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                self.session = session
                self.ready.set()
                await self.stop.wait()
        except BaseException as error:
            self.failure = error
            self.ready.set()
            raise

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    def call(self, tool, **arguments):
        return self.run(self.session.call_tool(tool, arguments))

    def ok(self, tool, **arguments):
        result = self.call(tool, **arguments)
        assert not result.is_error, result.content[0].text
        return result

    def close(self):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.done.result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def demo(backend_connection):
    """(connection, settings, schema, classes, read-only client, the schema's state) with subjects 1-3 and their sessions,
    Stats made for subject 1 and failed (recorded in its job queue) for subject 3."""
    connection, settings = backend_connection
    from mcp_pipeline import declare

    name = unique_name("mcp")
    schema = dj.Schema(name, connection=connection)
    classes = declare(schema)
    classes["Subject"].insert([(1, "mouse", "F"), (2, "rat", "M"), (3, "mouse", "F")])
    classes["Session"].insert([(1, 1, "2026-01-10"), (1, 2, "2026-01-11"), (2, 1, "2026-01-12"), (3, 1, "2026-01-13")])
    stats = classes["Stats"]
    stats.populate(classes["Subject"] & "subject_id in (1, 3)", reserve_jobs=True, suppress_errors=True)
    client = Client(settings, name)
    before = schema_state(connection, name)
    yield connection, settings, schema, classes, client, before
    client.close()
    drop_schema(connection, name)


def test_list_schemas_and_tables(demo):
    connection, _, schema, classes, client, _ = demo
    assert schema.database in client.ok("list_schemas").structured_content["schemas"]
    result = client.ok("list_tables", schema=schema.database)
    tables = {t["name"]: t for t in result.structured_content["tables"]}
    assert list(tables) == ["Species", "Subject", "Session", "Stats", "Stats.Channel"]
    for name in ("Species", "Subject", "Session", "Stats"):
        assert tables[name]["rows"] == len(classes[name]())
    assert tables["Stats.Channel"]["rows"] == len(classes["Stats"].Channel()) == 4
    assert (tables["Subject"]["tier"], tables["Subject"]["comment"]) == ("manual", "an animal in an experiment")
    assert tables["Stats"]["progress"] == {
        "total": 4,
        "made": 2,
        "pending": 1,
        "reserved": 0,
        "errors": 1,
        "ignored": 0,
    }
    assert "Subject (manual, 3 rows) — an animal in an experiment" in result.content[0].text


def test_describe_table(demo):
    _, _, schema, classes, client, _ = demo
    data = client.ok("describe_table", table=f"{schema.database}.Subject").structured_content
    assert data["definition"] == classes["Subject"].describe(context={})
    comments = {a["name"]: a["comment"] for a in data["attributes"]}
    assert comments == {a.name: a.comment for a in classes["Subject"].heading.attributes.values()}
    assert comments["sex"] == "as recorded at arrival"
    assert data["parents"] == ["Species"] and data["children"] == ["Session"]
    stats = client.ok("describe_table", table=f"{schema.database}.Stats").structured_content
    assert stats["make_source"].lstrip().startswith("def make(self, key):")
    assert stats["children"] == ["Stats.Channel"]
    part = client.ok("describe_table", table=f"{schema.database}.Stats.Channel").structured_content
    assert part["parents"] == ["Stats"]
    missing = client.call("describe_table", table=f"{schema.database}.Nothing")
    assert missing.is_error and "has no table class 'Nothing'" in missing.content[0].text


QUERIES = [
    ("Subject & 'sex=\"F\"'", lambda c: c["Subject"] & 'sex="F"'),
    ("Session * Subject", lambda c: c["Session"] * c["Subject"]),
    ("Subject.aggr(Session, n='count(*)')", lambda c: c["Subject"].aggr(c["Session"], n="count(*)")),
    ("(Stats.Channel & {'channel': 1}).proj('count')", lambda c: (c["Stats"].Channel & {"channel": 1}).proj("count")),
    ("Subject - Stats", lambda c: c["Subject"] - c["Stats"]),
    ("dj.U('sex').aggr(Subject, n='count(*)')", lambda c: dj.U("sex").aggr(c["Subject"], n="count(*)")),
]


@pytest.mark.parametrize("expression, build", QUERIES, ids=[q for q, _ in QUERIES])
def test_query_returns_rows_count_and_sql(demo, expression, build):
    _, _, schema, classes, client, _ = demo
    result = client.ok("query", expression=expression, schema=schema.database)
    data = result.structured_content
    expected = build(classes)
    assert data["row_count"] == len(expected)
    assert data["sql"] == expected.make_sql()
    rows = expected.fetch(as_dict=True)
    key = sorted(data["columns"])
    as_text = sorted(repr([str(r[k]) for k in key]) for r in rows)
    assert sorted(repr([str(r[k]) for k in key]) for r in data["rows"]) == as_text
    assert data["sql"] in result.content[0].text


def test_query_limit_and_names_without_schema(demo):
    _, _, schema, _, client, _ = demo
    data = client.ok("query", expression=f"{schema.database}.Session", limit=2).structured_content
    assert (data["row_count"], len(data["rows"])) == (4, 2)


MALICIOUS = [
    ("Subject.delete()", "a call of .delete()"),
    ("__import__('os')", "__import__"),
    ("__import__('os').system('true')", "__import__"),
    ("Subject.__class__", "'__class__'"),
    ("Subject.connection", ".connection"),
    ("Subject.proj().delete_quick()", "delete_quick"),
    ("(Subject & {'subject_id': 1}).drop()", ".drop()"),
    ("Subject.insert1({'subject_id': 9})", ".insert1()"),
    ("[t for t in Subject]", "a comprehension"),
    ("Subject & (lambda: 1)", "a lambda"),
    ('Subject & "1=1; DELETE FROM subject"', "not a single SQL expression"),
    ("open('/etc/passwd')", "open()"),
]


def test_malicious_expressions_are_refused_and_change_nothing(demo):
    connection, _, schema, _, client, _ = demo
    before = schema_state(connection, schema.database)
    for expression, named in MALICIOUS:
        result = client.call("query", expression=expression, schema=schema.database)
        assert result.is_error, expression
        assert named in result.content[0].text, (expression, result.content[0].text)
    assert schema_state(connection, schema.database) == before


def test_diagram_and_populate_status(demo):
    _, _, schema, classes, client, _ = demo
    mermaid = client.ok("diagram", schema=schema.database).structured_content["mermaid"]
    assert mermaid == dj.Diagram(schema).make_mermaid()
    data = client.ok("populate_status", schema=schema.database).structured_content
    overview = schema.overview()
    assert data["tables"] == [{"name": "Stats", "tier": "computed", **overview.table("Stats").progress.as_dict()}]
    (error,) = data["latest_errors"]
    assert (error["table"], error["key"]) == ("Stats", {"subject_id": 3, "session": 1})
    assert "no recording for subject 3" in error["message"]


def test_resources_and_prompt(demo):
    _, _, schema, classes, client, _ = demo
    uri = f"pipejoint://schemas/{schema.database}/definitions"
    assert uri in [str(r.uri) for r in client.run(client.session.list_resources()).resources]
    text = client.run(client.session.read_resource(uri)).contents[0].text
    for name in ("Species", "Subject", "Session", "Stats"):
        assert classes[name].describe(context={}).strip() in text
    prompt = client.run(client.session.get_prompt("explain_pipeline", {"schema": schema.database}))
    assert "Explain this DataJoint pipeline" in prompt.messages[0].content.text
    assert classes["Stats"].describe(context={}).strip() in prompt.messages[0].content.text


def test_reading_changes_nothing(demo):
    """Every read tool once more, then the schema's tables (hidden ones included) are as the fixture
    left them: no job queue, log or catalog row was made by looking."""
    connection, _, schema, _, client, before = demo
    name = schema.database
    client.ok("list_tables", schema=name)
    client.ok("describe_table", table=f"{name}.Stats")
    client.ok("query", expression="Subject * Session", schema=name)
    client.ok("diagram", schema=name)
    client.ok("populate_status", schema=name)
    client.run(client.session.read_resource(f"pipejoint://schemas/{name}/definitions"))
    assert schema_state(connection, name) == before


def test_unknown_names_and_tables_say_what_to_do(demo):
    _, _, schema, _, client, _ = demo
    result = client.call("query", expression="Nothing & 'x=1'")
    assert result.is_error and "unknown name 'Nothing'" in result.content[0].text
    assert "give schema, or write schema.ClassName" in result.content[0].text
    result = client.call("list_tables", schema="no_such_schema_here")
    assert result.is_error and "There is no schema 'no_such_schema_here'" in result.content[0].text
    assert result.structured_content["error"] == "DataJointError"


def test_writes_are_refused_without_allow_writes(demo):
    connection, _, schema, _, client, _ = demo
    before = schema_state(connection, schema.database)
    for tool in ("populate", "clear_errors"):
        result = client.call(tool, table=f"{schema.database}.Stats")
        assert result.is_error and "--allow-writes" in result.content[0].text
    assert schema_state(connection, schema.database) == before


def test_populate_and_clear_errors_with_allow_writes(demo):
    connection, settings, schema, classes, _, _ = demo
    stats = classes["Stats"]
    client = Client(settings, schema.database, "--allow-writes")
    try:
        result = client.ok("populate", table=f"{schema.database}.Stats", limit=1)
        assert result.structured_content["made"] == 1
        assert len(stats()) == 3 and len(stats & {"subject_id": 2}) == 1
        assert len(schema.latest_errors(table="Stats")) == 1
        result = client.ok("clear_errors", table=f"{schema.database}.Stats")
        assert result.structured_content["cleared"] == 1
        assert schema.latest_errors(table="Stats") == []
        assert schema.overview().table("Stats").progress.errors == 0
        # the cleared key is tried again: it fails again and is recorded again
        result = client.ok("populate", table=f"{schema.database}.Stats")
        assert result.structured_content["made"] == 0
        assert [e["key"] for e in result.structured_content["errors"]] == [{"subject_id": 3, "session": 1}]
    finally:
        client.close()


def test_streamable_http(tmp_path):
    """--http serves the same tools over streamable HTTP on 127.0.0.1 (the transport does not depend
    on the backend: one SQLite database); without --module, make() is neither shown nor run."""
    from mcp.client.streamable_http import streamable_http_client

    from mcp_pipeline import declare

    settings = server_settings("sqlite", str(tmp_path))
    connection = connect(settings)
    name = unique_name("mcp")
    declare(dj.Schema(name, connection=connection))["Subject"].insert1((1, "mouse", "F"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **environment_for(settings), "PYTHONPATH": SOURCE}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipejoint.cli", "mcp", "--http", str(port), "--allow-writes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    async def talk():
        for _ in range(100):  # until the server listens
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                await asyncio.sleep(0.2)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                query = await session.call_tool("query", {"expression": "Subject", "schema": name})
                describe = await session.call_tool("describe_table", {"table": f"{name}.Stats"})
                populate = await session.call_tool("populate", {"table": f"{name}.Stats"})
                return query, describe, populate

    try:
        before = schema_state(connection, name)
        # in a thread of its own: an event loop another test left running (Playwright's) must not matter
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            query, describe, populate = thread.submit(asyncio.run, talk()).result()
        assert not query.is_error and query.structured_content["row_count"] == 1
        # no --module: the classes come from the catalog, without make()
        assert describe.structured_content["make_source"] is None
        assert "make() is not available" in describe.content[0].text and "--module" in describe.content[0].text
        assert populate.is_error and "has no make()" in populate.content[0].text
        assert schema_state(connection, name) == before
    finally:
        server.terminate()
        server.wait(30)
        connection.close()
