"""TableRecord: everything pipejoint knows about one stored table, wherever it was read from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TableRecord:
    """A table's tier, class name, definition, heading, foreign keys and indexes.

    ``origin`` says where it was read: ``"server"`` (the database's own catalog read through
    DataJoint's conventions, conventions.py: every backend) or ``"catalog"`` (the ``~catalog`` an
    earlier pipejoint kept in a schema on MySQL or PostgreSQL, catalog_v1.py).
    """

    schema: str
    table_name: str
    tier: str
    class_name: str
    definition: str
    heading: object  # core.heading.Heading
    foreign_keys: list
    indexes: list
    origin: str = "catalog"
