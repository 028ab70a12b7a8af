#!/usr/bin/env bash
# Stop the Nexus services that scripts/up.sh started (from their pid files in .nexus/run).
# NATS, Postgres and Redis are left running.
#
# Environment: NEXUS_STOP_TIMEOUT  seconds to wait for a graceful stop before SIGKILL (default 20)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=$ROOT/.nexus/run
STOP_TIMEOUT=${NEXUS_STOP_TIMEOUT:-20}

# up.sh makes every service the leader of its own session, so the pid in its file is also its
# process group id. The service runs while a pnpm/node process is left in that group (even if
# the leader itself is gone); matching on the command guards against a recycled id.
service_running() { [[ -n ${1:-} ]] && pgrep -g "$1" -f 'pnpm|node|tsx' >/dev/null 2>&1; }

shopt -s nullglob
pidfiles=("$RUN_DIR"/*.pid)
# NATS started by ensure-infra.sh without root keeps its pid file here too; it is infrastructure.
services=()
for f in "${pidfiles[@]}"; do
  case $(basename "$f") in nats-server*.pid) continue ;; esac
  services+=("$f")
done

if ((${#services[@]} == 0)); then
  echo "No Nexus services are running (no pid files in .nexus/run)."
  exit 0
fi

# Stop these pid files' services: SIGTERM to each, then wait for each (SIGKILL past the timeout).
stop_services() {
  local f name pid deadline stopped_any=0
  for f in "$@"; do
    name=$(basename "$f" .pid)
    pid=$(tr -cd '0-9' <"$f")
    if ! service_running "$pid"; then
      echo "$name is not running."
      rm -f "$f"
      continue
    fi
    echo "Stopping $name (pid $pid)…"
    kill -TERM -- "-$pid" 2>/dev/null || true
    stopped_any=1
  done
  ((stopped_any)) || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  for f in "$@"; do
    [[ -f $f ]] || continue
    name=$(basename "$f" .pid)
    pid=$(tr -cd '0-9' <"$f")
    while service_running "$pid"; do
      if ((SECONDS >= deadline)); then
        echo "$name did not stop within ${STOP_TIMEOUT}s; killing it."
        kill -KILL -- "-$pid" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.3
    done
    rm -f "$f"
    echo "$name stopped."
  done
}

# The monitor last: it then hears every other service's goodbye heartbeat and shows them stopped
# (not missing) when the system comes back.
others=()
monitor=()
for f in "${services[@]}"; do
  if [[ $(basename "$f") == monitor.pid ]]; then monitor+=("$f"); else others+=("$f"); fi
done
stop_services "${others[@]}"
if ((${#monitor[@]} > 0)); then
  sleep 1 # the goodbyes are on their way
  stop_services "${monitor[@]}"
fi

echo "Services are stopped. NATS, Postgres and Redis are still running (they are shared infrastructure)."
