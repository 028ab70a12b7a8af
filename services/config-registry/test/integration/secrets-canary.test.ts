import { Writable } from "node:stream";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type Subscription } from "@nats-io/transport-node";
import { ConfigGetReply, configGetSubject } from "@nexus/contracts";
import { createLogger } from "@nexus/kit";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * Known secret values go in; a busy scenario runs (writes, reads, history, diffs, rollback,
 * explain, refused writes, events, NATS reads); then every captured log line, every message in the
 * test's NATS streams and on the wire, every Redis key and value, and every column of every table
 * in Postgres (the sealed ones hold only ciphertext) are searched for the values. None may appear.
 */
const CANARIES = ["CANARY-db-pw-8d1f0c2b", "CANARY-api-key-53aa91e7", "CANARY-rotated-4c0e7d19"];

describe("secrets canary: no plaintext anywhere but a secret-reader's response", () => {
  let h: Harness;
  const logLines: string[] = [];
  const wire: string[] = [];
  let tap: Subscription | undefined;
  let viewer: string;
  let reader: string;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    h = await startRegistry({ logger: createLogger({ service: "canary", level: "trace" }, sink) });
    const nc = await connect({ servers: TEST_NATS_URL, name: "canary-tap" });
    tap = nc.subscribe(">");
    void (async () => {
      for await (const m of tap!) {
        if (
          m.subject.startsWith(h.nats.prefix) ||
          m.subject.startsWith("_INBOX") ||
          m.subject.startsWith("$JS")
        )
          wire.push(`${m.subject} ${m.string()}`);
      }
    })();
    viewer = await h.tokenFor(["viewer:canary-*"], { name: "viewer" });
    reader = await h.tokenFor(["secret-reader:canary-shop"], { name: "reader" });
  });
  afterAll(async () => {
    tap?.unsubscribe();
    await h?.close();
  });

  it("runs a busy scenario, then finds the values nowhere", async () => {
    const [dbPassword, apiKey, rotated] = CANARIES as [string, string, string];
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    for (const name of ["canary-shop", "canary-app"]) {
      expect((await call(h, "POST", "/v1/namespaces", { name })).status).toBe(201);
    }
    // Writes: JSON and YAML, a secret referenced from another namespace.
    await call(h, "PUT", "/v1/namespaces/canary-shop/layers/base", {
      db: { host: "db", password: { $secret: dbPassword } },
      api: { key: { $secret: apiKey } },
    });
    await call(
      h,
      "PUT",
      "/v1/namespaces/canary-shop/layers/production",
      `db:\n  pool: 20\napi:\n  key:\n    $secret: ${apiKey}\n`,
    );
    await call(h, "PUT", "/v1/namespaces/canary-app/layers/base", {
      upstream: "${secret:canary-shop:db.password}",
    });
    await call(h, "PUT", "/v1/namespaces/canary-shop/layers/staging", { api: { key: { $secret: rotated } } });

    // Refused writes: schema failure on a secret, malformed bodies quoting a value, forged nodes.
    await call(h, "PUT", "/v1/namespaces/canary-shop/schema", {
      properties: { api: { properties: { key: { type: "string", pattern: "^CANARY-" } } } },
    });
    const refused = [
      await call(h, "PUT", "/v1/namespaces/canary-shop/layers/development", {
        api: { key: { $secret: `x${rotated}` } },
      }),
      await call(
        h,
        "PATCH",
        "/v1/namespaces/canary-shop/layers/base",
        `{"api": {"key": {"$secret": ${dbPassword}}}}`,
        {
          "content-type": "application/merge-patch+json",
        },
      ),
      await call(
        h,
        "PUT",
        "/v1/namespaces/canary-shop/layers/development",
        `a: {$secret: ${dbPassword}}\na: 1\n`,
      ),
      await call(h, "PUT", "/v1/namespaces/canary-shop/layers/development", {
        api: { key: { $secret: dbPassword, also: apiKey } },
      }),
      await call(h, "PUT", "/v1/namespaces/canary-app/layers/development", {
        x: "pw=${secret:canary-shop:db.password}",
      }),
    ];
    expect(refused.map((r) => r.status)).toEqual([422, 400, 400, 400, 422]);
    await call(h, "DELETE", "/v1/namespaces/canary-shop/schema");

    // Reads by a viewer: resolved (plain and conditional), explain, layers, history, revisions, diffs.
    const viewerReads = [
      await call(
        h,
        "GET",
        "/v1/namespaces/canary-shop/environments/production/resolved",
        undefined,
        as(viewer),
      ),
      await call(
        h,
        "GET",
        "/v1/namespaces/canary-shop/environments/staging/resolved?explain=true",
        undefined,
        as(viewer),
      ),
      await call(
        h,
        "GET",
        "/v1/namespaces/canary-app/environments/production/resolved",
        undefined,
        as(viewer),
      ),
      await call(h, "GET", "/v1/namespaces/canary-shop/layers/base", undefined, as(viewer)),
      await call(h, "GET", "/v1/namespaces/canary-shop/layers/base/revisions", undefined, as(viewer)),
      await call(h, "GET", "/v1/namespaces/canary-shop/layers/base/revisions/1", undefined, as(viewer)),
      await call(
        h,
        "GET",
        "/v1/namespaces/canary-shop/layers/staging/diff?from=0&to=3",
        undefined,
        as(viewer),
      ),
    ];
    for (const r of viewerReads) expect(r.status).toBe(200);
    const etag = viewerReads[0]!.headers.etag as string;
    const conditional = await call(
      h,
      "GET",
      "/v1/namespaces/canary-shop/environments/production/resolved",
      undefined,
      {
        ...as(viewer),
        "if-none-match": etag,
      },
    );
    expect(conditional.status).toBe(304);

    // A secret-reader sees the values (so they were there to leak); a rollback and a re-write.
    const revealed = await call(
      h,
      "GET",
      "/v1/namespaces/canary-shop/environments/production/resolved",
      undefined,
      as(reader),
    );
    expect(revealed.body.content).toMatchObject({ db: { password: dbPassword }, api: { key: apiKey } });
    await call(h, "POST", "/v1/namespaces/canary-shop/layers/staging/rollback", { revision: 3 });
    await call(h, "PUT", "/v1/namespaces/canary-shop/layers/staging", { api: { key: { $secret: rotated } } });

    // NATS reads (the SDK's transport) and the events the writes published.
    const got = await h.nats.bus.requestCommand(
      configGetSubject({ environment: "production", namespace: "canary-shop" }),
      { schemaVersion: 1, namespace: "canary-shop", environment: "production" },
      ConfigGetReply,
    );
    expect(got).toMatchObject({ ok: true, content: { db: { password: "***" } } });
    const jsm = await jetstreamManager(h.nats.nc);
    const deadline = Date.now() + 5_000;
    while ((await jsm.streams.info(h.nats.streams.events)).state.messages < 8 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));

    // Search every place a value could rest or travel.
    const places: Record<string, string[]> = {
      "viewer responses": [...viewerReads, conditional, ...refused].map((r) => r.raw),
      logs: logLines,
      "NATS wire": wire,
      "NATS streams": [],
      Redis: [],
      Postgres: [],
    };
    for (const stream of [h.nats.streams.events, h.nats.streams.dlq]) {
      const { state } = await jsm.streams.info(stream);
      for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (m)
          places["NATS streams"]!.push(
            `${m.subject} ${m.header ? JSON.stringify([...m.header]) : ""} ${m.string()}`,
          );
      }
    }
    expect(places["NATS streams"]!.length).toBeGreaterThanOrEqual(8);
    const redis = h.redis.redis;
    const prefix = h.redis.keyPrefix;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      for (const k of keys) places.Redis!.push(`${k} ${await redis.get(k.slice(prefix.length))}`);
    } while (cursor !== "0");
    expect(places.Redis!.length).toBeGreaterThan(0);
    await h.registry.audit.flush(); // the audit log writes in batches
    const tables = await h.db.pool.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const t of tables.rows) {
      const rows = await h.db.pool.query<{ row: string }>(
        `SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      places.Postgres!.push(...rows.rows.map((r) => `${t.schema}.${t.name} ${r.row}`));
    }
    expect(places.Postgres!.some((r) => r.includes("secret_keys"))).toBe(true);
    expect(places.Postgres!.some((r) => r.includes("audit_log"))).toBe(true);
    expect(logLines.length).toBeGreaterThan(10);
    expect(wire.length).toBeGreaterThan(0);

    const found: string[] = [];
    for (const [place, texts] of Object.entries(places)) {
      for (const text of texts) {
        for (const canary of CANARIES)
          if (text.includes(canary)) found.push(`${place}: ${text.slice(0, 300)}`);
      }
    }
    expect(found).toEqual([]);
  });
});
