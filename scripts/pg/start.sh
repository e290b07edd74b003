#!/usr/bin/env bash
# Starts a THROWAWAY PostgreSQL cluster for tests and CI (issue 14), and prints on stdout the
# shell lines that export where it is (everything else goes to stderr):
#
#   eval "$(bash scripts/pg/start.sh)"      # OMNI_PG_URL, OMNI_PG_DIR, OMNI_PG_PID, OMNI_PG_BIN
#   ...                                      # tests create their own databases in it
#   bash scripts/pg/stop.sh "$OMNI_PG_DIR"   # stops it by its pid and deletes it
#
# - PostgreSQL missing: installs Debian's `postgresql` with apt-get (root only; without an
#   `apt-get update` first when the package lists already have it, so a re-run costs nothing),
#   telling postgresql-common not to create its default cluster, so nothing else is started.
# - The cluster lives in its own temp directory (data, socket, log), belongs to an unprivileged
#   user (PostgreSQL refuses to run as root: `postgres` when running as root, created if absent;
#   yourself otherwise), listens on 127.0.0.1 only, on a free port, with a random password.
# - Durability is off (fsync, full_page_writes, synchronous_commit): the data is thrown away.
set -euo pipefail

log() { echo "pg: $*" >&2; }

find_bin() {
  local dir
  if [[ -n "${OMNI_PG_BIN:-}" && -x "${OMNI_PG_BIN}/initdb" ]]; then echo "${OMNI_PG_BIN}"; return 0; fi
  # Debian keeps each major version under /usr/lib/postgresql/<major>/bin; take the newest.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [[ -x "${dir}/initdb" && -x "${dir}/pg_ctl" ]]; then echo "${dir}"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

install_postgresql() {
  if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL (initdb, pg_ctl) is not installed and this is not root: install Debian's postgresql package, or set OMNI_PG_BIN"
    exit 1
  fi
  log "PostgreSQL is not installed; installing Debian's postgresql package"
  # No default cluster: this script makes its own, and nothing should listen on 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/omni-no-main-cluster.conf
  local apt=(apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold postgresql)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2; then
    log "apt-get install failed with the current package lists; running apt-get update once"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2
  fi
}

t0=$(date +%s)
if ! bin=$(find_bin); then
  install_postgresql
  bin=$(find_bin) || { log "postgresql installed but no initdb/pg_ctl found"; exit 1; }
fi

# The unprivileged owner of the cluster.
if [[ "$(id -u)" == 0 ]]; then
  user="${OMNI_PG_USER:-postgres}"
  if ! id "${user}" >/dev/null 2>&1; then
    log "creating system user ${user}"
    useradd --system --no-create-home --shell /usr/sbin/nologin "${user}"
  fi
  as_user() { runuser -u "${user}" -- "$@"; }
else
  user="$(id -un)"
  as_user() { "$@"; }
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/omni-pg.XXXXXX")"
chmod 0700 "${dir}"
if [[ "$(id -u)" == 0 ]]; then chown "${user}" "${dir}"; fi
password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
as_user sh -c "umask 077; printf '%s\n' '${password}' >'${dir}/pwfile'"
as_user "${bin}/initdb" -D "${dir}/data" -U omni --pwfile="${dir}/pwfile" --auth=scram-sha-256 \
  --encoding=UTF8 --locale=C.UTF-8 --no-instructions >"${dir}/initdb.log" 2>&1 ||
  { cat "${dir}/initdb.log" >&2; rm -rf "${dir}"; exit 1; }
rm -f "${dir}/pwfile"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

started=""
for attempt in 1 2 3; do
  port="$(free_port)"
  if as_user "${bin}/pg_ctl" -D "${dir}/data" -l "${dir}/postgres.log" -w -t 60 -o \
    "-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
    start >&2; then
    started=1
    break
  fi
  log "start on port ${port} failed (attempt ${attempt}); retrying on another port"
done
if [[ -z "${started}" ]]; then
  tail -n 30 "${dir}/postgres.log" >&2 || true
  rm -rf "${dir}"
  exit 1
fi

pid="$(head -n 1 "${dir}/data/postmaster.pid")"
url="postgresql://omni:${password}@127.0.0.1:${port}/postgres"
log "cluster of ${user} on 127.0.0.1:${port}, pid ${pid}, in ${dir} ($(( $(date +%s) - t0 ))s)"
printf 'export OMNI_PG_URL=%q\nexport OMNI_PG_DIR=%q\nexport OMNI_PG_PID=%q\nexport OMNI_PG_BIN=%q\n' \
  "${url}" "${dir}" "${pid}" "${bin}"
