"""The small pipeline the dashboard tests show: animals (one with an image blob), a computed scan
that fails for animal 3, and the dashboard app on its own connection to the same database."""

from __future__ import annotations

import numpy as np

import pipejoint as dj
from helpers import connect


def build(schema, populate=True):
    @schema
    class Animal(dj.Manual):
        definition = """
        # animals in the study
        animal : int32
        ---
        sex : enum('F', 'M')   # as recorded at arrival
        image = null : longblob
        """

    @schema
    class Scan(dj.Computed):
        definition = """
        # one scan per animal
        -> Animal
        ---
        value : float64
        """

        def make(self, key):
            if key["animal"] == 3:
                raise ValueError(f"no scan file for animal {key['animal']}")
            self.insert1({**key, "value": 1.5})

    Animal.insert([(1, "F", np.zeros((3, 4))), (2, "M", None), (3, "F", None), (4, "M", None), (5, "F", None)])
    if populate:
        Scan.populate(Animal & "animal < 4", reserve_jobs=True, suppress_errors=True)
    return Animal, Scan


def app_for(settings, schema, Scan, **kwargs):
    """(app, its connection): the dashboard on a connection of its own, as `pipejoint ui` makes one."""
    from pipejoint.ui import create_app

    connection = connect(settings)
    app = create_app(connection, schemas=[schema.database], pipelines={Scan.full_table_name: Scan}, **kwargs)
    return app, connection
