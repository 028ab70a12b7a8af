/** `nexus backup` in-process against the real backup service (over the real registry's database) on a loopback port. */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BackupHarness,
  startBackupHarness,
} from "../../../../services/backup/test/integration/harness.js";
import { runNexus } from "./in-process.js";

describe("nexus backup", () => {
  let h: BackupHarness;
  let url: string;

  const nexus = (...args: string[]) => runNexus({ NEXUS_BACKUP_URL: url, NEXUS_TOKEN: h.adminToken }, args);

  beforeAll(async () => {
    h = await startBackupHarness();
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "cli-shop" })).status).toBe(201);
    const app = await h.build();
    await app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => h?.close());

  it("takes a backup, shows its progress, and lists it as verified", async () => {
    const taken = await nexus("backup", "run");
    expect(taken.code).toBe(0);
    expect(taken.out).toMatch(
      /^Backup bk-\S+: \d+ tables, \d+ rows, .* Not encrypted\. Verified by a restore into a scratch schema/,
    );
    expect(taken.err).toMatch(/copying tables|starting|verifying by a scratch restore/);
    const id = /Backup (bk-\S+):/.exec(taken.out)![1]!;

    const listed = await nexus("backup", "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`${id}  completed  verified`);
    const json = JSON.parse((await nexus("--json", "backup", "list")).out);
    expect(json.items[0]).toMatchObject({ id, verification: "verified" });

    const drill = await nexus("backup", "verify", id);
    expect(drill.code).toBe(0);
    const shown = await nexus("backup", "show", id);
    expect(shown.out.match(/drill .*: verified/g)).toHaveLength(2);
  });

  it("takes an incremental backup on the newest one", async () => {
    const [newest] = JSON.parse((await nexus("--json", "backup", "list")).out).items;
    const taken = await nexus("backup", "run", "--incremental");
    expect(taken.code).toBe(0);
    expect(taken.out).toMatch(
      new RegExp(`^Incremental backup bk-\\S+-incremental-\\S+ \\(on ${newest.id}\\): `),
    );
    expect(taken.out).toContain("Verified by a restore into a scratch schema");
  });

  it("shows a dry run of a restore table by table and changes nothing", async () => {
    const [newest] = JSON.parse((await nexus("--json", "backup", "list")).out).items;
    expect(
      (await h.registryCall("PUT", "/v1/namespaces/cli-shop/layers/base", { after: "backup" })).status,
    ).toBeLessThan(300);
    const plan = await nexus("backup", "restore", newest.id);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(`Restoring the system to backup ${newest.id}`);
    expect(plan.out).toMatch(/config_registry\.revisions: 1 → 0/);
    expect(plan.out).toContain("run again with --apply");
    const still = await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions");
    expect(still.rows[0].n).toBe(1);
  });

  it("restores the system with --apply, following its progress", async () => {
    const [newest] = JSON.parse((await nexus("--json", "backup", "list")).out).items;
    const applied = await nexus("backup", "restore", newest.id, "--apply");
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(
      new RegExp(
        `^Restored the system to backup ${newest.id}: \\d+ tables, [\\d,]+ rows\\. Start the services again\\.`,
      ),
    );
    const now = await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions");
    expect(now.rows[0].n).toBe(0);
  });

  it("restores one namespace to a point in time: a dry run with diffs, then --apply with progress", async () => {
    const write = async (v: number) =>
      expect((await h.registryCall("PUT", "/v1/namespaces/cli-shop/layers/base", { v })).status).toBeLessThan(
        300,
      );
    await write(1);
    const taken = await nexus("--json", "backup", "run");
    expect(taken.code).toBe(0);
    const { id, snapshotAt: at } = JSON.parse(taken.out);
    await write(2);
    const revisions = async () =>
      (await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions")).rows[0].n;
    const before = await revisions();

    const plan = await nexus("backup", "restore", id, "--namespace", "cli-shop", "--at", at);
    expect(plan.code).toBe(0);
    expect(plan.err).toContain(`Reading the revision history of cli-shop in backup ${id}`);
    expect(plan.out).toContain(`Restoring namespace cli-shop to ${at} from backup ${id}`);
    expect(plan.out).toMatch(/base \(revision \d+ of [^)]+\): 1 change/);
    expect(plan.out).toContain("replace /v 1");
    expect(await revisions()).toBe(before);

    const applied = await nexus("backup", "restore", id, "--namespace", "cli-shop", "--apply");
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(
      /^Restored namespace cli-shop to .* from backup \S+: 1 of 1 layers changed\./,
    );
    expect(applied.out).toMatch(/base: now revision \d+/);
    const last = await h.pool.query(
      "SELECT source, content FROM config_registry.revisions WHERE namespace = 'cli-shop' ORDER BY revision DESC LIMIT 1",
    );
    expect(last.rows[0]).toEqual({ source: `restore:${id}@${at}`, content: { v: 1 } });

    const early = await nexus(
      "backup",
      "restore",
      id,
      "--namespace",
      "cli-shop",
      "--at",
      "2000-01-01T00:00:00Z",
    );
    expect(early.code).not.toBe(0);
    expect(early.err).toContain("before the oldest revision");
    const noNamespace = await nexus("backup", "restore", id, "--at", at);
    expect(noNamespace.code).toBe(2);
    expect(noNamespace.err).toContain("--at needs --namespace");
  });

  it("refuses a malformed id as a usage error and an unknown one as not found", async () => {
    const bad = await nexus("backup", "show", "yesterday");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("is not a backup id");
    const missing = await nexus("backup", "verify", "bk-20200101T000000Z-full-000000");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no backup bk-20200101T000000Z-full-000000");
  });
});
