"""The package surface: the names DataJoint code reaches for on `dj`, legacy ones included."""

import hashlib

import pipejoint as dj

# DataJoint 2.x's exports and the 0.14 names the book uses that pipejoint keeps
NAMES = [
    "config",
    "conn",
    "Connection",
    "Schema",
    "schema",
    "VirtualModule",
    "virtual_schema",
    "create_virtual_module",
    "list_schemas",
    "Table",
    "FreeTable",
    "AutoPopulate",
    "Manual",
    "Lookup",
    "Imported",
    "Computed",
    "Part",
    "Entry",
    "Ingest",
    "Compute",
    "Not",
    "AndList",
    "Top",
    "U",
    "Diagram",
    "ERD",
    "Di",
    "MatCell",
    "MatStruct",
    "Codec",
    "SchemaCodec",
    "AttributeAdapter",
    "list_codecs",
    "get_codec",
    "ObjectRef",
    "NpyRef",
    "errors",
    "DataJointError",
    "logger",
    "blob",
    "gc",
    "cli",
    "key",
    "key_hash",
    "__version__",
]


def test_datajoint_names_exist():
    missing = [name for name in NAMES if not hasattr(dj, name)]
    assert not missing, f"dj lacks {missing}"
    assert set(NAMES) - {"__version__"} <= set(dir(dj))


def test_key_hash_is_datajoint_014s():
    # md5 over the values' text, in the order of the sorted attribute names
    assert dj.key_hash({"session": 2, "animal": "m1"}) == hashlib.md5(b"m12").hexdigest()
    assert dj.key_hash({"b": 1, "a": 1}) == dj.key_hash({"a": 1, "b": 1})


def test_legacy_key_constant_fetches_primary_keys(schema):
    @schema
    class Item(dj.Manual):
        definition = """
        item : int32
        ---
        label : varchar(8)
        """

    Item.insert([(1, "a"), (2, "b")])
    assert Item.fetch(dj.key, order_by="item") == [{"item": 1}, {"item": 2}]
    keys, labels = Item.fetch(dj.key, "label", order_by="item")
    assert keys == [{"item": 1}, {"item": 2}] and list(labels) == ["a", "b"]


def test_datajoint_module_paths():
    """Modules and names DataJoint code imports by their DataJoint paths."""
    from pipejoint.builtin_codecs import BlobCodec, NpyCodec, NpyRef, SchemaCodec
    from pipejoint.jobs import ERROR_MESSAGE_LENGTH, TRUNCATION_APPENDIX
    from pipejoint.objectref import ObjectRef
    from pipejoint.table import FreeTable, Table
    from pipejoint.user_tables import UserTable

    assert (Table, FreeTable, ObjectRef, NpyRef, SchemaCodec) == (
        dj.Table,
        dj.FreeTable,
        dj.ObjectRef,
        dj.NpyRef,
        dj.SchemaCodec,
    )
    assert issubclass(NpyCodec, SchemaCodec) and issubclass(BlobCodec, dj.Codec)
    assert issubclass(dj.Manual, UserTable) and issubclass(UserTable, Table)
    assert ERROR_MESSAGE_LENGTH == 2047 and TRUNCATION_APPENDIX == "...truncated"
