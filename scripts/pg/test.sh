#!/usr/bin/env bash
# `npm run test:pg`: the audit store's PostgreSQL tests on a throwaway cluster (scripts/pg/start.sh:
# installs Debian's postgresql when missing, unprivileged owner, 127.0.0.1, free port), stopped by
# pid at the end whatever happens. Unlike the default `npm test` (which skips PostgreSQL when no
# server is given, saying so), this FAILS when PostgreSQL cannot be installed, started or reached
# (OMNI_PG_REQUIRED=1). SQLite already ran in npm test: only the PostgreSQL backend runs here.
set -euo pipefail
cd "$(dirname "$0")/../.."

env_file="$(mktemp)"
cleanup() {
  if [[ -s "${env_file}" ]]; then
    # shellcheck disable=SC1090
    source "${env_file}"
    bash scripts/pg/stop.sh "${OMNI_PG_DIR}" || true
  fi
  rm -f "${env_file}"
}
trap cleanup EXIT
bash scripts/pg/start.sh >"${env_file}"
# shellcheck disable=SC1090
source "${env_file}"

export OMNI_PG_REQUIRED=1 OMNI_AUDIT_BACKENDS=postgresql
t0=$(date +%s)
npx hardhat test mocha test/audit/store.ts test/audit/chains.ts test/audit/reorg.ts test/audit/race.ts test/audit/report.ts "$@"
echo "test:pg: PostgreSQL tests passed in $(($(date +%s) - t0)) s" >&2
