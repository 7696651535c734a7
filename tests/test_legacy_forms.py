"""Forms the DataJoint book teaches (its 0.14 API), accepted on every backend as DataJoint accepts them."""

import pipejoint as dj


def _images(schema):
    @schema
    class Image(dj.Manual):
        definition = """
        image_id : int32
        ---
        label : varchar(16)
        score : float64
        """

    Image.insert([(1, "b", 0.5), (2, "a", 0.9), (3, "a", 0.1)])
    return Image


def test_order_by_as_one_comma_separated_string_with_backticks(schema):
    Image = _images(schema)
    assert Image.fetch("image_id", order_by="label, score DESC").tolist() == [2, 3, 1]
    assert Image.fetch("image_id", order_by="`label` DESC, `image_id`").tolist() == [1, 2, 3]
    assert Image.fetch("image_id", order_by=["score desc", "image_id"]).tolist() == [2, 1, 3]
    assert [r["image_id"] for r in Image.to_dicts(order_by="`score`")] == [3, 1, 2]


def test_numbers_given_for_strings_are_stored_as_their_text(schema):
    """As MySQL stores them (DataJoint passes them on unchanged), on every backend."""
    Image = _images(schema)
    Image.insert1({"image_id": 4, "label": 42, "score": 1.0})
    Image.insert1({"image_id": 5, "label": 2.5, "score": 1.0})
    assert (Image & {"image_id": 4}).fetch1("label") == "42"
    assert (Image & {"image_id": 5}).fetch1("label") == "2.5"
    assert len(Image & {"label": 42}) == 1  # a restriction by the number finds its text


def test_print_shows_the_preview_and_make_sql_the_sql(schema):
    Image = _images(schema)
    query = Image & "label = 'a'"
    shown = str(query)
    assert shown == repr(query) and "image_id" in shown and "0.9" in shown and "SELECT" not in shown
    assert query.make_sql().lstrip().upper().startswith("SELECT")


def test_skip_duplicates_skips_rows_that_collide_on_any_unique_index(schema):
    """As MySQL's INSERT IGNORE does (DataJoint's skip_duplicates), on every backend."""

    @schema
    class Animal(dj.Manual):
        definition = """
        animal_id : int32
        ---
        tag : varchar(16)
        unique index (tag)
        """

    Animal.insert1((1, "A-1"))
    Animal.insert([(2, "A-1"), (3, "A-3"), (1, "A-9")], skip_duplicates=True)
    rows = Animal.fetch(as_dict=True, order_by="animal_id")
    assert [(r["animal_id"], r["tag"]) for r in rows] == [(1, "A-1"), (3, "A-3")]
    Animal.insert1((4, "A-1"), skip_duplicates=True)
    assert len(Animal) == 2
