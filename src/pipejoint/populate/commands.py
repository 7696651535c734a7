"""The command line's `pipejoint populate` and `pipejoint worker`: populate a pipeline module.

Both take the same options, with populate()'s meaning: --table (repeatable), --processes,
--limit, --max-calls and --suppress-errors.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

from ..errors import DataJointError
from .autopopulate import AutoPopulate, auto_populated_classes
from .workers import load_module


def _split_target(target):
    """MODULE or MODULE.Table (MODULE a dotted name or a path to a .py file)."""
    if ".py." in target:
        module, table = target.rsplit(".", 1)
        return module, table
    if target.endswith(".py") or os.sep in target:
        return target, None
    try:
        found = importlib.util.find_spec(target) is not None
    except (ImportError, ValueError):
        found = False
    if found or "." not in target:
        return target, None
    module, table = target.rsplit(".", 1)
    return module, table


def module_tables(module):
    """The auto-populated table classes a module's schemas hold, in dependency order."""
    schemas = []
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, AutoPopulate) and vars(value).get("_schema") is not None:
            if all(value._schema is not s for s in schemas):
                schemas.append(value._schema)
    classes = []
    for schema in schemas:
        classes.extend(auto_populated_classes(schema))
    if not classes:
        raise DataJointError(f"Module {module.__name__} declares no Imported or Computed tables: nothing to populate.")
    return classes


def selected_tables(module, reference, names):
    """The tables a command works on: those named (in the module's dependency order), or all of them."""
    classes = module_tables(module)
    if not names:
        return classes
    by_name = {cls.__name__: cls for cls in classes}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise DataJointError(
            f"Module {reference} has no Imported or Computed table {', '.join(unknown)}: "
            f"choose from {', '.join(by_name)}."
        )
    return [cls for cls in classes if cls.__name__ in names]


def _options(args):
    """populate() keyword arguments from the shared command-line options."""
    return dict(
        processes=args.processes,
        limit=args.limit,
        max_calls=args.max_calls,
        suppress_errors=bool(args.suppress_errors),
    )


def _report_errors(cls, errors, file=sys.stdout):
    for key, error in errors:
        print(f"  {cls.__name__} {key}: {error}", file=file)


def populate_command(args):
    """`pipejoint populate MODULE[.Table] [--table NAME ...] [--processes N] [--reserve-jobs] ...`."""
    module_name, table_name = _split_target(args.target)
    module = load_module(module_name)
    names = list(args.table or []) + ([table_name] if table_name else [])
    classes = selected_tables(module, module_name, names)
    failed = 0
    for cls in classes:
        result = cls.populate(
            reserve_jobs=bool(args.reserve_jobs) or args.processes > 1, display_progress=True, **_options(args)
        )
        print(f"{cls.__name__}: {result['success_count']} made, {len(result['error_list'])} failed")
        _report_errors(cls, result["error_list"])
        failed += len(result["error_list"])
    return 1 if failed else 0


def worker_command(args):
    """`pipejoint worker MODULE [--table NAME ...] ...`: take jobs of the tables until none are left.

    --max-calls and --limit count over the worker's whole run, per table."""
    module = load_module(args.module)
    classes = selected_tables(module, args.module, args.table)
    options = _options(args)
    made = failed = 0
    calls = dict.fromkeys(classes, 0)
    budget = min((n for n in (args.max_calls, args.limit) if n is not None), default=None)
    while True:
        progressed = 0
        for cls in classes:
            left = None if budget is None else budget - calls[cls]
            if left == 0:
                continue
            result = cls.populate(reserve_jobs=True, **dict(options, max_calls=left, limit=None))
            done = result["success_count"] + len(result["error_list"])
            calls[cls] += done
            progressed += done
            made += result["success_count"]
            failed += len(result["error_list"])
            _report_errors(cls, result["error_list"], file=sys.stderr)
        if progressed:
            continue
        busy = any(len(cls().jobs.reserved) for cls in classes if calls[cls] != budget)
        if not busy:
            break
        time.sleep(1.0)  # others hold jobs: their results may open new work, or their leases may expire
    print(f"pipejoint worker: {made} keys made, {failed} failed")
    return 1 if failed else 0
