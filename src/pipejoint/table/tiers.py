"""The table tiers users subclass: Manual, Lookup and Part (Imported and Computed, the tiers that
populate themselves, are in populate/autopopulate.py).

The tier decides the stored name's prefix (DataJoint's convention, see core/naming.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.hints import class_level, class_level_property
from ..core.naming import TIER_PREFIXES, part_table_name
from ..errors import DataJointError
from .table import Table

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Literal

    from ..core.hints import Row


class UserTable(Table):
    """Common base of the tiers."""


class Manual(UserTable):
    """Data entered by people or by scripts outside the pipeline."""

    tier = "manual"
    tier_prefix = TIER_PREFIXES["manual"]


class Lookup(UserTable):
    """Small reference tables; `contents` rows are inserted when the table is declared."""

    tier = "lookup"
    tier_prefix = TIER_PREFIXES["lookup"]
    contents: Iterable[Row] = ()


class Part(UserTable):
    """A table that belongs to its master: nest the class inside the master's class.

    Rows of a part are inserted and deleted together with their master.
    """

    tier = "part"
    _master: Any = None  # the master's class, set when the schema processes the master

    @property
    def master(self) -> type[Table] | None:
        return self._master

    @class_level_property
    def table_name(self) -> str:
        if self._table_name is None:
            if self._master is None:
                raise DataJointError(f"Part table `{type(self).__name__}` has no master: nest it inside a table class.")
            master_name = self._master().table_name
            type(self)._table_name = part_table_name(master_name, type(self).__name__)
        return self._table_name

    def _is_master_reference(self, fk):
        return (
            self._master is not None
            and fk.parent_table == self._master().table_name
            and fk.parent_schema == self.database
        )

    # A part need not reference its master: as in DataJoint, `-> master.OtherPart` (which reaches the
    # master through that part) or no reference at all is accepted. Deleting the master deletes the
    # parts that depend on it, directly or through another part.

    @class_level
    def delete(
        self,
        transaction: bool = True,
        prompt: bool | None = None,
        part_integrity: Literal["enforce", "ignore", "cascade"] = "enforce",
        safemode: bool | None = None,
        force_parts: bool | None = None,
        force_masters: bool | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> int | dict[str, int]:
        if force:
            part_integrity = "ignore"
        if part_integrity == "enforce" and not dry_run:
            raise DataJointError(
                f"Cannot delete from part table {self.node_name} directly: delete from its master "
                f"{self._master.__name__}, or pass part_integrity='ignore' (legacy: force=True)."
            )
        return super().delete(
            transaction=transaction,
            prompt=prompt,
            part_integrity=part_integrity,
            safemode=safemode,
            force_parts=force_parts,
            force_masters=force_masters,
            dry_run=dry_run,
        )

    @class_level
    def drop(
        self, prompt: bool | None = None, force: bool = False, part_integrity: Literal["enforce", "ignore"] = "enforce"
    ) -> None:
        if part_integrity not in ("enforce", "ignore"):
            raise ValueError(
                f"drop() of {self.class_name}: part_integrity must be 'enforce' or 'ignore', not {part_integrity!r}."
            )
        if part_integrity == "enforce" and not force:
            raise DataJointError(
                f"Cannot drop part table {self.node_name} on its own: drop its master "
                f"{self._master.__name__}, or pass part_integrity='ignore'."
            )
        return super().drop(prompt=prompt, force=force, part_integrity="ignore")


# 2.3.5 alias (Ingest and Compute are with Imported and Computed, in populate/autopopulate.py)
Entry = Manual
