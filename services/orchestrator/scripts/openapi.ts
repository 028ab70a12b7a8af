/**
 * Writes (or with --check, verifies) services/orchestrator/openapi.json from the routes' zod
 * schemas. Building the app opens no connection, so no infrastructure is needed.
 */
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildApp } from "../src/app.js";

const UNUSED_DB = "postgres://unused@127.0.0.1:1/unused";
const target = fileURLToPath(new URL("../openapi.json", import.meta.url));
const pool = createPool({ connectionString: UNUSED_DB, schema: "orchestrator" });
const orchestrator = await buildApp({
  logger: createLogger({ service: "openapi", level: "silent" }),
  pool,
  nc: null as never, // only used by health checks and workers, neither of which runs here
  bus: null as never,
  // Nobody calls the routes here; an authenticator that knows no one is enough to register them.
  access: { authenticator: { authenticate: async () => null } },
  config: {
    databaseUrl: UNUSED_DB,
    schema: "orchestrator",
    outboxRelay: false,
    registryUrl: "http://127.0.0.1:1",
    driftDetectorUrl: "http://127.0.0.1:1",
    apiToken: "unused",
    hookSigningKey: "unused-unused-unused",
    runLeaseMs: 30_000,
    runPollMs: 1_000,
    dependencyTimeoutMs: 5_000,
  },
});
await orchestrator.app.ready();
const generated = `${JSON.stringify(orchestrator.app.swagger(), null, 2)}\n`;
await orchestrator.app.close();
await pool.end();

writeOrCheckGenerated(
  target,
  generated,
  "services/orchestrator/openapi.json",
  "pnpm --filter @nexus/orchestrator openapi",
);
