"""DataJoint 2.x API that DataJoint code calls: validate(), insert_dataframe(), rows of defaults,
CSV files, heading.as_dtype, float attributes as float64, `year`, key defaults, connection.adapter
and the pipejoint.declare compatibility module. Every database test runs on every backend."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import pipejoint as dj
from pipejoint.declare import CORE_TYPE_SQL, SPECIAL_TYPES, attribute_parser, compile_attribute, declare, match_type
from pipejoint.errors import DataJointError, DeclarationError


def _sample(schema):
    @schema
    class Sample(dj.Manual):
        definition = """
        sample_id : int32
        ---
        label : varchar(20)
        weight = null : float64
        """

    return Sample


# --- validate -------------------------------------------------------------------------------------


def test_validate_reports_every_problem_without_writing(schema):
    Sample = _sample(schema)
    good = Sample.validate([{"sample_id": 1, "label": "a"}, {"sample_id": 2, "label": "b", "weight": 1.5}])
    assert good and good.is_valid and good.rows_checked == 2 and good.errors == []
    assert "Validation passed: 2 rows checked" in good.summary()
    bad = Sample.validate(
        [
            {"label": "no key"},
            {"sample_id": 3, "label": "x" * 30},
            {"sample_id": 4, "label": "c", "colour": "red"},
            {"sample_id": "four", "label": "d"},
        ]
    )
    assert not bad and bad.rows_checked == 4
    by_row = {(index, name) for index, name, _ in bad.errors}
    assert by_row == {(0, "sample_id"), (1, "label"), (2, "colour"), (3, "sample_id")}
    assert "Validation failed: 4 error(s) in 4 rows" in bad.summary()
    with pytest.raises(DataJointError, match="Validation failed"):
        bad.raise_if_invalid()
    assert len(Sample()) == 0  # nothing written
    assert Sample.validate([{"sample_id": 5, "label": "e", "colour": "red"}], ignore_extra_fields=True)
    wrong_length = Sample.validate([(6, "f")])
    assert "Incorrect number of attributes" in wrong_length.errors[0][2]
    frame = pd.DataFrame({"sample_id": [7, 8], "label": ["g", "h"]})
    assert Sample.validate(frame).rows_checked == 2


def test_validate_accepts_missing_auto_increment_and_defaults(schema):
    @schema
    class Note(dj.Manual):
        definition = """
        note_id : int auto_increment
        ---
        text : varchar(50)
        stars = 3 : int16
        """

    assert Note.validate([{"text": "fine"}])
    assert not Note.validate([{"stars": 2}])


def test_validation_result_summary_lists_ten_errors():
    errors = [(i, f"a{i}", f"problem {i}") for i in range(13)]
    result = dj.ValidationResult(is_valid=False, errors=errors, rows_checked=13)
    text = result.summary()
    assert "Row 0 in field 'a0': problem 0" in text and "Row 10" not in text and "and 3 more errors" in text


# --- insert_dataframe, rows of defaults, CSV ---------------------------------------------------------


def test_insert_dataframe_reads_the_key_from_the_index(schema):
    Sample = _sample(schema)
    frame = pd.DataFrame({"label": ["a", "b"], "weight": [1.0, 2.0]}, index=pd.Index([1, 2], name="sample_id"))
    Sample.insert_dataframe(frame)
    assert sorted(Sample.to_arrays("sample_id").tolist()) == [1, 2]
    round_trip = Sample.to_pandas()  # the key is the index
    Sample.delete_quick()
    Sample.insert_dataframe(round_trip)
    assert len(Sample()) == 2
    Sample.insert_dataframe(pd.DataFrame({"sample_id": [3], "label": ["c"]}), chunk_size=1)  # a RangeIndex is dropped
    assert len(Sample()) == 3
    with pytest.raises(DataJointError, match="do not match the primary key"):
        Sample.insert_dataframe(pd.DataFrame({"label": ["d"]}, index=pd.Index([4], name="other")), index_as_pk=True)
    with pytest.raises(DataJointError, match="requires a pandas DataFrame"):
        Sample.insert_dataframe([{"sample_id": 5, "label": "e"}])
    assert len(Sample()) == 3


def test_a_row_of_defaults_only(schema):
    @schema
    class Event(dj.Manual):
        definition = """
        event_id : int auto_increment
        ---
        noted = CURRENT_TIMESTAMP : datetime
        memo = null : varchar(20)
        """

    Event.insert1({})
    Event.insert([{}, {}])
    rows = Event.to_dicts(order_by="event_id")
    assert [r["event_id"] for r in rows] == [1, 2, 3]
    assert all(r["noted"] is not None and r["memo"] is None for r in rows)
    Sample = _sample(schema)
    with pytest.raises(dj.MissingAttributeError, match="Cannot insert empty row.*sample_id, label.*require values"):
        Sample.insert1({})
    assert len(Sample()) == 0


def test_insert_from_a_csv_file(schema, tmp_path):
    Sample = _sample(schema)
    path = tmp_path / "samples.csv"
    path.write_text("sample_id,label\n1,first\n2,second\n")
    Sample.insert(path)
    assert Sample.to_arrays("label", order_by="sample_id").tolist() == ["first", "second"]


def test_chunk_size_with_an_insert_from_a_query_is_refused(schema):
    Sample = _sample(schema)
    with pytest.raises(DataJointError, match="chunk_size is not supported"):
        Sample.insert(Sample.proj(), chunk_size=10)


# --- types and fetch ---------------------------------------------------------------------------------


def test_float_attributes_fetch_as_float64_with_the_value_written(schema):
    @schema
    class Reading(dj.Manual):
        definition = """
        reading_id : int32
        ---
        single : float
        double_ : float64
        """

    Reading.insert1((1, 15.3, 2.5))
    single, double = Reading.to_arrays("single", "double_")
    assert single.dtype == np.float64 and double.dtype == np.float64
    assert single.tolist() == [15.3]  # the float32 nearest 15.3, read as 15.3 (as DataJoint returns it)
    assert Reading.fetch1("single") == 15.3 and Reading.to_pandas()["single"].dtype == np.float64
    assert len(Reading & {"single": 15.3}) == 1


def test_heading_as_dtype_matches_fetched_arrays(schema):
    Sample = _sample(schema)
    Sample.insert1((1, "a", 0.5))
    dtype = Sample.heading.as_dtype
    assert dtype.names == ("sample_id", "label", "weight")
    assert dtype == Sample.to_arrays().dtype
    assert np.array([(2, "b", 1.0)], dtype=dtype)["sample_id"].dtype == np.int32


def test_year_type_and_key_defaults(schema):
    @schema
    class Term(dj.Manual):
        definition = """
        term_year : year
        slot = 0 : int16
        ---
        name : varchar(20)
        """

    Term.insert1({"term_year": 2024, "name": "spring"})
    assert Term.fetch1() == {"term_year": 2024, "slot": 0, "name": "spring"}
    assert Term.heading["term_year"].type == "year"
    assert "slot = 0 : int16" in Term.describe()


# --- connection.adapter and pipejoint.declare --------------------------------------------------------


def test_adapter_quotes_identifiers_for_its_database(connection):
    quoted = connection.adapter.quote_identifier('odd`na"me')
    if connection.backend_name == "mysql":
        assert quoted == '`odd``na"me`'
    else:
        assert quoted == '"odd`na""me"'


def test_declare_gives_the_same_sql_for_a_definition_and_its_describe(schema):
    @schema
    class Animal(dj.Manual):
        definition = """
        # animals of the lab
        animal_id : int32
        ---
        species = "mouse" : varchar(30)  # common name
        weight = null : float32
        born : date
        index (species)
        """

    @schema
    class Cage(dj.Manual):
        definition = """
        -> Animal
        cage : varchar(8)
        ---
        -> [nullable] Animal.proj(mate='animal_id')
        """

    context = {"Animal": Animal, "Cage": Cage}
    adapter = schema.connection.adapter
    for table in (Animal, Cage):
        first = declare(table.full_table_name, table.definition, context, adapter)
        again = declare(table.full_table_name, table.describe(), context, adapter)
        assert first[0] == again[0] and first[0].upper().startswith("CREATE TABLE")
    sql, stores, key, fk_map, before, after = declare(Cage.full_table_name, Cage.definition, context, adapter)
    assert key == ["animal_id", "cage"] and stores == []
    assert fk_map["mate"] == (Animal.full_table_name, "animal_id")
    assert isinstance(before, list) and isinstance(after, list)
    assert len(Cage()) == 0  # declare() only returns SQL


def test_match_type_names_core_and_native_types():
    assert [match_type(t) for t in ("float32", "int8", "bool", "uint16", "varchar(9)", "<blob>")] == [
        "FLOAT32",
        "INT8",
        "BOOL",
        "UINT16",
        "VARCHAR",
        "CODEC",
    ]
    assert [match_type(t) for t in ("int unsigned", "double", "longblob", "year", "text")] == [
        "INTEGER",
        "FLOAT",
        "NATIVE_BLOB",
        "TEMPORAL",
        "NATIVE_TEXT",
    ]
    assert {"FLOAT32", "INT64", "BOOL", "CODEC"} <= SPECIAL_TYPES
    assert CORE_TYPE_SQL["float64"] == "double" and CORE_TYPE_SQL["bool"] == "tinyint"
    with pytest.raises(DeclarationError, match="Unknown type"):
        match_type("int33")


def test_attribute_lines_alone():
    assert attribute_parser.parse_string("name = 'x' : varchar(40)  # a name") == {
        "name": "name",
        "default": "'x'",
        "type": "varchar(40)",
        "comment": "a name",
    }
    name, sql, store, comment = compile_attribute("level = 2 : int16  # how deep", False, [], {}, None)
    assert (name, store, comment) == ("level", None, "how deep") and sql.startswith("`level` smallint")
    with pytest.raises(DeclarationError, match="reserved for platform-managed"):
        compile_attribute("  _secret : bool", False, [], {}, None)
    assert inspect.signature(declare).parameters.keys() == {"full_table_name", "definition", "context", "adapter"}


# --- table classes as DataJoint code inspects them ---------------------------------------------------


def test_unknown_field_is_also_a_key_error(schema):
    Sample = _sample(schema)
    with pytest.raises(KeyError, match="`colour` is not an attribute"):
        Sample.insert1({"sample_id": 1, "label": "a", "colour": "red"})
    with pytest.raises(dj.UnknownAttributeError):
        Sample.insert1({"sample_id": 1, "label": "a", "colour": "red"})
    assert len(Sample()) == 0


def test_a_class_without_definition_is_not_implemented(schema):
    class Misspelled(dj.Manual):
        definitions = "id : int32"

    with pytest.raises(NotImplementedError, match="has no `definition`"):
        schema(Misspelled)
    with pytest.raises(DeclarationError):
        schema(Misspelled)


def test_help_shows_the_definition(schema, capsys):
    @schema
    class Colour(dj.Lookup):
        """Colours we paint with."""

        definition = """
        colour : varchar(12)
        """

    help(Colour)
    help(Colour())
    assert Colour.definition in Colour.__doc__ and "Colours we paint with." in capsys.readouterr().out


def test_tier_regexps_tell_tiers_apart():
    import re

    names = {"manual": "session", "lookup": "#colour", "imported": "_scan", "computed": "__result"}
    for tier_class in (dj.Manual, dj.Lookup, dj.Imported, dj.Computed):
        for tier, name in names.items():
            assert bool(re.fullmatch(tier_class.tier_regexp, name)) == (tier == tier_class.tier), (tier_class, name)
    assert re.fullmatch(dj.Part.tier_regexp, "__result__detail")
    assert not re.fullmatch(dj.Part.tier_regexp, "session")


def test_drop_refuses_an_unknown_part_integrity(schema):
    @schema
    class Shelf(dj.Manual):
        definition = "shelf : int32"

        class Box(dj.Part):
            definition = "-> master\nbox : int32"

    Shelf.insert1((1,))
    for table in (Shelf, Shelf.Box):
        for value in ("cascade", "enforcee"):
            with pytest.raises(ValueError, match="part_integrity must be"):
                table.drop(part_integrity=value)
    assert Shelf.is_declared and Shelf.Box.is_declared and len(Shelf()) == 1


def test_prompts_are_answered_through_dj_utils(schema):
    from unittest.mock import patch

    Sample = _sample(schema)
    Sample.insert([(1, "a", None), (2, "b", None)])
    with dj.config.override(safemode=True):
        with patch.object(dj.utils, "input", create=True, return_value="no"):
            (Sample & {"sample_id": 1}).delete()
        assert len(Sample()) == 2
        with patch.object(dj.utils, "input", create=True, return_value="yes"):
            (Sample & {"sample_id": 1}).delete()
            Sample.drop()
    assert not Sample.is_declared
    with patch.object(dj.utils, "input", create=True, side_effect=["maybe", ""]):
        assert dj.utils.user_choice("Go on?", default="no") == "no"
    assert dj.utils.from_camel_case("TwoWords") == "two_words" and dj.utils.to_camel_case("two_words") == "TwoWords"
