/**
 * Writes (or with --check, verifies) services/backup/openapi.json from the routes' zod schemas.
 * Building the app opens no connection, so no infrastructure is needed.
 */
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildApp } from "../src/app.js";
import { createLocalStorage } from "../src/storage/local-storage.js";

const target = fileURLToPath(new URL("../openapi.json", import.meta.url));
const pool = createPool({ connectionString: "postgres://unused@127.0.0.1:1/unused", schema: "backup" });
const backup = await buildApp({
  // Nobody calls the routes here; an authenticator that knows no one is enough to register them.
  access: { authenticator: { authenticate: async () => null } },
  logger: createLogger({ service: "openapi", level: "silent" }),
  pool,
  nc: null as never, // only used by health checks and workers, neither of which runs here
  bus: null as never,
  storage: createLocalStorage("/nonexistent"),
  config: {
    schemas: ["config_registry"],
    keys: null,
    databaseUrl: "postgres://unused@127.0.0.1:1/unused",
    schema: "backup",
    outboxRelay: false,
    registry: { url: "http://127.0.0.1:1", token: null, timeoutMs: 1_000 },
  },
});
await backup.app.ready();
const generated = `${JSON.stringify(backup.app.swagger(), null, 2)}\n`;
await backup.app.close();
await backup.workers.stop();
await pool.end();

writeOrCheckGenerated(
  target,
  generated,
  "services/backup/openapi.json",
  "pnpm --filter @nexus/backup openapi",
);
