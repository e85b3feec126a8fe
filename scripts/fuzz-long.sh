#!/usr/bin/env bash
# Long fuzz run of sfgen (tests/fuzz.rs) in release mode, with the big deep-nesting cases.
#
#   scripts/fuzz-long.sh [SECONDS [SEED]]     default: 600 s, seed from the clock
#
# Environment passed through: SFGEN_FUZZ_THREADS (default 1; the Python checker uses the
# other core), SFGEN_FUZZ_STRICT=1 (known bugs fail too), SFGEN_PYTHON, CARGO_TARGET_DIR.
# Minimised reproducers land in target/tmp/fuzz/ (failure-N.py; current-N.py is the input
# being compiled, useful if the process dies of a stack overflow). The run is a pure
# function of the seed: rerun with the printed seed to reproduce.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
seed=${2:-$(date +%s)}
echo "fuzz-long: ${secs} s, seed ${seed}"
SFGEN_FUZZ_SECS="$secs" SFGEN_FUZZ_ITERS=0 SFGEN_FUZZ_SEED="$seed" \
SFGEN_FUZZ_DEEP_BIG=1 SFGEN_FUZZ_DEEP_TIMEOUT="${SFGEN_FUZZ_DEEP_TIMEOUT:-60}" \
    exec cargo test --release --test fuzz -- --nocapture
