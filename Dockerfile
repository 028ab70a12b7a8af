# syntax=docker/dockerfile:1
# One image recipe for every Nexus service; the SERVICE build argument picks which one runs:
#   docker build --build-arg SERVICE=config-registry -t nexus/config-registry .
# Services run from TypeScript sources through tsx (as in development), so devDependencies
# are installed too.
FROM node:20-bookworm-slim

ARG PNPM_VERSION=10.34.9
ARG SERVICE=config-registry

ENV CI=true
WORKDIR /app

# tini as PID 1 with -g: `docker stop` sends SIGTERM to the whole process group (pnpm, tsx and
# the service's node), so the service shuts down gracefully; pnpm alone would not pass it on.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# pnpm from the npm registry, pinned to package.json's "packageManager" (corepack would fetch it
# at run time instead).
RUN npm install -g --no-fund --no-audit "pnpm@${PNPM_VERSION}"

# Download every locked package first: this layer is rebuilt only when the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=nexus-pnpm-store,target=/pnpm/store \
    pnpm fetch --store-dir /pnpm/store

COPY . .
RUN --mount=type=cache,id=nexus-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store

ENV SERVICE=${SERVICE} \
    NODE_ENV=production \
    HOST=0.0.0.0

# Where the backup service keeps bundles with local storage; a named volume mounted here takes
# this directory's owner, so the service (user node) can write it.
RUN mkdir -p /var/lib/nexus/backups && chown node:node /var/lib/nexus/backups

USER node
EXPOSE 4100

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 4100}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "-g", "--"]
CMD ["sh", "-c", "exec pnpm --filter \"@nexus/${SERVICE}\" start"]
