#!/usr/bin/env bash
# Stops a cluster made by scripts/pg/start.sh, by the pid in its postmaster.pid, and deletes its
# directory: `bash scripts/pg/stop.sh "$OMNI_PG_DIR"`. Idempotent (a missing directory or a
# process already gone is fine), so a shell trap can call it on every exit.
set -uo pipefail

dir="${1:-${OMNI_PG_DIR:-}}"
if [[ -z "${dir}" ]]; then echo "pg: usage: stop.sh <cluster dir>" >&2; exit 2; fi
[[ -d "${dir}" ]] || exit 0
case "$(basename "${dir}")" in
  omni-pg.*) ;;
  *) echo "pg: ${dir} is not a cluster directory of start.sh; not touching it" >&2; exit 2 ;;
esac

pidfile="${dir}/data/postmaster.pid"
if [[ -f "${pidfile}" ]]; then
  pid="$(head -n 1 "${pidfile}")"
  if [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null; then
    # SIGINT = PostgreSQL's "fast" shutdown: clients are disconnected, then the postmaster exits.
    kill -INT "${pid}" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      echo "pg: postmaster ${pid} still running after 10 s; SIGKILL" >&2
      kill -KILL "${pid}" 2>/dev/null
      sleep 0.5
    fi
  fi
fi
rm -rf "${dir}"
