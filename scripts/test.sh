#!/usr/bin/env bash
# The whole test suite. Installs what the tests need (Python venvs, cached under
# ~/.cache/sfgen/venvs), then runs every test: Rust unit and integration tests, UI tests,
# snapshots, conformance replays of generated projects, ruff, the runtime's Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venvs.sh
cargo test --locked "$@"
