import { randomUUID } from "node:crypto";
import type { BackupKind } from "@nexus/contracts";
import {
  type Bus,
  ConflictError,
  enqueueEvent,
  type Logger,
  NotFoundError,
  type Pool,
  type SealingKeys,
  ServiceUnavailableError,
  ValidationError,
  withTransaction,
} from "@nexus/kit";
import { newBackupId } from "../bundle/bundle-fns.js";
import { BundleError, checkParts, partsNeeded } from "../bundle/bundle-reader.js";
import type { Manifest } from "../bundle/bundle-types.js";
import { writeBundle } from "../bundle/bundle-writer.js";
import { verifyInScratch } from "../restore/scratch-verify.js";
import { planSystemRestore, restoreSystem } from "../restore/system-restore.js";
import { type BundleStorage, StorageUnavailableError } from "../storage/storage-types.js";
import { createChains } from "./backup-chain.js";
import { traceTakeBackup, traceVerifyBackup } from "./backup-spans.js";
import type { BackupStore } from "./backup-store.js";
import type { BackupDto, RestoreDto, VerificationDto } from "./backup-types.js";
import { RESTORE_LOCK, tryHoldLock } from "./run-lock.js";

export interface BackupServiceDeps {
  pool: Pool;
  store: BackupStore;
  storage: BundleStorage;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  logger: Pick<Logger, "info" | "warn" | "error">;
  /** The service schemas backed up (each service's own), read in one snapshot. */
  schemas: readonly string[];
  /** Backup keys: the active one encrypts new bundles, any listed one opens old ones; null: unencrypted. */
  keys: SealingKeys | null;
  /** The outbox NOTIFY channel of this service's relay. */
  outboxChannel: string;
  wakeOutbox: () => void;
}

/** A run in the background: the row as it started, and the row when it ends (its failure is recorded on the row). */
export interface Started<T> {
  started: T;
  done: Promise<T>;
}

/** Advisory-lock key of "a backup is being taken" (session lock on the snapshot's connection). */
const RUN_LOCK = "nexus-backup:run";

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A bundle problem as the API's refusal: corrupt/missing 422, no key 422 with its own code; storage down 503. */
export function asAppError(err: unknown, storageName: string): unknown {
  if (err instanceof StorageUnavailableError)
    return new ServiceUnavailableError("storage_unavailable", err.message, {
      details: { storage: storageName },
    });
  if (!(err instanceof BundleError)) return err;
  const code = err.reason === "key" ? "backup_key_missing" : `backup_${err.reason}`;
  return new ValidationError(code, err.message, {
    field: "id",
    details: err.table ? { table: err.table } : undefined,
  });
}

export function createBackupService(deps: BackupServiceDeps) {
  const { pool, store, storage, logger } = deps;
  /** Runs in the background, so a shutdown can let them end (a killed one is marked interrupted later). */
  const inFlight = new Set<Promise<unknown>>();
  const { usableChain, parentForIncremental } = createChains({ pool, store, storage, keys: deps.keys });
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  async function publishFailure(
    db: Parameters<typeof enqueueEvent>[0],
    b: { id: string; kind: BackupKind },
    stage: "backup" | "verify",
    reason: string,
    table?: string,
  ) {
    await enqueueEvent(
      db,
      deps.bus,
      "nexus.backup.failed",
      {
        schemaVersion: 1,
        backupId: b.id,
        kind: b.kind,
        stage,
        failedAt: new Date().toISOString(),
        reason: reason.slice(0, 2000),
        ...(table ? { table } : {}),
      },
      { channel: deps.outboxChannel },
    );
  }

  async function mustGet(id: string): Promise<BackupDto> {
    const b = await store.get(pool, id);
    if (!b) throw new NotFoundError("backup_not_found", `no backup ${id}`, { field: "id" });
    return b;
  }

  async function takeBackup(
    b: BackupDto,
    client: import("pg").PoolClient,
    parent: Manifest | null,
  ): Promise<BackupDto> {
    try {
      const { manifest, manifestSha256 } = await writeBundle({
        client,
        storage,
        id: b.id,
        kind: b.kind,
        parent,
        schemas: deps.schemas,
        keys: deps.keys,
        onProgress: (p) => store.progress(pool, b.id, { ...p, stage: "copying tables" }),
      });
      await store.completed(pool, b.id, {
        snapshotAt: manifest.snapshotAt,
        tables: manifest.tables.length,
        rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
        bytes: manifest.tables.reduce((n, t) => n + t.part.bytes, 0),
        manifestSha256,
      });
      logger.info(
        { backup: b.id, tables: manifest.tables.length, storage: storage.description },
        `backup ${b.id} written (${manifest.tables.length} tables, snapshot at ${manifest.snapshotAt})`,
      );
    } catch (err) {
      logger.error({ err, backup: b.id }, `backup ${b.id} failed: ${message(err)}`);
      // A half-written bundle is of no use: remove what was stored.
      await storage.removePrefix(`${b.id}/`).catch(() => undefined);
      await withTransaction(pool, async (c) => {
        await store.failed(c, b.id, message(err));
        await publishFailure(c, b, "backup", message(err));
      });
      deps.wakeOutbox();
    }
    return mustGet(b.id);
  }

  /** The drill; `verificationId` is the row recorded (verification `running`) before it starts. */
  async function runVerification(
    b: BackupDto,
    verificationId: number,
    client: import("pg").PoolClient,
  ): Promise<VerificationDto> {
    const started = Date.now();
    let ok = false;
    let error: string | null = null;
    let failedTable: string | undefined;
    let tables: unknown[] = [];
    let manifest: Manifest | undefined;
    try {
      const chain = await usableChain(b);
      manifest = chain.at(-1)!;
      await checkParts(storage, partsNeeded(chain));
      const report = await verifyInScratch({ client, storage, chain, keys: deps.keys });
      tables = report.tables;
      if (report.mismatches.length > 0) {
        failedTable = report.mismatches[0]!.table;
        error = `restored rows differ from the source at the snapshot in ${report.mismatches.map((m) => m.table).join(", ")}`;
      } else ok = true;
    } catch (err) {
      error = message(err);
      if (err instanceof BundleError) failedTable = err.table;
      else if (!(err instanceof ConflictError)) logger.error({ err, backup: b.id }, "verification failed");
    }
    const durationMs = Date.now() - started;
    await withTransaction(pool, async (c) => {
      await store.finishVerification(c, {
        id: verificationId,
        backupId: b.id,
        ok,
        durationMs,
        error,
        tables,
      });
      if (ok && manifest)
        await enqueueEvent(
          c,
          deps.bus,
          "nexus.backup.verified",
          {
            schemaVersion: 1,
            backupId: b.id,
            kind: b.kind,
            snapshotAt: manifest.snapshotAt,
            verifiedAt: new Date().toISOString(),
            tables: manifest.tables.length,
            rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
            bytes: manifest.tables.reduce((n, t) => n + t.part.bytes, 0),
            durationMs,
          },
          { channel: deps.outboxChannel },
        );
      else await publishFailure(c, b, "verify", error ?? "verification failed", failedTable);
    });
    deps.wakeOutbox();
    if (ok)
      logger.info({ backup: b.id, durationMs }, `backup ${b.id} verified by a restore into a scratch schema`);
    else logger.warn({ backup: b.id }, `backup ${b.id} failed verification: ${error}`);
    return (await store.verifications(pool, b.id))[0]!;
  }

  /**
   * Start a drill of one backup: one at a time per backup (a session lock on its connection), the
   * record marked running before this returns (a reader sees it at once).
   */
  async function startDrill(b: BackupDto): Promise<{ done: Promise<VerificationDto> }> {
    const held = await tryHoldLock(pool, `nexus-backup:verify:${b.id}`);
    if (!held) throw new ConflictError("verification_running", `backup ${b.id} is being verified already`);
    try {
      const verificationId = await store.startVerification(pool, b.id);
      const done = track(
        traceVerifyBackup(b, () => runVerification(b, verificationId, held.client)).finally(() =>
          held.release(),
        ),
      );
      return { done };
    } catch (err) {
      await held.release();
      throw err;
    }
  }

  return {
    list: (limit: number) => store.list(pool, limit),
    get: mustGet,
    verifications: async (id: string) => {
      await mustGet(id);
      return store.verifications(pool, id);
    },

    /**
     * Take a backup (then verify it). One at a time across every instance: the run holds a
     * session advisory lock on the connection that reads the snapshot; a second is 409.
     */
    async run(opts: {
      kind: BackupKind;
      trigger: "api" | "schedule";
      requestedBy: string;
    }): Promise<Started<BackupDto>> {
      const held = await tryHoldLock(pool, RUN_LOCK);
      if (!held)
        throw new ConflictError("backup_running", "a backup is being taken already; try again when it ends");
      let b: BackupDto;
      let parent: Manifest | null;
      try {
        // Announced like any failed backup (once: in the transaction that marks it), so the monitor
        // hears of a backup whose process was killed, not only of those that failed by themselves.
        const interrupted = await withTransaction(pool, async (tx) => {
          const rows = await store.failInterrupted(tx);
          for (const b of rows) await publishFailure(tx, b, "backup", b.error);
          return rows;
        });
        if (interrupted.length) deps.wakeOutbox();
        for (const { id } of interrupted) await storage.removePrefix(`${id}/`).catch(() => undefined);
        parent = opts.kind === "incremental" ? await parentForIncremental() : null;
        b = await store.insert(pool, {
          id: newBackupId(opts.kind, new Date()),
          kind: opts.kind,
          parentId: parent?.id ?? null,
          trigger: opts.trigger,
          requestedBy: opts.requestedBy,
          storage: storage.description,
          keyId: deps.keys?.activeKeyId ?? null,
        });
      } catch (err) {
        await held.release();
        throw err;
      }
      const done = track(
        (async () => {
          try {
            const taken = await traceTakeBackup(b, opts.trigger, () => takeBackup(b, held.client, parent));
            await held.release();
            if (taken.status === "completed") await (await startDrill(taken)).done;
          } catch (err) {
            await held.release(err);
            logger.error({ err, backup: b.id }, `backup ${b.id} ended with an error`);
          }
          return mustGet(b.id);
        })(),
      );
      return { started: b, done };
    },

    /** Restore the backup into a scratch schema and compare; records and publishes the outcome. */
    async verify(id: string): Promise<Started<BackupDto>> {
      const b = await mustGet(id);
      if (b.status !== "completed")
        throw new ConflictError("backup_not_usable", `backup ${id} is ${b.status}, not completed`, {
          field: "id",
        });
      const drill = await startDrill(b);
      return { started: await mustGet(id), done: drill.done.then(() => mustGet(id)) };
    },

    /** What a whole-system restore would change, after checking every part's checksum. */
    async planRestore(id: string) {
      const b = await mustGet(id);
      try {
        const chain = await usableChain(b);
        await checkParts(storage, partsNeeded(chain));
        const client = await pool.connect();
        try {
          return await planSystemRestore(client, chain.at(-1)!);
        } finally {
          client.release();
        }
      } catch (err) {
        throw asAppError(err, storage.description);
      }
    },

    /**
     * Put every backed-up service schema back to the backup's point (one transaction). Refused
     * before anything changes when the bundle is corrupt, the key is missing, or a schema is at
     * other migrations than the backup.
     */
    async restore(id: string, requestedBy: string): Promise<Started<RestoreDto>> {
      const plan = await this.planRestore(id);
      if (plan.problems.length > 0)
        throw new ConflictError(
          "restore_not_possible",
          `backup ${id} cannot be restored: ${plan.problems.join("; ")}`,
          {
            field: "id",
            details: { problems: plan.problems },
          },
        );
      const b = await mustGet(id);
      const chain = await usableChain(b);
      const held = await tryHoldLock(pool, RESTORE_LOCK);
      if (!held)
        throw new ConflictError("restore_running", "a restore is running already; wait until it ends");
      let r: RestoreDto;
      try {
        await store.failInterruptedRestores(pool);
        r = await store.insertRestore(pool, { id: randomUUID(), backupId: id, requestedBy });
      } catch (err) {
        await held.release();
        throw err;
      }
      const client = held.client;
      const done = track(
        (async () => {
          try {
            const result = await restoreSystem({
              client,
              storage,
              chain,
              keys: deps.keys,
              onTable: (done, total, table) =>
                store.restoreProgress(pool, r.id, {
                  stage: "restoring tables",
                  tablesDone: done,
                  tablesTotal: total,
                  current: table,
                }),
            });
            await store.finishRestore(pool, r.id, { ok: true, ...result });
            logger.info(
              { backup: id, restore: r.id },
              `restored the system to backup ${id} (${result.rows} rows)`,
            );
          } catch (err) {
            logger.error({ err, backup: id, restore: r.id }, `restore of ${id} failed: ${message(err)}`);
            await store.finishRestore(pool, r.id, { ok: false, error: message(err) });
          } finally {
            await held.release();
          }
          return (await store.getRestore(pool, r.id))!;
        })(),
      );
      return { started: r, done };
    },

    /** Wait for the backups, drills and restores this instance is running. */
    async settle(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },

    async getRestore(id: string): Promise<RestoreDto> {
      const r = await store.getRestore(pool, id);
      if (!r) throw new NotFoundError("restore_not_found", `no restore ${id}`, { field: "id" });
      return r;
    },
  };
}
export type BackupService = ReturnType<typeof createBackupService>;
