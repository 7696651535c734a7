"""The exceptions users see. Names follow DataJoint's so existing `except` clauses keep working.

Driver exceptions never reach the user: each backend translates them into one of these.
"""


class DataJointError(Exception):
    """Base class of every error pipejoint raises on purpose."""

    def suggest(self, *args):
        """Return a copy of this error with extra explanation appended."""
        return self.__class__(*(self.args + args))


class LostConnectionError(DataJointError):
    """The database connection dropped and could not be restored."""


class QueryError(DataJointError):
    """The database refused a statement."""


class QuerySyntaxError(QueryError):
    """The SQL sent to the database did not parse."""


class AccessError(QueryError):
    """The database user lacks a privilege."""


class DuplicateError(QueryError):
    """A row with the same primary key (or unique index value) already exists."""


class IntegrityError(QueryError):
    """A foreign key, CHECK or NOT NULL constraint rejected the change."""


class UnknownAttributeError(QueryError):
    """An attribute name is not in the heading."""


class MissingAttributeError(QueryError):
    """A required attribute was not given a value."""


class InvalidValueError(DataJointError):
    """A value does not fit its attribute's type (checked before any SQL runs)."""


class MissingTableError(DataJointError):
    """A table is not declared in the database."""


class TableChangedError(DataJointError):
    """Another client dropped or re-created a table this transaction had already seen (MySQL 1412):
    retry the transaction."""


class DeclarationError(DataJointError):
    """A table definition is invalid."""


class TransactionError(DataJointError):
    """A transaction was used the wrong way (nested, or a forbidden operation inside one)."""


class MissingExternalFile(DataJointError):
    """A file referenced from a row is missing in its store."""


class ObjectChangedError(DataJointError):
    """An object in a store no longer matches the size or checksum recorded with its row."""


class StoreError(DataJointError):
    """A store is misconfigured or unreachable."""


class BlobError(DataJointError):
    """A value cannot be packed, or bytes are not a valid blob."""


class CodecError(DataJointError):
    """A codec is missing, misdeclared or failed on a value."""


class BucketInaccessible(DataJointError):
    """An object store bucket cannot be reached."""


class ThreadSafetyError(DataJointError):
    """A global was used in thread-safe mode."""


class AlterError(DataJointError):
    """Table.alter() cannot apply a definition to a table; nothing was changed."""


class MissingDefaultError(AlterError):
    """A required attribute without a default would be added to a table that holds rows."""


class NarrowingError(AlterError):
    """A new type or nullability cannot hold values the table stores."""


class ForeignKeyViolationError(AlterError, IntegrityError):
    """A new foreign key that rows of the table already violate."""


class DuplicateIndexError(AlterError, DuplicateError):
    """A new unique index over values that repeat in the table."""


# DataJoint 0.14's feature switches, which the book calls before declaring adapted types or filepaths.
# Both features are always on in pipejoint, so the switches are accepted and change nothing.
def _switch_adapted_types(on: bool) -> None:
    """Accepted as DataJoint 0.14's switch; adapted types (``dj.AttributeAdapter``) are always on."""


def _support_adapted_types() -> bool:
    return True


def _switch_filepath_types(on: bool) -> None:
    """Accepted as DataJoint 0.14's switch; ``filepath@store`` attributes are always on."""


def _support_filepath_types() -> bool:
    return True
