import { randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processEachOnce, processOnce } from "../../src/idempotency.js";

describe("processOnce", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ schema: "kit_idem" });
    await db.pool.query("CREATE TABLE effects (event_id uuid NOT NULL, note text NOT NULL)");
  });
  afterAll(async () => db?.drop());

  const effects = async (eventId: string) =>
    (await db.pool.query("SELECT count(*)::int AS n FROM effects WHERE event_id = $1", [eventId])).rows[0].n;
  const apply = (eventId: string, note = "done") =>
    processOnce(db.pool, "projector", eventId, async (client) => {
      await client.query("INSERT INTO effects (event_id, note) VALUES ($1, $2)", [eventId, note]);
      return note;
    });

  it("applies an event once and skips its redelivery", async () => {
    const id = randomUUID();
    expect(await apply(id)).toEqual({ applied: true, result: "done" });
    expect(await apply(id)).toEqual({ applied: false });
    expect(await effects(id)).toBe(1);
  });

  it("records nothing when the effect fails, so the retry applies it", async () => {
    const id = randomUUID();
    await expect(
      processOnce(db.pool, "projector", id, async (client) => {
        await client.query("INSERT INTO effects (event_id, note) VALUES ($1, 'half')", [id]);
        throw new Error("downstream failed");
      }),
    ).rejects.toThrow("downstream failed");
    expect(await effects(id)).toBe(0);
    expect(await apply(id)).toEqual({ applied: true, result: "done" });
    expect(await effects(id)).toBe(1);
  });

  it("lets exactly one of several concurrent deliveries apply", async () => {
    const id = randomUUID();
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        processOnce(db.pool, "projector", id, async (client) => {
          await client.query("SELECT pg_sleep(0.05)");
          await client.query("INSERT INTO effects (event_id, note) VALUES ($1, 'race')", [id]);
        }),
      ),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await effects(id)).toBe(1);
  });

  it("keeps consumers independent", async () => {
    const id = randomUUID();
    const other = await processOnce(db.pool, "notifier", id, async () => "sent");
    expect(other).toEqual({ applied: true, result: "sent" });
    expect(await apply(id)).toEqual({ applied: true, result: "done" });
  });

  it("processEachOnce claims a batch in one transaction: only unseen events are fresh, nothing on failure", async () => {
    const [seen, a, b] = [randomUUID(), randomUUID(), randomUUID()];
    await apply(seen);
    const batch = (fail: boolean) =>
      processEachOnce(db.pool, "projector", [seen, a, b], async (client, fresh) => {
        for (const id of fresh)
          await client.query("INSERT INTO effects (event_id, note) VALUES ($1, 'batch')", [id]);
        if (fail) throw new Error("later part failed");
        return fresh.size;
      });
    await expect(batch(true)).rejects.toThrow("later part failed");
    expect([await effects(a), await effects(b)]).toEqual([0, 0]);
    const done = await batch(false);
    expect([...done.fresh].sort()).toEqual([a, b].sort());
    expect(done.result).toBe(2);
    expect((await batch(false)).fresh.size).toBe(0);
    expect([await effects(seen), await effects(a), await effects(b)]).toEqual([1, 1, 1]);
  });
});
