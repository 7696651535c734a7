"""Throughput of pipejoint's blob codec on a 200 MB float64 array.

    PYTHONPATH=src python benchmarks/blob_codec.py [--mb 200] [--repeat 5]

Prints MB/s (1 MB = 10**6 bytes of array data) for pack and unpack, best of
--repeat runs, for C- and Fortran-ordered 2-D arrays and a 1-D array, all with
compress=False (random floats do not compress), then once with compress=True
to show the cost of the compression probe. unpack returns a read-only view
into the blob (no copy), so its figure is huge; "unpack+copy" adds the copy a
caller makes to get a writable array.
"""

import argparse
import time

import numpy as np

from pipejoint import blob


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(label, array, repeat, compress=False):
    mb = array.nbytes / 1e6
    packed = blob.pack(array, compress=compress)
    t_pack = best_time(lambda: blob.pack(array, compress=compress), repeat)
    t_unpack = best_time(lambda: blob.unpack(packed), repeat)
    t_copy = best_time(lambda: blob.unpack(packed).copy(order="K"), repeat)
    assert np.array_equal(blob.unpack(packed), array)
    print(
        f"{label:<34} pack {mb / t_pack:7.0f} MB/s ({t_pack * 1e3:6.1f} ms)"
        f"  unpack {mb / t_unpack:10.0f} MB/s ({t_unpack * 1e6:5.0f} us)"
        f"  unpack+copy {mb / t_copy:6.0f} MB/s ({t_copy * 1e3:6.1f} ms)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="array size in MB")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = int(args.mb * 1e6 / 8)
    rows = 1000
    flat = np.random.default_rng(0).standard_normal(n - n % rows)
    print(f"array: {flat.size} float64 = {flat.nbytes / 1e6:.0f} MB")
    measure("1-D, compress=False", flat, args.repeat)
    measure("2-D C order, compress=False", flat.reshape(rows, -1), args.repeat)
    measure("2-D F order, compress=False", np.asfortranarray(flat.reshape(rows, -1)), args.repeat)
    measure("1-D, compress=True (probe skips)", flat, args.repeat, compress=True)


if __name__ == "__main__":
    main()
