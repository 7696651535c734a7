"""populate(reserve_jobs=True) in one process: where the transaction that stores a result also
reserves the next key's job, no job is left reserved however populate ends."""

import pytest

import pipejoint as dj


def _pipeline(schema, fail_on=None, interrupt_on=None):
    @schema
    class Reading(dj.Manual):
        definition = """
        reading : int16
        """

    @schema
    class Scaled(dj.Computed):
        definition = """
        -> Reading
        ---
        value : int32
        """

        def make(self, key):
            if key["reading"] == fail_on:
                raise ValueError("a bad reading")
            if key["reading"] == interrupt_on:
                raise KeyboardInterrupt
            self.insert1(dict(key, value=10 * key["reading"]))

    Reading.insert([{"reading": i} for i in range(1, 7)])
    return Scaled


def _statuses(table):
    return sorted((k["reading"], k["status"]) for k in table.jobs.fetch("reading", "status", as_dict=True))


def test_max_calls_leaves_the_next_key_pending(schema):
    Scaled = _pipeline(schema)
    result = Scaled.populate(reserve_jobs=True, max_calls=2)
    assert result["success_count"] == 2 and Scaled.fetch("reading").tolist() == [1, 2]
    assert _statuses(Scaled) == [(r, "pending") for r in range(3, 7)]
    Scaled.populate(reserve_jobs=True)
    assert Scaled.fetch("value").tolist() == [10, 20, 30, 40, 50, 60] and len(Scaled.jobs) == 0


def test_a_failed_make_between_made_keys(schema):
    Scaled = _pipeline(schema, fail_on=3)
    result = Scaled.populate(reserve_jobs=True, suppress_errors=True)
    assert result["success_count"] == 5 and len(result["error_list"]) == 1
    assert Scaled.fetch("reading").tolist() == [1, 2, 4, 5, 6]
    assert _statuses(Scaled) == [(3, "error")]


def test_an_interrupted_populate_gives_its_reservations_back(schema):
    Scaled = _pipeline(schema, interrupt_on=4)
    with pytest.raises(KeyboardInterrupt):
        Scaled.populate(reserve_jobs=True)
    assert Scaled.fetch("reading").tolist() == [1, 2, 3]
    # the interrupted job is an error (as in DataJoint); the one reserved ahead of it is given back
    assert _statuses(Scaled) == [(4, "error"), (5, "pending"), (6, "pending")]
