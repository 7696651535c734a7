"""DataJoint 0.14's query cache (the book's form): reads cached on disk by a key, writes refused."""

import pytest

import pipejoint as dj
from pipejoint.errors import DataJointError


def _scores(schema):
    @schema
    class Score(dj.Manual):
        definition = """
        trial : int32
        ---
        score : float64
        """

    Score.insert([(1, 0.5), (2, 0.25)])
    return Score


@pytest.fixture
def cache_folder(tmp_path, connection):
    with dj.config.override(query_cache=str(tmp_path / "cache")):
        yield tmp_path / "cache"
    connection.set_query_cache()


def test_reads_are_answered_from_the_cache_of_their_key(schema, connection, cache_folder):
    Score = _scores(schema)
    connection.set_query_cache(query_cache="before")
    assert Score.fetch("score", order_by="trial").tolist() == [0.5, 0.25]
    assert (Score & {"trial": 1}).fetch1("score") == 0.5
    assert len(Score) == 2
    assert any(cache_folder.iterdir())

    connection.set_query_cache()  # off: the database changes
    Score.insert1((3, 1.0))
    connection.set_query_cache("before")  # the same key: the results cached under it
    assert Score.fetch("score", order_by="trial").tolist() == [0.5, 0.25]
    assert (Score & {"trial": 1}).fetch1("score") == 0.5
    connection.set_query_cache("after")  # another key: read anew
    assert Score.fetch("score", order_by="trial").tolist() == [0.5, 0.25, 1.0]
    assert connection.query("SELECT 1 + %s", (1,)).fetchall()[0][0] == 2  # user SQL, with arguments

    connection.set_query_cache("before")
    connection.purge_query_cache()
    assert not any(cache_folder.iterdir())
    assert Score.fetch("score", order_by="trial").tolist() == [0.5, 0.25, 1.0]
    connection.set_query_cache(None)
    assert len(Score) == 3


def test_purge_deletes_only_the_cached_results(schema, connection, cache_folder):
    Score = _scores(schema)
    cache_folder.mkdir(parents=True)
    (cache_folder / "notes.txt").write_text("mine")
    connection.set_query_cache("k")
    Score.fetch()
    connection.purge_query_cache()
    assert [p.name for p in cache_folder.iterdir()] == ["notes.txt"]


def test_changes_are_refused_while_caching_is_on(schema, connection, cache_folder):
    Score = _scores(schema)
    connection.set_query_cache("frozen")
    with pytest.raises(DataJointError, match="set_query_cache"):
        Score.insert1((3, 1.0))
    with pytest.raises(DataJointError, match="set_query_cache"):
        Score.insert([(4, 1.0), (5, 2.0)])
    with pytest.raises(DataJointError, match="set_query_cache"):
        (Score & {"trial": 1}).delete()
    with pytest.raises(DataJointError, match="set_query_cache"):
        connection.query(f"DELETE FROM {Score.full_table_name}")
    connection.set_query_cache()
    assert sorted(Score.fetch("trial").tolist()) == [1, 2]  # nothing changed


def test_caching_without_a_folder_says_how_to_set_one(schema, connection):
    Score = _scores(schema)
    with dj.config.override(query_cache=None):
        connection.set_query_cache("k")
        try:
            with pytest.raises(DataJointError, match=r"dj.config\['query_cache'\]"):
                Score.fetch()
        finally:
            connection.set_query_cache()
    assert len(Score) == 2
