"""The `pipejoint` command.

Every command that takes a pipeline module finds it the same way: a dotted module name importable
from the working directory (as `python -m` would find it), or the path of a .py file.
"""

from __future__ import annotations

import argparse
import os
import sys

DIAGRAM_FORMATS = {"svg": ".svg", "png": ".png", "mermaid": ".mmd", "dot": ".dot"}  # --format: file ending


def _demo(args):
    from .demo import run

    run(database=args.db)
    print(f"\nThe demo database is {args.db}; open it with dj.config['database.name'] = {args.db!r}.")
    return 0


def _delegate(module_name, function_name):
    """A handler that lives in the module owning the feature (loaded only when used)."""

    def handler(args):
        import importlib

        module = importlib.import_module(f"pipejoint.{module_name}")
        return getattr(module, function_name)(args)

    return handler


def _diagram(args):
    """`pipejoint diagram MODULE [-o FILE] [--format F]`: save the module's diagram."""
    from pathlib import Path

    from .diagrams.diagram import FORMATS, Diagram
    from .errors import DataJointError
    from .populate.workers import load_module

    output = args.output or "pipeline" + DIAGRAM_FORMATS[args.format or "svg"]
    kind = args.format or FORMATS.get(Path(output).suffix.lower())
    if kind is None:
        raise DataJointError(
            f"Cannot save a diagram as {output!r}: name the output file .svg, .png, .mmd (Mermaid) or .dot, "
            "or give --format svg|png|mermaid|dot."
        )
    diagram = Diagram(load_module(args.module))
    path = diagram.save(output, format=kind)
    print(f"Wrote {path} ({len(diagram)} tables)")
    return 0


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"give a whole number ≥ 0, not {text}")
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"give a whole number ≥ 1, not {text}")
    return value


def _populate_options(command):
    """The options `populate` and `worker` share, with populate()'s meaning."""
    command.add_argument(
        "--table",
        action="append",
        metavar="NAME",
        help="populate only this table (its class name; repeat for several); default: every "
        "Imported and Computed table of the module, parents first",
    )
    command.add_argument(
        "--processes",
        "--workers",
        dest="processes",
        type=_positive,
        default=1,
        metavar="N",
        help="worker processes per table (default 1; more than 1 coordinates through the jobs table)",
    )
    over = " over the worker's whole run" if command.prog.endswith("worker") else ""
    command.add_argument("--limit", type=_count, metavar="N", help=f"consider at most N keys per table{over}")
    command.add_argument("--max-calls", type=_count, metavar="N", help=f"call make() at most N times per table{over}")
    command.add_argument(
        "--suppress-errors",
        action="store_true",
        help="go on after a failing make() and list the failures at the end (default: stop at the first)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pipejoint",
        description="Scientific data pipelines (the DataJoint model). MODULE is a module importable from "
        "the working directory (e.g. `ephys` for ./ephys.py) or the path of a .py file.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="build, populate and query a small example pipeline on SQLite")
    demo.add_argument("--db", default="pipejoint_demo.db", help="SQLite file to use (default: %(default)s)")
    demo.set_defaults(handler=_demo)

    diagram = commands.add_parser("diagram", help="draw a pipeline module's tables and dependencies")
    diagram.add_argument("module", metavar="MODULE", help="the pipeline module (name or .py file)")
    diagram.add_argument(
        "-o",
        "--output",
        help="output file; its ending picks the format: .svg, .png (needs cairosvg), .mmd (Mermaid) or .dot "
        "(default: pipeline.svg)",
    )
    diagram.add_argument(
        "--format", choices=tuple(DIAGRAM_FORMATS), help="the format, whatever the output file's ending"
    )
    diagram.set_defaults(handler=_diagram)

    populate = commands.add_parser("populate", help="populate a pipeline module's auto-populated tables")
    populate.add_argument("target", metavar="MODULE[.Table]", help="the pipeline module, or one of its tables")
    populate.add_argument("--reserve-jobs", action="store_true", help="coordinate through the jobs table")
    _populate_options(populate)
    populate.set_defaults(handler=_delegate("populate.commands", "populate_command"))

    worker = commands.add_parser("worker", help="take jobs of a pipeline module until none are left")
    worker.add_argument("module", metavar="MODULE", help="the pipeline module (name or .py file)")
    _populate_options(worker)
    worker.set_defaults(handler=_delegate("populate.commands", "worker_command"))

    from .ui.server import add_parser as add_ui

    add_ui(commands)

    mcp = commands.add_parser(
        "mcp", help="serve the pipeline to an AI assistant (Model Context Protocol); needs pipejoint[mcp]"
    )
    mcp.add_argument("--db", metavar="FILE", help="a SQLite file (default: the configured database)")
    mcp.add_argument(
        "--allow-writes", action="store_true", help="allow the tools that change data (populate, clear_errors)"
    )
    mcp.add_argument("--module", metavar="MODULE", help="the pipeline module, for make() sources and populate")
    mcp.add_argument("--http", type=_positive, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT")
    mcp.set_defaults(handler=_delegate("assistants.server", "command"))
    return parser


def _working_directory_importable():
    """The working directory first on the import path, as `python -m` and `python script.py` put it;
    the installed `pipejoint` script would not find ./ephys.py otherwise."""
    here = os.getcwd()
    if not sys.path or os.path.abspath(sys.path[0] or here) != here:
        sys.path.insert(0, here)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"pipejoint {__version__}")
        return 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    _working_directory_importable()
    try:
        return args.handler(args)
    except Exception as error:  # a clean message for users; the traceback with --debug later
        from .errors import DataJointError

        if isinstance(error, DataJointError):
            print(f"pipejoint: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
