#!/usr/bin/env bash
# Give the orchestrator its API tokens, kept in .nexus/credentials.env (mode 600):
# - ORCHESTRATOR_API_TOKEN, viewer everywhere: it reads layer revisions, schemas, instances and
#   findings over HTTP; its writes go over NATS; it never needs secret values, since promotions
#   refuse overlays that hold secrets;
# - ORCHESTRATOR_BACKUP_TOKEN, admin: only for backup-drill jobs at the backup service, whose routes
#   are admin-only (there is no narrower role for them); the orchestrator sends it nowhere else.
# Waits for the registry, keeps a token that still works, replaces one the registry no longer
# knows. Prints nothing secret.
#
# Usage: bash scripts/orchestrator-token.sh [registry base URL, default http://127.0.0.1:4100] [wait seconds, default 120]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=$ROOT/.nexus/credentials.env
BASE_URL=${1:-http://127.0.0.1:4100}
BASE_URL=${BASE_URL%/}
WAIT=${2:-120}

[[ -f $FILE ]] || {
  echo "orchestrator-token: $FILE is missing; run bash scripts/credentials.sh first." >&2
  exit 1
}
bootstrap=$(sed -n 's/^NEXUS_BOOTSTRAP_TOKEN=//p' "$FILE")

deadline=$((SECONDS + WAIT))
until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$BASE_URL/readyz" || true) == 200 ]]; do
  ((SECONDS < deadline)) || {
    echo "orchestrator-token: the registry at $BASE_URL did not become ready within ${WAIT}s." >&2
    exit 1
  }
  sleep 1
done

# Tokens go to curl in a header file, never on its command line (where `ps` would show them).
header_file=$(mktemp)
body_file=$(mktemp)
trap 'rm -f "$header_file" "$body_file"' EXIT
chmod 600 "$header_file"

# ensure_token VARIABLE TOKEN-NAME GRANTS-JSON WHAT
ensure_token() {
  local var=$1 name=$2 grants=$3 what=$4 current status token
  current=$(sed -n "s/^$var=//p" "$FILE")
  if [[ -n $current ]]; then
    printf 'Authorization: Bearer %s\n' "$current" >"$header_file"
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "@$header_file" "$BASE_URL/v1/whoami" || true)
    if [[ $status == 200 ]]; then
      echo "The orchestrator's $what ($var) is valid."
      return 0
    fi
    echo "The orchestrator's $what ($var) is no longer accepted (HTTP $status); making a new one."
  fi

  printf 'Authorization: Bearer %s\n' "$bootstrap" >"$header_file"
  status=$(curl -s -o "$body_file" -w '%{http_code}' --max-time 10 -X POST "$BASE_URL/v1/tokens" \
    -H "@$header_file" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$name\",\"owner\":\"orchestrator\",\"grants\":$grants}" || true)
  if [[ $status != 201 ]]; then
    echo "orchestrator-token: POST $BASE_URL/v1/tokens answered HTTP $status:" >&2
    cat "$body_file" >&2
    echo >&2
    exit 1
  fi
  token=$(node -e 'process.stdout.write(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).token)' "$body_file")
  (
    umask 077
    grep -v "^$var=" "$FILE" >"$FILE.tmp" || true
    echo "$var=$token" >>"$FILE.tmp"
    mv "$FILE.tmp" "$FILE"
  )
  chmod 600 "$FILE"
  echo "Created the orchestrator's $what ($var) in .nexus/credentials.env."
}

ensure_token ORCHESTRATOR_API_TOKEN orchestrator '["viewer:*:*"]' "API token"
ensure_token ORCHESTRATOR_BACKUP_TOKEN orchestrator-backup-drill '["admin"]' "backup-drill token"
