"""Computed attributes (`proj(n='price * 2')`, `aggr(B, n='COUNT(*)')`) from user input: the
fragment parsed, its attribute names checked, its type inferred."""

from __future__ import annotations

from sqlglot import exp

from ..core.heading import Attribute
from ..errors import DataJointError
from .fragments import parse_fragment
from .nodes import Computed
from .relation import query_name, settings_of
from .typing_rules import infer_type


def computed_attribute(name, text, heading, columns, owner, aggregate_allowed=False):
    """(the Computed column, its Attribute) for `name=text` over `heading`, whose attributes map to
    `columns`, computed on the query `owner` (named in messages; its settings give the dialect)."""
    fragment = parse_fragment(text, heading, settings_of(owner)["query.dialect"], query_name(owner))
    is_aggregate = any(isinstance(node, exp.AggFunc) for node in fragment.walk())
    if is_aggregate and not aggregate_allowed:
        raise DataJointError(f"`{name}={text!r}` uses an aggregate function: use .aggr() to aggregate over a group.")
    used = sorted({c.name for c in fragment.find_all(exp.Column) if not c.table})
    inputs = tuple((n, columns[n]) for n in used)
    attr_type = infer_type(fragment, heading)
    attribute = Attribute(name, attr_type, in_key=False, nullable=True, lineage=None, expression=text)
    return Computed(text, fragment, inputs, is_aggregate), attribute
