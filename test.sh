#!/usr/bin/env bash
# The whole test suite. Needs PostgreSQL at $YARDSTICK_TEST_PG
# (default postgres://postgres@127.0.0.1:5432/test); its tests fail, never
# skip, when it is unreachable. Release profile: llama.cpp is too slow unoptimised,
# and the binary built by setup.sh is reused.
set -euo pipefail
cd "$(dirname "$0")"
export YARDSTICK_TEST_PG="${YARDSTICK_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
cargo test --release --locked --workspace "$@"
