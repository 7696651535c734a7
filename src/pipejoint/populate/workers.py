"""Scale-out: worker processes on any concurrent.futures.Executor.

A worker receives plain data: the name (or file path) of the pipeline module, the table class,
the connection settings and the jobs settings. It finds the module (already in memory when the
worker was forked, else imported), opens its own connection and populates. With reserve_jobs,
the jobs table in the database coordinates the workers; without (DataJoint's direct mode), each
task is a batch of keys the parent listed, and the jobs table is left alone. Either way the
executor can be a local process pool or a Dask cluster's executor.

populate(processes=N) forks its workers where that is safe (Linux, no other threads running, no
connection in a transaction; the parent closes its connections first, so no worker inherits a
database session): a forked worker starts in milliseconds, with the pipeline already imported.
Elsewhere, or with dj.config["jobs.start_method"] = "spawn", workers start as fresh interpreters
that import the pipeline module.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import importlib
import importlib.util
import logging
import multiprocessing
import os
import pickle
import sys
import threading
from pathlib import Path

from ..errors import DataJointError
from ..settings import config

logger = logging.getLogger("pipejoint")


# --- finding the pipeline in a fresh process ------------------------------------------------


def load_module(reference):
    """Import a pipeline module by dotted name or by the path of its .py file."""
    if reference.endswith(".py") or os.sep in reference:
        path = Path(reference).resolve()
        if not path.is_file():
            raise DataJointError(f"Pipeline module file {reference} does not exist: check the path.")
        name = "pipejoint_pipeline_" + hashlib.md5(str(path).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    try:
        return importlib.import_module(reference)
    except ModuleNotFoundError as error:
        raise DataJointError(
            f"Cannot import pipeline module `{reference}` ({error}): give an importable module name or the "
            "path of its .py file."
        ) from None


def module_reference(cls):
    """How a worker process finds the module that defines `cls`: its name, or else its file."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if cls.__module__ not in ("__main__", "__mp_main__") and not cls.__module__.startswith("pipejoint_pipeline_"):
        try:
            spec = importlib.util.find_spec(cls.__module__)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and (
            path is None or spec.origin is None or os.path.realpath(spec.origin) == os.path.realpath(path)
        ):
            return cls.__module__
    if path is None:
        raise DataJointError(
            f"Worker processes cannot find the code of table {cls.__name__}: it is not defined in a module file. "
            "Put the pipeline in a .py file (or a package) so workers can import it."
        )
    return os.path.abspath(path)


def _connection_settings(connection):
    settings = {f"database.{k}": v for k, v in connection.settings.items() if f"database.{k}" in config}
    settings["database.backend"] = connection.backend.name
    return connection.backend.settings_for_another_process(settings)


def worker_spec(table, restrictions, options):
    """Everything a worker process needs, as plain picklable data."""
    cls = type(table)
    if "<locals>" in cls.__qualname__:
        raise DataJointError(
            f"Table class {cls.__name__} is defined inside a function, where worker processes cannot import it: "
            "define it at module level."
        )
    try:
        pickle.dumps(restrictions)
    except Exception:
        raise DataJointError(
            f"populate() of {table.node_name} with workers: the restrictions must be plain data (dicts, strings, "
            "lists of them) that can be sent to other processes, not query expressions. Restrict with "
            "`expression.keys()` instead."
        ) from None
    return {
        "module": module_reference(cls),
        "module_name": cls.__module__,
        "module_file": getattr(sys.modules.get(cls.__module__), "__file__", None),
        "table": cls.__qualname__,
        "settings": _connection_settings(table._connection),
        "jobs": {k: v for k, v in table._connection.config.items() if k.startswith("jobs.")},
        "restrictions": list(restrictions),
        "options": options,
    }


def _configure(spec):
    """Point this process's config at the parent's database (reconnecting only if it changed)."""
    from ..catalog import connection as connection_module

    changed = any(config[k] != v for k, v in spec["settings"].items())
    for key, value in {**spec["settings"], **spec["jobs"]}.items():
        config[key] = value
    if changed:
        connection_module._forget_connection()


def _loaded_module(spec):
    """The pipeline module if this process already has it (a forked worker, or a spawned one
    whose __main__ is the parent's script), so that it is not executed a second time."""
    module = sys.modules.get(spec.get("module_name") or "")
    path = getattr(module, "__file__", None)
    if path and spec.get("module_file") and os.path.realpath(path) == os.path.realpath(spec["module_file"]):
        return module
    return None


def resolve_table(spec):
    try:
        module = _loaded_module(spec) or load_module(spec["module"])
    except DataJointError:
        # imported by name in the parent, but not importable here (e.g. another sys.path on a cluster node)
        if not spec.get("module_file") or not os.path.isfile(spec["module_file"]):
            raise
        module = load_module(spec["module_file"])
    target = module
    for part in spec["table"].split("."):
        target = getattr(target, part, None)
        if target is None:
            raise DataJointError(f"Module {spec['module']} has no table class {spec['table']}.")
    return target


def run_worker(spec):
    """The task an executor runs: populate with reserve_jobs in this process until no keys are left,
    or (with reserve_jobs False in the spec) make the spec's batch of keys."""
    _configure(spec)
    table = resolve_table(spec)()
    options = dict(spec["options"])
    keep_objects = options.pop("return_exception_objects", False)
    try:
        result = table.populate(
            *spec["restrictions"],
            reserve_jobs=spec.get("reserve_jobs", True),
            refresh=False,
            return_exception_objects=True,
            keys=spec.get("keys"),
            **options,
        )
    except Exception as error:  # (suppress_errors False) it must reach the parent, not a pickling error
        portable = _portable(error)
        if portable is error:
            raise
        raise portable from None
    errors = []
    for key, error in result["error_list"]:
        errors.append((key, _portable(error) if keep_objects else f"{type(error).__name__}: {error}"))
    result["error_list"] = errors
    return result


def _portable(error):
    """The exception itself if it can travel between processes, else a DataJointError with its text."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return DataJointError(f"{type(error).__name__}: {error}")


# --- the parent side ----------------------------------------------------------------------


def _executor_size(executor, processes):
    if processes > 1:
        return processes
    size = getattr(executor, "_max_workers", None)
    if size:
        return size
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:
            pass
    return os.cpu_count() or 2


def populate_with_workers(
    table,
    restrictions,
    *,
    processes,
    executor,
    suppress_errors,
    return_exception_objects,
    max_calls,
    display_progress,
    make_kwargs,
    priority,
    order,
    limit,
    keys=None,
    reserve_jobs=True,
):
    """populate(processes=N) and populate(executor=...).

    With reserve_jobs, N workers take keys through the jobs table. Without (DataJoint's direct
    mode), the jobs table is neither read nor written: the parent lists the keys still to make
    (whatever their jobs' status) and hands them out in small batches, one batch per task.
    """
    options = {
        "suppress_errors": suppress_errors,
        "return_exception_objects": return_exception_objects,
        "make_kwargs": make_kwargs,
        "priority": priority,
        "order": order,
    }
    cap = min(x for x in (max_calls, limit) if x is not None) if (max_calls or limit) else None
    spec = worker_spec(table, restrictions, options)
    if keys is not None:
        keys = [dict(k) for k in keys]
        spec["keys"] = keys
    todo = keys if keys is not None else table._todo(restrictions).keys(order_by="KEY")
    if reserve_jobs:
        table.jobs.refresh(*restrictions, todo=todo)
    else:
        todo = _ordered(todo, order)[:cap]
    if not todo:
        if display_progress:
            from .progress import progress_bar

            progress_bar(0, table.class_name).close()  # says there is nothing to do
        return {"success_count": 0, "error_list": []}
    count = min(_executor_size(executor, processes), len(todo))  # no idle workers
    if reserve_jobs:
        tasks = [dict(spec, options=dict(spec["options"], max_calls=share)) for share in _split_cap(cap, count)]
    else:
        tasks = [dict(spec, keys=batch, reserve_jobs=False) for batch in _batches(todo, count)]
    own_pool = executor is None
    if own_pool:
        executor = local_pool(count, table._connection.config)
    try:
        futures = [executor.submit(run_worker, dict(task, index=i)) for i, task in enumerate(tasks)]
        results = _wait(futures, table, restrictions, display_progress, len(todo), suppress_errors)
    finally:
        if own_pool:
            executor.shutdown(wait=True, cancel_futures=True)
    success = sum(r["success_count"] for r in results)
    errors = [e for r in results for e in r["error_list"]]
    if errors and not suppress_errors:
        key, error = errors[0]
        if isinstance(error, BaseException):
            raise error
        raise DataJointError(f"make({key}) of {table.node_name} failed in a worker: {error}")
    return {"success_count": success, "error_list": errors}


def _ordered(todo, order):
    if order == "reverse":
        return todo[::-1]
    if order == "random":
        import random

        todo = list(todo)
        random.shuffle(todo)
    return todo


def _batches(todo, count):
    """The keys in batches, about four per worker, so that a worker done early takes another batch."""
    size = max(1, -(-len(todo) // (4 * count)))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


START_METHODS = ("fork", "spawn", "forkserver")


def start_method(settings=config):
    """How populate(processes=N) starts its workers: the table's settings' (by default dj.config's)
    "jobs.start_method", or by default fork where that is safe and spawn elsewhere."""
    chosen = settings["jobs.start_method"]
    if chosen is not None:
        if chosen not in START_METHODS or chosen not in multiprocessing.get_all_start_methods():
            available = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
            raise DataJointError(
                f"dj.config['jobs.start_method'] = {chosen!r} is not available here: use one of {available}, "
                "or None to let pipejoint choose."
            )
        return chosen
    # Forking a process that runs other threads (Jupyter's, a thread pool's) can copy a lock held
    # by one of them, or a pool without its threads, into the child; Python 3.12 warns about it.
    # macOS and Windows do not fork safely or at all.
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _close_connections_for_fork():
    """Close this process's database connections so that forked workers inherit no session (they
    reopen on next use). A child must not touch its parent's session, and SQLite tracks its file
    locks in process memory, so even an unused inherited connection is unsafe
    (https://sqlite.org/howtocorrupt.html#fork). False, closing nothing, when a connection is in a
    transaction."""
    from ..backends.session import live_connections

    connections = live_connections()
    if any(c.in_transaction for c in connections):
        return False
    for connection in connections:
        connection.close()
    return True


def local_pool(count, settings=config):
    """A process pool for populate(processes=count), started the cheapest safe way."""
    method = start_method(settings)
    if method == "fork" and not _close_connections_for_fork():
        logger.info("A connection is in a transaction: starting workers with spawn instead of fork.")
        method = "spawn"
    return concurrent.futures.ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method))


def _split_cap(cap, count):
    if cap is None:
        return [None] * count
    count = max(1, min(count, cap))
    return [cap // count + (1 if i < cap % count else 0) for i in range(count)]


def _wait(futures, table, restrictions, display_progress, total, suppress_errors=True):
    """The workers' results. The parent sleeps until they finish; with a progress bar it wakes once
    a second to count the keys still to make. Without suppress_errors, the first worker to fail
    stops the tasks not yet started, and its error is raised here."""
    bar = None
    if display_progress:
        from .progress import progress_bar

        bar = progress_bar(total, table.class_name)
    try:
        pending = set(futures)
        while pending:
            done, pending = concurrent.futures.wait(
                pending,
                timeout=1.0 if bar is not None else None,
                return_when=concurrent.futures.ALL_COMPLETED if suppress_errors else concurrent.futures.FIRST_EXCEPTION,
            )
            if not suppress_errors and any(f.exception() is not None for f in done):
                for future in pending:
                    future.cancel()
                concurrent.futures.wait(pending)  # the tasks already running finish their make()
                break
            if bar is not None:
                made = total - len(table._todo(restrictions))
                bar.update(max(0, made - bar.n))
        for future in futures:  # the first failed task's error, as a single process would raise it
            if not future.cancelled() and future.exception() is not None:
                future.result()
        return [f.result() for f in futures]
    finally:
        if bar is not None:
            bar.close()
