import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subscription } from "@nats-io/transport-node";
import { AUTH_TOKEN_EXPIRIES_COMMAND, AuthTokenExpiriesReply } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../../backup/src/app.js";
import { createLocalStorage } from "../../../backup/src/storage/local-storage.js";
import { type BackupHarness, startBackupHarness, until } from "../../../backup/test/integration/harness.js";
import { eventually, type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * The monitor beside a real registry and a real backup service on one NATS prefix: a backup run
 * that cannot write its bundle raises `backup_failed`, a verified one resolves it, a kind never
 * verified is overdue; tokens the registry lists as expiring raise `token_expiring`.
 */
let b: BackupHarness;
let h: Harness;
let scratch: string;
const announced: { type: string; fingerprint: string; startsAt: string }[] = [];
let sub: Subscription;

const backupAndWait = async (app: BackupApp) => {
  const started = await b.call(app, "POST", "/v1/backups", { kind: "full" });
  expect(started.status).toBe(202);
  return until(async () => {
    const x = (await b.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
    return x.status === "failed" ||
      (x.status === "completed" && !["pending", "running"].includes(x.verification))
      ? x
      : undefined;
  });
};
const alerts = async (): Promise<JsonBody[]> =>
  (await h.call("GET", "/v1/alerts?status=firing,resolved")).body.items;
const alertOf = (items: JsonBody[], fingerprint: string) => items.find((a) => a.fingerprint === fingerprint);

beforeAll(async () => {
  b = await startBackupHarness();
  scratch = await mkdtemp(join(tmpdir(), "nexus-monitor-backup-"));
  h = await startMonitor({ tokenRefreshMs: 100 }, { nats: b.registry.nats });
  sub = b.registry.nats.nc.subscribe(`${b.registry.nats.prefix}.alert.>`);
  void (async () => {
    for await (const m of sub) {
      const e = m.json<{ type: string; data: { fingerprint: string; startsAt: string } }>();
      announced.push({ type: e.type, fingerprint: e.data.fingerprint, startsAt: e.data.startsAt });
    }
  })();
  const put = await h.call("PUT", "/v1/alert-rules", {
    rules: [
      { name: "backup-failed", kind: "backup_failed", severity: "error" },
      { name: "full-overdue", kind: "backup_overdue", backupKind: "full", within: "4s" },
      { name: "token-expiring", kind: "token_expiring", within: "7d" },
    ],
  });
  expect(put.status).toBe(200);
}, 60_000);
afterAll(async () => {
  sub?.unsubscribe();
  await h?.close();
  await b?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("monitor: backup alerts from the backup service's events", () => {
  it("is overdue with nothing verified, fires on a failed run, and resolves both on a verified one", async () => {
    // No full backup was ever verified: overdue once the rule's 4 s have passed since watching began.
    const overdue = await eventually(
      alerts,
      (items) => alertOf(items, "monitor:full-overdue:full")?.status === "firing",
    );
    expect(alertOf(overdue, "monitor:full-overdue:full").summary).toContain(
      "since the monitor began watching",
    );

    // Storage whose directory lies under a regular file: every write fails, even as root.
    const blocker = join(scratch, "not-a-directory");
    await writeFile(blocker, "x");
    const broken = await b.build({ storage: createLocalStorage(join(blocker, "bundles")) });
    const failed = await backupAndWait(broken);
    expect(failed.status).toBe("failed");
    const firing = await eventually(
      alerts,
      (items) => alertOf(items, "monitor:backup-failed:full")?.status === "firing",
    );
    expect(alertOf(firing, "monitor:backup-failed:full")).toMatchObject({
      severity: "error",
      labels: { backup_kind: "full", kind: "backup_failed" },
    });
    await eventually(
      async () => announced,
      (list) =>
        list.some((e) => e.type === "nexus.alert.raised" && e.fingerprint === "monitor:backup-failed:full"),
    );

    const good = await b.build();
    const ok = await backupAndWait(good);
    expect(ok).toMatchObject({ status: "completed", verification: "verified" });
    await eventually(
      async () => announced,
      (list) =>
        ["monitor:backup-failed:full", "monitor:full-overdue:full"].every((f) =>
          list.some((e) => e.type === "nexus.alert.resolved" && e.fingerprint === f),
        ),
    );
    expect(alertOf(await alerts(), "monitor:backup-failed:full").status).toBe("resolved");

    // Nothing verified since: overdue again 4 s after the verification, a new alert.
    const again = await eventually(
      async () =>
        announced.filter(
          (e) => e.type === "nexus.alert.raised" && e.fingerprint === "monitor:full-overdue:full",
        ),
      (list) => list.length === 2,
      15_000,
    );
    expect(Date.parse(again[1]!.startsAt)).toBeGreaterThan(Date.parse(again[0]!.startsAt));
    // The failure was announced once, though the alert held across many evaluation passes.
    expect(
      announced.filter(
        (e) => e.fingerprint === "monitor:backup-failed:full" && e.type === "nexus.alert.raised",
      ),
    ).toHaveLength(1);
  }, 60_000);
});

describe("monitor: token expiry alerts from the registry's token list", () => {
  it("fires for an active token expiring within the window and resolves when it is revoked", async () => {
    const soon = await b.registry.registry.services.tokens.create(
      { name: "ci-soon", owner: "ops", grants: ["viewer"], expiresInDays: 3 },
      "monitor-test",
    );
    await b.registry.registry.services.tokens.create(
      { name: "ci-later", owner: "ops", grants: ["viewer"], expiresInDays: 30 },
      "monitor-test",
    );
    const fingerprint = `monitor:token-expiring:${soon.id}`;
    const items = await eventually(alerts, (list) => alertOf(list, fingerprint)?.status === "firing");
    expect(alertOf(items, fingerprint)).toMatchObject({
      labels: { token_name: "ci-soon", owner: "ops", kind: "token_expiring" },
    });
    expect(alertOf(items, fingerprint).summary).toMatch(/expires in [23] days/);
    expect(items.filter((a) => a.labels.kind === "token_expiring")).toHaveLength(1);

    await b.registry.registry.services.tokens.revoke(soon.id, "monitor-test");
    await eventually(alerts, (list) => alertOf(list, fingerprint)?.status === "resolved");
  }, 30_000);

  it("the registry refuses a bad question with the failing field, and answers names and dates only", async () => {
    const bad = await b.registry.nats.bus.requestCommand(
      AUTH_TOKEN_EXPIRIES_COMMAND,
      { schemaVersion: 1, withinDays: 0 },
      AuthTokenExpiriesReply,
    );
    expect(bad).toMatchObject({ ok: false, error: { statusCode: 400, field: "withinDays" } });
    const good = await b.registry.nats.bus.requestCommand(
      AUTH_TOKEN_EXPIRIES_COMMAND,
      { schemaVersion: 1, withinDays: 60 },
      AuthTokenExpiriesReply,
    );
    if (!good.ok) throw new Error(good.error.message);
    expect(good.tokens.map((t) => t.name)).toEqual(["ci-later"]);
    expect(Object.keys(good.tokens[0]!).sort()).toEqual(["expiresAt", "name", "owner", "tokenId"]);
  });
});
