#!/usr/bin/env bash
# Prepare a checkout: check Node.js, make sure pnpm is there, install the workspace's
# dependencies exactly as locked. Safe to run again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

NODE_MIN_MAJOR=20
NODE_MIN_MINOR=11 # package.json "engines": ">=20.11"

fail() {
  printf '\nbootstrap: FAILED: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

echo "Checking Node.js…"
command -v node >/dev/null 2>&1 ||
  fail "Node.js is not installed; Nexus needs Node.js $NODE_MIN_MAJOR.$NODE_MIN_MINOR or newer." \
    "Install Node.js 20 or 22 (e.g. from https://nodejs.org or the NodeSource packages) and run this again."
node_version=$(node -p 'process.versions.node')
IFS=. read -r node_major node_minor _ <<<"$node_version"
if ((node_major < NODE_MIN_MAJOR || (node_major == NODE_MIN_MAJOR && node_minor < NODE_MIN_MINOR))); then
  fail "Node.js $node_version is too old; Nexus needs $NODE_MIN_MAJOR.$NODE_MIN_MINOR or newer." \
    "Install Node.js 20 or 22 and run this again."
fi
echo "Node.js $node_version is fine."

# The pnpm version the repository pins ("packageManager": "pnpm@x.y.z").
pnpm_wanted=$(node -p 'const pm = require("./package.json").packageManager || ""; pm.startsWith("pnpm@") ? pm.slice(5).split("+")[0] : "10"')

# npm's global bin directory may not be on PATH (e.g. a custom prefix).
npm_bin=$(npm prefix -g 2>/dev/null)/bin
case ":$PATH:" in
  *":$npm_bin:"*) ;;
  *) export PATH="$npm_bin:$PATH" ;;
esac

if command -v pnpm >/dev/null 2>&1; then
  echo "pnpm $(pnpm --version) is installed."
else
  # Not corepack: it downloads pnpm by itself and may prompt; npm is the plain, predictable way.
  echo "Installing pnpm $pnpm_wanted (npm install -g)…"
  npm install -g --no-fund --no-audit "pnpm@$pnpm_wanted" >/dev/null ||
    fail "could not install pnpm@$pnpm_wanted with npm." \
      "Install it yourself (npm install -g pnpm@$pnpm_wanted) and run this again."
  hash -r
  command -v pnpm >/dev/null 2>&1 || fail "pnpm was installed but is not on PATH (looked in $npm_bin)."
  echo "pnpm $(pnpm --version) installed."
fi

echo "Installing dependencies (pnpm install --frozen-lockfile)…"
pnpm install --frozen-lockfile ||
  fail "pnpm install failed." \
    "If the lockfile is out of date, run 'pnpm install' once and commit pnpm-lock.yaml."
echo "Dependencies are installed."
