#!/usr/bin/env bash
# Make sure the infrastructure Nexus needs runs on loopback:
#   NATS with JetStream on 127.0.0.1:4222, Postgres on 127.0.0.1:5432 (database "nexus",
#   user postgres without a password), Redis on 127.0.0.1:6379.
# For each one: already answering -> leave it alone; installed -> start it; missing -> as root,
# install the Debian package, then start it. Safe to run again and again.
# Without root it works as long as everything is installed (Postgres must also be running).
#
# Environment:
#   NEXUS_INFRA_WAIT_SECONDS   how long to wait for each server to answer (default 30)
#   NEXUS_NATS_PORT / NEXUS_PG_PORT / NEXUS_REDIS_PORT  other ports (default 4222 / 5432 / 6379)
#   NEXUS_PG_TRUST_LOOPBACK=1  allow editing pg_hba.conf of an existing cluster that asks for a
#                              password on 127.0.0.1 (normally only done for a cluster this
#                              script installed or started itself)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOST=127.0.0.1
NATS_PORT=${NEXUS_NATS_PORT:-4222}
PG_PORT=${NEXUS_PG_PORT:-5432}
REDIS_PORT=${NEXUS_REDIS_PORT:-6379}
DB_NAME=nexus
WAIT_SECONDS=${NEXUS_INFRA_WAIT_SECONDS:-30}

IS_ROOT=0
if [[ $(id -u) -eq 0 ]]; then IS_ROOT=1; fi

# Where servers started by this script keep data and logs. As root these are the Debian
# locations; otherwise directories inside the checkout (git-ignored .nexus/).
# Two servers must never share one JetStream store, so a non-default port gets its own.
sfx=""
if [[ $NATS_PORT != 4222 ]]; then sfx="-$NATS_PORT"; fi
if [[ $IS_ROOT -eq 1 ]]; then
  NATS_STORE=/var/lib/nats-server$sfx
  NATS_LOG=/var/log/nats-server$sfx.log
  NATS_PIDFILE=/run/nexus-nats-server$sfx.pid
  REDIS_DIR=/var/lib/redis
  REDIS_LOG=/var/log/redis/ci.log
else
  NATS_STORE=$ROOT/.nexus/infra/nats$sfx
  NATS_LOG=$ROOT/.nexus/logs/nats-server$sfx.log
  NATS_PIDFILE=$ROOT/.nexus/run/nats-server$sfx.pid
  REDIS_DIR=$ROOT/.nexus/infra/redis
  REDIS_LOG=$ROOT/.nexus/logs/redis.log
fi

say() { printf '%s\n' "$*"; }
fail() {
  printf '\nensure-infra: FAILED: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# Psql and friends must never pick up a password from the caller's environment: the services
# connect without one, so the check must too.
pg_cmd() { env -u PGPASSWORD PGPASSFILE=/nonexistent/.pgpass PGCONNECT_TIMEOUT=5 "$@"; }

# ---------------------------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------------------------

# Speaks the NATS client protocol over bash's /dev/tcp: reads INFO, then asks the JetStream API
# for account info ($JS.API.INFO). Prints one word: ok | down | noinfo | nojs | noreply | error:...
nats_probe() {
  local line
  if ! { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null; then
    echo down
    return
  fi
  if ! IFS= read -r -t 2 line <&3; then
    echo noinfo
    return
  fi
  case $line in
    INFO*) ;;
    *)
      echo noinfo
      return
      ;;
  esac
  if [[ $line != *'"jetstream":true'* ]]; then
    echo nojs
    return
  fi
  # shellcheck disable=SC2016 # $JS is a literal NATS subject, not a shell variable.
  printf '%s\r\n' \
    'CONNECT {"verbose":false,"pedantic":false,"echo":false,"headers":true,"no_responders":true,"protocol":1,"lang":"bash","version":"1"}' \
    'SUB _INBOX.nexus_ensure_infra 1' \
    'PUB $JS.API.INFO _INBOX.nexus_ensure_infra 0' \
    '' \
    'PING' >&3
  while IFS= read -r -t 3 line <&3; do
    line=${line%$'\r'}
    case $line in
      MSG*)
        IFS= read -r -t 3 line <&3 || true
        if [[ $line == *'"error"'* ]]; then echo "error:${line%$'\r'}"; else echo ok; fi
        return
        ;;
      HMSG*)
        # A header-only reply is the server's "no responders" (503): JetStream is not serving.
        echo nojs
        return
        ;;
      -ERR*)
        echo "error:$line"
        return
        ;;
    esac
  done
  echo noreply
}

nats_state() {
  timeout 8 bash -c "$(declare -f nats_probe); nats_probe $HOST $NATS_PORT" 2>/dev/null || echo noreply
}

pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$HOST" -p "$PG_PORT" -t 2
  else
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PG_PORT" 2>/dev/null
  fi
}

redis_reply() {
  if command -v redis-cli >/dev/null 2>&1; then
    timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>&1 || true
  else
    # Inline RESP: send PING, read one line.
    timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$REDIS_PORT && printf 'PING\r\n' >&3 && IFS= read -r l <&3 && printf '%s\n' \"\${l#+}\"" \
      2>/dev/null | tr -d '\r' || true
  fi
}

redis_ready() { [[ $(redis_reply) == PONG ]]; }

# ---------------------------------------------------------------------------------------------
# What is installed
# ---------------------------------------------------------------------------------------------

nats_bin() { command -v nats-server 2>/dev/null || { [[ -x /usr/sbin/nats-server ]] && echo /usr/sbin/nats-server; } || true; }
redis_bin() { command -v redis-server 2>/dev/null || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; } || true; }

pg_server_installed() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null 2>&1
}

pg_client_installed() { command -v psql >/dev/null 2>&1 && command -v pg_isready >/dev/null 2>&1; }

# "version name" of the Debian cluster on $PG_PORT, if there is one.
pg_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }'
}

# ---------------------------------------------------------------------------------------------
# Installing
# ---------------------------------------------------------------------------------------------

APT_UPDATED=0
apt_install() {
  if [[ $IS_ROOT -ne 1 ]]; then
    fail "these packages are missing and installing them needs root: $*" \
      "Run this script as root (sudo bash scripts/ensure-infra.sh), or install them yourself:" \
      "  sudo apt-get install -y --no-install-recommends $*"
  fi
  command -v apt-get >/dev/null 2>&1 || fail "these packages are missing and there is no apt-get to install them: $*"
  if [[ $APT_UPDATED -eq 0 ]]; then
    say "Updating the package lists (apt-get update)…"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || fail "apt-get update failed."
    APT_UPDATED=1
  fi
  say "Installing $* (apt-get install)…"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    fail "apt-get install $* failed." "Run it by hand to see why: apt-get install -y --no-install-recommends $*"
}

# ---------------------------------------------------------------------------------------------
# Starting
# ---------------------------------------------------------------------------------------------

start_nats() {
  local bin
  bin=$(nats_bin)
  mkdir -p "$NATS_STORE" "$(dirname "$NATS_LOG")" "$(dirname "$NATS_PIDFILE")"
  say "Starting NATS with JetStream (store $NATS_STORE, log $NATS_LOG)…"
  start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$NATS_PIDFILE" \
    --exec "$bin" -- -a "$HOST" -p "$NATS_PORT" -js -sd "$NATS_STORE" -l "$NATS_LOG" ||
    fail "could not start nats-server." "See $NATS_LOG"
}

PG_STARTED_HERE=0
start_postgres() {
  local cluster version name
  [[ $IS_ROOT -eq 1 ]] || fail "Postgres is installed but not running, and starting it needs root." \
    "Start it as root:  sudo pg_ctlcluster --skip-systemctl-redirect <version> main start" \
    "or run this script as root: sudo bash scripts/ensure-infra.sh"
  cluster=$(pg_cluster)
  if [[ -z $cluster ]]; then
    version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
      awk -F/ '{ print $5 }' | sort -V | tail -n 1)
    [[ -n $version ]] || fail "Postgres server binaries not found under /usr/lib/postgresql."
    say "Creating a Postgres $version cluster \"main\" on port $PG_PORT…"
    pg_createcluster --port "$PG_PORT" "$version" main >/dev/null ||
      fail "pg_createcluster $version main failed."
    cluster="$version main"
  fi
  read -r version name <<<"$cluster"
  # The socket directory lives on /run, which may be empty on a machine without systemd.
  mkdir -p /var/run/postgresql
  chown postgres:postgres /var/run/postgresql 2>/dev/null || true
  chmod 2775 /var/run/postgresql
  say "Starting Postgres $version/$name…"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start ||
    fail "could not start Postgres $version/$name." "See /var/log/postgresql/postgresql-$version-$name.log"
  PG_STARTED_HERE=1
}

start_redis() {
  local bin
  bin=$(redis_bin)
  mkdir -p "$REDIS_DIR" "$(dirname "$REDIS_LOG")"
  say "Starting Redis (log $REDIS_LOG)…"
  "$bin" --daemonize yes --bind "$HOST" -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$REDIS_DIR" --logfile "$REDIS_LOG" ||
    fail "could not start redis-server." "See $REDIS_LOG"
}

# ---------------------------------------------------------------------------------------------
# Waiting
# ---------------------------------------------------------------------------------------------

wait_nats() {
  local deadline=$((SECONDS + WAIT_SECONDS)) state
  while :; do
    state=$(nats_state)
    case $state in
      ok) say "NATS is ready (JetStream on)."; return ;;
      nojs)
        fail "NATS answers on $HOST:$NATS_PORT but JetStream is off." \
          "Nexus needs JetStream. Restart that nats-server with -js (and -sd <store dir>), e.g.:" \
          "  nats-server -a $HOST -p $NATS_PORT -js -sd /var/lib/nats-server"
        ;;
    esac
    if ((SECONDS >= deadline)); then
      fail "NATS did not answer with JetStream on $HOST:$NATS_PORT within ${WAIT_SECONDS}s (last probe: $state)." \
        "See $NATS_LOG"
    fi
    sleep 0.5
  done
}

wait_postgres() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until pg_ready; do
    if ((SECONDS >= deadline)); then
      fail "Postgres did not answer on $HOST:$PG_PORT within ${WAIT_SECONDS}s." "See /var/log/postgresql/"
    fi
    sleep 0.5
  done
}

wait_redis() {
  local deadline=$((SECONDS + WAIT_SECONDS)) reply
  while :; do
    reply=$(redis_reply)
    [[ $reply == PONG ]] && { say "Redis is ready."; return; }
    if [[ $reply == *NOAUTH* ]]; then
      fail "Redis on $HOST:$REDIS_PORT wants a password; Nexus expects one without (redis://$HOST:$REDIS_PORT)."
    fi
    if ((SECONDS >= deadline)); then
      fail "Redis did not answer PING on $HOST:$REDIS_PORT within ${WAIT_SECONDS}s${reply:+ (last reply: $reply)}." \
        "See $REDIS_LOG"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# Postgres access and database
# ---------------------------------------------------------------------------------------------

psql_postgres() { pg_cmd psql -X -w -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }

trust_loopback() {
  local cluster version name hba
  cluster=$(pg_cluster)
  [[ -n $cluster ]] || fail "cannot find the Debian cluster on port $PG_PORT to configure its pg_hba.conf."
  read -r version name <<<"$cluster"
  hba=/etc/postgresql/$version/$name/pg_hba.conf
  [[ -w $hba ]] || fail "cannot write $hba."
  say "Allowing passwordless connections from loopback in $hba (backup: $hba.nexus-bak)…"
  cp -p "$hba" "$hba.nexus-bak"
  # First matching line wins, so the new rules go on top.
  {
    echo "# Added by Nexus scripts/ensure-infra.sh: local development, loopback only, no password."
    echo "host    all             all             127.0.0.1/32            trust"
    echo "host    all             all             ::1/128                 trust"
    cat "$hba.nexus-bak"
  } >"$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload || fail "could not reload Postgres $version/$name."
  sleep 0.5
}

ensure_pg_access() {
  local err
  if err=$(psql_postgres -tAc 'SELECT 1' 2>&1); then return; fi
  if [[ $IS_ROOT -eq 1 && ($PG_STARTED_HERE -eq 1 || ${NEXUS_PG_TRUST_LOOPBACK:-0} == 1) ]]; then
    trust_loopback
    err=$(psql_postgres -tAc 'SELECT 1' 2>&1) && return
  fi
  fail "cannot connect to Postgres as user postgres without a password: ${err//$'\n'/ }" \
    "Nexus connects with postgres://postgres@$HOST:$PG_PORT/$DB_NAME. Either add to pg_hba.conf (above other host lines):" \
    "  host all all 127.0.0.1/32 trust" \
    "  host all all ::1/128      trust" \
    "and reload Postgres, or rerun as root with NEXUS_PG_TRUST_LOOPBACK=1 to let this script do it."
}

ensure_database() {
  local exists
  exists=$(psql_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
  if [[ $exists == 1 ]]; then
    say "Postgres is ready (database $DB_NAME exists)."
    return
  fi
  say "Creating database $DB_NAME…"
  if ! pg_cmd createdb -w -h "$HOST" -p "$PG_PORT" -U postgres "$DB_NAME" 2>/dev/null; then
    # Another run may have created it meanwhile.
    exists=$(psql_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
    [[ $exists == 1 ]] || fail "could not create database $DB_NAME."
  fi
  say "Postgres is ready (database $DB_NAME created)."
}

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

say "Checking infrastructure (NATS :$NATS_PORT, Postgres :$PG_PORT, Redis :$REDIS_PORT)…"

need_nats=0 need_pg=0 need_redis=0
missing=()

nats_now=$(nats_state)
case $nats_now in
  ok) say "NATS is already running with JetStream." ;;
  nojs)
    fail "NATS answers on $HOST:$NATS_PORT but JetStream is off." \
      "Nexus needs JetStream. Restart that nats-server with -js (and -sd <store dir>), e.g.:" \
      "  nats-server -a $HOST -p $NATS_PORT -js -sd /var/lib/nats-server"
    ;;
  down)
    need_nats=1
    [[ -n $(nats_bin) ]] || missing+=(nats-server)
    ;;
  *)
    # Something holds the port: a NATS that is still starting, or another program.
    say "Something answers on $HOST:$NATS_PORT but not (yet) as NATS with JetStream; waiting for it…"
    ;;
esac

if pg_ready; then
  say "Postgres is already running."
  pg_client_installed || missing+=(postgresql-client)
else
  need_pg=1
  pg_server_installed || missing+=(postgresql)
fi

if redis_ready; then
  say "Redis is already running."
else
  need_redis=1
  [[ -n $(redis_bin) ]] || missing+=(redis-server)
fi

# Debian's Prometheus, for the test that scrapes every service (it runs its own, on a free port).
if ! command -v prometheus >/dev/null 2>&1; then
  if [[ $IS_ROOT -eq 1 ]]; then
    missing+=(prometheus)
  else
    say "Prometheus is not installed: test/e2e/prometheus-scrape.test.ts will fail (apt-get install prometheus)."
  fi
fi

if ((${#missing[@]} > 0)); then
  apt_install "${missing[@]}"
fi

# A package's install script may have started its server already; look again before starting.
if [[ $need_nats -eq 1 ]]; then
  [[ $(nats_state) == down ]] && start_nats
fi
if [[ $need_pg -eq 1 ]]; then
  if pg_ready; then
    # Started by the package's install script: a fresh cluster of ours.
    if [[ " ${missing[*]-} " == *" postgresql "* ]]; then PG_STARTED_HERE=1; fi
  else
    start_postgres
  fi
fi
if [[ $need_redis -eq 1 ]]; then
  redis_ready || start_redis
fi

[[ $nats_now == ok ]] || wait_nats
wait_postgres
ensure_pg_access
ensure_database
[[ $need_redis -eq 0 ]] || wait_redis

say "Infrastructure is ready: nats://$HOST:$NATS_PORT (JetStream), postgres://postgres@$HOST:$PG_PORT/$DB_NAME, redis://$HOST:$REDIS_PORT"
