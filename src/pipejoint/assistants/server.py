"""`pipejoint mcp`: the MCP server (official `mcp` SDK, 2.x) over stdio or streamable HTTP.

Every tool runs its database work on one worker thread, so the pipeline's connection is used
from a single thread whatever the SDK's event loop does. A DataJointError (a refused expression,
a write on a read-only server, an unknown table) comes back as a tool error whose text says what
to do, and the database is unchanged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
from typing import Any

import pipejoint as dj

from .tools import Pipeline, Result

INSTRUCTIONS = """Tools to read a DataJoint pipeline (pipejoint): list_schemas, list_tables(schema),
describe_table("schema.ClassName"), query(expression, limit, schema) with DataJoint query expressions
over the schema's classes (e.g. `Subject & {'sex': 'F'}`, `Session * Subject`,
`Subject.aggr(Session, n='count(*)')`), diagram(schema) as Mermaid, populate_status(schema).
populate(table, limit) and clear_errors(table) change data and need a server started with --allow-writes."""


def _sdk() -> Any:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError:
        raise dj.DataJointError('pipejoint mcp needs the MCP SDK (version 2): pip install "pipejoint[mcp]"') from None
    return MCPServer


def build_server(pipeline: Pipeline) -> Any:
    """The MCP server with pipejoint's tools, resources and prompt."""
    from mcp.types import CallToolResult, TextContent

    server = _sdk()("pipejoint", instructions=INSTRUCTIONS)
    worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipejoint-mcp")

    async def run(function, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(worker, function, *args)

    async def call(function, *args: Any) -> Any:
        try:
            result: Result = await run(function, *args)
        except Exception as error:  # a DataJointError says what to do; anything else is shown as it is
            message = f"{type(error).__name__}: {error}"
            return CallToolResult(
                content=[TextContent(type="text", text=message)],
                structured_content={"error": type(error).__name__, "message": str(error)},
                is_error=True,
            )
        return CallToolResult(content=[TextContent(type="text", text=result.text)], structured_content=result.data)

    @server.tool(structured_output=False)
    async def list_schemas() -> Any:
        """The schemas in the database."""
        return await call(pipeline.list_schemas)

    @server.tool(structured_output=False)
    async def list_tables(schema: str) -> Any:
        """A schema's tables, parents first: tier, row count, comment, and populate progress of
        Imported and Computed tables."""
        return await call(pipeline.list_tables, schema)

    @server.tool(structured_output=False)
    async def describe_table(table: str) -> Any:
        """A table ("schema.ClassName", parts "schema.Master.Part"): its definition, attributes with
        comments, parents, children, and the make() source when the pipeline module is known."""
        return await call(pipeline.describe_table, table)

    @server.tool(structured_output=False)
    async def query(expression: str, limit: int = 20, schema: str | None = None) -> Any:
        """Rows of a DataJoint query expression over the schema's table classes, e.g.
        `Subject & 'sex="F"'`, `Session * Subject`, `Subject.aggr(Session, n='count(*)')`,
        `(Session & {'subject_id': 1}).proj('session_date')`, `dj.U('sex').aggr(Subject, n='count(*)')`.
        Allowed: class names (Master.Part, schema.Class), literals, & - * +, .proj .aggr .join
        .extend .restrict, dj.U dj.Top dj.AndList dj.Not. Returns up to `limit` rows, the row count
        and the SQL. `schema` picks the schema whose classes the names mean."""
        return await call(pipeline.query, expression, limit, schema)

    @server.tool(structured_output=False)
    async def diagram(schema: str) -> Any:
        """The schema's tables and dependencies as a Mermaid flowchart."""
        return await call(pipeline.diagram, schema)

    @server.tool(structured_output=False)
    async def populate_status(schema: str) -> Any:
        """Per Imported/Computed table: made, pending, reserved, errors, ignored; and the latest errors."""
        return await call(pipeline.populate_status, schema)

    @server.tool(structured_output=False)
    async def populate(table: str, limit: int | None = None) -> Any:
        """Run make() for up to `limit` missing keys of a table ("schema.ClassName"), through the jobs
        queue. Changes data: needs a server started with --allow-writes."""
        return await call(pipeline.populate, table, limit)

    @server.tool(structured_output=False)
    async def clear_errors(table: str) -> Any:
        """Delete a table's failed jobs so that populate tries their keys again. Changes data: needs a
        server started with --allow-writes."""
        return await call(pipeline.clear_errors, table)

    @server.resource(
        "pipejoint://schemas/{schema}/definitions",
        name="definitions",
        description="The definitions of a schema's tables, parents first",
        mime_type="text/markdown",
    )
    async def definitions(schema: str) -> str:
        return await run(pipeline.definitions, schema)

    for name in worker.submit(dj.list_schemas).result():  # the schemas there are now, listed as resources
        _schema_resource(server, name, run, pipeline)

    @server.prompt(name="explain_pipeline", title="Explain this pipeline")
    async def explain_pipeline(schema: str) -> str:
        """Ask the assistant to explain a schema's pipeline from its table definitions."""
        text = await run(pipeline.definitions, schema)
        return (
            f"Explain this DataJoint pipeline (schema `{schema}`) to a scientist: what each table holds, how "
            "data flows from the manual and lookup tables through the imported and computed ones, and what "
            "each computation seems to do. Use the tools (populate_status, query) if you need the data.\n\n" + text
        )

    return server


def _schema_resource(server: Any, name: str, run: Any, pipeline: Pipeline) -> None:
    async def read() -> str:
        return await run(pipeline.definitions, name)

    server.resource(
        f"pipejoint://schemas/{name}/definitions",
        name=f"{name} definitions",
        description=f"The definitions of the tables of schema {name}, parents first",
        mime_type="text/markdown",
    )(read)


def command(args: Any) -> int:
    """The `pipejoint mcp` command."""
    if args.db:
        dj.config["database.backend"] = "sqlite"
        dj.config["database.name"] = args.db
    pipeline = Pipeline(module=args.module, allow_writes=args.allow_writes)
    server = build_server(pipeline)
    if args.http is not None:
        print(f"pipejoint mcp: streamable HTTP on http://127.0.0.1:{args.http}/mcp", file=sys.stderr)
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run("stdio")
    return 0


__all__ = ["build_server", "command"]
