# syntax=docker/dockerfile:1
# One image recipe for every Nexus service; the SERVICE build argument picks which one runs:
#   docker build --build-arg SERVICE=config-registry -t nexus/config-registry .
# Stages: `build` installs everything and runs `pnpm build` (plain JavaScript under each
# package's dist/); `prod` installs the production dependencies of SERVICE and the workspace
# packages it uses, from the same lockfile, and adds the built files; `runtime` is that tree on a
# slim Node image, run by node as a non-root user under tini.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
ARG PNPM_VERSION=10.34.9
ENV CI=true
# pnpm from the npm registry, pinned to package.json's "packageManager" (corepack would fetch it
# at run time instead).
RUN npm install -g --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
# Download every locked package once: this layer is rebuilt only when the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN --mount=type=cache,id=nexus-pnpm-store,target=/pnpm/store \
    pnpm fetch --store-dir /pnpm/store

FROM base AS build
COPY . .
RUN --mount=type=cache,id=nexus-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm/store
RUN pnpm build \
 && mkdir /built \
 && for d in packages/* services/*; do \
      if [ -d "$d/dist" ]; then mkdir -p "/built/$d" && cp -a "$d/dist" "/built/$d/"; fi; \
    done

# Production dependencies only (scripts/lib/runtime-tree.sh): the lockfile's versions (frozen,
# patches applied) for SERVICE and the workspace packages it depends on, no devDependencies.
# (`pnpm deploy --legacy` would resolve versions afresh instead of from the lockfile.)
FROM base AS prod
ARG SERVICE=config-registry
COPY . .
COPY --from=build /built/ ./
RUN --mount=type=cache,id=nexus-pnpm-store,target=/pnpm/store \
    PNPM_STORE_DIR=/pnpm/store bash scripts/lib/runtime-tree.sh "${SERVICE}" \
 && rm -rf scripts

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=config-registry
# tini as PID 1 reaps children (the registry runs git) and passes SIGTERM on, so the service
# shuts down gracefully; git and CA certificates for the registry's Git sources.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=prod --chown=root:root /src /app
# Where the backup service keeps bundles with local storage; a named volume mounted here takes
# this directory's owner, so the service (user node) can write it.
RUN mkdir -p /var/lib/nexus/backups && chown node:node /var/lib/nexus/backups
WORKDIR /app/services/${SERVICE}
ENV SERVICE=${SERVICE} \
    NODE_ENV=production \
    HOST=0.0.0.0

USER node
EXPOSE 4100

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 4100}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# The built service with plain node: `nexus-dist` makes workspace packages resolve to their dist/.
CMD ["node", "--conditions=nexus-dist", "--enable-source-maps", "dist/main.js"]
