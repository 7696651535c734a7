"""Garbage collection of store objects on every backend, local and S3 stores."""

from __future__ import annotations

import numpy as np
import pytest

import pipejoint as dj
from pipejoint import storage
from pipejoint.errors import DataJointError
from stores_support import store, stored_files  # noqa: F401  (fixture)


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
    Shot.insert([{"shot_id": 1, "image": shared}, {"shot_id": 2, "image": shared.copy()},
                 {"shot_id": 3, "image": unique, "extra": str(folder)}])
    stored = stored_files()
    assert len(stored) == 2 + 2  # two hash objects; one folder (one file) and its manifest
    assert dj.gc(schema)["orphaned"] == []

    (Shot & {"shot_id": 1}).delete_quick()  # row 2 still refers to the shared object
    (Shot & {"shot_id": 3}).delete_quick()  # nothing refers to `unique` or the folder any more
    report = dj.gc(schema)
    assert report["dry_run"] and report["deleted"] == 0
    orphaned = sorted(path for _, path in report["orphaned"])
    shared_path = f"_hash/{schema.database}/" + storage.content_hash([dj.blob.pack(shared)])
    assert shared_path not in orphaned
    assert len(orphaned) == 3 and all(p in stored for p in orphaned)
    assert stored_files() == stored  # a dry run deletes nothing

    report = dj.gc.GarbageCollector(schema).collect(dry_run=False)
    assert report["deleted"] == 3 and report["bytes_freed"] > 0
    assert stored_files() == [shared_path]
    np.testing.assert_array_equal(Shot.fetch1("image"), shared)
    assert dj.gc(schema, dry_run=False)["deleted"] == 0


def test_gc_finds_objects_left_by_a_failed_insert_inside_a_transaction(schema, store, connection):
    Shot = _declare(schema)
    with pytest.raises(DataJointError):
        with connection.transaction:
            Shot.insert1({"shot_id": 1, "image": np.arange(3)})
            Shot.insert1({"shot_id": 1, "image": np.arange(4)})  # duplicate: the transaction rolls back
    assert len(Shot()) == 0
    left = stored_files()
    assert left  # the caller's transaction decided; the objects are where gc looks
    report = dj.gc(schema, dry_run=False)
    assert sorted(p for _, p in report["orphaned"]) == left
    assert stored_files() == []


def test_gc_refuses_to_delete_when_a_store_cannot_be_listed(schema, store, tmp_path):
    Shot = _declare(schema)
    Shot.insert1({"shot_id": 1, "image": 1})
    (Shot & {"shot_id": 1}).delete_quick()
    stores = dict(dj.config["stores"], broken={"protocol": "file", "location": str(tmp_path / "gone")})
    with dj.config.override(stores=stores):
        report = dj.gc(schema)
        assert report["errors"] and len(report["orphaned"]) == 1
        with pytest.raises(DataJointError, match="refused to delete"):
            dj.gc(schema, dry_run=False)
    assert len(stored_files()) == 1
    assert dj.gc(schema, store="main", dry_run=False)["deleted"] == 1


def test_gc_needs_schemas():
    with pytest.raises(DataJointError, match="needs the schemas"):
        dj.gc()
