#!/usr/bin/env bash
# Create the demo pipeline "demo-shop-to-production" in the orchestrator: validate, one approval,
# promote the staging overlay into production (database host and pool stay production's own),
# wait until every live instance applied it, health-gate for a minute; and the maintenance job
# "demo-backup-drill" (restore the newest backup into a scratch schema and compare it; run it with
# nexus job run demo-backup-drill). What exists already is left untouched, so running this again
# is harmless.
#
# Usage: NEXUS_TOKEN=<admin token> bash scripts/demo-pipeline.sh [orchestrator base URL, default http://127.0.0.1:4500]
set -euo pipefail

BASE_URL=${1:-http://127.0.0.1:4500}
BASE_URL=${BASE_URL%/}
[[ -n ${NEXUS_TOKEN:-} ]] || {
  echo "demo-pipeline: set NEXUS_TOKEN to an admin token (scripts/up.sh passes the bootstrap token)." >&2
  exit 1
}

body_file=$(mktemp)
header_file=$(mktemp)
trap 'rm -f "$body_file" "$header_file"' EXIT
chmod 600 "$header_file"
printf 'Authorization: Bearer %s\n' "$NEXUS_TOKEN" >"$header_file"

pipeline_yaml=$(
  cat <<'YAML'
name: demo-shop-to-production
description: Promote demo-shop's staging overlay to production after one approval
namespace: demo-shop
source: staging
target: production
pinnedPaths: [/database/host, /database/pool, /database/ssl, /log_level]
steps:
  - type: validate
  - type: approve
    approvals: 1
  - type: promote
  - type: wait-applied
    percent: 100
    minInstances: 0
    timeoutSeconds: 300
  - type: health-gate
    bakeSeconds: 60
YAML
)

echo "Creating the demo pipeline demo-shop-to-production…"
status=$(curl -sS -o "$body_file" -w '%{http_code}' --max-time 30 -X POST "$BASE_URL/v1/pipelines" \
  -H 'Content-Type: application/yaml' -H 'Accept: application/json' -H "@$header_file" \
  --data-binary "$pipeline_yaml") || true
case ${status:-000} in
  201) echo "Demo pipeline created: nexus run start demo-shop-to-production --follow" ;;
  409) echo "The demo pipeline exists already; leaving it as it is." ;;
  *)
    echo "demo-pipeline: FAILED: POST $BASE_URL/v1/pipelines answered HTTP ${status:-000}:" >&2
    cat "$body_file" >&2 2>/dev/null || true
    echo >&2
    exit 1
    ;;
esac

echo "Creating the demo maintenance job demo-backup-drill…"
status=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 "$BASE_URL/v1/jobs/demo-backup-drill" \
  -H "@$header_file") || true
if [[ ${status:-000} == 200 ]]; then
  echo "The demo backup drill exists already; leaving it as it is."
  exit 0
fi
status=$(curl -sS -o "$body_file" -w '%{http_code}' --max-time 30 -X PUT "$BASE_URL/v1/jobs/demo-backup-drill" \
  -H 'Content-Type: application/json' -H 'Accept: application/json' -H "@$header_file" \
  --data-binary '{"kind":"backup-drill","timeoutSeconds":600}') || true
if [[ ${status:-000} != 201 && ${status:-000} != 200 ]]; then
  echo "demo-pipeline: FAILED: PUT $BASE_URL/v1/jobs/demo-backup-drill answered HTTP ${status:-000}:" >&2
  cat "$body_file" >&2 2>/dev/null || true
  echo >&2
  exit 1
fi
echo "Demo backup drill created: nexus job run demo-backup-drill (after a backup: nexus backup run)"
