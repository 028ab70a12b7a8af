import { readdirSync } from "node:fs";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KIT_MIGRATIONS_DIR, migrate } from "../../src/db/migrate.js";

describe("migrations", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ schema: "kit_test" });
  });
  afterAll(async () => db?.drop());

  it("clones a template with the kit tables in the service schema", async () => {
    const res = await db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'kit_test' ORDER BY 1",
    );
    expect(res.rows.map((r) => r.table_name)).toEqual([
      "audit_log",
      "kit_migrations",
      "outbox",
      "outbox_streams",
      "processed_events",
    ]);
  });

  it("is idempotent and safe when several instances migrate at once", async () => {
    await Promise.all([1, 2, 3].map(() => migrate({ databaseUrl: db.url, schema: "kit_test" })));
    const files = readdirSync(KIT_MIGRATIONS_DIR).filter((f) => f.endsWith(".sql"));
    const res = await db.pool.query("SELECT count(*)::int AS n FROM kit_migrations");
    expect(res.rows[0].n).toBe(files.length);
  });
});
