import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call as registryCall } from "../../../config-registry/test/integration/harness.js";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

/**
 * One namespace restored to a point in time: the layers as the backup's revision history had
 * them then, written by the real registry (over HTTP) as new revisions with source
 * `restore:<backup>@<time>`; a chain of a full and an incremental backup is replayed.
 */
const CANARY = `canary-${Math.random().toString(36).slice(2)}-pitr`;
const LATER_SECRET = `later-${Math.random().toString(36).slice(2)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: BackupHarness;
let app: BackupApp;
let full: { id: string };
let incremental: { id: string; snapshotAt: string };
/** Times between the writes: after t1's writes and before t2's, and so on. */
let betweenT1T2: string;
let beforeT1: string;
let otherBefore: unknown[];

async function put(ns: string, layer: string, content: unknown) {
  const res = await h.registryCall("PUT", `/v1/namespaces/${ns}/layers/${layer}`, content);
  expect(res.status).toBeLessThan(300);
}

async function backupNow(kind: "full" | "incremental") {
  const started = await h.call(app, "POST", "/v1/backups", { kind });
  expect(started.status).toBe(202);
  return until(async () => {
    const b = (await h.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
    return b.status === "completed" && b.verification === "verified" ? b : undefined;
  });
}

const revisionsOf = async (ns: string) =>
  (
    await h.pool.query(
      "SELECT revision, layer, content, source FROM config_registry.revisions WHERE namespace = $1 ORDER BY revision",
      [ns],
    )
  ).rows;

beforeAll(async () => {
  h = await startBackupHarness();
  for (const name of ["shop", "other"])
    expect((await h.registryCall("POST", "/v1/namespaces", { name })).status).toBe(201);
  app = await h.build();
  await sleep(20);
  beforeT1 = new Date().toISOString();
  await sleep(20);
  // t1
  await put("shop", "base", { pool: 1, password: { $secret: CANARY } });
  await put("shop", "production", { pool: 10 });
  await put("other", "base", { owner: "t1" });
  await sleep(300);
  betweenT1T2 = new Date().toISOString();
  await sleep(300);
  // t2
  await put("shop", "base", { pool: 2, password: { $secret: LATER_SECRET } });
  await put("shop", "staging", { added: "at t2" });
  full = await backupNow("full");
  await sleep(300);
  // t3, in an incremental backup on the full one
  await put("shop", "base", { pool: 3 });
  await put("shop", "production", { pool: 30 });
  await put("other", "base", { owner: "t3" });
  incremental = await backupNow("incremental");
  // After the backups: the restore sets these back too.
  await put("shop", "production", { pool: 40 });
  otherBefore = await revisionsOf("other");
}, 90_000);
afterAll(async () => h?.close());

describe("restoring one namespace to a point in time", () => {
  it("shows per layer what would change on a dry run, and changes nothing", async () => {
    const before = await revisionsOf("shop");
    const res = await h.call(app, "POST", `/v1/backups/${incremental.id}/restore`, {
      namespace: "shop",
      at: betweenT1T2,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      backupId: incremental.id,
      namespace: "shop",
      at: betweenT1T2,
      label: `${incremental.id}@${betweenT1T2}`,
      dryRun: true,
    });
    const byLayer = Object.fromEntries(res.body.layers.map((l: { layer: string }) => [l.layer, l])) as Record<
      string,
      { fromRevision: number | null; changed: boolean; operations: unknown[] }
    >;
    expect(Object.keys(byLayer).sort()).toEqual(["base", "production", "staging"]);
    expect(byLayer.base!.fromRevision).toBe(1);
    expect(byLayer.production!.fromRevision).toBe(2);
    expect(byLayer.staging!.fromRevision).toBeNull(); // created after the point: emptied
    expect(byLayer.base!.operations).toContainEqual({ op: "replace", path: "/pool", value: 1 });
    expect(byLayer.base!.operations).toContainEqual(
      expect.objectContaining({ op: "add", path: "/password" }),
    );
    expect(byLayer.production!.operations).toEqual([{ op: "replace", path: "/pool", value: 10 }]);
    expect(byLayer.staging!.operations).toEqual([{ op: "remove", path: "/added" }]);
    expect(JSON.stringify(res.body)).not.toContain(CANARY);
    expect(await revisionsOf("shop")).toEqual(before);
  });

  it("writes the layers as they were, as new revisions with source restore:<backup>@<time>", async () => {
    const before = await revisionsOf("shop");
    const started = await h.call(app, "POST", `/v1/backups/${incremental.id}/restore`, {
      namespace: "shop",
      at: betweenT1T2,
      dryRun: false,
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ scope: "namespace", namespace: "shop", at: betweenT1T2 });
    const done = await until(async () => {
      const r = (await h.call(app, "GET", `/v1/restores/${started.body.id}`)).body;
      return r.status !== "running" ? r : undefined;
    });
    expect(done).toMatchObject({ status: "completed", error: null });
    expect(done.layers.filter((l: { changed: boolean }) => l.changed)).toHaveLength(3);

    const after = await revisionsOf("shop");
    const added = after.slice(before.length);
    expect(added.map((r) => r.layer).sort()).toEqual(["base", "production", "staging"]);
    for (const r of added) expect(r.source).toBe(`restore:${incremental.id}@${betweenT1T2}`);
    // Each layer's content equals what it held at t1 (secrets sealed as stored then).
    const atT1 = (layer: string) => before.find((r) => r.layer === layer && r.revision <= 3)?.content;
    for (const layer of ["base", "production"])
      expect(added.find((r) => r.layer === layer)!.content).toEqual(atT1(layer));
    expect(added.find((r) => r.layer === "staging")!.content).toEqual({});

    // The secret of t1 is back: a secret-reader reads its plaintext.
    const reader = await h.registry.tokenFor(["secret-reader:shop"], { name: "pitr-reader" });
    const resolved = await registryCall(
      h.registry,
      "GET",
      "/v1/namespaces/shop/environments/production/resolved",
      undefined,
      { authorization: `Bearer ${reader}` },
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body.content).toMatchObject({ pool: 10, password: CANARY });

    // Other namespaces are untouched.
    expect(await revisionsOf("other")).toEqual(otherBefore);
  });

  it("restores to the backup's point when no time is given (the chain replayed)", async () => {
    const res = await h.call(app, "POST", `/v1/backups/${incremental.id}/restore`, { namespace: "shop" });
    expect(res.status).toBe(200);
    expect(res.body.at).toBe(incremental.snapshotAt);
    const production = res.body.layers.find((l: { layer: string }) => l.layer === "production");
    expect(production.operations).toEqual([{ op: "replace", path: "/pool", value: 30 }]);
    // The full backup alone holds t2's state.
    const fromFull = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, { namespace: "shop" });
    const base = fromFull.body.layers.find((l: { layer: string }) => l.layer === "base");
    expect(base.fromRevision).toBe(3);
  });

  it("refuses a time outside the backup's history, an unknown namespace, and a time without one", async () => {
    const late = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, {
      namespace: "shop",
      at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(late.status).toBe(422);
    expect(late.body.error).toMatchObject({ code: "restore_point_after_backup", field: "at" });
    const early = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, {
      namespace: "shop",
      at: beforeT1,
      dryRun: false,
    });
    expect(early.status).toBe(422);
    expect(early.body.error).toMatchObject({ code: "restore_point_before_history", field: "at" });
    const unknown = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, { namespace: "nowhere" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "namespace_not_in_backup", field: "namespace" });
    const noNamespace = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, { at: betweenT1T2 });
    expect(noNamespace.status).toBe(400);
    expect(noNamespace.body.error.field).toBe("at");
    const badTime = await h.call(app, "POST", `/v1/backups/${full.id}/restore`, {
      namespace: "shop",
      at: "yesterday",
    });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.field).toBe("at");
  });

  it("answers 503 naming the registry when it cannot be reached, changing nothing", async () => {
    const cut = await h.build({ registry: { url: "http://127.0.0.1:1", token: "x", timeoutMs: 2_000 } });
    const res = await h.call(cut, "POST", `/v1/backups/${full.id}/restore`, { namespace: "shop" });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: "registry_unavailable" });
  });

  it("leaves no plaintext secret in any bundle or in the catalogue", async () => {
    const files: Buffer[] = [];
    for (const b of [full.id, incremental.id])
      for (const name of await readdir(join(h.dir, b))) {
        const bytes = await readFile(join(h.dir, b, name));
        files.push(bytes, name.endsWith(".gz") ? gunzipSync(bytes) : bytes);
      }
    for (const f of files) {
      expect(f.includes(CANARY)).toBe(false);
      expect(f.includes(LATER_SECRET)).toBe(false);
    }
    const catalogue = await h.pool.query(
      "SELECT coalesce((SELECT json_agg(r)::text FROM backup.restores r), '') || coalesce((SELECT json_agg(a)::text FROM backup.audit_log a), '') AS t",
    );
    expect(catalogue.rows[0].t).not.toContain(CANARY);
  });
});
