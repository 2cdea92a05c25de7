#!/usr/bin/env bash
# One-off (not part of the tests): the release arm64 build of the whole workspace with cargo-lambda,
# zipped as Lambda takes it, then each function's bootstrap size as a Markdown table for the README.
#
# Needs cargo-lambda and zig (`pip install cargo-lambda ziglang`; the python3 first on PATH must have
# ziglang). Honours CARGO_TARGET_DIR (a separate one keeps a long release build from holding the
# shared target directory's lock).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

cargo lambda build --release --arm64 --workspace --output-format zip >&2

echo "| function | bootstrap.zip | bootstrap (unzipped) |"
echo "|---|---|---|"
for dir in functions/*/; do
  name="$(basename "$dir")"
  zip="$target/lambda/$name/bootstrap.zip"
  if [[ ! -f "$zip" ]]; then
    echo "no $zip: did the build produce $name?" >&2
    exit 1
  fi
  python3 - "$name" "$zip" <<'PY'
import os, sys, zipfile
name, path = sys.argv[1], sys.argv[2]
unzipped = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
mb = lambda n: f"{n / 1048576:.1f} MB"
print(f"| {name} | {mb(os.path.getsize(path))} | {mb(unzipped)} |")
PY
done
