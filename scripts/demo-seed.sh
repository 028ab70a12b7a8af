#!/usr/bin/env bash
# Create the demo namespace "demo-shop" through the config-registry HTTP API, with a base
# document and staging / production overlays. If the namespace exists already nothing is
# touched, so running this again is harmless.
#
# Usage: NEXUS_TOKEN=<admin token> bash scripts/demo-seed.sh [registry base URL, default http://127.0.0.1:4100]
set -euo pipefail

BASE_URL=${1:-${NEXUS_REGISTRY_URL:-http://127.0.0.1:4100}}
BASE_URL=${BASE_URL%/}
NS=demo-shop
if [[ -z ${NEXUS_TOKEN:-} ]]; then
  echo "demo-seed: set NEXUS_TOKEN to an admin token (scripts/up.sh passes the bootstrap token)." >&2
  exit 1
fi

command -v curl >/dev/null 2>&1 || {
  echo "demo-seed: curl is required (apt-get install -y curl)." >&2
  exit 1
}

body_file=$(mktemp)
# The token goes to curl in a header file, not on its command line (where `ps` would show it).
header_file=$(mktemp)
trap 'rm -f "$body_file" "$header_file"' EXIT
chmod 600 "$header_file"
printf 'Authorization: Bearer %s\n' "$NEXUS_TOKEN" >"$header_file"

# request METHOD PATH JSON -> prints the HTTP status (000 when there was no answer); the
# response body is left in $body_file.
request() {
  local status
  status=$(curl -sS -o "$body_file" -w '%{http_code}' --max-time 30 \
    -X "$1" "$BASE_URL$2" \
    -H 'Content-Type: application/json' -H 'Accept: application/json' -H "@$header_file" \
    --data-binary "$3") || true
  printf '%s' "${status:-000}"
}

fail_request() {
  echo "demo-seed: FAILED: $1 answered HTTP $2:" >&2
  cat "$body_file" >&2 2>/dev/null || true
  echo >&2
  exit 1
}

namespace_json=$(
  cat <<'JSON'
{"name":"demo-shop","description":"Demo namespace created by scripts/up.sh","owners":["platform-team"],"variables":{"REGION":"eu-west-1"}}
JSON
)

# ${env:REGION} is a Nexus reference resolved from the namespace's variables, not a shell variable.
base_json=$(
  cat <<'JSON'
{"service":{"name":"demo-shop","region":"${env:REGION}"},"database":{"host":"db.internal","port":5432,"pool":10,"ssl":false},"features":{"checkout_v2":false},"log_level":"info"}
JSON
)
production_json=$(
  cat <<'JSON'
{"database":{"host":"db.prod.internal","ssl":true,"pool":40},"log_level":"warn"}
JSON
)
staging_json=$(
  cat <<'JSON'
{"features":{"checkout_v2":true}}
JSON
)

echo "Creating the demo namespace $NS…"
status=$(request POST /v1/namespaces "$namespace_json")
case $status in
  201) ;;
  409)
    echo "The demo namespace $NS exists already; leaving it as it is."
    exit 0
    ;;
  000) fail_request "POST $BASE_URL/v1/namespaces (no answer)" "$status" ;;
  *) fail_request "POST $BASE_URL/v1/namespaces" "$status" ;;
esac

put_layer() {
  local layer=$1 json=$2 path status
  path="/v1/namespaces/$NS/layers/$layer?message=Demo+seed"
  status=$(request PUT "$path" "$json")
  case $status in
    200 | 201) echo "  layer $layer written." ;;
    *) fail_request "PUT $BASE_URL$path" "$status" ;;
  esac
}

put_layer base "$base_json"
put_layer production "$production_json"
put_layer staging "$staging_json"
echo "Demo namespace $NS is seeded (base, staging and production)."
