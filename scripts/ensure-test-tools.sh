#!/usr/bin/env bash
# Programs the tests drive as real outside parties, beyond the infrastructure (ensure-infra.sh):
#   chromium    the dashboard's browser tests (playwright-core, executablePath /usr/bin/chromium)
#   prometheus  the Prometheus test (promtool check/test rules, a real server scraping the monitor)
#   iptables    the fault suite's network partition (a rule inside a network namespace the test makes)
#   faketime    the fault suite's clock skew (libfaketime preloaded into one service process)
# Installed from Debian packages when missing and run as root; otherwise it says what is missing.
# Safe to run again and again.
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
[[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 || -e /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 ]] || missing+=(faketime)

if ((${#missing[@]} == 0)); then
  echo "Test tools are installed (chromium, prometheus, iptables, faketime)."
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: missing ${missing[*]}; install with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} (apt-get install)…"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's prometheus package starts a server on :9090 through systemd where there is one; the
# tests start their own on a free port and need none running.
echo "Test tools are installed (chromium, prometheus, iptables, faketime)."
