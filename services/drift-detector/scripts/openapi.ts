/**
 * Writes (or with --check, verifies) services/drift-detector/openapi.json from the routes' zod
 * schemas. Building the app opens no connection, so no infrastructure is needed.
 */
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildApp } from "../src/app.js";

const UNUSED_DB = "postgres://unused@127.0.0.1:1/unused";
const target = fileURLToPath(new URL("../openapi.json", import.meta.url));
const pool = createPool({ connectionString: UNUSED_DB, schema: "drift_detector" });
const detector = await buildApp({
  logger: createLogger({ service: "openapi", level: "silent" }),
  pool,
  nc: null as never, // only used by health checks and workers, neither of which runs here
  bus: null as never,
  // Nobody calls the routes here; an authenticator that knows no one is enough to register them.
  access: { authenticator: { authenticate: async () => null } },
  config: {
    databaseUrl: UNUSED_DB,
    schema: "drift_detector",
    outboxRelay: false,
    staleGraceMs: 60_000,
    staleGraceByEnvironment: {},
    goneAfterMs: 120_000,
    deleteAfterMs: 86_400_000,
    flushIntervalMs: 1_000,
    reconcileIntervalMs: 500,
    quietMs: 30_000,
    policyScanCron: "0 */10 * * * *",
    remediationMaxAttempts: 3,
    remediationRetryMs: 60_000,
    registryTimeoutMs: 5_000,
  },
});
await detector.app.ready();
const generated = `${JSON.stringify(detector.app.swagger(), null, 2)}\n`;
await detector.app.close();
await pool.end();

writeOrCheckGenerated(
  target,
  generated,
  "services/drift-detector/openapi.json",
  "pnpm --filter @nexus/drift-detector openapi",
);
