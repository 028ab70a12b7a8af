#!/usr/bin/env bash
# The one test command (`pnpm test`): infrastructure, typecheck, lint + format check, contract
# check, then every vitest project (unit and integration against real NATS, Postgres and Redis).
# Ends with one line "Tests: N passed, M failed[, K skipped]" and exits non-zero when any step
# failed or no test ran. Extra arguments go to vitest (e.g. `pnpm test --project unit`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RESULTS=test-results/vitest.json
failed_steps=()

# Plain text when the output goes to a file or a CI log.
biome_colors=()
if [[ ! -t 1 ]]; then
  export NO_COLOR=1
  biome_colors=(--colors=off)
fi

# A previous run's report must neither be linted nor mistaken for this run's.
rm -f "$RESULTS"

heading() { printf '\n== %s ==\n' "$1"; }

# Run one step; remember it when it fails and carry on, so one run shows every problem.
step() {
  local name=$1
  shift
  heading "$name"
  local started=$SECONDS
  if "$@"; then
    echo "$name: ok ($((SECONDS - started))s)"
  else
    echo "$name: FAILED ($((SECONDS - started))s)"
    failed_steps+=("$name")
  fi
}

heading "Infrastructure"
if ! bash scripts/ensure-infra.sh; then
  echo "Infrastructure is not available, so the tests cannot run."
  echo "Tests: 0 passed, 0 failed"
  exit 1
fi

# Chromium and Prometheus for the monitor's browser and Prometheus tests (installed when root).
step "Test tools" bash scripts/ensure-test-tools.sh

# The typecheck (one core for about as long as every other check together) runs beside the other
# checks; its output and verdict come after theirs.
heading "Typecheck (started; its result follows the other checks)"
typecheck_log=$(mktemp)
typecheck_started=$SECONDS
pnpm exec tsc -p tsconfig.json >"$typecheck_log" 2>&1 &
typecheck_pid=$!

step "Lint and format check" pnpm exec biome ci "${biome_colors[@]}" .

has_asyncapi_check=$(node -e '
  const pkg = JSON.parse(require("fs").readFileSync("packages/contracts/package.json", "utf8"));
  process.stdout.write(pkg.scripts && pkg.scripts["check-asyncapi"] ? "yes" : "no");
' 2>/dev/null || echo no)
if [[ $has_asyncapi_check == yes ]]; then
  step "AsyncAPI document is up to date" pnpm --filter @nexus/contracts run check-asyncapi
fi

step "OpenAPI document is up to date" pnpm --filter @nexus/config-registry run check-openapi
step "Drift-detector OpenAPI document is up to date" pnpm --filter @nexus/drift-detector run check-openapi
step "Notifier OpenAPI document is up to date" pnpm --filter @nexus/notifier run check-openapi
step "Backup OpenAPI document is up to date" pnpm --filter @nexus/backup run check-openapi
step "Monitor OpenAPI document is up to date" pnpm --filter @nexus/monitor run check-openapi
step "Orchestrator OpenAPI document is up to date" pnpm --filter @nexus/orchestrator run check-openapi

heading "Typecheck"
typecheck_status=0
wait "$typecheck_pid" || typecheck_status=$?
cat "$typecheck_log"
rm -f "$typecheck_log"
if ((typecheck_status == 0)); then
  echo "Typecheck: ok ($((SECONDS - typecheck_started))s, beside the checks above)"
else
  echo "Typecheck: FAILED ($((SECONDS - typecheck_started))s)"
  failed_steps+=("Typecheck")
fi

heading "Tests"
mkdir -p "$(dirname "$RESULTS")"
vitest_status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile="$RESULTS" "$@" || vitest_status=$?

# One summary line from vitest's JSON report; a second line on stderr explains a problem.
summary_status=0
node - "$RESULTS" <<'EOF' || summary_status=$?
const fs = require("fs");
const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (err) {
  console.log("Tests: 0 passed, 0 failed");
  console.error(`No test results: vitest wrote no readable ${file} (${err.code || err.message}).`);
  process.exit(1);
}
const passed = r.numPassedTests || 0;
const failed = r.numFailedTests || 0;
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
console.log(`Tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
if (passed + failed === 0) {
  console.error("No test ran.");
  process.exit(1);
}
const brokenFiles = (r.testResults || []).filter((f) => f.status === "failed" && (f.assertionResults || []).length === 0);
if (brokenFiles.length > 0) {
  console.error(`${brokenFiles.length} test file(s) failed before running any test:`);
  for (const f of brokenFiles) console.error(`  ${f.name}${f.message ? `: ${f.message.split("\n")[0]}` : ""}`);
}
process.exit(r.success === false || failed > 0 || brokenFiles.length > 0 ? 1 : 0);
EOF

if ((vitest_status != 0 || summary_status != 0)); then failed_steps+=("Tests"); fi

if ((${#failed_steps[@]} > 0)); then
  joined=$(printf '%s, ' "${failed_steps[@]}")
  echo "FAILED: ${joined%, }"
  exit 1
fi
echo "All checks passed."
