import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * A layer write's audit line is stored by the statement that stores the revision: an acknowledged
 * change cannot lose its line in a crash (the buffered log can lose up to its flush interval).
 */
describe("audit lines committed with the write", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startRegistry();
    expect((await call(h, "POST", "/v1/namespaces", { name: "orders" })).status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
  });

  const linesOf = async (requestId: string) =>
    (
      await h.db.pool.query<{
        outcome: string;
        status_code: number;
        action: string;
        xmin: string;
        details: object;
      }>("SELECT outcome, status_code, action, xmin::text, details FROM audit_log WHERE request_id = $1", [
        requestId,
      ])
    ).rows;
  const revisionXmin = async (layer: string, revision: number) =>
    (
      await h.db.pool.query<{ xmin: string }>(
        "SELECT xmin::text FROM revisions WHERE namespace = 'orders' AND layer = $1 AND revision = $2",
        [layer, revision],
      )
    ).rows[0]?.xmin;

  it("stores the line of a PUT, a PATCH and a rollback in the transaction of their revision, once", async () => {
    const put = await call(h, "PUT", "/v1/namespaces/orders/layers/base", { limits: { max: 10 } });
    expect(put.status).toBe(200);
    const patch = await call(
      h,
      "PATCH",
      "/v1/namespaces/orders/layers/base",
      { limits: { max: 20 } },
      {
        "content-type": "application/merge-patch+json",
      },
    );
    expect(patch.status).toBe(200);
    const rollback = await call(h, "POST", "/v1/namespaces/orders/layers/base/rollback", {
      revision: put.body.revision,
    });
    expect(rollback.status).toBe(200);

    for (const [res, action] of [
      [put, "PUT /v1/namespaces/:ns/layers/:layer"],
      [patch, "PATCH /v1/namespaces/:ns/layers/:layer"],
    ] as const) {
      const lines = await linesOf(String(res.headers["x-request-id"]));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ outcome: "allowed", status_code: 200, action });
      expect(lines[0]!.details).toMatchObject({ actorName: "harness" });
      // Same transaction id: the line and the revision were committed together.
      expect(lines[0]!.xmin).toBe(await revisionXmin("base", res.body.revision));
    }
    const rolledBack = await linesOf(String(rollback.headers["x-request-id"]));
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]!.xmin).toBe(await revisionXmin("base", rollback.body.revision));

    // The buffered log writes nothing more for these requests.
    await h.registry.audit.flush();
    for (const res of [put, patch, rollback]) {
      expect(await linesOf(String(res.headers["x-request-id"]))).toHaveLength(1);
    }
  });

  it("still records a write that changed nothing or was refused, through the buffered log", async () => {
    const same = await call(h, "PUT", "/v1/namespaces/orders/layers/staging", { tier: "a" });
    expect(same.status).toBe(200);
    const unchanged = await call(h, "PUT", "/v1/namespaces/orders/layers/staging", { tier: "a" });
    expect(unchanged.body.changed).toBe(false);
    const stale = await call(
      h,
      "PUT",
      "/v1/namespaces/orders/layers/staging",
      { tier: "b" },
      { "if-match": '"999"' },
    );
    expect(stale.status).toBe(409);
    await h.registry.audit.flush();

    const unchangedLines = await linesOf(String(unchanged.headers["x-request-id"]));
    expect(unchangedLines).toMatchObject([{ outcome: "allowed", status_code: 200 }]);
    const staleLines = await linesOf(String(stale.headers["x-request-id"]));
    expect(staleLines).toMatchObject([{ outcome: "failed", status_code: 409 }]);
    // Nothing was stored by the refused write, and its line is not the transaction of any revision.
    const revisions = await h.db.pool.query("SELECT xmin::text FROM revisions WHERE xmin::text = $1", [
      staleLines[0]!.xmin,
    ]);
    expect(revisions.rowCount).toBe(0);
  });
});
