#!/usr/bin/env bash
# Turns a copy of this repository (with each package's dist/ already built) into the run-time tree
# of one service: the production dependencies of the service and of the workspace packages it
# uses, installed from the lockfile (frozen, patches applied, no devDependencies), and nothing
# else: no other service, no tests, no tooling. The Dockerfile's `prod` stage runs it; so does
# test/deploy/runtime-tree.test.ts, on a copy, to prove the result starts with plain node.
#
# Usage (from the copy's root): bash scripts/lib/runtime-tree.sh <service>
# Environment: PNPM_STORE_DIR  the pnpm store to install from (offline); pnpm's default otherwise
set -euo pipefail

service=${1:?usage: runtime-tree.sh <service>}
if [[ ! -f services/$service/package.json ]]; then
  echo "runtime-tree: no service named '$service' under services/" >&2
  exit 1
fi
if [[ ! -f services/$service/dist/main.js ]]; then
  echo "runtime-tree: services/$service/dist/main.js is missing: run pnpm build first" >&2
  exit 1
fi

store=()
[[ -n ${PNPM_STORE_DIR:-} ]] && store=(--store-dir "$PNPM_STORE_DIR")
rm -rf node_modules packages/*/node_modules services/*/node_modules
CI=true pnpm install --prod --frozen-lockfile --offline "${store[@]}" --filter "@nexus/$service..."

# What the service does not need at run time.
find services -mindepth 1 -maxdepth 1 ! -name "$service" -exec rm -rf {} +
rm -rf test examples docs infra patches packages/cli packages/test-fixtures \
  packages/*/test "services/$service/test" "services/$service/scripts"
