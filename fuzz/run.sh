#!/usr/bin/env bash
# Runs every fuzz target for the given seconds each (default 60): builds the targets with
# cargo-fuzz (installing it if missing, unless FUZZ_NO_INSTALL=1), writes the seed corpora,
# replays the committed regression inputs, then fuzzes. Exits non-zero on the first crash;
# libFuzzer leaves the input under fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [seconds] [target…]      FUZZ_SANITIZER=address fuzz/run.sh 600 proof_file
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(proof_file proof_stream model commitment net_server net_client input)
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    if [ "${FUZZ_NO_INSTALL:-0}" = 1 ]; then
        echo "cargo-fuzz is missing (cargo install cargo-fuzz --locked)" >&2
        exit 1
    fi
    cargo install cargo-fuzz --locked
fi

# the largest input libFuzzer makes per target (honest seeds must fit: see README.md)
max_len() {
    case $1 in
        proof_file | proof_stream) echo 1048576 ;;
        model | commitment) echo 1048576 ;;
        net_server | net_client) echo 65536 ;;
        input) echo 4096 ;;
        *) echo 65536 ;;
    esac
}

# safe Rust: no sanitizer by default (twice the executions); panics and overflows are caught
# (debug assertions on), as are OOMs (-rss_limit_mb) and hangs (-timeout)
build=(-O -a -s "${FUZZ_SANITIZER:-none}" --codegen-units 16)
cargo +nightly fuzz build "${build[@]}"

CARGO_TARGET_DIR="$PWD/target/seeds" cargo run --quiet --release \
    --manifest-path seeds/Cargo.toml -- corpus

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "regressions/$t"
    # the regression inputs first: each must run clean
    if [ -n "$(ls -A "regressions/$t")" ]; then
        cargo +nightly fuzz run "${build[@]}" "$t" regressions/"$t"/* -- -runs=0 \
            -rss_limit_mb=2048 || { echo "regression input of $t fails" >&2; status=1; }
    fi
    echo "== $t: ${seconds}s"
    cargo +nightly fuzz run "${build[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len="$(max_len "$t")" \
        -print_final_stats=1 || { echo "fuzz target $t crashed" >&2; status=1; }
done
exit $status
