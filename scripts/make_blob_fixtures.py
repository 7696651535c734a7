"""Write the golden blob fixtures with DataJoint's own codec.

Run it with an interpreter that has DataJoint (not pipejoint) installed, e.g.

    python -m venv /tmp/djvenv && /tmp/djvenv/bin/pip install datajoint numpy
    /tmp/djvenv/bin/python scripts/make_blob_fixtures.py

For every case in tests/fixtures/blobs/cases.py it writes `<stem>.blob` =
`datajoint.blob.pack(value, compress=...)`, checks that DataJoint unpacks the
file to the case's expected value (so the expectations describe DataJoint, not
us) and that exact cases pack to the same bytes twice. `_meta.json` records the
versions, since compressed bytes depend on the zlib build.
"""

import importlib.util
import json
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "blobs"


def load_cases_module():
    spec = importlib.util.spec_from_file_location("blob_cases", FIXTURES / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DataJoint warns that no config file exists
        import datajoint
        import datajoint.blob as djblob

    cases_module = load_cases_module()
    cases = cases_module.build_cases(djblob.MatCell, djblob.MatStruct)
    stems = [case.stem for case in cases]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        sys.exit(f"duplicate stems: {sorted(duplicates)}")

    for old in FIXTURES.glob("*.blob"):
        old.unlink()
    problems = []
    for case in cases:
        data = djblob.pack(case.value, compress=case.compress)
        if case.exact and djblob.pack(case.value, compress=case.compress) != data:
            problems.append(f"{case.stem}: DataJoint's output is not deterministic")
        (FIXTURES / f"{case.stem}.blob").write_bytes(data)
        try:
            got = djblob.unpack(data, squeeze=case.squeeze)
        except Exception as e:  # report every mismatch, not just the first
            problems.append(f"{case.stem}: DataJoint cannot unpack it: {e!r}")
            continue
        if not cases_module.same(got, case.expected):
            problems.append(f"{case.stem}: DataJoint unpacks {got!r}, cases.py expects {case.expected!r}")

    meta = {
        "datajoint": datajoint.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "cases": len(cases),
    }
    (FIXTURES / "_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(cases)} fixtures to {FIXTURES} ({meta})")
    if problems:
        print("\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
