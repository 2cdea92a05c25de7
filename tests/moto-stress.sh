#!/usr/bin/env bash
# Runs the DynamoDB adapter's concurrency conformance check (racing claims and optimistic updates,
# `dynamodb_store_concurrency_conforms`) RUNS times in a row against moto while every CPU is kept
# busy, and prints how many runs passed and failed. docs/reliability.md, "moto under load".
#
#   tests/moto-stress.sh [RUNS] [--plain]
#
# RUNS defaults to 50. By default moto runs as the test suite runs it (tests/moto_serialized.py,
# DynamoDB requests serialized per table); --plain runs moto's own behaviour (no locks) for
# comparison. Needs the Python tools of tests/run.sh (./.venv, or PYTHON=/path/to/venv/bin/python3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=50
mode=()
label="serialized (tests/moto_serialized.py)"
for arg in "$@"; do
    case "$arg" in
        --plain) mode=(--unserialized); label="plain (no locks)" ;;
        *[!0-9]* | '') echo "usage: $0 [RUNS] [--plain]" >&2; exit 2 ;;
        *) runs=$arg ;;
    esac
done
python=${PYTHON:-$root/.venv/bin/python3}
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

# Built before the load starts, so the load measures the runs, not the compiler.
cargo test --quiet --locked -p adapters-aws --test conformance --no-run 2>/dev/null

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" tests/moto_serialized.py -H 127.0.0.1 -p "$port" "${mode[@]}" >/dev/null 2>&1 &
pids+=("$!")
for _ in $(seq 1 150); do
    if "$python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then break; fi
    sleep 0.2
done
export MOTO_ENDPOINT="http://127.0.0.1:$port"

# Full CPU load: one busy loop per CPU, for the whole run.
for _ in $(seq 1 "$(nproc)"); do
    yes >/dev/null &
    pids+=("$!")
done

passed=0
failed=0
started=$(date +%s)
for _ in $(seq 1 "$runs"); do
    if cargo test --quiet --locked -p adapters-aws --test conformance -- --exact dynamodb_store_concurrency_conforms >/dev/null 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "moto $label, $(nproc) CPUs busy, $(($(date +%s) - started)) s: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
