"""DataJoint's naming conventions (core/naming.py): tier prefixes, parts, node names."""

import pytest

from pipejoint.core.naming import (
    class_name_to_table_name,
    master_node,
    master_of,
    node_name,
    part_table_name,
    split_full_name,
    split_node,
    table_name_to_class_name,
)
from pipejoint.errors import DataJointError, DeclarationError


def test_class_and_table_names():
    assert class_name_to_table_name("MyTable2B") == "my_table2_b"
    assert table_name_to_class_name("#my_table") == "MyTable"
    assert table_name_to_class_name("__comp__part") == "Part"
    assert part_table_name("__scan", "FieldOfView") == "__scan__field_of_view"
    with pytest.raises(DeclarationError, match="`MyTable`"):
        class_name_to_table_name("my_table")


@pytest.mark.parametrize(
    "table, master",
    [
        ("session", None),
        ("#stimulus", None),
        ("_recording", None),
        ("__analysis", None),
        ("session__trial", "session"),
        ("#stimulus__frame", "#stimulus"),
        ("_recording__channel", "_recording"),
        ("__analysis__result", "__analysis"),
    ],
)
def test_master_of(table, master):
    assert master_of(table) == master
    node = node_name("lab", table)
    assert master_node(node) == (None if master is None else node_name("lab", master))


def test_node_and_full_names():
    assert node_name("lab", "__analysis") == "`lab`.`__analysis`"
    assert split_node("`lab`.`__analysis`") == ("lab", "__analysis")
    for written in ("`lab`.`#stimulus`", '"lab"."#stimulus"', "lab.#stimulus"):
        assert split_full_name(written) == ("lab", "#stimulus")
    with pytest.raises(DataJointError, match="schema.table"):
        split_full_name("stimulus")
