import type { ConfigChanged } from "@nexus/contracts";

/** A valid `config.changed` body for the bus tests; `over` replaces any field. */
export const changedEvent = (over: Partial<ConfigChanged> = {}): ConfigChanged => ({
  schemaVersion: 1,
  namespace: "payments-api",
  environment: "production",
  revision: 2,
  previousRevision: 1,
  hash: "a".repeat(64),
  previousHash: "b".repeat(64),
  layer: "production",
  changedPaths: ["/database/pool"],
  trigger: "write",
  actor: "alice",
  source: "api",
  ...over,
});
