#!/usr/bin/env bash
# The whole test suite, on a fresh machine, in one command (README command 2; .ci/run calls it).
#
# 1. Creates ./.venv with the Python tools in tests/requirements.txt (moto, cfn-lint, the SAM
#    translator, cargo-lambda), re-installing only when that file changes.
# 2. Starts one moto server on a free loopback port and exports MOTO_ENDPOINT for the tests: through
#    tests/moto_serialized.py, which serializes DynamoDB requests per table as DynamoDB applies them
#    (plain moto can lose a conditional update under load; docs/reliability.md, "moto under load").
# 3. Checks formatting and lints, then runs every test of the workspace.
# 4. Stops what it started, on success, failure or Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
stamp="$venv/.requirements"
work=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

step "Python tools (.venv)"
if [ ! -f "$stamp" ] || ! cmp -s tests/requirements.txt "$stamp"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
    cp tests/requirements.txt "$stamp"
fi
export PATH="$venv/bin:$PATH"

step "moto (AWS APIs on loopback)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/moto_serialized.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 150); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then break; fi
    sleep 0.2
done
python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null || {
    echo "moto did not start; its log:" >&2
    cat "$work/moto.log" >&2
    exit 1
}
export MOTO_ENDPOINT="http://127.0.0.1:$port"
echo "moto listening on $MOTO_ENDPOINT"

step "Chromium and chromedriver (the dashboard's browser test)"
# Debian's packages; installed when missing and this runs as root with apt-get. Without them the
# browser test is skipped with a message, except in CI, where it fails.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
            >"$work/apt.log" 2>&1 || { echo "apt-get could not install chromium and chromium-driver:" >&2; tail -20 "$work/apt.log" >&2; }
    fi
fi
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    export CHROMIUM="$(command -v chromium)" CHROMEDRIVER="$(command -v chromedriver)"
    echo "browser test with $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
elif [ -n "${CI:-}" ]; then
    echo "CI must run the dashboard's browser test, but chromium and chromium-driver cannot be installed" >&2
    exit 1
else
    echo "NOTE: chromium and chromium-driver are missing and cannot be installed here (apt-get as root):"
    echo "      the dashboard's browser test (shared/local-runner/tests/dashboard_browser.rs) will be SKIPPED."
fi

step "Format"
cargo fmt --all -- --check

step "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
    cargo test --workspace --locked --doc
else
    cargo test --workspace --locked --no-fail-fast
fi

step "All tests passed"
