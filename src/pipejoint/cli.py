"""The `pipejoint` command."""

from __future__ import annotations

import argparse
import sys


def _demo(args):
    from .demo import run

    run(database=args.db)
    print(f"\nThe demo database is {args.db}; open it with dj.config['database.name'] = {args.db!r}.")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="pipejoint", description="Scientific data pipelines (the DataJoint model).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="build, populate and query a small example pipeline on SQLite")
    demo.add_argument("--db", default="pipejoint_demo.db", help="SQLite file to use (default: %(default)s)")
    demo.set_defaults(handler=_demo)
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
