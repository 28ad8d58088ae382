#!/usr/bin/env bash
# Dashboard benchmark (run by hand, never in CI): a synthetic database of
# 30 models × 365 daily smoke runs × 10 items, `yardstick serve` on a loopback
# port, and the load generator against the leaderboard, a model page and a run
# page. Prints per-path latency percentiles. Usage: bench/serve/run.sh [SECONDS] [CONCURRENCY]
# BENCH_SIZE="MODELS RUNS ITEMS_PER_DIMENSION" shrinks the database (default "30 365 2")
# to check the script itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}"
concurrency="${2:-8}"
read -r models runs per_dimension <<<"${BENCH_SIZE:-30 365 2}"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The release binary without the local (llama.cpp) provider: the server does not use it.
cargo build --release --locked -p yardstick --no-default-features
cargo build --release --locked -p yardstick-synth -p yardstick-bench-serve
target="${CARGO_TARGET_DIR:-target}/release"

"$target/synth-db" "sqlite://$work/bench.db" "$models" "$runs" "$per_dimension"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$target/yardstick" --db "sqlite://$work/bench.db" serve --addr "127.0.0.1:$port" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done

echo "cold (first request after start, nothing cached):"
for path in "/" "/models/model-01" "/runs/$runs" "/runs/$runs/articles/run-$runs-roundup.html"; do
  curl -s -o /dev/null -w "  $path %{time_total}s\n" "http://127.0.0.1:$port$path"
done
echo "under load (${seconds}s, ${concurrency} connections):"
"$target/load" "http://127.0.0.1:$port" "$seconds" "$concurrency" \
  "/" "/?view=rolling5" "/models/model-01" "/runs/$runs" "/runs/$(( (runs + 1) / 2 ))" "/api/board" \
  "/items/synth-grounding-001" "/runs/$runs/articles/run-$runs-roundup.html"
echo "peak RSS of the server: $(grep VmHWM /proc/$server/status)"
