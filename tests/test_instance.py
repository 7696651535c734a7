"""dj.Instance (DataJoint 2.x): a connection of its own, made from the settings given to it."""

import pytest

import pipejoint as dj
from helpers import drop_schema, unique_name


@pytest.fixture
def instance(settings):
    if settings["backend"] == "sqlite":
        pytest.skip("an Instance connects to a server with host, user and password; SQLite has none")
    host = f"{settings['host']}:{settings['port']}"
    with dj.config.override(database__name=settings.get("database_name")):
        made = dj.Instance(host, settings["user"], settings["password"], backend=settings["backend"])
    yield made
    made.connection.close()


def test_an_instance_has_its_own_connection_and_settings(instance, settings, connection):
    assert instance.connection is not connection and instance.connection.backend_name == settings["backend"]
    assert instance.config["database.backend"] == settings["backend"]
    assert instance.config["database.user"] == settings["user"]
    assert instance.config is not dj.config and instance.config["database.port"] == settings["port"]
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


def test_queries_on_different_connections_do_not_combine(instance, schema, connection):
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
