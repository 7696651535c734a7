"""A small pipeline for the `pipejoint mcp` tests. The tests declare it on the fixture's connection
with declare(schema); the server imports this file with --module, and then declares it again on
its own connection (a no-op: the tables exist) in the schema that PJ_MCP_SCHEMA names."""

from __future__ import annotations

import os

import pipejoint as dj


def declare(schema):
    @schema
    class Species(dj.Lookup):
        definition = """
        # kinds of animals
        species : varchar(24)
        """
        contents = [("mouse",), ("rat",)]

    @schema
    class Subject(dj.Manual):
        definition = """
        # an animal in an experiment
        subject_id : int32           # lab-wide id
        ---
        -> Species
        sex : enum('F', 'M', 'U')    # as recorded at arrival
        """

    @schema
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        session_date : date
        """

    @schema
    class Stats(dj.Computed):
        definition = """
        # numbers computed per session
        -> Session
        ---
        total : int32
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : int16
            ---
            count : int32
            """

        def make(self, key):
            if key["subject_id"] == 3:
                raise ValueError(f"no recording for subject {key['subject_id']}")
            self.insert1({**key, "total": key["subject_id"] * 10 + key["session"]})
            self.Channel.insert({**key, "channel": c, "count": c + key["session"]} for c in range(2))

    return {"Species": Species, "Subject": Subject, "Session": Session, "Stats": Stats}


if os.environ.get("PJ_MCP_SCHEMA"):
    globals().update(declare(dj.Schema(os.environ["PJ_MCP_SCHEMA"])))
