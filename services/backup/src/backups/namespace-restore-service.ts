import { randomUUID } from "node:crypto";
import {
  ConflictError,
  type Logger,
  NotFoundError,
  type Pool,
  type SealingKeys,
  ValidationError,
} from "@nexus/kit";
import { checkParts, partsNeeded } from "../bundle/bundle-reader.js";
import type { Manifest } from "../bundle/bundle-types.js";
import { isoMicros, restoreLabel } from "../restore/point-in-time-fns.js";
import type { RegistryClient } from "../restore/registry-client.js";
import { layersAt } from "../restore/revision-history.js";
import type { BundleStorage } from "../storage/storage-types.js";
import type { BackupStore } from "./backup-store.js";
import type { BackupDto, NamespaceRestorePlanDto, RestoreDto } from "./backup-types.js";
import { RESTORE_LOCK, tryHoldLock } from "./run-lock.js";

export interface NamespaceRestoreRequest {
  backupId: string;
  namespace: string;
  /** ISO time; absent: the backup's point. */
  at?: string | undefined;
  requestedBy: string;
}

type Progress = (p: Record<string, unknown>) => Promise<void>;

/**
 * One namespace back to a point in time: its layers as the backup's revision history had them
 * then, written by the registry as new revisions with source `restore:<backup id>@<time>`. The
 * backup service only reads the bundle; every write goes through the registry's write path.
 */
export function createNamespaceRestores(deps: {
  pool: Pool;
  store: BackupStore;
  storage: BundleStorage;
  keys: SealingKeys | null;
  registry: RegistryClient;
  logger: Pick<Logger, "info" | "error">;
  /** The backup's chain, checked against the catalogue (the backup service's usableChain). */
  usableChain: (b: BackupDto) => Promise<Manifest[]>;
  /** Bundle and storage failures as the API's refusals (the backup service's mapping). */
  asAppError: (err: unknown) => unknown;
}) {
  const { pool, store, storage, registry, logger } = deps;
  /** Registry writes in the background, so a shutdown can let them end. */
  const inFlight = new Set<Promise<unknown>>();

  /** The `at` asked for, checked against the backup's point (before reading anything). */
  function pointOf(manifest: Manifest, at: string | undefined) {
    if (at === undefined) return { atIso: manifest.snapshotAt, atMicros: null };
    const atIso = new Date(at).toISOString();
    if (Date.parse(at) > Date.parse(manifest.snapshotAt))
      throw new ValidationError(
        "restore_point_after_backup",
        `at ${atIso} is after backup ${manifest.id} was taken (${manifest.snapshotAt}): use a later backup`,
        { field: "at", details: { snapshotAt: manifest.snapshotAt } },
      );
    return { atIso, atMicros: isoMicros(at) };
  }

  /** Each layer's content at the point, read from the bundle (whose parts are checked first). */
  async function chooseLayers(req: NamespaceRestoreRequest, progress: Progress) {
    const b = await store.get(pool, req.backupId);
    if (!b) throw new NotFoundError("backup_not_found", `no backup ${req.backupId}`, { field: "id" });
    try {
      const chain = await deps.usableChain(b);
      const manifest = chain.at(-1)!;
      const { atIso, atMicros } = pointOf(manifest, req.at);
      const revisionParts = partsNeeded(chain).filter(
        (r) => r.part.schema === "config_registry" && r.part.table === "revisions",
      );
      await progress({ stage: "checking the revisions' checksums" });
      await checkParts(storage, revisionParts);
      await progress({ stage: "reading the revision history", rows: 0 });
      const history = await layersAt({
        storage,
        chain,
        keys: deps.keys,
        namespace: req.namespace,
        atMicros,
        onRows: (rows, link) => progress({ stage: "reading the revision history", rows, current: link }),
      });
      if (history.revisionsRead === 0)
        throw new NotFoundError(
          "namespace_not_in_backup",
          `backup ${b.id} holds no revisions of namespace ${req.namespace}`,
          { field: "namespace" },
        );
      if (atMicros !== null && history.oldest && atMicros < isoMicros(history.oldest))
        throw new ValidationError(
          "restore_point_before_history",
          `at ${atIso} is before the oldest revision of ${req.namespace} in backup ${b.id} (${history.oldest})`,
          { field: "at", details: { oldestRevisionAt: history.oldest } },
        );
      return { backup: b, atIso, label: restoreLabel(b.id, atIso), ...history };
    } catch (err) {
      throw deps.asAppError(err);
    }
  }

  const registryBody = (
    chosen: Awaited<ReturnType<typeof chooseLayers>>,
    req: NamespaceRestoreRequest,
    dryRun: boolean,
  ) => ({
    label: chosen.label,
    layers: Object.fromEntries(chosen.layers.map((l) => [l.layer, l.content])),
    // The registry records its token's owner as the author; who asked is kept in the message.
    message:
      `restored from backup ${chosen.backup.id} to ${chosen.atIso}, requested by ${req.requestedBy}`.slice(
        0,
        1000,
      ),
    dryRun,
  });

  /** Each layer as restored (or as it would be), beside what the registry answered for it. */
  const merge = <T extends { layer: string }>(
    chosen: Awaited<ReturnType<typeof chooseLayers>>,
    answered: T[],
  ) =>
    chosen.layers.map((l) => {
      const a = answered.find((x) => x.layer === l.layer);
      if (!a) throw new Error(`the registry's answer lacks layer ${l.layer}`);
      return { ...a, fromRevision: l.fromRevision, fromCreatedAt: l.fromCreatedAt };
    });

  return {
    /** What the restore would change: the registry's dry run of the chosen contents. */
    async plan(req: NamespaceRestoreRequest): Promise<NamespaceRestorePlanDto> {
      const chosen = await chooseLayers(req, async () => undefined);
      const answer = await registry.restoreLayers(req.namespace, registryBody(chosen, req, true));
      return {
        backupId: chosen.backup.id,
        namespace: req.namespace,
        at: chosen.atIso,
        label: chosen.label,
        dryRun: true,
        revisionsRead: chosen.revisionsRead,
        layers: merge(chosen, answer.layers),
      };
    },

    /**
     * Restore for real. The history is read before this answers (a point outside it, or a
     * namespace the backup lacks, is refused with the failing field, and the restore's row says
     * so); the registry write runs in the background. One restore at a time (the system's or a
     * namespace's), under the restore lock.
     */
    async start(req: NamespaceRestoreRequest): Promise<{ started: RestoreDto; done: Promise<RestoreDto> }> {
      const b = await store.get(pool, req.backupId);
      if (!b) throw new NotFoundError("backup_not_found", `no backup ${req.backupId}`, { field: "id" });
      const held = await tryHoldLock(pool, RESTORE_LOCK);
      if (!held)
        throw new ConflictError("restore_running", "a restore is running already; wait until it ends");
      const release = () => held.release();
      let r: RestoreDto;
      try {
        await store.failInterruptedRestores(pool);
        r = await store.insertRestore(pool, {
          id: randomUUID(),
          backupId: b.id,
          requestedBy: req.requestedBy,
          namespace: req.namespace,
          at: req.at ?? null,
        });
      } catch (err) {
        await release();
        throw err;
      }
      const progress: Progress = (p) => store.restoreProgress(pool, r.id, p);
      const fail = async (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ err, backup: b.id, restore: r.id }, `restore of ${req.namespace} failed: ${message}`);
        await store.finishRestore(pool, r.id, { ok: false, error: message });
      };
      let chosen: Awaited<ReturnType<typeof chooseLayers>>;
      try {
        chosen = await chooseLayers(req, progress);
        await progress({ stage: `writing ${chosen.layers.length} layers through the registry` });
      } catch (err) {
        await fail(err);
        await release();
        throw err;
      }
      const done = (async () => {
        try {
          const answer = await registry.restoreLayers(req.namespace, registryBody(chosen, req, false));
          const layers = merge(chosen, answer.layers).map(({ operations: _, ...l }) => l);
          await store.finishRestore(pool, r.id, { ok: true, layers, rows: chosen.revisionsRead });
          logger.info(
            { backup: b.id, restore: r.id, namespace: req.namespace },
            `restored namespace ${req.namespace} to ${chosen.atIso} from backup ${b.id} (${layers.filter((l) => l.changed).length} of ${layers.length} layers changed)`,
          );
        } catch (err) {
          await fail(err);
        } finally {
          await release();
        }
        return (await store.getRestore(pool, r.id))!;
      })();
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done)).catch(() => undefined);
      return { started: (await store.getRestore(pool, r.id))!, done };
    },

    /** Wait for the namespace restores this instance is running. */
    async settle(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
  };
}
export type NamespaceRestores = ReturnType<typeof createNamespaceRestores>;
