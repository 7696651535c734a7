#!/usr/bin/env bash
# The comparison benchmark (../shared/bench, issue 15) in interleaved rounds: per round and backend,
# pipejoint, the raw driver and DataJoint 2.3.5 (servers only) one after another, then report.py's
# table of ratios. Usage: benchmarks/compare.sh [ROUNDS] [SCALE] [OUT_DIR] [BACKENDS...]
# Needs DataJoint and the raw drivers in /tmp/djvenv (or DJ_PYTHON):
#   python -m venv /tmp/djvenv && /tmp/djvenv/bin/pip install datajoint==2.3.5 psycopg2-binary numpy pandas
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}; scale=${2:-0.5}; out=${3:-/tmp/compare-runs}
shift $(($# < 3 ? $# : 3))
backends=("$@"); [ ${#backends[@]} -eq 0 ] && backends=(sqlite postgres mysql)
bench=${BENCH:-../shared/bench}
dj_python=${DJ_PYTHON:-/tmp/djvenv/bin/python}
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
  for backend in "${backends[@]}"; do
    impls=(pipejoint raw)
    [ "$backend" != sqlite ] && impls+=(datajoint)
    for impl in "${impls[@]}"; do
      python=$dj_python; [ "$impl" = pipejoint ] && python=python
      echo "round $round: $impl on $backend" >&2
      PYTHONPATH=$PWD/src "$python" "$bench/bench.py" --impl "$impl" --backend "$backend" --scale "$scale" \
        --out "$out/$impl-$backend-$round.json" >/dev/null
    done
  done
done
python "$bench/report.py" "$out"/*.json --md "$out/summary.md"
echo "table: $out/summary.md" >&2
