#!/usr/bin/env bash
# Create this installation's credentials once, in .nexus/credentials.env (mode 600, never
# committed): the key API tokens are digested with, and the bootstrap admin token. Running it
# again keeps what exists, so tokens stay valid. Prints nothing secret.
#
#   AUTH_TOKEN_KEY         32 random bytes, base64: the same for every service of the cluster
#   NEXUS_BOOTSTRAP_TOKEN  the first admin token; installed on the registry's first start only
#   SECRETS_MASTER_KEYS    the registry's master key for secrets, `<id>:<32 bytes base64>`, and
#   SECRETS_ACTIVE_KEY_ID  its id (to rotate: append a new key, make it active, `nexus secrets rotate`)
#   NOTIFIER_SECRETS_KEY   the notifier's key for receiver secrets, `<id>:<32 bytes base64>`
#   BACKUP_ENCRYPTION_KEY  the backup service's key for bundles, `<id>:<32 bytes base64>` (its own,
#                          never a secrets master key: keep a copy off this machine, or backups are lost with it)
#   BACKUP_REGISTRY_TOKEN  (added by hand, not here: only the running registry can mint it) an admin
#                          token for the backup service's namespace restores: nexus token create backup-restore --grant admin
#   ORCHESTRATOR_HOOK_KEY  the key the orchestrator signs http-hook calls with (32 bytes base64url)
#   (ORCHESTRATOR_API_TOKEN, the orchestrator's registry token, and ORCHESTRATOR_BACKUP_TOKEN, its
#   admin token for backup drills, are added by orchestrator-token.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILE=$ROOT/.nexus/credentials.env
mkdir -p "$ROOT/.nexus"
umask 077
touch "$FILE"
chmod 600 "$FILE"

has() { grep -q "^$1=" "$FILE"; }
random_b64() { node -e "process.stdout.write(require('node:crypto').randomBytes($1).toString('$2'))"; }

if ! has AUTH_TOKEN_KEY; then
  echo "AUTH_TOKEN_KEY=$(random_b64 32 base64)" >>"$FILE"
  echo "Created AUTH_TOKEN_KEY in .nexus/credentials.env."
fi
if ! has NEXUS_BOOTSTRAP_TOKEN; then
  echo "NEXUS_BOOTSTRAP_TOKEN=nxs_$(random_b64 8 hex)_$(random_b64 32 base64url)" >>"$FILE"
  echo "Created the bootstrap admin token (NEXUS_BOOTSTRAP_TOKEN) in .nexus/credentials.env."
fi
if ! has SECRETS_MASTER_KEYS; then
  kid="k$(date +%Y%m%d)"
  echo "SECRETS_MASTER_KEYS=$kid:$(random_b64 32 base64)" >>"$FILE"
  echo "SECRETS_ACTIVE_KEY_ID=$kid" >>"$FILE"
  echo "Created the master key for secrets (SECRETS_MASTER_KEYS, id $kid) in .nexus/credentials.env."
fi
if ! has NOTIFIER_SECRETS_KEY; then
  kid="n$(date +%Y%m%d)"
  echo "NOTIFIER_SECRETS_KEY=$kid:$(random_b64 32 base64)" >>"$FILE"
  echo "Created the notifier's key for receiver secrets (NOTIFIER_SECRETS_KEY, id $kid) in .nexus/credentials.env."
fi
if ! has BACKUP_ENCRYPTION_KEY; then
  kid="b$(date +%Y%m%d)"
  echo "BACKUP_ENCRYPTION_KEY=$kid:$(random_b64 32 base64)" >>"$FILE"
  echo "Created the backup service's key for bundles (BACKUP_ENCRYPTION_KEY, id $kid) in .nexus/credentials.env; keep a copy elsewhere."
fi
if ! has ORCHESTRATOR_HOOK_KEY; then
  echo "ORCHESTRATOR_HOOK_KEY=$(random_b64 32 base64url)" >>"$FILE"
  echo "Created the orchestrator's key for signing hook calls (ORCHESTRATOR_HOOK_KEY) in .nexus/credentials.env."
fi

# NATS logins for docker-compose.yml, whose NATS runs infra/nats/nats-server.auth.conf: a password
# per Nexus service (the service gets it in clear, NATS_PASSWORD) and its bcrypt hash (what the
# server compares against; single-quoted here, since it contains `$`). The local NATS of up.sh
# has no users and ignores them. The hash needs bcryptjs from the workspace (pnpm install first).
bcrypt_hash() {
  node -e "const b = require(require.resolve('bcryptjs', { paths: ['$ROOT/packages/client'] })); process.stdout.write(b.hashSync(process.argv[1], 11))" "$1"
}
for login in REGISTRY DRIFT NOTIFIER ORCHESTRATOR MONITOR BACKUP; do
  var=NEXUS_NATS_${login}_PASSWORD
  if ! has "$var"; then
    password=$(random_b64 24 base64url)
    hash=$(bcrypt_hash "$password") || {
      echo "credentials: could not hash a NATS password (is bcryptjs installed? run bash scripts/bootstrap.sh)" >&2
      exit 1
    }
    printf "%s=%s\n%s_HASH='%s'\n" "$var" "$password" "$var" "$hash" >>"$FILE"
    echo "Created the NATS login of ${login,,} for Docker ($var and its hash) in .nexus/credentials.env."
  fi
done
# The example consuming service of nats-server.auth.conf (payments-api) needs a hash too.
if ! has PAYMENTS_API_NATS_PASSWORD; then
  password=$(random_b64 24 base64url)
  printf "PAYMENTS_API_NATS_PASSWORD=%s\nPAYMENTS_API_NATS_PASSWORD_HASH='%s'\n" "$password" "$(bcrypt_hash "$password")" >>"$FILE"
  echo "Created the NATS login of the example consumer payments-api in .nexus/credentials.env."
fi
