"""The dashboard as a Starlette app: server-rendered pages (Jinja2), the diagram's own SVG, and a small
script shipped in the package; nothing is fetched from the internet.

Security: with a `token` every request must carry it (`?token=` once, then a cookie, or the
X-Pipejoint-Token header), else 401; without `allow_writes` every write route answers 403; write
forms also carry a per-start secret so that another web site cannot post them from the user's browser.
Pages are rendered in the event loop's thread, one at a time, so the one connection is never shared
between threads; a populate started here runs in its own thread on its pipeline's connection.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import pipejoint as dj

from .pages import diagram_svg, jobs_view, key_json, key_text, open_schema, overviews, queues, table_links, table_view
from .worker import Runs

HERE = Path(__file__).parent
TOKEN_COOKIE = "pipejoint_token"
WRITE_ROUTES = ("/action/clear-errors", "/action/ignore", "/action/populate")


class _Guard(BaseHTTPMiddleware):
    """401 without the token (when there is one); 403 on a write route without --allow-writes."""

    def __init__(self, app: Any, token: str | None, allow_writes: bool) -> None:
        super().__init__(app)
        self.token, self.allow_writes = token, allow_writes

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        given = request.query_params.get("token")
        if self.token is not None:
            sent = given or request.headers.get("x-pipejoint-token") or request.cookies.get(TOKEN_COOKIE) or ""
            if not secrets.compare_digest(sent.encode(), self.token.encode()):
                return PlainTextResponse(
                    "401: this dashboard needs its token: open the URL `pipejoint ui` printed at start-up.", 401
                )
        if request.url.path.startswith("/action/") and not self.allow_writes:
            return PlainTextResponse(
                "403: the dashboard is read-only; start it with --allow-writes to change data.", 403
            )
        response = await call_next(request)
        if self.token is not None and given:
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        return response


class Dashboard:
    """The pages of one dashboard on one connection."""

    def __init__(self, connection: Any, schemas: list[str] | None, allow_writes: bool, pipelines: dict[str, Any]):
        self.connection = connection
        self.schemas = schemas
        self.allow_writes = allow_writes
        self.form_key = secrets.token_urlsafe(16)
        self.runs = Runs(pipelines)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.update(allow_writes=self.allow_writes, form_key=self.form_key, key_json=key_json)
        context.setdefault("note", "")
        return HTMLResponse(self.templates.get_template(name).render(**context), status)

    def _schema(self, request: Request) -> Any:
        name = request.path_params["schema"]
        if self.schemas and name not in self.schemas:
            raise dj.DataJointError(f"The schema `{name}` is not shown by this dashboard.")
        return open_schema(self.connection, name)

    def failure(self, error: Exception, status: int = 404) -> HTMLResponse:
        return self.render("message.html", status, title="Not found", message=str(error))

    # --- pages ---
    async def overview(self, request: Request) -> Response:
        return self.render("overview.html", title="Overview", schemas=overviews(self.connection, self.schemas))

    async def diagram(self, request: Request) -> Response:
        try:
            schema = self._schema(request)
        except dj.DataJointError as error:
            return self.failure(error)
        overview = schema.overview()
        svg = diagram_svg(schema, overview) if overview.tables else ""
        return self.render("diagram.html", title=f"{schema.database} diagram", schema=schema.database, svg=svg)

    async def table(self, request: Request) -> Response:
        try:
            schema = self._schema(request)
            overview = schema.overview()
            entry = overview.table(request.path_params["table"])
        except dj.DataJointError as error:
            return self.failure(error)
        table = overview.classes[entry.name]
        query = request.query_params
        restriction, order = query.get("restrict", ""), query.get("order", "")
        descending = query.get("desc") == "1"
        view = table_view(table, restriction, order, descending, _int(query.get("page"), 1))
        status = 400 if view.message else 200

        def page_link(page: int) -> str:
            return "?" + urlencode(
                {"restrict": restriction, "order": order, "desc": "1" if descending else "", "page": page}
            )

        return self.render(
            "table.html",
            status,
            title=f"{schema.database}.{entry.name}",
            schema=schema.database,
            entry=entry,
            definition=table.describe(),
            heading=table.heading,
            view=view,
            restriction=restriction,
            order=order,
            descending=descending,
            page_link=page_link,
            parents=table_links(table.parents(as_objects=True), overview),
            children=table_links(table.children(as_objects=True), overview),
            can_populate=self.runs.can_populate(entry.full_table_name),
        )

    async def jobs(self, request: Request) -> Response:
        try:
            schema = self._schema(request)
        except dj.DataJointError as error:
            return self.failure(error)
        overview = schema.overview()
        table, message = request.query_params.get("table", ""), request.query_params.get("message", "")
        try:
            view = jobs_view(schema, overview, table, message)
        except dj.DataJointError as error:
            return self.failure(error, 400)
        populatable = [e for e in overview.tables if self.runs.can_populate(e.full_table_name)]
        return self.render(
            "jobs.html",
            title=f"{schema.database} jobs",
            schema=schema.database,
            overview=overview,
            table=table,
            message=message,
            view=view,
            populatable=populatable,
            note=request.query_params.get("note", ""),
            key_text=key_text,
        )

    async def progress(self, request: Request) -> Response:
        """JSON for the page's script: the table's progress and its populate run."""
        try:
            entry = self._schema(request).overview().table(request.path_params["table"])
        except dj.DataJointError as error:
            return JSONResponse({"error": str(error)}, 404)
        run = self.runs.runs.get(entry.full_table_name)
        return JSONResponse(
            {
                "table": entry.name,
                "rows": entry.rows,
                "progress": entry.progress.as_dict() if entry.progress else None,
                "run": None
                if run is None
                else {"state": run.state, "made": run.made, "failed": run.failed, "message": run.message},
            }
        )

    # --- writes (403 before reaching here without --allow-writes) ---
    async def _write_form(self, request: Request) -> tuple[Any, Any, dict[str, Any]]:
        form = await request.form()
        if not secrets.compare_digest(str(form.get("form_key", "")).encode(), self.form_key.encode()):
            raise PermissionError("the form is not this dashboard's (reload the page)")
        schema = open_schema(self.connection, str(form.get("schema", "")))
        if self.schemas and schema.database not in self.schemas:
            raise dj.DataJointError(f"The schema `{schema.database}` is not shown by this dashboard.")
        entry = schema.overview().table(str(form.get("table", "")))
        key = json.loads(str(form.get("key") or "{}"))
        return schema, entry, key

    def _queue(self, schema: Any, entry: Any) -> Any:
        for queue in queues(schema):
            if queue.target.table_name == entry.table_name:
                return queue
        raise dj.DataJointError(f"Table `{entry.name}` has no jobs queue.")

    async def write(self, request: Request) -> Response:
        action = request.url.path.rsplit("/", 1)[-1]
        try:
            schema, entry, key = await self._write_form(request)
            if action == "populate":
                if not self.runs.can_populate(entry.full_table_name):
                    raise dj.DataJointError(
                        f"Table `{entry.name}` cannot be populated here: start `pipejoint ui` with the pipeline "
                        "module that defines its make()."
                    )
                self.runs.start(entry.full_table_name, entry.name)
                note = f"populate {entry.name} started"
            elif action == "clear-errors":
                errors = self._queue(schema, entry).errors
                count = len(errors & key if key else errors)
                (errors & key if key else errors).delete()
                note = f"cleared {count} error(s) of {entry.name}"
            else:
                if not key:
                    raise dj.DataJointError("Give the key to ignore.")
                self._queue(schema, entry).ignore(key)
                note = f"ignored {key_text(key)} of {entry.name}"
        except PermissionError as error:
            return PlainTextResponse(f"403: {error}", 403)
        except (dj.DataJointError, ValueError) as error:
            return self.render("message.html", 400, title="Refused", message=str(error))
        target = f"/schema/{schema.database}/jobs?" + urlencode({"note": note})
        return RedirectResponse(target, 303)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def create_app(
    connection: Any = None,
    *,
    schemas: list[str] | None = None,
    allow_writes: bool = False,
    token: str | None = None,
    pipelines: dict[str, Any] | None = None,
    hosts: list[str] | None = None,
) -> Starlette:
    """The dashboard app. `connection` defaults to a new connection from dj.config; `schemas` limits
    the schemas shown; `pipelines` {full table name: class} are the tables populate may run (their
    make() is the pipeline module's); `token` is required of every request when given; `hosts`, when
    given, are the only Host headers answered (a loopback dashboard refuses pages fetched through another
    name pointing at 127.0.0.1, DNS rebinding)."""
    connection = connection or dj.Connection()
    board = Dashboard(connection, schemas, allow_writes, pipelines or {})
    routes = [
        Route("/", board.overview),
        Route("/schema/{schema}/diagram", board.diagram),
        Route("/schema/{schema}/table/{table}", board.table),
        Route("/schema/{schema}/jobs", board.jobs),
        Route("/api/progress/{schema}/{table}", board.progress),
        *(Route(path, board.write, methods=["POST"]) for path in WRITE_ROUTES),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(_Guard, token=token, allow_writes=allow_writes)]
    if hosts:
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=hosts))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.dashboard = board
    return app
