"""Database backends. Everything that differs between SQLite, PostgreSQL and MySQL lives here."""

from ..errors import DataJointError

# How SQL given to connection.query marks its arguments, for error messages.
ARGUMENT_CONVENTIONS = (
    "in SQL given to connection.query, write %s for each argument and %% for a literal %, as in DataJoint."
)

_BACKENDS = {
    "sqlite": ("sqlite.backend", "SQLiteBackend"),
    "postgresql": ("postgres.backend", "PostgresBackend"),
    "mysql": ("mysql.backend", "MySQLBackend"),
}


def get_backend(name, settings):
    """The backend object for a configured backend name."""
    if name not in _BACKENDS:
        raise DataJointError(f"Unknown backend {name!r}: choose one of {', '.join(_BACKENDS)}.")
    module_name, class_name = _BACKENDS[name]
    import importlib

    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)(settings)
