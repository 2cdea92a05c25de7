#!/usr/bin/env bash
# The infra checks that need tools beyond the workspace's own tests: cfn-lint on the template, the SAM
# transform, and the cargo-lambda invoke test (infra/checks/tests/{cfn_lint,sam_transform,
# lambda_invoke}.rs, ignored by a plain `cargo test`). tests/run.sh calls this after the workspace
# tests, with MOTO_ENDPOINT set; run alone, the invoke test starts its own moto from the venv.
#
# Installs infra/requirements.txt into ./.venv (again only when that file changes).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
stamp="$venv/.infra-requirements"

if [ ! -x "$venv/bin/pip" ]; then
    python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || ! cmp -s infra/requirements.txt "$stamp"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r infra/requirements.txt
    cp infra/requirements.txt "$stamp"
fi
export PATH="$venv/bin:$PATH"
export CFN_LINT="$venv/bin/cfn-lint"
export CARGO_LAMBDA="$venv/bin/cargo-lambda"
export SAM_TRANSLATOR_PYTHON="$venv/bin/python3"

cargo test -p infra-checks --locked --test cfn_lint --test sam_transform --test lambda_invoke -- --ignored
