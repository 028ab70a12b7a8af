/**
 * Writes (or with --check, verifies) services/config-registry/openapi.json from the routes' zod
 * schemas. Building the app opens no connection, so no infrastructure is needed.
 */
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
import { writeOrCheckGenerated } from "../../../scripts/lib/generated-file.js";
import { buildApp } from "../src/app.js";

const target = fileURLToPath(new URL("../openapi.json", import.meta.url));
const pool = createPool({
  connectionString: "postgres://unused@127.0.0.1:1/unused",
  schema: "config_registry",
});
const registry = await buildApp({
  logger: createLogger({ service: "openapi", level: "silent" }),
  pool,
  redis: null,
  nc: null as never, // only used by health checks and workers, neither of which runs here
  bus: null as never,
  auth: { tokenKey: Buffer.alloc(32) },
  config: {
    databaseUrl: "postgres://unused@127.0.0.1:1/unused",
    schema: "config_registry",
    defaultEnvironments: ["development", "staging", "production"],
    cacheTtlSeconds: 60,
    bodyLimit: 1024 * 1024,
    outboxRelay: false,
  },
});
await registry.app.ready();
const generated = `${JSON.stringify(registry.app.swagger(), null, 2)}\n`;
await registry.app.close();
await pool.end();

writeOrCheckGenerated(target, generated, "services/config-registry/openapi.json", "pnpm openapi");
