"""The `pipejoint ui` command: connect as configured, build the app, serve it with uvicorn."""

from __future__ import annotations

import importlib
import importlib.util
import ipaddress
import secrets
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Any

import pipejoint as dj

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_pipelines(modules: list[str]) -> dict[str, Any]:
    """{full table name: class} of the Imported and Computed tables the modules define (by dotted
    name importable from the working directory, or a .py file): the tables populate may run."""
    found = {}
    for name in modules:
        if name.endswith(".py"):
            path = Path(name)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise dj.DataJointError(f"Cannot load the pipeline module {name}.")
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, (dj.Imported, dj.Computed)) and hasattr(value, "make"):
                try:
                    found[value.full_table_name] = value
                except dj.DataJointError:  # a base class, not declared
                    continue
    return found


def command(args: Any) -> int:
    try:
        import uvicorn

        from .app import create_app
    except ImportError as error:
        raise dj.DataJointError(
            f'`pipejoint ui` needs the dashboard\'s packages: pip install "pipejoint[ui]" ({error}).'
        ) from None
    if args.db:
        dj.config["database.backend"] = "sqlite"
        dj.config["database.name"] = args.db
    token = None if is_loopback(args.host) else secrets.token_urlsafe(24)
    pipelines = load_pipelines(args.module or [])
    hosts = None if token else ["127.0.0.1", "localhost", "[::1]", "::1"]
    app = create_app(schemas=args.schema, allow_writes=args.allow_writes, token=token, pipelines=pipelines, hosts=hosts)
    url = f"http://{args.host}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"pipejoint ui: {url}  ({'writes allowed' if args.allow_writes else 'read-only'}; Ctrl-C stops)", flush=True)
    if token:
        print("Bound beyond loopback: every request needs the token above (401 without it).")
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, (url,)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def add_parser(commands: Any) -> None:
    """The command's options (cli.py stays small)."""
    ui = commands.add_parser("ui", help="a web dashboard of the pipeline: schemas, diagram, tables, jobs")
    ui.add_argument("module", nargs="*", help="pipeline modules whose tables populate may run from the dashboard")
    ui.add_argument("--db", help="a SQLite file (default: the configured database)")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s; others need the token)")
    ui.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    ui.add_argument("--schema", action="append", help="show only this schema (repeat for several)")
    ui.add_argument("--no-browser", action="store_true", help="do not open the browser")
    ui.add_argument("--allow-writes", action="store_true", help="allow clearing errors, ignoring keys and populate")
    ui.set_defaults(handler=lambda args: command(args))
