#!/usr/bin/env bash
# The throughput benchmark, run by hand (never in CI):
#
#   bench/run.sh
#
# Against the local fixed-latency stub (bench/stub, 50 ms per request), asks
# 2,000 items of one model at concurrency 64 with yardstick (stored in SQLite
# and graded) and with Inspect (`inspect-ai`, its openai-api provider, the same
# samples, a match() scorer, --max-connections 64), then runs yardstick alone
# on 100,000 attempts (2,000 items x 50 epochs) for peak memory. Prints a
# table and writes bench/RESULTS.md.
#
# Knobs (environment):
#   BENCH_ITEMS=2000  BENCH_CONCURRENCY=64  BENCH_DELAY_MS=50
#   BENCH_REPEATS=3                   measurements of each tool on the N items (median reported)
#   BENCH_MEMORY_EPOCHS=50            epochs of the memory run (0 = skip it)
#   BENCH_CARGO_FLAGS=""              e.g. "--no-default-features" (no llama.cpp)
#   BENCH_YARDSTICK=PATH              use this yardstick binary instead of building one
#   BENCH_SKIP_INSPECT=1              skip the Inspect side
#   BENCH_KEEP=1                      keep the temporary directory
#   BENCH_RESULTS=bench/RESULTS.md    where to write the report ("" = don't)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
N=${BENCH_ITEMS:-2000}
CONC=${BENCH_CONCURRENCY:-64}
DELAY_MS=${BENCH_DELAY_MS:-50}
MEM_EPOCHS=${BENCH_MEMORY_EPOCHS:-50}
REPEATS=${BENCH_REPEATS:-3}
CARGO_FLAGS=${BENCH_CARGO_FLAGS:-}
RESULTS=${BENCH_RESULTS-$HERE/RESULTS.md}
TIME=/usr/bin/time

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ -x "$TIME" ] || die "$TIME is missing (GNU time, Debian package 'time'); it measures peak memory"
command -v curl >/dev/null || die "curl is missing"

TMP=$(mktemp -d /tmp/yardstick-bench.XXXXXX)
STUB_PID=""
cleanup() {
    if [ -n "$STUB_PID" ] && kill -0 "$STUB_PID" 2>/dev/null; then kill "$STUB_PID" 2>/dev/null || true; fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
if [ -n "${BENCH_YARDSTICK:-}" ]; then
    YS=$BENCH_YARDSTICK
    say "using the prebuilt $YS; building the stub"
else
    say "building yardstick (release${CARGO_FLAGS:+, $CARGO_FLAGS}) and the stub"
    # shellcheck disable=SC2086
    (cd "$ROOT" && cargo build --release -p yardstick $CARGO_FLAGS)
    YS="$TARGET_DIR/release/yardstick"
fi
(cd "$ROOT" && cargo build --release -p yardstick-bench-stub)
# The source yardstick was built from (other work may move HEAD during the run).
GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(cd "$ROOT" && [ -n "$(git status --porcelain -- crates Cargo.toml 2>/dev/null)" ] && echo " + uncommitted changes in crates/" || true)
BUILT_AT=$(date -u '+%H:%M UTC')
[ -n "${BENCH_YARDSTICK:-}" ] && GIT_REV="unknown (prebuilt binary; HEAD was $GIT_REV)"
STUB="$TARGET_DIR/release/yardstick-bench-stub"
[ -x "$YS" ] && [ -x "$STUB" ] || die "build products missing: $YS, $STUB"

# ---------------------------------------------------------------- Inspect venv
VENV="$HERE/.venv"
if [ "${BENCH_SKIP_INSPECT:-0}" != 1 ]; then
    if [ ! -x "$VENV/bin/inspect" ]; then
        say "installing Inspect into $VENV"
        # python3 may be a pyenv shim: resolve the real interpreter once.
        PY=$(python3 -c 'import sys; print(sys.executable)')
        "$PY" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet inspect-ai openai
    fi
fi

# ---------------------------------------------------------------- items
say "generating $N items"
python3 "$HERE/gen_items.py" --n "$N" --bank-dir "$TMP/bank" --inspect-file "$TMP/samples.jsonl"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- stub
"$STUB" --port 0 --delay-ms "$DELAY_MS" --idle-exit-secs 300 --max-lifetime-secs 7200 \
    >"$TMP/stub.port" 2>"$TMP/stub.log" &
STUB_PID=$!
for _ in $(seq 100); do grep -q '^port=' "$TMP/stub.port" 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/^port=//p' "$TMP/stub.port")
[ -n "$PORT" ] || die "the stub did not start: $(cat "$TMP/stub.log")"
STUB_URL="http://127.0.0.1:$PORT"
echo "stub on $STUB_URL, $DELAY_MS ms per request" >&2

cat >"$TMP/yardstick.toml" <<EOF
bank = "bank"

[[models]]
name = "stub"
provider = "openai"
base_url = "$STUB_URL/v1"
model = "stub"
concurrency = $CONC
max_retries = 0
EOF

now() { date +%s.%N; }
CLK=$(getconf CLK_TCK)
# CPU seconds (user + system) the stub has used so far
stub_cpu() { awk -v c="$CLK" '{print ($14 + $15) / c}' "/proc/$STUB_PID/stat"; }
# CPU seconds (user + system) from GNU time's -v output
time_cpu() { echo "$(tstat 'User time (seconds)' "$1") + $(tstat 'System time (seconds)' "$1")" | bc -l; }
# stat NAME FILE: a field of GNU time's -v output
tstat() { sed -n "s/^[[:space:]]*$1: //p" "$2"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# run_yardstick LABEL DB EPOCHS -> sets R_WALL R_RSS_KB R_STUB_STATS; logs under $TMP/LABEL.*
run_yardstick() {
    local label=$1 db=$2 epochs=$3 t0 t1 c0
    curl -s -X POST "$STUB_URL/stats/reset" >/dev/null
    c0=$(stub_cpu)
    t0=$(now)
    "$TIME" -v -o "$TMP/$label.time" "$YS" --config "$TMP/yardstick.toml" --db "sqlite://$db" \
        run --kind full --epochs "$epochs" >"$TMP/$label.out" 2>"$TMP/$label.err" &
    local tpid=$! spid rc=0
    # Sample yardstick's RSS (unix time, kB) to tell asking from the final
    # board, in a separate loop so the wall time is not rounded to its period.
    : >"$TMP/$label.rss"
    (
        ypid=""
        while kill -0 "$tpid" 2>/dev/null; do
            [ -n "$ypid" ] || ypid=$(pgrep -P "$tpid" | head -n 1 || true)
            [ -n "$ypid" ] && awk -v t="$(now)" '/^VmRSS/ {print t, $2}' "/proc/$ypid/status" >>"$TMP/$label.rss" 2>/dev/null
            sleep 0.2
        done
    ) &
    spid=$!
    wait "$tpid" || rc=$?
    t1=$(now)
    wait "$spid" 2>/dev/null || true
    [ "$rc" = 0 ] || { cat "$TMP/$label.err" >&2; die "yardstick run failed (exit $rc)"; }
    R_WALL=$(echo "$t1 - $t0" | bc -l)
    R_RSS_KB=$(tstat 'Maximum resident set size (kbytes)' "$TMP/$label.time")
    R_STUB_STATS=$(curl -s "$STUB_URL/stats")
    R_STUB_CPU=$(echo "$(stub_cpu) - $c0" | bc -l)
    R_CPU=$(time_cpu "$TMP/$label.time")
    R_T0=$t0 R_T1=$t1
}
# phases T0 T1 STATS -> "seconds before the first request, seconds after the last reply"
phases() {
    python3 -c 'import json,sys; t0,t1=float(sys.argv[1]),float(sys.argv[2]); s=json.loads(sys.argv[3]); print(round(s["first_request_unix"]-t0,3), round(t1-s["last_reply_unix"],3))' "$1" "$2" "$3"
}

# check_yardstick DB -> "answered graded mean_score errors status", read straight from the SQLite store
check_yardstick() {
    python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
answered, errors = db.execute(
    "SELECT sum(response_text IS NOT NULL AND error_class IS NULL), sum(error_class IS NOT NULL) FROM attempts WHERE run_id = ?",
    (run,)).fetchone()
graded, mean = db.execute(
    "SELECT count(DISTINCT g.attempt_id), avg(g.score) FROM grades g JOIN attempts a ON a.id = g.attempt_id WHERE a.run_id = ?",
    (run,)).fetchone()
status = db.execute("SELECT status FROM runs WHERE id = ?", (run,)).fetchone()[0]
print(answered or 0, graded, round(mean, 2) if mean is not None else "n/a", errors or 0, status)
PY
}

# Each tool is measured REPEATS times, alternating (yardstick, Inspect, yardstick, ...);
# the table reports each tool's median run (by wall time) and lists every wall time.
# A run's fields: wall rss_kb before after stub_rps max_in_flight served stored graded score errors
pick_median() { sort -n -k1 "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"; }
walls() { cut -d' ' -f1 "$1" | xargs printf '%.2f s, ' | sed 's/, $//'; }

measure_yardstick() {
    local i=$1 db="$TMP/bench$1.db" before after stored graded score errors status
    run_yardstick "ys$i" "$db" 1
    read -r before after <<<"$(phases "$R_T0" "$R_T1" "$R_STUB_STATS")"
    read -r stored graded score errors status <<<"$(check_yardstick "$db")"
    [ "$status" = complete ] || die "yardstick run $i ended with status $status"
    echo "$R_WALL $R_RSS_KB $before $after $(echo "$R_STUB_STATS" | json_field requests_per_sec_in_window)" \
        "$(echo "$R_STUB_STATS" | json_field max_in_flight) $(echo "$R_STUB_STATS" | json_field served)" \
        "$stored $graded $score $errors $R_CPU $R_STUB_CPU" >>"$TMP/ys.runs"
    echo "yardstick #$i: $(printf %.3f "$R_WALL") s wall, $(printf %.0f "$(echo "$N / $R_WALL" | bc -l)") req/s" \
        "(first request after $before s, exit $after s after the last reply), peak RSS $R_RSS_KB kB," \
        "stored $stored ($errors errors), graded $graded (mean $score)" >&2
}

measure_inspect() {
    local i=$1 t0 t1 c0 stats before after wall rss samples scored acc
    curl -s -X POST "$STUB_URL/stats/reset" >/dev/null
    c0=$(stub_cpu)
    t0=$(now)
    # Inspect resolves the task file relative to the working directory.
    (cd "$HERE" && STUB_API_KEY=unused STUB_BASE_URL="$STUB_URL/v1" BENCH_SAMPLES="$TMP/samples.jsonl" \
        INSPECT_LOG_DIR="$TMP/inspect-logs$i" \
        "$TIME" -v -o "$TMP/inspect$i.time" "$VENV/bin/inspect" eval inspect_task.py \
        --model openai-api/stub/stub --max-connections "$CONC" --display plain \
        >"$TMP/inspect$i.out" 2>"$TMP/inspect$i.err") \
        || { tail -n 30 "$TMP/inspect$i.err" >&2; die "inspect eval failed"; }
    t1=$(now)
    wall=$(echo "$t1 - $t0" | bc -l)
    rss=$(tstat 'Maximum resident set size (kbytes)' "$TMP/inspect$i.time")
    stats=$(curl -s "$STUB_URL/stats")
    read -r before after <<<"$(phases "$t0" "$t1" "$stats")"
    read -r samples scored acc <<<"$("$VENV/bin/python" - "$TMP/inspect-logs$i" <<'PY'
import glob, sys
from inspect_ai.log import read_eval_log
log = read_eval_log(sorted(glob.glob(sys.argv[1] + "/*.eval"))[-1])
samples = log.samples or []
scored = [s for s in samples if s.scores]
correct = sum(1 for s in scored if any(v.value == "C" for v in s.scores.values()))
print(len(samples), len(scored), round(100.0 * correct / len(scored), 2) if scored else "n/a")
PY
)"
    echo "$wall $rss $before $after $(echo "$stats" | json_field requests_per_sec_in_window)" \
        "$(echo "$stats" | json_field max_in_flight) $(echo "$stats" | json_field served)" \
        "$samples $scored $acc 0 $(time_cpu "$TMP/inspect$i.time") $(echo "$(stub_cpu) - $c0" | bc -l)" >>"$TMP/inspect.runs"
    echo "Inspect #$i: $(printf %.3f "$wall") s wall, $(printf %.0f "$(echo "$N / $wall" | bc -l)") req/s" \
        "(first request after $before s, exit $after s after the last reply), peak RSS $rss kB," \
        "$samples samples logged, $scored scored ($acc% correct)" >&2
}

: >"$TMP/ys.runs"; : >"$TMP/inspect.runs"
for i in $(seq "$REPEATS"); do
    say "round $i of $REPEATS: yardstick, $N items, concurrency $CONC"
    measure_yardstick "$i"
    [ "$i" = 1 ] && tail -n 12 "$TMP/ys1.out" >&2
    if [ "${BENCH_SKIP_INSPECT:-0}" != 1 ]; then
        say "round $i of $REPEATS: Inspect, $N samples, --max-connections $CONC"
        measure_inspect "$i"
    fi
done
read -r YS_WALL YS_RSS_KB YS_BEFORE YS_AFTER YS_STUB_RPS YS_MAXFLIGHT YS_SERVED YS_ANSWERED YS_GRADED YS_MEAN YS_ERRORS YS_CPU YS_STUBCPU \
    <<<"$(pick_median "$TMP/ys.runs")"
YS_RPS=$(echo "$N / $YS_WALL" | bc -l)
YS_WALLS=$(walls "$TMP/ys.runs")
YS_VERSION=$("$YS" --version)
IN_CPU="" IN_STUBCPU="" IN_BEFORE="" IN_AFTER="" IN_WALL="" IN_RPS="" IN_RSS_KB="" IN_STUB_RPS="" IN_MAXFLIGHT="" IN_SERVED="" IN_SAMPLES="" IN_SCORED="" IN_ACC="" IN_VERSION="" IN_WALLS="n/a"
if [ -s "$TMP/inspect.runs" ]; then
    read -r IN_WALL IN_RSS_KB IN_BEFORE IN_AFTER IN_STUB_RPS IN_MAXFLIGHT IN_SERVED IN_SAMPLES IN_SCORED IN_ACC _ IN_CPU IN_STUBCPU \
        <<<"$(pick_median "$TMP/inspect.runs")"
    IN_RPS=$(echo "$N / $IN_WALL" | bc -l)
    IN_WALLS=$(walls "$TMP/inspect.runs")
    IN_VERSION="inspect-ai $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("inspect-ai"))')"
fi

# ---------------------------------------------------------------- memory run
MEM_CPU="" MEM_STUBCPU="" MEM_ASK_RSS_KB="" MEM_BEFORE="" MEM_AFTER="" MEM_STUB_RPS="" MEM_ATTEMPTS="" MEM_WALL="" MEM_RSS_KB="" MEM_RPS="" MEM_ANSWERED="" MEM_GRADED="" MEM_ERRORS=""
if [ "$MEM_EPOCHS" -gt 0 ]; then
    MEM_ATTEMPTS=$((N * MEM_EPOCHS))
    say "yardstick memory run: $N items x $MEM_EPOCHS epochs = $MEM_ATTEMPTS attempts"
    run_yardstick mem "$TMP/memory.db" "$MEM_EPOCHS"
    MEM_WALL=$R_WALL MEM_RSS_KB=$R_RSS_KB MEM_CPU=$R_CPU MEM_STUBCPU=$R_STUB_CPU
    read -r MEM_BEFORE MEM_AFTER <<<"$(phases "$R_T0" "$R_T1" "$R_STUB_STATS")"
    MEM_STUB_RPS=$(echo "$R_STUB_STATS" | json_field requests_per_sec_in_window)
    LAST_REPLY=$(echo "$R_STUB_STATS" | json_field last_reply_unix)
    MEM_ASK_RSS_KB=$(awk -v l="$LAST_REPLY" '$1 <= l && $2 > m {m = $2} END {print m + 0}' "$TMP/mem.rss")
    MEM_RPS=$(echo "$MEM_ATTEMPTS / $MEM_WALL" | bc -l)
    read -r MEM_ANSWERED MEM_GRADED _ MEM_ERRORS MEM_STATUS <<<"$(check_yardstick "$TMP/memory.db")"
    echo "memory run: ${MEM_WALL}s wall, $(printf %.0f "$MEM_RPS") req/s, peak RSS ${MEM_RSS_KB} kB, stored $MEM_ANSWERED ($MEM_ERRORS errors), graded $MEM_GRADED, run $MEM_STATUS" >&2
fi

# ---------------------------------------------------------------- report
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
CEILING=$(echo "$CONC * 1000 / $DELAY_MS" | bc -l)
FLOOR=$(echo "$(( (N + CONC - 1) / CONC )) * $DELAY_MS / 1000" | bc -l)
BUDGET_WALL=$(echo "$N / (0.9 * $CEILING)" | bc -l)
f0() { [ -n "$1" ] && printf '%.0f' "$1" || printf 'n/a'; }
f1() { [ -n "$1" ] && printf '%.1f' "$1" || printf 'n/a'; }
f2() { [ -n "$1" ] && printf '%.2f' "$1" || printf 'n/a'; }
mb() { [ -n "$1" ] && printf '%.1f' "$(echo "$1 / 1024" | bc -l)" || printf 'n/a'; }
pct() { [ -n "$1" ] && printf '%.1f%%' "$(echo "100 * $1 / $CEILING" | bc -l)" || printf 'n/a'; }
RATIO=""; [ -n "$IN_RPS" ] && RATIO=$(echo "$YS_RPS / $IN_RPS" | bc -l)
STUB_RATIO=""; [ -n "$IN_STUB_RPS" ] && STUB_RATIO=$(echo "$YS_STUB_RPS / $IN_STUB_RPS" | bc -l)
pass() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo pass; else echo FAIL; fi; }
T_RATE=$(pass "$YS_RPS >= 0.9 * $CEILING")
T_RATIO=n/a; [ -n "$RATIO" ] && T_RATIO=$(pass "$RATIO >= 10")
T_MEM=n/a; [ -n "$MEM_RSS_KB" ] && T_MEM=$(pass "$MEM_RSS_KB < 200 * 1024")
[ "$MEM_ATTEMPTS" = 100000 ] || { [ "$T_MEM" = n/a ] || T_MEM="$T_MEM (at $MEM_ATTEMPTS attempts, not 100,000)"; }

TABLE=$(cat <<EOF
| | yardstick | Inspect |
|---|---:|---:|
| requests | $N (stub served $YS_SERVED) | $N (stub served ${IN_SERVED:-n/a}) |
| wall time, process start to exit (s), median run | $(f2 "$YS_WALL") | $(f2 "$IN_WALL") |
| wall times of all $REPEATS runs | $YS_WALLS | $IN_WALLS |
| **requests/s = $N / wall** | **$(f0 "$YS_RPS")** | **$(f0 "$IN_RPS")** |
| share of the $(f0 "$CEILING") req/s latency ceiling | $(pct "$YS_RPS") | $(pct "$IN_RPS") |
| requests/s seen by the stub (first request to last reply) | $(f0 "$YS_STUB_RPS") | $(f0 "$IN_STUB_RPS") |
| process start to first request (s) | $(f2 "$YS_BEFORE") | $(f2 "$IN_BEFORE") |
| last reply to process exit (s) | $(f2 "$YS_AFTER") | $(f2 "$IN_AFTER") |
| most requests in flight at the stub | $YS_MAXFLIGHT | ${IN_MAXFLIGHT:-n/a} |
| answers stored / graded | $YS_ANSWERED / $YS_GRADED (mean score $YS_MEAN, $YS_ERRORS errors) | $IN_SAMPLES / $IN_SCORED logged / scored ($IN_ACC% correct) |
| peak RSS (MB) | $(mb "$YS_RSS_KB") | $(mb "$IN_RSS_KB") |
| CPU time of the client, user + system (s) | $(f2 "$YS_CPU") | $(f2 "$IN_CPU") |
| CPU time of the stub during that run (s) | $(f2 "$YS_STUBCPU") | $(f2 "$IN_STUBCPU") |
EOF
)
MEMTABLE=$(cat <<EOF
| yardstick, $N items x $MEM_EPOCHS epochs | |
|---|---:|
| attempts | ${MEM_ATTEMPTS:-n/a} (stored ${MEM_ANSWERED:-n/a}, graded ${MEM_GRADED:-n/a}, ${MEM_ERRORS:-n/a} errors) |
| wall time (s) | $(f2 "$MEM_WALL") |
| requests/s = attempts / wall | $(f0 "$MEM_RPS") |
| CPU time of yardstick / of the stub, user + system (s) | $(f2 "$MEM_CPU") / $(f2 "$MEM_STUBCPU") |
| requests/s seen by the stub (first request to last reply) | $(f0 "$MEM_STUB_RPS") |
| process start to first request / last reply to exit (s) | $(f2 "$MEM_BEFORE") / $(f2 "$MEM_AFTER") |
| **peak RSS (MB)** | **$(mb "$MEM_RSS_KB")** |
| largest RSS sampled (every 0.2 s) up to the last reply, i.e. while asking (MB) | $(mb "$MEM_ASK_RSS_KB") |
EOF
)
TARGETS=$(cat <<EOF
| target | measured | |
|---|---|---|
| yardstick >= 90% of $(f0 "$CEILING") req/s ($(f0 "$(echo "0.9 * $CEILING" | bc -l)")) | $(f0 "$YS_RPS") req/s ($(pct "$YS_RPS")) | $T_RATE |
| yardstick >= 10x Inspect (wall-clock req/s) | $(f1 "$RATIO")x | $T_RATIO |
| peak RSS < 200 MB at 100,000 attempts | $(mb "$MEM_RSS_KB") MB | $T_MEM |
EOF
)

echo
echo "$TABLE"
echo
echo "$MEMTABLE"
echo
echo "$TARGETS"
echo "(ratio of stub-window rates: $(f1 "$STUB_RATIO")x)"

if [ -n "$RESULTS" ]; then
    cat >"$TMP/section.md" <<EOF
## Throughput and memory: yardstick against Inspect on a $DELAY_MS ms stub

Written by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Every figure in this section was
measured in that one run; rerun with \`bench/run.sh\` (see the header of the script for knobs).

Setup: the Rust stub (\`bench/stub\`) answers every chat completion after a fixed
$DELAY_MS ms; one model, $N items ("What is A+B?", numeric grader), concurrency $CONC,
so latency allows at most $CONC x 1000 / $DELAY_MS = $(f0 "$CEILING") requests/s. yardstick stores every
attempt and grade in SQLite (\`run --kind full\`); Inspect runs \`bench/inspect_task.py\`
(\`generate()\` + \`match(numeric=True)\`, its default \`.eval\` log) with
\`--model openai-api/stub/stub --max-connections $CONC\`. Wall time is process start to
exit (start-up, bank loading, database, board printing included); peak RSS is GNU time's
maximum resident set size.

### $N items at concurrency $CONC

$TABLE

Ratio of the stub-window rates (yardstick / Inspect): $(f1 "$STUB_RATIO")x.

Where yardstick's wall time goes (median run): with $CONC slots of $DELAY_MS ms, the last of
$N replies cannot come earlier than ceil($N / $CONC) x $DELAY_MS ms = $(f2 "$FLOOR") s after the first
request, and the 90% target allows $(f2 "$BUDGET_WALL") s in all, so start-up, wind-down and
per-request overhead together may take $(f2 "$(echo "$BUDGET_WALL - $FLOOR" | bc -l)") s. Measured: $(f2 "$YS_BEFORE") s from process
start to the first request, $(f2 "$(echo "$N / $YS_STUB_RPS" | bc -l)") s from the first request to the last reply
($(f2 "$(echo "$N / $YS_STUB_RPS - $FLOOR" | bc -l)") s above the floor), $(f2 "$YS_AFTER") s from the last reply to exit.
See \`bench/PROFILE.md\` for what the start-up time is spent on.

### Memory: $(printf "%'d" "${MEM_ATTEMPTS:-0}") attempts

$MEMTABLE

### Targets

$TARGETS

### Machine

- $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)); the stub, yardstick and Inspect share them, and the stub runs at the same time as the client under test
- load average (1, 5, 15 min) before the measurements: $LOAD_BEFORE; after: $LOAD_AFTER (anything above ~1 means other work competed for the 2 cores)
- memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')
- $(uname -sr)
- $YS_VERSION (built $BUILT_AT from commit $GIT_REV$DIRTY), $([ -n "${BENCH_YARDSTICK:-}" ] && echo "prebuilt binary \`$BENCH_YARDSTICK\`, cargo flags as built: \`${CARGO_FLAGS:-unknown}\`" || echo "cargo flags: \`${CARGO_FLAGS:-(default features)}\`")
- ${IN_VERSION:-Inspect not run}, $("$VENV/bin/python" --version 2>/dev/null || python3 --version)
- $(rustc --version)
EOF
    # Replace only this script's section of RESULTS.md: other benchmarks
    # (bench/local) keep their own sections in the same file.
    python3 - "$RESULTS" "$TMP/section.md" <<'PY'
import os, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
begin = "<!-- bench/run.sh: begin (this section is rewritten by bench/run.sh) -->"
end = "<!-- bench/run.sh: end -->"
block = f"{begin}\n{section}\n{end}"
text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    text = head + block + rest.split(end, 1)[1]
else:
    lines = text.split("\n", 1)  # keep the title line first
    text = lines[0] + "\n\n" + block + "\n\n" + (lines[1].lstrip("\n") if len(lines) > 1 else "")
open(path, "w").write(text.rstrip("\n") + "\n")
PY
    echo "wrote its section of $RESULTS" >&2
fi
