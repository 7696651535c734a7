"""The `pipejoint` command."""

from __future__ import annotations

import argparse
import sys


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


def build_parser():
    parser = argparse.ArgumentParser(prog="pipejoint", description="Scientific data pipelines (the DataJoint model).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="build, populate and query a small example pipeline on SQLite")
    demo.add_argument("--db", default="pipejoint_demo.db", help="SQLite file to use (default: %(default)s)")
    demo.set_defaults(handler=_demo)

    diagram = commands.add_parser("diagram", help="draw a pipeline module's tables and dependencies")
    diagram.add_argument("module", help="importable module (or file.py) that defines the pipeline")
    diagram.add_argument("-o", "--output", default="pipeline.svg", help="output file: .svg, .png or .mmd")
    diagram.set_defaults(handler=_delegate("diagrams.diagram", "command"))

    populate = commands.add_parser("populate", help="populate a pipeline module's auto-populated tables")
    populate.add_argument("target", help="MODULE or MODULE.Table")
    populate.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    populate.add_argument("--reserve-jobs", action="store_true", help="coordinate through the jobs table")
    populate.set_defaults(handler=_delegate("populate.commands", "populate_command"))

    worker = commands.add_parser("worker", help="take jobs of a pipeline module until none are left")
    worker.add_argument("module", help="importable module (or file.py) that defines the pipeline")
    worker.set_defaults(handler=_delegate("populate.commands", "worker_command"))
    return parser


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
