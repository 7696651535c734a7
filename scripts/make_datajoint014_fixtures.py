"""Write the DataJoint 0.14 fixtures: two schemas made by real DataJoint 0.14.6, dumped, with their store.

Most labs' databases were made by DataJoint 0.14 on MySQL/MariaDB. The tests load these fixtures into
fresh schemas (tests/helpers.py: load_datajoint014) and check that pipejoint reads them as they are.
Run it once, with DataJoint 0.14.6 in its own virtual environment, against the local MariaDB:

    python3 -m venv /tmp/dj014 && /tmp/dj014/bin/pip install datajoint==0.14.6
    /tmp/dj014/bin/python scripts/make_datajoint014_fixtures.py [--host 127.0.0.1 --user root --password ""]

It declares a small pipeline in `pj014_subject` and `pj014_lab` (dropping them first if they exist),
fills it through DataJoint 0.14 (inserts, populate with reserve_jobs, a make that fails for some keys,
a reserved and an ignored job), writes a few values as other clients would (a MATLAB-made blob, bytes
that are not a blob), then writes to tests/fixtures/datajoint014/:

  pj014_subject.sql, pj014_lab.sql   mariadb-dump output (structure and data, no CREATE DATABASE;
                                     cross-schema foreign keys name `pj014_subject`, which the loader
                                     rewrites to the fresh schema's name)
  store/<store>/...                  the files of the file stores, relative to each store's location
                                     (0.14's layout: {schema}/{subfolders}/{hash}[.{attachment name}],
                                     and filepath files at their path relative to the stage)
  manifest.json                      every table's columns and rows as DataJoint 0.14 fetched them,
                                     described by tests/fixtures/datajoint014/values.py; the stores'
                                     configuration; the adapters; row counts of every table

and drops the schemas (unless --keep). Covered: Lookup/Manual/Imported/Computed tables with parts;
longblobs holding arrays of several dtypes and shapes, dicts, lists, strings, MATLAB structs and
cells, compressed and not; blob@store, attach@store (deduplicated), filepath@store with a stage;
internal attach; adapted types (<graph> onto longblob, <stored_graph> onto blob@raw, <isodate> onto
varchar); uuid primary and secondary attributes (and a foreign key to a uuid); enum, decimal, date,
datetime(3), timestamp, time, char; nullable columns and defaults; a cross-schema foreign key, a
renamed foreign key (-> Session.proj(...)), a nullable foreign key; unique and secondary indexes;
the schema-wide ~jobs table with reserved, ignore and error rows; ~log.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

os.environ["DJ_SUPPORT_ADAPTED_TYPES"] = "TRUE"  # 0.14 needs these switches for adapters and filepath
os.environ["DJ_SUPPORT_FILEPATH_MANAGEMENT"] = "TRUE"

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "datajoint014"
LAB, SUBJECT = "pj014_lab", "pj014_subject"
NAMESPACE = uuid.UUID("5b1c2b9e-9f6a-4a57-9d0f-014014014014")


def load_values_module():
    spec = importlib.util.spec_from_file_location("dj014_values", OUT / "values.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


values = load_values_module()


def fixed_uuid(name):
    return uuid.uuid5(NAMESPACE, name)


# --- values written by other clients ---------------------------------------------------------


def matlab_array(array, type_id):
    """A blob as MATLAB's mYm writes it (no compression, Fortran order, 64-bit dimensions)."""
    array = np.asarray(array)
    head = b"mYm\0A" + np.array([array.ndim, *array.shape], dtype="<u8").tobytes()
    return head + np.array([type_id, 0], dtype="<u4").tobytes() + array.tobytes(order="F")


def matlab_char(text):
    """A MATLAB char row vector: UTF-16 code units, type 4."""
    codes = np.array([[ord(c) for c in text]], dtype="<u2")
    return matlab_array(codes, 4)


PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


# --- the pipeline ------------------------------------------------------------------------------


def declare(dj, work):
    # 0.14 finds adapters in the declaring frame's locals, by the names the definitions use
    found = values.adapters(dj)
    graph, stored_graph, isodate = found["graph"], found["stored_graph"], found["isodate"]  # noqa: F841

    subject_schema = dj.Schema(SUBJECT)

    @subject_schema
    class Species(dj.Lookup):
        definition = """
        # species of experimental subjects
        species : varchar(32)
        ---
        common_name : varchar(64)
        """
        contents = [("mus musculus", "mouse"), ("rattus norvegicus", "rat")]

    @subject_schema
    class Subject(dj.Manual):
        definition = """
        # experimental subject
        subject_id : int unsigned          # lab-wide id
        ---
        -> Species
        subject_uuid : uuid                # global identifier
        sex = 'U' : enum('M', 'F', 'U')
        date_of_birth : date
        weight = null : decimal(5,2) unsigned  # grams
        notes = '' : varchar(255)
        unique index (subject_uuid)
        """

    lab = dj.Schema(LAB)  # each declaration's context: this function's locals (the adapters, Subject, ...)

    @lab
    class Device(dj.Lookup):
        definition = """
        # recording devices, known by a uuid
        device_id : uuid
        ---
        device_name : varchar(32)
        serial = null : char(12)
        calibration = null : longblob      # polynomial coefficients
        unique index (device_name)
        """
        contents = [
            (fixed_uuid("probe-a"), "probe-a", "SN0001", np.array([0.1, 1.0, 0.002])),
            (fixed_uuid("probe-b"), "probe-b", None, None),
        ]

    @lab
    class Session(dj.Manual):
        definition = """
        # a recording session
        -> Subject
        session_idx : smallint unsigned
        ---
        -> [nullable] Device
        session_date : date
        session_start : datetime(3)
        duration : time
        recorded = CURRENT_TIMESTAMP : timestamp
        quality = null : enum('good', 'fair', 'bad')
        notes = "" : varchar(255)
        index (session_date)
        """

    @lab
    class SessionPair(dj.Manual):
        definition = """
        # sessions compared with each other: a renamed foreign key
        -> Session
        -> Session.proj(other_subject='subject_id', other_session='session_idx')
        ---
        similarity = null : float
        """

    @lab
    class Document(dj.Manual):
        definition = """
        # documents: an attachment in the table and one in the store
        doc_id : int
        ---
        doc : attach                       # kept in the table
        doc_copy = null : attach@raw       # kept in the store
        """

    @lab
    class Snapshot(dj.Manual):
        definition = """
        # longblob values written by other clients (MATLAB, plain SQL)
        snapshot_id : int
        ---
        source : varchar(16)
        payload = null : longblob
        """

    @lab
    class Recording(dj.Imported):
        definition = """
        # one recording per session
        -> Session
        ---
        trace : longblob                   # float32 samples x channels
        trace_ext : blob@raw               # the same samples, in the store
        raw_file : attach@raw              # the acquisition file
        settings_file = null : filepath@raw  # a file staged in the store
        sampling_rate : double
        meta : longblob                    # a dict
        recording_uuid : uuid
        """

        class Channel(dj.Part):
            definition = """
            -> master
            channel : tinyint unsigned
            ---
            gain : float
            waveform : longblob            # int16 samples
            waveform_ext = null : blob@cold
            """

        def make(self, key):
            n = key["subject_id"] * 10 + key["session_idx"]
            rng = np.random.default_rng(n)
            trace = rng.standard_normal((50, 3)).astype(np.float32)
            acquisition = work / "acquisition" / f"s{key['subject_id']}_{key['session_idx']}.dat"
            acquisition.parent.mkdir(parents=True, exist_ok=True)
            acquisition.write_bytes(b"ACQ0" + trace.tobytes()[:200])
            settings = None
            if n != 31:
                settings = work / "stage" / "raw" / "settings" / f"subject{key['subject_id']}" / f"session{n}.json"
                settings.parent.mkdir(parents=True, exist_ok=True)
                settings.write_text(json.dumps({"session": n, "gain": 2.5}, sort_keys=True) + "\n")
            self.insert1(
                dict(
                    key,
                    trace=trace,
                    trace_ext=trace.astype(np.float64),
                    raw_file=str(acquisition),
                    settings_file=None if settings is None else str(settings),
                    sampling_rate=30000.0 + n,
                    meta={"rig": f"rig{n % 2}", "channels": [0, 1, 2], "notes": "ok", "gain": 2.5},
                    recording_uuid=fixed_uuid(f"recording{n}"),
                )
            )
            shared = np.arange(12, dtype=np.int16).reshape(3, 4)  # the same external blob in two rows
            self.Channel.insert(
                dict(
                    key,
                    channel=c,
                    gain=0.5 * (c + 1),
                    waveform=(np.arange(8, dtype=np.int16) * (c + 1)),
                    waveform_ext=shared if c < 2 else None,
                )
                for c in range(3)
            )

    @lab
    class AnalysisParam(dj.Lookup):
        definition = """
        # analysis methods
        param_id : tinyint unsigned
        ---
        method : enum('mean', 'median', 'fail')
        threshold : decimal(6,3)
        options = null : longblob
        """
        contents = [
            (1, "mean", decimal.Decimal("0.500"), {"smooth": True, "window": 5}),
            (2, "median", decimal.Decimal("1.250"), None),
            (3, "fail", decimal.Decimal("0.000"), ["this", "method", "fails"]),
        ]

    @lab
    class Analysis(dj.Computed):
        definition = """
        # results of an analysis method on a recording
        -> Recording
        -> AnalysisParam
        ---
        mean_trace : longblob
        big_zeros : longblob               # compressed (ZL123)
        big_random : longblob              # too random to compress
        stats : longblob                   # a MATLAB struct array
        cells : longblob                   # a MATLAB cell array
        connectivity : <graph>
        connectivity_ext : <stored_graph>
        analysis_date : <isodate>
        analyzed = CURRENT_TIMESTAMP : timestamp
        """

        class Epoch(dj.Part):
            definition = """
            -> master
            epoch : smallint
            ---
            epoch_uuid : uuid
            epoch_values : longblob
            label = null : varchar(16)
            """

        def make(self, key):
            method = (AnalysisParam & key).fetch1("method")
            if method == "fail":
                raise ValueError(f"method 'fail' fails on purpose for param {key['param_id']}")
            trace = (Recording & key).fetch1("trace")
            n = key["subject_id"] * 100 + key["session_idx"] * 10 + key["param_id"]
            stats = np.empty((1, 2), dtype=[("name", object), ("value", object)]).view(dj.blob.MatStruct)
            stats[0, 0] = ("mean", np.float64(trace.mean()))
            stats[0, 1] = ("extent", np.array([trace.min(), trace.max()]))
            cells = np.empty((1, 3), dtype=object)
            cells[0, 0], cells[0, 1], cells[0, 2] = "trial", None, {"k": 1.5}
            graph_value = {1: [2, 3], 2: [3], 3: [1]}
            self.insert1(
                dict(
                    key,
                    mean_trace=trace.mean(axis=0) if method == "mean" else np.median(trace, axis=0),
                    big_zeros=np.zeros((40, 50), dtype=np.float64),
                    big_random=np.random.default_rng(n).integers(0, 2**31, 400, dtype=np.int64),
                    stats=stats,
                    cells=cells.view(dj.blob.MatCell),
                    connectivity=graph_value,
                    connectivity_ext={k: v + [n] for k, v in graph_value.items()},
                    analysis_date=datetime.date(2024, 3, 1 + n % 28),
                    analyzed=datetime.datetime(2024, 3, 2, 12, 0, n % 60),
                )
            )
            self.Epoch.insert(
                dict(
                    key,
                    epoch=e,
                    epoch_uuid=fixed_uuid(f"epoch{n}-{e}"),
                    epoch_values=[np.float64(e), "label", (e, e + 1)] if e else np.array([[1, 2], [3, 4]], "uint8"),
                    label=None if e else "first",
                )
                for e in range(2)
            )

    return dict(
        Species=Species,
        Subject=Subject,
        Device=Device,
        Session=Session,
        SessionPair=SessionPair,
        Document=Document,
        Snapshot=Snapshot,
        Recording=Recording,
        AnalysisParam=AnalysisParam,
        Analysis=Analysis,
        schemas=(subject_schema, lab),
    )


def fill(dj, t, work):
    for row in (  # one at a time: the rows leave out different attributes (their defaults)
        dict(
            subject_id=1,
            species="mus musculus",
            subject_uuid=fixed_uuid("subject1"),
            sex="F",
            date_of_birth=datetime.date(2023, 11, 2),
            weight=decimal.Decimal("21.50"),
            notes="founder",
        ),
        dict(
            subject_id=2,
            species="mus musculus",
            subject_uuid=fixed_uuid("subject2"),
            sex="M",
            date_of_birth=datetime.date(2023, 12, 24),
            weight=decimal.Decimal("24.75"),
        ),
        dict(
            subject_id=3,
            species="rattus norvegicus",
            subject_uuid=fixed_uuid("subject3"),
            date_of_birth=datetime.date(2024, 1, 5),
        ),
    ):
        t["Subject"].insert1(row)
    device_a = fixed_uuid("probe-a")
    sessions = [
        (1, 1, device_a, "2024-02-01", datetime.datetime(2024, 2, 1, 9, 30, 0, 123000), "01:30:00", "good", ""),
        (1, 2, device_a, "2024-02-02", datetime.datetime(2024, 2, 2, 10, 0, 5, 500000), "00:45:30", None, "short"),
        (2, 1, fixed_uuid("probe-b"), "2024-02-01", datetime.datetime(2024, 2, 1, 14, 0), "02:00:00", "fair", ""),
        (3, 1, None, "2024-02-03", datetime.datetime(2024, 2, 3, 8, 15, 0, 1000), "00:10:00.250000", "bad", "rat"),
    ]
    t["Session"].insert(
        dict(
            subject_id=s,
            session_idx=i,
            device_id=d,
            session_date=date,
            session_start=start,
            duration=duration,
            recorded=datetime.datetime(2024, 2, 5, 12, 0, s * 10 + i),
            quality=q,
            notes=notes,
        )
        for s, i, d, date, start, duration, q, notes in sessions
    )
    t["SessionPair"].insert(
        [
            dict(subject_id=1, session_idx=1, other_subject=1, other_session=2, similarity=0.75),
            dict(subject_id=2, session_idx=1, other_subject=1, other_session=1, similarity=None),
        ]
    )
    docs = work / "docs"
    docs.mkdir()
    (docs / "readme.txt").write_text("the lab's protocol, version 1\n")
    (docs / "protocol.md").write_text("# Protocol\n\n1. anaesthesia\n2. recording\n")
    t["Document"].insert(
        [
            dict(doc_id=1, doc=str(docs / "readme.txt"), doc_copy=str(docs / "protocol.md")),
            dict(doc_id=2, doc=str(docs / "protocol.md"), doc_copy=str(docs / "protocol.md")),  # deduplicated
            dict(doc_id=3, doc=str(docs / "readme.txt"), doc_copy=None),
        ]
    )
    t["Snapshot"].insert1(dict(snapshot_id=1, source="datajoint", payload=np.array([[1.5, -2.0]])))
    t["Snapshot"].insert1(dict(snapshot_id=5, source="nothing", payload=None))
    table = t["Snapshot"].full_table_name
    connection = dj.conn()
    for snapshot_id, source, payload in [
        (2, "matlab char", matlab_char("hello")),
        (3, "matlab double", matlab_array(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), 6)),
        (4, "png bytes", PNG_BYTES),
    ]:
        connection.query(
            f"INSERT INTO {table} (snapshot_id, source, payload) VALUES (%s, %s, %s)", (snapshot_id, source, payload)
        )

    t["Recording"].populate()
    jobs = t["schemas"][1].jobs
    analysis = t["Analysis"]
    # a worker that reserved a key and died; a key a user chose to ignore
    jobs.reserve(analysis.table_name, dict(subject_id=2, session_idx=1, param_id=1))
    jobs.ignore(analysis.table_name, dict(subject_id=3, session_idx=1, param_id=2))
    result = analysis.populate(reserve_jobs=True, suppress_errors=True)
    print("populate:", result)


# --- reading back with 0.14 --------------------------------------------------------------------


def column_info(connection, schema, table):
    rows = connection.query(
        "SELECT column_name, column_type, column_comment, column_key = 'PRI', is_nullable = 'YES' "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return [dict(name=r[0], type=r[1], comment=r[2], in_key=bool(r[3]), nullable=bool(r[4])) for r in rows]


def kind_of(comment):
    if comment.startswith(":attach"):
        return "attach"
    if comment.startswith(":filepath@"):
        return "filepath"
    return "value"


def describe_row(row, kinds, stage_roots):
    out = {}
    for name, value in row.items():
        kind = kinds[name]
        if value is None or kind == "value":
            out[name] = values.describe(value)
        elif kind == "attach":
            out[name] = values.describe_file(value)
        else:  # filepath: 0.14 returns the file's path in the stage
            described = values.describe_file(value)
            for root in stage_roots:
                if Path(value).is_relative_to(root):
                    described["path"] = Path(value).relative_to(root).as_posix()
            out[name] = described
    return out


def read_back(dj, t, work):
    """Every user table's rows as 0.14 fetches them, in primary-key order."""
    connection = dj.conn()
    tables = {}
    download = work / "downloads"
    download.mkdir()
    stage_roots = [work / "stage" / "raw"]
    names = ["Species", "Subject", "Device", "Session", "SessionPair", "Document", "Snapshot", "Recording"]
    names += ["Recording.Channel", "AnalysisParam", "Analysis", "Analysis.Epoch"]
    for class_name in names:
        master, _, part = class_name.partition(".")
        cls = getattr(t[master], part) if part else t[master]
        table = cls()
        columns = column_info(connection, table.database, table.table_name)
        kinds = {c["name"]: kind_of(c["comment"]) for c in columns}
        rows = []
        if cls is t["Snapshot"]:
            rows = read_snapshots(connection, table)
        else:
            for row in table.fetch(as_dict=True, order_by="KEY", download_path=str(download)):
                rows.append(describe_row(row, kinds, stage_roots))
        tables[f"{'subject' if table.database == SUBJECT else 'lab'}.{table.table_name}"] = dict(
            class_name=class_name,
            tier=cls.__base__.__name__,
            primary_key=list(table.primary_key),
            columns=columns,
            rows=rows,
        )
    return tables


def read_snapshots(connection, table):
    """Values written by other clients: what a reader should return (0.14 fails on the bytes that are
    not a blob, so the row records the bytes themselves, as DESIGN.md principle 4 asks)."""
    out = []
    for key in table.fetch("KEY", order_by="KEY"):
        restricted = table & key
        source = restricted.fetch1("source")
        if source == "png bytes":
            raw = connection.query(f"SELECT payload FROM {table.full_table_name} WHERE snapshot_id = 4").fetchone()[0]
            out.append(
                dict(
                    snapshot_id=values.describe(key["snapshot_id"]),
                    source=values.describe(source),
                    payload=values.describe(raw),
                    _note="not a blob: raw bytes (DataJoint 0.14 cannot read it)",
                )
            )
        else:
            row = restricted.fetch1()
            out.append({k: values.describe(v) for k, v in row.items()})
    return out


def hidden_tables(dj, connection):
    out = {}
    for schema in (SUBJECT, LAB):
        names = [
            r[0]
            for r in connection.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name LIKE '~%%'",
                (schema,),
            ).fetchall()
        ]
        for name in sorted(names):
            free = dj.FreeTable(connection, f"`{schema}`.`{name}`")
            rows = []
            for row in free.fetch(as_dict=True, order_by="KEY"):
                described = {}
                for k, v in row.items():
                    if isinstance(v, str):
                        v = v.replace(f"`{LAB}`", "`{lab}`").replace(f"`{SUBJECT}`", "`{subject}`")
                    described[k] = values.describe(v)
                rows.append(described)
            out[f"{'subject' if schema == SUBJECT else 'lab'}.{name}"] = dict(
                columns=column_info(connection, schema, name), rows=rows
            )
    return out


def row_counts(connection):
    counts = {}
    for schema, label in ((SUBJECT, "subject"), (LAB, "lab")):
        names = connection.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name", (schema,)
        ).fetchall()
        for (name,) in names:
            counts[f"{label}.{name}"] = connection.query(f"SELECT COUNT(*) FROM `{schema}`.`{name}`").fetchone()[0]
    return counts


# --- dumping -----------------------------------------------------------------------------------


def dump(schema, args):
    tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    command = [
        tool,
        f"--host={args.host}",
        f"--port={args.port}",
        f"--user={args.user}",
        "--hex-blob",  # binary values as 0x.. literals: the dump is plain text
        "--skip-dump-date",
        "--skip-comments",
        "--order-by-primary",
        "--skip-add-locks",
        "--skip-disable-keys",
        "--single-transaction",
        "--no-tablespaces",
        "--tz-utc",
        schema,  # one database, without --databases: no CREATE DATABASE or USE
    ]
    if args.password:
        command.insert(4, f"--password={args.password}")
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    version = subprocess.run([tool, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    return text, version


def copy_store(location, target):
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(location, target)


def tree_size(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--keep", action="store_true", help="keep the schemas after dumping")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import datajoint as dj

    if dj.__version__ != "0.14.6":
        sys.exit(f"run this with DataJoint 0.14.6 (found {dj.__version__}); see the module docstring")

    work = Path(tempfile.mkdtemp(prefix="dj014-"))
    stores = {
        "raw": {"protocol": "file", "location": str(work / "store" / "raw"), "stage": str(work / "stage" / "raw")},
        "cold": {"protocol": "file", "location": str(work / "store" / "cold"), "subfolding": (1,)},
    }
    for spec in stores.values():
        Path(spec["location"]).mkdir(parents=True)
    Path(stores["raw"]["stage"]).mkdir(parents=True)
    dj.config.update(
        {
            "database.host": args.host,
            "database.port": args.port,
            "database.user": args.user,
            "database.password": args.password,
            "database.use_tls": False,
            "safemode": False,
            "stores": stores,
        }
    )
    connection = dj.conn()
    for schema in (LAB, SUBJECT):
        connection.query(f"DROP DATABASE IF EXISTS `{schema}`")

    t = declare(dj, work)
    fill(dj, t, work)
    tables = read_back(dj, t, work)
    hidden = hidden_tables(dj, connection)
    counts = row_counts(connection)

    if OUT.joinpath("store").exists():
        shutil.rmtree(OUT / "store")
    for name, spec in stores.items():
        copy_store(spec["location"], OUT / "store" / name)
    dumps = {}
    for label, schema in (("subject", SUBJECT), ("lab", LAB)):
        text, tool_version = dump(schema, args)
        (OUT / f"{schema}.sql").write_text(text)
        dumps[label] = {"schema": schema, "file": f"{schema}.sql"}

    manifest = {
        "about": "DataJoint 0.14 fixtures made by scripts/make_datajoint014_fixtures.py; values described by values.py",
        "datajoint": dj.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "server": connection.query("SELECT VERSION()").fetchone()[0],
        "dump_tool": tool_version,
        "schemas": {"subject": SUBJECT, "lab": LAB},
        "load_order": ["subject", "lab"],
        "dumps": dumps,
        "stores": {
            "raw": {"protocol": "file", "subfolding": [2, 2], "stage": True, "files": "store/raw"},
            "cold": {"protocol": "file", "subfolding": [1], "stage": False, "files": "store/cold"},
        },
        "store_layout": "{location}/{schema}/{subfolders of the hash}/{hash}[.{attachment name}]; filepath files at "
        "{location}/{path relative to the stage}",
        "adapters": {
            "graph": "longblob; put(adjacency dict) -> (n, 2) int64 edges; get(edges) -> {a: [b, ...]}",
            "stored_graph": "blob@raw; as graph",
            "isodate": "varchar(10); put(date) -> isoformat; get(text) -> date",
        },
        "row_counts": counts,
        "tables": tables,
        "hidden_tables": hidden,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n")

    if not args.keep:
        for schema in (LAB, SUBJECT):
            connection.query(f"DROP DATABASE IF EXISTS `{schema}`")
    shutil.rmtree(work)
    total = tree_size(OUT)
    digest = hashlib.sha1((OUT / "manifest.json").read_bytes()).hexdigest()[:12]
    print(f"wrote {OUT} ({total} bytes, manifest {digest}); row counts: {counts}")
    if total > 1_000_000:
        sys.exit("fixtures exceed 1 MB: make the data smaller")


if __name__ == "__main__":
    main()
