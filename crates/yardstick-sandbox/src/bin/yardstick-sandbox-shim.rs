//! Test helper: the sandbox shim as a stand-alone binary. The `yardstick`
//! binary exposes the same function as its hidden `sandbox-shim` subcommand.

fn main() {
    yardstick_sandbox::shim_main(std::env::args().skip(1))
}
