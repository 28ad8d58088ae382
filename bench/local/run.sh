#!/usr/bin/env bash
# Local model speed: yardstick's in-process provider vs the llama.cpp server of
# llama-cpp-python, same GGUF, prompts, threads and context, in one run.
# Run by hand (never by CI). See bench/local/README.md.
#
#   bench/local/run.sh                  # defaults below
#   THREADS=4 ROUNDS=5 bench/local/run.sh
#
# Settings (environment): THREADS (2), CTX (2048), MAX_TOKENS (128), ROUNDS (3),
# MODEL (a .gguf path; default: the cached smollm2-135m-instruct, pulled if
# needed), PYTHON (interpreter for the venv; default: python3's real
# executable), CARGO_TARGET_DIR (default: <repo>/target), MAX_LOAD (warn when
# the 1-minute load average is above it before measuring; default 0.5),
# WAIT_IDLE (seconds to wait for the load to drop below MAX_LOAD; default 0),
# OUT (output directory; default bench/local/results/<timestamp>), SERVER_ARGS
# (extra llama_cpp.server flags, for investigation, e.g. "--flash_attn true"),
# PASSIVE (1: also measure the in-process provider with OMP_WAIT_POLICY=PASSIVE;
# default 1), CONTEND (start this many CPU-bound busy loops for the duration of
# the measurements, to see how each path copes with a busy machine; default 0),
# PROMPTS_LIMIT (use only the first N prompts of prompts.txt).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
THREADS="${THREADS:-2}"
CTX="${CTX:-2048}"
MAX_TOKENS="${MAX_TOKENS:-128}"
ROUNDS="${ROUNDS:-3}"
MAX_LOAD="${MAX_LOAD:-0.5}"
WAIT_IDLE="${WAIT_IDLE:-0}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}"
VENV="$HERE/.venv"
mkdir -p "$OUT"
PROMPTS="$HERE/prompts.txt"
if [ -n "${PROMPTS_LIMIT:-}" ]; then
  head -n "$PROMPTS_LIMIT" "$HERE/prompts.txt" >"$OUT/prompts.txt"
  PROMPTS="$OUT/prompts.txt"
fi
log() { echo "[bench/local] $*" >&2; }

# 1. The server: llama-cpp-python compiles llama.cpp from source on install
#    (about 12 minutes on 2 cores); the venv is reused afterwards.
if ! "$VENV/bin/python" -c 'import llama_cpp.server, uvicorn' 2>/dev/null; then
  PYTHON="${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
  log "creating $VENV with $PYTHON and installing llama-cpp-python[server] (log: $HERE/pip-install.log)"
  "$PYTHON" -m venv "$VENV"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$VENV/bin/pip" install -v 'llama-cpp-python[server]' \
    >"$HERE/pip-install.log" 2>&1
fi

# 2. The harness (in-process provider and yardstick's OpenAI-compatible provider).
log "building the harness in $CARGO_TARGET_DIR"
(cd "$ROOT" && cargo build --release -p yardstick-bench-local)
BIN="$CARGO_TARGET_DIR/release/yardstick-bench-local"

# 3. The model: the yardstick cache's default model unless MODEL is given.
MODEL="${MODEL:-$("$BIN" pull smollm2-135m-instruct)}"
log "model $MODEL"

# 4. A free port, and the server with the same threads and context.
PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT/v1"
ALIAS=smollm2-135m-instruct
SERVER_PID=
SAMPLER_PID=
BUSY_PIDS=()
stop_server() {
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  for p in "${BUSY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  BUSY_PIDS=()
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias "$ALIAS" \
  --n_threads "$THREADS" --n_threads_batch "$THREADS" --n_ctx "$CTX" \
  --host 127.0.0.1 --port "$PORT" ${SERVER_ARGS:-} >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen('$BASE/models', timeout=2)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; log "the server exited"; exit 1; }
  sleep 1
done
log "server pid $SERVER_PID on port $PORT"

# 5. The machine: record what else runs, optionally wait for quiet.
load1() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l>m)}' && [ "$waited" -lt "$WAIT_IDLE" ]; do
  sleep 10; waited=$((waited + 10))
done
LOAD_BEFORE="$(cat /proc/loadavg)"
if awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l>m)}'; then
  log "WARNING: load average $LOAD_BEFORE is above $MAX_LOAD: other work competes for the cores; the numbers will be noisy"
fi
top -bn1 | head -15 >"$OUT/top-before.txt"
# The load average every 5 s while measuring, to see whether anything else ran.
( while :; do echo "$(date +%T) $(cat /proc/loadavg)"; sleep 5; done ) >"$OUT/load.log" &
SAMPLER_PID=$!

for _ in $(seq 1 "${CONTEND:-0}"); do
  "$VENV/bin/python" -c 'while True: pass' &
  BUSY_PIDS+=("$!")
done
[ "${CONTEND:-0}" = 0 ] || log "started ${CONTEND} busy loops: ${BUSY_PIDS[*]}"

# 6. Rounds: the three paths interleaved, so drift in the machine's load
#    affects them alike. One request at a time throughout.
COMMON=(--prompts "$PROMPTS" --max-tokens "$MAX_TOKENS" --out "$OUT/results.jsonl")
for r in $(seq 1 "$ROUNDS"); do
  log "round $r/$ROUNDS: llama-cpp-python server, Python streaming client"
  # repeat_penalty 1.0: llama-cpp-python's server defaults to 1.1; the
  # reference decodes exactly like the in-process engine (plain greedy).
  "$VENV/bin/python" "$HERE/client.py" --base-url "$BASE" --model "$ALIAS" \
    --extra '{"repeat_penalty": 1.0}' --label "server · Python streaming client" --round "$r" "${COMMON[@]}"
  log "round $r/$ROUNDS: llama-cpp-python server, yardstick OpenAI-compatible provider"
  "$BIN" http --base-url "$BASE" --model "$ALIAS" \
    --label "server · yardstick openai provider" --round "$r" "${COMMON[@]}"
  log "round $r/$ROUNDS: yardstick in-process provider"
  "$BIN" inprocess --model "$MODEL" --threads "$THREADS" --ctx "$CTX" \
    --label "yardstick in-process (local)" --round "$r" "${COMMON[@]}"
  if [ "${PASSIVE:-1}" = 1 ]; then
    # libgomp spins at every barrier unless it manages more threads than
    # there are CPUs; the server's threads happen to, the in-process engine's
    # do not. PASSIVE makes waiting threads sleep at once.
    log "round $r/$ROUNDS: yardstick in-process provider, OMP_WAIT_POLICY=PASSIVE"
    OMP_WAIT_POLICY=PASSIVE "$BIN" inprocess --model "$MODEL" --threads "$THREADS" --ctx "$CTX" \
      --label "yardstick in-process · OMP_WAIT_POLICY=PASSIVE" --round "$r" "${COMMON[@]}"
  fi
done
LOAD_AFTER="$(cat /proc/loadavg)"
for p in "${BUSY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
BUSY_PIDS=()
kill "$SAMPLER_PID" 2>/dev/null || true
top -bn1 | head -15 >"$OUT/top-after.txt"
stop_server

# 7. What was measured, and the table.
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) logical CPUs, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)"
  echo "threads: $THREADS · n_ctx: $CTX · max_tokens: $MAX_TOKENS · prompts: $(grep -c . "$PROMPTS") · rounds: $ROUNDS · temperature 0 · busy loops: ${CONTEND:-0}"
  echo "server: python -m llama_cpp.server --n_threads $THREADS --n_threads_batch $THREADS --n_ctx $CTX ${SERVER_ARGS:-}(other settings: its defaults)"
  echo "model: $MODEL ($(sha256sum "$MODEL" | cut -c1-16)…)"
  echo "llama-cpp-python: $("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)')"
  echo "server llama.cpp system info: $("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.llama_print_system_info().decode().strip())' 2>/dev/null)"
  echo "server ggml: $(ls "$VENV"/lib/python3*/site-packages/llama_cpp/lib/ | sed -n 's/^libggml-base\.so\.\([0-9]*\.[0-9]*\.[0-9]*\)$/\1/p')"
  SYS_VER="$(grep -A1 '^name = "llama-cpp-sys-2"' "$ROOT/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')"
  SYS_SRC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/llama-cpp-sys-2-"$SYS_VER" 2>/dev/null | head -1)"
  echo "in-process ggml: $(sed -n 's/^set(GGML_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\))/\2/p' "$SYS_SRC/llama.cpp/ggml/CMakeLists.txt" 2>/dev/null | paste -sd.)"
  echo "llama-cpp-2 / llama-cpp-sys-2: $(grep -A1 '^name = "llama-cpp-2"' "$ROOT/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p') / $(grep -A1 '^name = "llama-cpp-sys-2"' "$ROOT/Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')"
  echo "rustc: $(rustc --version)"
  echo "python: $("$VENV/bin/python" --version 2>&1)"
  echo "load average before: $LOAD_BEFORE"
  echo "load average after: $LOAD_AFTER"
  echo "1-minute load average while measuring (5 s samples): $(awk '{print $2}' "$OUT/load.log" | sort -n | awk '{v[NR]=$1} END {print "min " v[1] ", median " v[int((NR+1)/2)] ", max " v[NR] " (" NR " samples)"}')"
} >"$OUT/env.txt"
"$VENV/bin/python" "$HERE/report.py" "$OUT/results.jsonl" \
  --reference "server · Python streaming client" \
  --order "yardstick in-process (local),yardstick in-process · OMP_WAIT_POLICY=PASSIVE,server · Python streaming client,server · yardstick openai provider" \
  --server-log "$OUT/server.log" \
  >"$OUT/table.md"
cat "$OUT/env.txt" "$OUT/table.md"
log "results in $OUT"
