"""Garbage collection of store objects on every backend, local and S3 stores."""

from __future__ import annotations

import time

import numpy as np
import pytest

import pipejoint as dj
from helpers import connect, stored_files
from pipejoint.errors import DataJointError
from pipejoint.storage import stores as storage


def _declare(schema):
    @schema
    class Shot(dj.Manual):
        definition = """
        shot_id : int32
        ---
        image : <blob@>
        extra = null : <object@>
        """

    return Shot


def test_gc_spares_shared_objects_and_deletes_orphans(schema, store, tmp_path):
    Shot = _declare(schema)
    shared, unique = np.ones(8), np.zeros(8)
    folder = tmp_path / "scan.zarr"
    folder.mkdir()
    (folder / "chunk").write_bytes(b"data")
    Shot.insert(
        [
            {"shot_id": 1, "image": shared},
            {"shot_id": 2, "image": shared.copy()},
            {"shot_id": 3, "image": unique, "extra": str(folder)},
        ]
    )
    stored = stored_files()
    assert len(stored) == 2 + 2  # two hash objects; one folder (one file) and its manifest
    assert dj.gc(schema, min_age=0)["orphaned"] == []

    (Shot & {"shot_id": 1}).delete_quick()  # row 2 still refers to the shared object
    (Shot & {"shot_id": 3}).delete_quick()  # nothing refers to `unique` or the folder any more
    report = dj.gc(schema, min_age=0)
    assert report["dry_run"] and report["deleted"] == 0
    orphaned = sorted(path for _, path in report["orphaned"])
    shared_path = f"_hash/{schema.database}/" + storage.content_hash([dj.blob.pack(shared)])
    assert shared_path not in orphaned
    assert len(orphaned) == 3 and all(p in stored for p in orphaned)
    assert stored_files() == stored  # a dry run deletes nothing

    report = dj.gc.GarbageCollector(schema).collect(dry_run=False, min_age=0)
    assert report["deleted"] == 3 and report["bytes_freed"] > 0
    assert stored_files() == [shared_path]
    np.testing.assert_array_equal(Shot.fetch1("image"), shared)
    assert dj.gc(schema, dry_run=False, min_age=0)["deleted"] == 0


def test_gc_finds_objects_left_by_a_failed_insert_inside_a_transaction(schema, store, connection):
    Shot = _declare(schema)
    with pytest.raises(DataJointError):
        with connection.transaction:
            Shot.insert1({"shot_id": 1, "image": np.arange(3), "extra": b"frames"})
            Shot.insert1({"shot_id": 1, "image": np.arange(4)})  # duplicate: the transaction rolls back
    assert len(Shot()) == 0
    left = stored_files()
    assert len(left) == 3  # two blobs and an object: the caller's transaction decided; they are where gc looks
    assert {p.split("/")[0] for p in left} == {"_hash", "_schema"}
    report = dj.gc(schema, dry_run=False, min_age=0)
    assert sorted(p for _, p in report["orphaned"]) == left
    assert stored_files() == []


def test_gc_refuses_to_delete_when_a_store_cannot_be_listed(schema, store, tmp_path):
    Shot = _declare(schema)
    Shot.insert1({"shot_id": 1, "image": 1})
    (Shot & {"shot_id": 1}).delete_quick()
    stores = dict(dj.config["stores"], broken={"protocol": "file", "location": str(tmp_path / "gone")})
    with dj.config.override(stores=stores):
        report = dj.gc(schema, min_age=0)
        assert report["errors"] and len(report["orphaned"]) == 1
        with pytest.raises(DataJointError, match="refused to delete"):
            dj.gc(schema, dry_run=False, min_age=0)
    assert len(stored_files()) == 1
    assert dj.gc(schema, store="main", dry_run=False, min_age=0)["deleted"] == 1


def test_gc_needs_schemas():
    with pytest.raises(DataJointError, match="needs the schemas"):
        dj.gc()


def test_schema_gc_is_a_dry_run_and_spares_recent_objects_by_default(schema, store):
    Shot = _declare(schema)
    Shot.insert1({"shot_id": 1, "image": np.arange(6)})
    (path,) = stored_files()
    (Shot & {"shot_id": 1}).delete_quick()
    report = schema.gc()
    assert report["dry_run"] and report["orphaned"] == [] and report["recent"] == [("main", path)]
    report = schema.gc(dry_run=False)  # younger than an hour: an insert may still be committing it
    assert report["deleted"] == 0 and report["recent"] == [("main", path)]
    assert stored_files() == [path]
    report = schema.gc(min_age=0)
    assert report["dry_run"] and report["orphaned"] == [("main", path)] and stored_files() == [path]
    assert schema.gc(dry_run=False, min_age=0)["deleted"] == 1
    assert stored_files() == []


def test_gc_spares_an_old_orphan_that_an_uncommitted_insert_shares_again(schema, store, connection, settings):
    # AGE leaves a loaded machine seconds to write the marker and list the store while it is young
    AGE = 3
    Shot = _declare(schema)
    image = np.arange(7)
    Shot.insert1({"shot_id": 1, "image": image})
    (path,) = stored_files()
    (Shot & {"shot_id": 1}).delete_quick()
    time.sleep(AGE + 0.5)  # the orphan is now older than min_age
    other = connect(settings)
    try:
        elsewhere = dj.Schema(schema.database, connection=other)  # gc run by another process
        with connection.transaction:
            Shot.insert1({"shot_id": 2, "image": image.copy()})  # shares the stored object again
            markers = [p for p in stored_files() if p.startswith(path + storage.IN_USE_MARK)]
            assert len(markers) == 1
            report = elsewhere.gc(dry_run=False, min_age=AGE)  # does not see the uncommitted row
            assert report["deleted"] == 0 and ("main", path) in report["recent"]
        np.testing.assert_array_equal(Shot.fetch1("image"), image)
        time.sleep(AGE + 0.5)
        report = elsewhere.gc(dry_run=False, min_age=AGE)  # the row is committed: the object is referenced
        assert report["orphaned"] == [("main", markers[0])]  # the marker of an insert in a caller's transaction
        assert stored_files() == [path]
    finally:
        other.close()
    Shot.insert1({"shot_id": 3, "image": image.copy()})  # in its own transaction: removes its marker itself
    assert stored_files() == [path]
