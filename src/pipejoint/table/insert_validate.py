"""``table.validate(rows)`` and ``table.insert_dataframe(df)``.

validate() runs insert's own checks on every row without writing anything, and collects every
problem instead of stopping at the first, so a user can fix a whole file of rows at once.
Values that would go to an object store are not uploaded: only their presence is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import DataJointError
from .insert_encoding import Column, encode_row
from .insert_sources import _known, _row_values, row_source

SUMMARY_ERRORS = 10  # errors listed by summary(); the rest are counted


@dataclass
class ValidationResult:
    """What ``table.validate(rows)`` found: ``errors`` lists (row index, attribute or None, message)."""

    is_valid: bool
    errors: list = field(default_factory=list)
    rows_checked: int = 0

    def __bool__(self) -> bool:
        return self.is_valid

    def summary(self) -> str:
        """The outcome in a few lines: the first errors, and how many more there are."""
        if self.is_valid:
            return f"Validation passed: {self.rows_checked} rows checked"
        lines = [f"Validation failed: {len(self.errors)} error(s) in {self.rows_checked} rows"]
        for index, name, message in self.errors[:SUMMARY_ERRORS]:
            where = f" in field '{name}'" if name else ""
            lines.append(f"  Row {index}{where}: {message}")
        if len(self.errors) > SUMMARY_ERRORS:
            lines.append(f"  ... and {len(self.errors) - SUMMARY_ERRORS} more errors")
        return "\n".join(lines)

    def raise_if_invalid(self) -> None:
        """Raise a DataJointError with the summary when some row is invalid."""
        if not self.is_valid:
            raise DataJointError(self.summary())


def validate(table: Any, rows: Any, ignore_extra_fields: bool = False) -> ValidationResult:
    """Check rows as insert() would (fields, required attributes, each value's type and range),
    without writing; every problem found is reported."""
    heading = table.heading
    backend = table._connection.backend
    names, source = row_source(rows, heading)
    columns: dict[str, Column] = {}
    errors: list = []
    count = 0
    for index, row in enumerate(source):
        count += 1
        try:
            row_names, values = _row_values(row, names, heading, index, table)
        except DataJointError as error:
            message = str(error)
            if "values but the table has" in message:
                message = f"Incorrect number of attributes: {message}"
            errors.append((index, None, message))
            continue
        given = set()
        for name, value in zip(row_names, values):
            if not _known(name, heading):
                if not ignore_extra_fields:
                    errors.append((index, name, f"`{name}` is not an attribute of {table.node_name}"))
                continue
            given.add(name)
            attr = heading.all_attributes[name]
            if value is None and (attr.nullable or attr.has_default):
                continue
            if attr.attr_type.store is not None:
                continue  # checked on insert, where it is uploaded
            column = columns.get(name) or columns.setdefault(name, Column(attr, backend))
            if column.keyed:
                continue
            try:
                encode_row(table, [column], [value], index)
            except DataJointError as error:
                errors.append((index, name, str(error)))
        for attr in heading.all_attributes.values():
            if attr.name not in given and not attr.has_default:
                errors.append((index, attr.name, f"required attribute `{attr.name}` is missing"))
    return ValidationResult(is_valid=not errors, errors=errors, rows_checked=count)


def insert_dataframe(table: Any, frame: Any, index_as_pk: bool | None = None, **insert_kwargs: Any) -> None:
    """Insert a pandas DataFrame. Its index holds the primary key when its names are the key's
    (as to_pandas() returns it; ``index_as_pk=None`` detects that) and is dropped otherwise."""
    if not (type(frame).__name__ == "DataFrame" and type(frame).__module__.startswith("pandas")):
        raise DataJointError(
            f"insert_dataframe requires a pandas DataFrame, not {type(frame).__name__}: use insert() for other rows."
        )
    key = list(table.heading.primary_key)
    index_names = [n for n in frame.index.names if n is not None]
    if index_as_pk is None:
        index_as_pk = bool(index_names) and set(index_names) == set(key)
    if index_as_pk:
        if set(index_names) != set(key) or len(index_names) != len(frame.index.names):
            raise DataJointError(
                f"insert_dataframe into {table.node_name}: the DataFrame's index names {list(frame.index.names)} "
                f"do not match the primary key {key}. Set the index to the key columns, or pass index_as_pk=False."
            )
        frame = frame.reset_index(drop=False)
    else:
        frame = frame.reset_index(drop=True)
    table.insert(frame, **insert_kwargs)
