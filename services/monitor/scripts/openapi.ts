/**
 * Writes (or with --check, verifies) services/monitor/openapi.json from the routes' zod schemas.
 * Building the app opens no connection, so no infrastructure is needed.
 */
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildApp } from "../src/app.js";
import { testConfigForDocs } from "./docs-config.js";

const target = fileURLToPath(new URL("../openapi.json", import.meta.url));
const pool = createPool({ connectionString: testConfigForDocs.databaseUrl, schema: "monitor" });
const monitor = await buildApp({
  // Nobody calls the routes here; an authenticator that knows no one is enough to register them.
  access: { authenticator: { authenticate: async () => null } },
  logger: createLogger({ service: "openapi", level: "silent" }),
  pool,
  nc: null as never, // only used by health checks and workers, neither of which runs here
  bus: null as never,
  config: testConfigForDocs,
});
await monitor.app.ready();
const generated = `${JSON.stringify(monitor.app.swagger(), null, 2)}\n`;
await monitor.app.close();
await monitor.workers.stop();
await pool.end();

writeOrCheckGenerated(
  target,
  generated,
  "services/monitor/openapi.json",
  "pnpm --filter @nexus/monitor openapi",
);
