import { readdir } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalStorage } from "../../services/backup/src/storage/local-storage.js";
import {
  type BackupHarness,
  startBackupHarness,
  until,
} from "../../services/backup/test/integration/harness.js";
import { canMountTmpfs, mountSmallDisk, type SmallDisk } from "../support/tmpfs.js";
import { recordFigure } from "./figures.js";

/**
 * The backup target fills up: the backup service writes its bundles to a small tmpfs of its own,
 * a filler file takes all but a few parts' worth, and a backup is asked for. It must fail in words (the disk
 * is full, not "did not answer"), be recorded failed with its `backup.failed` event, and leave no
 * file behind that looks like a bundle. When the space comes back the next backup completes and
 * its drill restores it.
 */
describe.skipIf(!canMountTmpfs())("fault: the backup target is full", () => {
  let h: BackupHarness | undefined;
  let disk: SmallDisk | undefined;
  afterAll(async () => {
    await Promise.allSettled([h?.close()]);
    await disk?.remove();
  });

  it("fails the backup with a plain message, leaves nothing half-written, and backs up once space returns", async () => {
    [h, disk] = await Promise.all([startBackupHarness(), mountSmallDisk(4 * 1024 * 1024)]);
    const app = await h.build({ storage: createLocalStorage(disk.dir) });
    const call = h.call.bind(h, app);
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "full" })).status).toBe(201);
    for (let i = 1; i <= 20; i++)
      expect(
        (await h.registryCall("PUT", "/v1/namespaces/full/layers/base", { n: i, pad: "x".repeat(200) }))
          .status,
      ).toBe(200);
    const ended = (id: string) =>
      until(async () => {
        const b = (await call("GET", `/v1/backups/${id}`)).body;
        // A failed backup is never verified; a completed one ends with its drill.
        if (b.status === "failed") return b;
        return b.status === "completed" && !["pending", "running"].includes(b.verification) ? b : undefined;
      }, 60_000);

    // Room for a few parts, not the bundle: the backup fails part-way, with parts already stored.
    await disk.fill(24 * 1024);
    expect(await disk.free()).toBeLessThanOrEqual(24 * 1024);
    const refused = await call("POST", "/v1/backups", {});
    expect(refused.status).toBe(202);
    const failed = await ended(refused.body.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/is full \(no space left on device\)/);
    expect(failed.error).toContain(disk.dir);
    expect(failed.progress.tablesDone).toBeGreaterThan(0);
    // Nothing left that a restore or the catalogue rescan could take for a bundle.
    expect((await readdir(disk.dir)).filter((f) => f !== ".filler")).toEqual([]);
    const events = await h.pool.query<{ payload: { data: { backupId: string; stage: string } } }>(
      "SELECT payload FROM outbox WHERE subject LIKE '%backup.failed%'",
    );
    expect(events.rows.map((r) => r.payload.data)).toContainEqual(
      expect.objectContaining({ backupId: refused.body.id, stage: "backup" }),
    );

    // The space comes back: the next backup completes and restores in its drill.
    await disk.unfill();
    const started = Date.now();
    const again = await call("POST", "/v1/backups", {});
    expect(again.status).toBe(202);
    const done = await ended(again.body.id);
    expect(done).toMatchObject({ status: "completed", verification: "verified" });
    const recoveredMs = Date.now() - started;
    const files = await readdir(`${disk.dir}/${again.body.id}`);
    expect(files.some((f) => f.endsWith(".partial"))).toBe(false);

    await recordFigure({
      fault: "backup target full (4 MiB tmpfs, a filler leaves 24 KiB: full part-way through)",
      outcome: `backup failed in words ("${String(failed.error)
        .replace(/.*(is full)/, "…$1")
        .slice(0, 60)}"), 0 files left; next backup completed and verified once space returned`,
      figure: `backup + drill ${(recoveredMs / 1000).toFixed(1)} s after the space returned`,
    });
  }, 120_000);
});
