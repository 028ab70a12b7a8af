/**
 * Writes (or with --check, verifies) services/config-registry/openapi.json from the routes' zod
 * schemas. Building the app opens no connection, so no infrastructure is needed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createLogger, createPool } from "@nexus/kit";
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

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // missing counts as stale
  }
  if (current !== generated) {
    process.stderr.write(
      "services/config-registry/openapi.json is out of date: run `pnpm openapi` and commit it.\n",
    );
    process.exit(1);
  }
  process.stdout.write("openapi.json matches the routes.\n");
} else {
  writeFileSync(target, generated);
  process.stdout.write(`Wrote ${target}\n`);
}
