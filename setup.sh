#!/usr/bin/env bash
# One command from a fresh machine to a printed leaderboard:
#   installs the system packages, builds yardstick, pulls the default local
#   model (SmolLM2-135M-Instruct) and runs the smoke evaluation on it.
# Options: --no-run  install and build only (used by CI before the tests).
set -euo pipefail
cd "$(dirname "$0")"

run_smoke=1
[ "${1:-}" = "--no-run" ] && run_smoke=0

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# System packages: cmake and libclang build llama.cpp for the local model.
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v clang >/dev/null 2>&1 || need+=(clang)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

say "building yardstick (release; llama.cpp takes ~5 minutes the first time)"
cargo build --release --locked -p yardstick
target="${CARGO_TARGET_DIR:-target}"
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
mkdir -p "$bin_dir"
install -m 0755 "$target/release/yardstick" "$bin_dir/yardstick"
say "installed $bin_dir/yardstick"
case ":$PATH:" in *":$bin_dir:"*) ;; *) say "add $bin_dir to PATH to call yardstick by name";; esac

say "pulling the default local model"
"$bin_dir/yardstick" models pull smollm2-135m-instruct

if [ "$run_smoke" = 1 ]; then
  say "running the smoke evaluation on the local model"
  "$bin_dir/yardstick" run
fi
