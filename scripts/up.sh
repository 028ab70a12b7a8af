#!/usr/bin/env bash
# Bring the whole system up on this machine (no Docker needed): dependencies, NATS + Postgres +
# Redis (installed from Debian packages when run as root), every Nexus service in the
# background, and a demo namespace. Running it again is harmless. Stop with: bash scripts/down.sh
#
# Environment: NEXUS_READY_TIMEOUT  seconds to wait for each service's /readyz (default 120)
set -euo pipefail

# Every service, in one place: name:port:start command (run from the repository root). `start`
# runs the service's built output (dist/main.js with node); the Build step below makes it.
SERVICES=(
  "config-registry:4100:pnpm --filter @nexus/config-registry start"
  "drift-detector:4200:pnpm --filter @nexus/drift-detector start"
  "notifier:4300:pnpm --filter @nexus/notifier start"
  "backup:4600:pnpm --filter @nexus/backup start"
  "monitor:4400:pnpm --filter @nexus/monitor start"
  "orchestrator:4500:pnpm --filter @nexus/orchestrator start"
)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LOG_DIR=.nexus/logs
RUN_DIR=.nexus/run
READY_TIMEOUT=${NEXUS_READY_TIMEOUT:-120}

SERVICE_ENV=(
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus
  NATS_URL=nats://127.0.0.1:4222
  REDIS_URL=redis://127.0.0.1:6379
  LOG_LEVEL=info
)

fail() {
  printf '\nup: FAILED: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

heading() { printf '\n== %s ==\n' "$1"; }

# A service started below leads its own process group (pid = group id); it runs while any
# pnpm/node process is left in that group.
service_running() { [[ -n ${1:-} ]] && pgrep -g "$1" -f 'pnpm|node|tsx' >/dev/null 2>&1; }

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null || true; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

heading "Dependencies"
bash scripts/bootstrap.sh
npm_bin="$(npm prefix -g 2>/dev/null)/bin"
case ":$PATH:" in *":$npm_bin:"*) ;; *) export PATH="$npm_bin:$PATH" ;; esac
hash -r

if ! command -v curl >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing curl…"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null; }; then
      fail "could not install curl."
    fi
  else
    fail "curl is required. Install it: sudo apt-get install -y curl"
  fi
fi

heading "Build"
# Plain JavaScript for every package and service (esbuild, about two seconds): services run from
# dist/, so a start always follows a build of the current sources.
pnpm build || fail "the build failed (see above)." "Fix it, or run a service from its sources with: pnpm --filter @nexus/<service> dev"

heading "Infrastructure"
bash scripts/ensure-infra.sh

heading "Credentials"
bash scripts/credentials.sh
# One KEY=value per line (values are base64 or token characters, never quoted or spaced).
# Every service verifies tokens with AUTH_TOKEN_KEY; the bootstrap token and the secrets' master
# keys are the registry's alone, so only it gets them; the notifier's key for receiver secrets
# (NOTIFIER_SECRETS_*) goes to the notifier only, the bundle key (BACKUP_*) to the backup service only.
REGISTRY_ENV=()
NOTIFIER_ENV=()
BACKUP_ENV=()
while IFS= read -r line; do
  [[ $line == *=* ]] || continue
  if [[ $line == NEXUS_NATS_* || $line == PAYMENTS_API_NATS_* ]]; then
    continue # NATS logins for docker-compose.yml; this NATS has no users
  elif [[ $line == AUTH_TOKEN_KEY=* ]]; then
    SERVICE_ENV+=("$line")
  elif [[ $line == NOTIFIER_SECRETS_* ]]; then
    NOTIFIER_ENV+=("$line")
  elif [[ $line == BACKUP_* ]]; then
    # The backup service's bundle key (BACKUP_ENCRYPTION_KEY) and, when added, its registry token
    # for namespace restores (BACKUP_REGISTRY_TOKEN): the backup service's alone.
    BACKUP_ENV+=("$line")
  elif [[ $line == ORCHESTRATOR_* ]]; then
    continue # the orchestrator's own, read when it starts (below)
  else
    REGISTRY_ENV+=("$line")
  fi
done <.nexus/credentials.env
echo "Services read their keys from .nexus/credentials.env (mode 600); master keys go to the registry only, the notifier's key to the notifier only, the backup key to the backup service only."

heading "Services"
mkdir -p "$LOG_DIR" "$RUN_DIR"
command -v setsid >/dev/null 2>&1 || fail "setsid (util-linux) is required."

started=()
for entry in "${SERVICES[@]}"; do
  IFS=: read -r name port cmd <<<"$entry"
  pidfile=$RUN_DIR/$name.pid
  log=$LOG_DIR/$name.log
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if service_running "$pid"; then
    echo "$name is already running (pid $pid)."
    continue
  fi
  rm -f "$pidfile"
  if port_open "$port"; then
    fail "port $port, which $name needs, is taken by a program that has no pid file in $RUN_DIR." \
      "Find it with: ss -ltnp 'sport = :$port'   (then stop it, and run this again)"
  fi
  echo "Starting $name on port $port (log $log)…"
  printf '\n===== %s: starting %s (%s) =====\n' "$(date -Is)" "$name" "$cmd" >>"$log"
  # A new session per service: its pid is also its process group, so down.sh stops pnpm and node
  # together. The pid file is written by the session leader itself.
  # shellcheck disable=SC2016 # $$, $1 and $2 belong to the inner shell.
  extra=()
  [[ $name == config-registry ]] && extra=("${REGISTRY_ENV[@]}")
  [[ $name == notifier ]] && extra=("${NOTIFIER_ENV[@]}")
  [[ $name == backup ]] && extra=("${BACKUP_ENV[@]}" BACKUP_DIR="$ROOT/.nexus/backups" REGISTRY_URL=http://127.0.0.1:4100)
  # The monitor reads convergence and findings (drift-detector), notifications and silences
  # (notifier) with the dashboard user's token.
  [[ $name == monitor ]] && extra=(DRIFT_DETECTOR_URL=http://127.0.0.1:4200 NOTIFIER_URL=http://127.0.0.1:4300 REGISTRY_URL=http://127.0.0.1:4100 ORCHESTRATOR_URL=http://127.0.0.1:4500 DASHBOARD_URL=http://127.0.0.1:4400/dashboard)
  # The orchestrator reads layers through the registry's API with a token of its own, made once
  # the registry answers; its ORCHESTRATOR_* lines (hook key, tokens) go to it alone. Backup drills
  # ask the backup service (started before it) with its admin ORCHESTRATOR_BACKUP_TOKEN.
  if [[ $name == orchestrator ]]; then
    bash scripts/orchestrator-token.sh http://127.0.0.1:4100 "$READY_TIMEOUT" ||
      fail "could not give the orchestrator its API token (see above)."
    mapfile -t extra < <(grep '^ORCHESTRATOR_' .nexus/credentials.env)
    extra+=(MONITOR_URL=http://127.0.0.1:4400 BACKUP_URL=http://127.0.0.1:4600) # health-gate's alerts; drills
  fi
  env PORT="$port" "${SERVICE_ENV[@]}" "${extra[@]}" \
    setsid bash -c 'echo $$ >"$1"; eval "exec $2"' nexus-service "$pidfile" "$cmd" \
    >>"$log" 2>&1 </dev/null &
  started+=("$name")
done

# Wait until every service answers /readyz with 200.
for entry in "${SERVICES[@]}"; do
  IFS=: read -r name port _ <<<"$entry"
  log=$LOG_DIR/$name.log
  deadline=$((SECONDS + READY_TIMEOUT))
  printf 'Waiting for %s to be ready…' "$name"
  while :; do
    status=$(http_status "http://127.0.0.1:$port/readyz")
    if [[ $status == 200 ]]; then
      echo " ready."
      break
    fi
    pid=$(cat "$RUN_DIR/$name.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && ! service_running "$pid"; then
      echo
      echo "----- last lines of $log -----" >&2
      tail -n 30 "$log" >&2 || true
      echo "-----" >&2
      fail "$name stopped during start-up." "Full log: $ROOT/$log"
    fi
    if ((SECONDS >= deadline)); then
      echo
      fail "$name did not answer http://127.0.0.1:$port/readyz with 200 within ${READY_TIMEOUT}s (last answer: ${status:-none})." \
        "Look at its log: $ROOT/$log" \
        "Stop what was started with: bash scripts/down.sh"
    fi
    sleep 1
  done
done

heading "Demo data"
NEXUS_TOKEN=$(sed -n 's/^NEXUS_BOOTSTRAP_TOKEN=//p' .nexus/credentials.env) bash scripts/demo-seed.sh http://127.0.0.1:4100
NEXUS_TOKEN=$(sed -n 's/^NEXUS_BOOTSTRAP_TOKEN=//p' .nexus/credentials.env) bash scripts/demo-pipeline.sh http://127.0.0.1:4500

heading "Nexus is up"
printf '  Open the dashboard first: http://127.0.0.1:4400/dashboard   (sign in with an API token)\n\n'
for entry in "${SERVICES[@]}"; do
  IFS=: read -r name port _ <<<"$entry"
  printf '  %-16s http://127.0.0.1:%s   (API docs /docs, health /readyz, metrics /metrics)\n' "$name" "$port"
  printf '  %-16s log %s/%s/%s.log\n' "" "$ROOT" "$LOG_DIR" "$name"
done
cat <<EOF

  Infrastructure:  NATS nats://127.0.0.1:4222 (JetStream), Postgres postgres://postgres@127.0.0.1:5432/nexus,
                   Redis redis://127.0.0.1:6379

  Admin token:     NEXUS_BOOTSTRAP_TOKEN in .nexus/credentials.env (use it to create real tokens:
                   nexus login http://127.0.0.1:4100 --token-stdin, then create named ones)

  Try it:          export NEXUS_TOKEN=\$(sed -n 's/^NEXUS_BOOTSTRAP_TOKEN=//p' .nexus/credentials.env)
                   curl -H "Authorization: Bearer \$NEXUS_TOKEN" \\
                     http://127.0.0.1:4100/v1/namespaces/demo-shop/environments/production/resolved

  The CLI:         export NEXUS_URL=http://127.0.0.1:4100 NEXUS_DRIFT_URL=http://127.0.0.1:4200 \\
                     NEXUS_NOTIFIER_URL=http://127.0.0.1:4300 NEXUS_MONITOR_URL=http://127.0.0.1:4400 \\
                     NEXUS_ORCHESTRATOR_URL=http://127.0.0.1:4500 NEXUS_BACKUP_URL=http://127.0.0.1:4600
                   pnpm exec nexus get demo-shop production; pnpm exec nexus backup run

  Stop services:   bash scripts/down.sh   (NATS, Postgres and Redis keep running)
EOF
