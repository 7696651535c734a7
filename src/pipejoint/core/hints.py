"""Type hints shared by the public API: small aliases, and the typing of class-level calls.

DataJoint code calls table methods on the class itself (`Session.insert1(row)`,
`Session.heading`); the table metaclass forwards those names to an instance at run time
(table/table.py, CLASS_LEVEL). Type checkers cannot see that, so the forwarded methods and
properties are marked `@class_level` / `@class_level_property`: for a type checker these are
descriptors that give the same bound method or value on a table class as on an instance. At
run time `class_level` returns the function itself and `class_level_property` is `property`:
nothing changes and nothing is added to a call.

The alias that names query classes, `Restriction` (what `&` accepts), is in query/restriction.py,
beside the classes it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Concatenate, Generic, ParamSpec, Protocol, TypeAlias, TypeVar, overload

    import numpy as np

Key: TypeAlias = "dict[str, Any]"
"""A primary key, or any row as a dict: attribute name -> value."""

Row: TypeAlias = "Mapping[str, Any] | Sequence[Any] | np.void"
"""One row to insert: a dict, a sequence in heading order, or a numpy record."""

OrderBy: TypeAlias = "str | Sequence[str]"
"""Attributes to order by: 'KEY', 'name', 'name DESC', or a list of them."""


class PopulateResult(TypedDict):
    """What `populate()` returns: how many keys were made, and the failures when errors were suppressed
    (each with the exception, or its text unless return_exception_objects=True)."""

    success_count: int
    error_list: list[tuple[Key, BaseException | str]]


if TYPE_CHECKING:
    _Self = TypeVar("_Self")
    _Result = TypeVar("_Result", covariant=True)
    _Params = ParamSpec("_Params")

    class _TableClass(Protocol):
        """A class whose metaclass forwards CLASS_LEVEL names (TableMeta, table/table.py)."""

        def _shared(self) -> Any: ...

    class class_level(Generic[_Self, _Params, _Result]):
        """A method that also works on a table class: `Session.insert1(row)`."""

        def __init__(self, method: Callable[Concatenate[_Self, _Params], _Result]) -> None: ...

        @overload
        def __get__(self, instance: None, owner: _TableClass) -> Callable[_Params, _Result]: ...

        @overload
        def __get__(self, instance: _Self, owner: type | None = None) -> Callable[_Params, _Result]: ...

        def __get__(self, instance: Any, owner: Any = None) -> Any: ...

    class class_level_property(Generic[_Self, _Result]):
        """A property that also works on a table class: `Session.heading`."""

        def __init__(self, getter: Callable[[_Self], _Result]) -> None: ...

        @overload
        def __get__(self, instance: None, owner: _TableClass) -> _Result: ...

        @overload
        def __get__(self, instance: _Self, owner: type | None = None) -> _Result: ...

        def __get__(self, instance: Any, owner: Any = None) -> Any: ...

else:

    def class_level(method):
        return method

    class_level_property = property


__all__ = ["Key", "OrderBy", "PopulateResult", "Row", "class_level", "class_level_property"]
