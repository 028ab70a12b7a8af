import { CONFIG_CHANGED, type ConfigChanged } from "@nexus/contracts";
import { collectEvents, createTestBus, createTestDatabase } from "@nexus/test-fixtures";
import { it } from "vitest";
import { withTransaction } from "../../src/db/pool.js";
import { createLogger } from "../../src/logger.js";
import { createOutboxRelay, enqueueEvent } from "../../src/outbox/index.js";
const changed = (revision: number): ConfigChanged => ({ schemaVersion: 1, namespace: "lat", environment: "production", revision, previousRevision: null, hash: "a".repeat(64), previousHash: null, layer: "base", changedPaths: [], trigger: "write", actor: "a", source: "api" });
it("lat", async () => {
  const [db, t] = await Promise.all([createTestDatabase({ schema: "kit_outbox" }), createTestBus()]);
  let tPub = 0;
  const bus = { publishEnvelope: (s: any, e: any, h: any) => { tPub = performance.now(); return t.bus.publishEnvelope(s, e, h); } };
  const r = createOutboxRelay({ pool: db.pool, bus, logger: createLogger({ service: "x", level: "silent" }), databaseUrl: db.url });
  await r.start();
  const rows: number[][] = [];
  for (let i = 1; i <= 300; i++) {
    const got = collectEvents(t.nc, t.bus.subject("nexus.config.changed.>"), 1);
    const s = performance.now();
    await withTransaction(db.pool, (c) => enqueueEvent(c, t.bus, CONFIG_CHANGED, changed(i)));
    const c = performance.now();
    await got;
    const e = performance.now();
    rows.push([c - s, tPub - c, e - tPub, e - s]);
  }
  for (let k = 0; k < 4; k++) { const a = rows.map(r => r[k]!).sort((x, y) => x - y); console.log(["commit","commit->publish","publish->recv","total"][k], a[150]!.toFixed(2), a[296]!.toFixed(2)); }
  await r.stop(); await t.cleanup(); await db.drop();
});
