"""dj.Instance (DataJoint 2.x): a connection and settings of its own, and thread-safe mode."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import pipejoint as dj
from helpers import drop_schema, unique_name


def instance_for(settings, **overrides):
    """An Instance reaching the test database: a server login, or on SQLite the test's database file."""
    if settings["backend"] == "sqlite":
        return dj.Instance(backend="sqlite", database__name=settings["database_name"], **overrides)
    host = f"{settings['host']}:{settings['port']}"
    if settings.get("database_name"):
        overrides.setdefault("database__name", settings["database_name"])
    return dj.Instance(host, settings["user"], settings["password"], backend=settings["backend"], **overrides)


@pytest.fixture
def make_instance(settings):
    made = []

    def make(**overrides):
        made.append(instance_for(settings, **overrides))
        return made[-1]

    yield make
    for instance in made:
        instance.connection.close()


@pytest.fixture
def instance(make_instance):
    return make_instance()


@pytest.fixture
def instance_schema(instance):
    """A schema on the instance's connection, dropped afterwards."""
    schema = instance.Schema(unique_name())
    yield schema
    drop_schema(instance.connection, schema.database)


def test_an_instance_has_its_own_connection_and_settings(instance, settings, connection):
    assert instance.connection is not connection and instance.connection.backend_name == settings["backend"]
    assert instance.config["database.backend"] == settings["backend"]
    assert instance.config is not dj.config and instance.connection.config is instance.config
    assert connection.config is not instance.config
    if "user" in settings:
        assert instance.config["database.user"] == settings["user"]
        assert instance.config["database.port"] == settings["port"]
    name = unique_name()
    schema = instance.Schema(name)
    try:

        @schema
        class Probe(dj.Manual):
            definition = """
            probe_id : int32
            """

        Probe.insert1((4,))
        assert Probe().connection is instance.connection and schema.connection is instance.connection
        assert instance.FreeTable(Probe.full_table_name).fetch1("probe_id") == 4
        assert dj.FreeTable(connection, Probe.full_table_name).fetch1("probe_id") == 4  # the same database
    finally:
        drop_schema(instance.connection, name)


def test_the_port_follows_the_backend_when_not_given():
    """The backend's own port, as DataJoint does: nothing listens at these, so the error names it."""
    with pytest.raises(dj.LostConnectionError, match="5432"):
        dj.Instance("127.0.0.9", "nobody", "secret", backend="postgresql")
    with dj.config.override(database__backend=None), pytest.raises(dj.LostConnectionError, match="3306"):
        dj.Instance("127.0.0.9", "nobody", "secret")  # a host and no backend: MySQL, as in DataJoint


def test_bad_instance_arguments_are_refused_with_the_fix(tmp_path):
    with pytest.raises(dj.DataJointError, match=r"dj.Instance\(display__limt=...\).*display__limit"):
        dj.Instance(backend="sqlite", database__name=str(tmp_path / "a.db"), display__limt=3)
    with pytest.raises(dj.DataJointError, match="takes no host, user, password.*database__name"):
        dj.Instance("127.0.0.1", "root", "", backend="sqlite")
    assert not (tmp_path / "a.db").exists()


def test_queries_on_different_connections_do_not_combine(instance, schema):
    @schema
    class Site(dj.Manual):
        definition = """
        site : int32
        """

    Site.insert1((1,))
    same_table = instance.FreeTable(Site.full_table_name)  # the same table, through the instance's connection
    assert same_table.fetch1("site") == 1
    for combine in (lambda: Site * same_table, lambda: Site & same_table, lambda: same_table - Site()):
        with pytest.raises(dj.DataJointError, match="different connections"):
            combine()
    assert len(Site & Site.proj()) == 1  # one connection: as always


def test_two_instances_keep_their_own_safemode_and_display(make_instance, monkeypatch):
    """One table seen through two instances at once: each prompts and displays as its own settings say,
    whatever dj.config says (the tests run with dj.config['safemode'] False)."""
    careful = make_instance(
        safemode=True, display__limit=2, display__show_tuple_count=False, display__diagram_direction="TB"
    )
    quick = make_instance(safemode=False, display={"limit": 5})
    name = unique_name()
    schema = careful.Schema(name)
    try:

        @schema
        class Cell(dj.Manual):
            definition = """
            cell : int32
            """

        Cell.insert([(i,) for i in range(8)])
        same = quick.FreeTable(Cell.full_table_name)
        assert repr(Cell()).count("\n") < repr(same).count("\n")
        assert "Total: 8" in repr(same) and "Total" not in repr(Cell())
        assert "\n1\n...\n" in repr(Cell()) and "\n4\n...\n" in repr(same)  # 2 rows shown, and 5
        assert "Total: 8" in same._repr_html_() and "Total" not in Cell()._repr_html_()
        assert dj.Diagram(schema)._direction(None) == "TB"  # one table: "auto" (dj.config's) would say LR

        asked = []
        monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "no")
        assert (Cell & "cell < 2").delete() == 0  # careful: asks, and "no" keeps the rows
        assert asked and len(Cell) == 8
        assert (same & "cell < 2").delete() == 2  # quick: no question
        assert len(asked) == 1 and len(Cell) == 6
    finally:
        drop_schema(careful.connection, name)
    assert dj.config["safemode"] is False and dj.config["display.limit"] == 12  # untouched


def test_instances_work_at_the_same_time_in_threads(settings):
    """Each thread works through an instance of its own, with its own settings, concurrently."""
    names = [unique_name(), unique_name()]
    failures, priorities = [], {}

    def work(index):
        lab = instance_for(settings, jobs__default_priority=(2, 7)[index])
        try:
            schema = lab.Schema(names[index])

            @schema
            class Trial(dj.Manual):
                definition = """
                trial : int32
                """

            @schema
            class Score(dj.Computed):
                definition = """
                -> Trial
                ---
                score : float64
                """

                def make(self, key):
                    self.insert1(dict(key, score=key["trial"] * 0.5))

            Trial.insert([(i,) for i in range(20)])
            Score.jobs.refresh()
            priorities[index] = set(Score.jobs.fetch("priority").tolist())
            assert Score.populate(reserve_jobs=True)["success_count"] == 20
            assert Score.to_dicts(order_by="trial")[-1]["score"] == 9.5
        except BaseException as error:
            failures.append(error)
        finally:
            lab.connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failures, failures
        assert priorities == {0: {2}, 1: {7}}
    finally:
        lab = instance_for(settings)
        for name in names:
            drop_schema(lab.connection, name)
        lab.connection.close()


def test_an_instances_stores_and_download_path_are_its_own(make_instance, connection, tmp_path):
    """dj.config names no store; the instance's config names one: its tables write and read there."""
    own = tmp_path / "lab-store"
    own.mkdir()
    downloads = tmp_path / "downloads"
    lab = make_instance(
        stores={"default": "main", "main": {"protocol": "file", "location": str(own)}}, download_path=str(downloads)
    )
    assert not dj.config["stores"]
    name = unique_name()
    schema = lab.Schema(name)
    try:

        @schema
        class Recording(dj.Manual):
            definition = """
            rec : int32
            ---
            trace : <blob@>
            frames : <npy@>
            notes : <attach@>
            """

        note = tmp_path / "note.txt"
        note.write_text("calibrated")
        Recording.insert1({"rec": 1, "trace": np.arange(5.0), "frames": np.ones((2, 3)), "notes": note})
        assert any(p.is_file() for p in own.rglob("*"))
        row = Recording.fetch1()
        np.testing.assert_array_equal(row["trace"], np.arange(5.0))
        np.testing.assert_array_equal(np.asarray(row["frames"]), np.ones((2, 3)))  # read lazily, from lab's store
        assert os.path.dirname(row["notes"]) == str(downloads) and open(row["notes"]).read() == "calibrated"
        same = dj.FreeTable(connection, Recording.full_table_name)  # the same table, on dj.config's settings
        with pytest.raises(dj.DataJointError, match="Store 'main' is requested but not configured"):
            same.fetch1("trace")
        with pytest.raises(dj.DataJointError, match="Store 'main' is requested but not configured"):
            np.asarray(same.fetch1("frames"))
    finally:
        drop_schema(lab.connection, name)


def test_thread_safe_mode_refuses_the_globals(monkeypatch):
    """DJ_THREAD_SAFE is read whenever a global is used, as in DataJoint."""
    monkeypatch.setenv("DJ_THREAD_SAFE", "true")
    for use in (
        lambda: dj.config["safemode"],
        lambda: setattr(dj.config, "safemode", False),
        lambda: dj.config.override(safemode=False),
        lambda: dj.conn(),
        lambda: dj.Schema("lab"),
        lambda: dj.FreeTable("lab.subject"),
    ):
        with pytest.raises(dj.ThreadSafetyError, match=r"DJ_THREAD_SAFE=true.*dj.Instance\(.*lab.Schema"):
            use()
    assert "thread-safe" in repr(dj.config)
    monkeypatch.setenv("DJ_THREAD_SAFE", "no")
    assert dj.config["display.limit"] == 12


THREAD_SAFE_SCRIPT = """
import json
import sys

import pipejoint as dj

args, kwargs, name = json.loads(sys.argv[1])

for name, use in [("config", lambda: dj.config["safemode"]), ("conn", dj.conn), ("schema", lambda: dj.Schema("x"))]:
    try:
        use()
    except dj.ThreadSafetyError as error:
        assert "dj.Instance(" in str(error), error
        print("refused", name)

lab = dj.Instance(*args, **kwargs, safemode=False)
schema = lab.Schema(name)
try:

    @schema
    class Animal(dj.Manual):
        definition = '''
        animal : int32
        ---
        weight : float64
        '''

    @schema
    class Doubled(dj.Computed):
        definition = '''
        -> Animal
        ---
        twice : float64
        '''

        def make(self, key):
            self.insert1(dict(key, twice=2 * (Animal & key).fetch1("weight")))

    Animal.insert([(1, 2.5), (2, 4.0)])
    assert Doubled.populate()["success_count"] == 2
    assert sorted(Doubled.fetch("twice").tolist()) == [5.0, 8.0]
    assert (Animal & {"animal": 1}).delete() == 1
    assert len(Doubled) == 1 and (Doubled & "animal = 2").fetch1("twice") == 8.0
    print(repr(Doubled()).splitlines()[0])
    print("instance works")
finally:
    schema.drop()
"""


def test_thread_safe_mode_in_a_fresh_process(settings):
    """A process started with DJ_THREAD_SAFE=true: the globals are refused; an Instance declares,
    inserts, fetches, populates, deletes and drops."""
    if settings["backend"] == "sqlite":
        args, kwargs = [], {"backend": "sqlite", "database__name": settings["database_name"]}
    else:
        args = [f"{settings['host']}:{settings['port']}", settings["user"], settings["password"]]
        kwargs = {"backend": settings["backend"]}
        if settings.get("database_name"):
            kwargs["database__name"] = settings["database_name"]
    env = dict(os.environ, DJ_THREAD_SAFE="true")
    src = os.path.dirname(os.path.dirname(dj.__file__))
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", THREAD_SAFE_SCRIPT, json.dumps([args, kwargs, unique_name()])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["refused config", "refused conn", "refused schema"]
    assert done.stdout.splitlines()[-1] == "instance works"
