"""The command line's `pipejoint populate` and `pipejoint worker`: populate a pipeline module."""

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


def populate_command(args):
    """`pipejoint populate MODULE[.Table] [--workers N] [--reserve-jobs]`."""
    module_name, table_name = _split_target(args.target)
    sys.path.insert(0, os.getcwd())
    module = load_module(module_name)
    if table_name:
        cls = getattr(module, table_name, None)
        if cls is None:
            raise DataJointError(f"Module {module_name} has no table {table_name}.")
        classes = [cls]
    else:
        classes = module_tables(module)
    failed = 0
    for cls in classes:
        result = cls.populate(
            reserve_jobs=bool(args.reserve_jobs) or args.workers > 1,
            processes=args.workers,
            suppress_errors=True,
            display_progress=True,
        )
        print(f"{cls.__name__}: {result['success_count']} made, {len(result['error_list'])} failed")
        for key, error in result["error_list"]:
            print(f"  {key}: {error}")
        failed += len(result["error_list"])
    return 1 if failed else 0


def worker_command(args):
    """`pipejoint worker MODULE`: take jobs of every table in the module until none are left."""
    sys.path.insert(0, os.getcwd())
    module = load_module(args.module)
    classes = module_tables(module)
    made = failed = 0
    while True:
        progressed = 0
        for cls in classes:
            result = cls.populate(reserve_jobs=True, suppress_errors=True)
            progressed += result["success_count"] + len(result["error_list"])
            made += result["success_count"]
            failed += len(result["error_list"])
            for key, error in result["error_list"]:
                print(f"{cls.__name__} {key}: {error}", file=sys.stderr)
        if progressed:
            continue
        busy = any(len(cls().jobs.reserved) for cls in classes)
        if not busy:
            break
        time.sleep(1.0)  # others hold jobs: their results may open new work, or their leases may expire
    print(f"pipejoint worker: {made} keys made, {failed} failed")
    return 1 if failed else 0
