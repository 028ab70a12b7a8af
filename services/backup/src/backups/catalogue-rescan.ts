import type { Logger, Pool } from "@nexus/kit";
import { readManifestAndDigest } from "../bundle/bundle-reader.js";
import { MANIFEST_NAME } from "../bundle/bundle-types.js";
import type { BundleStorage } from "../storage/storage-types.js";
import type { BackupStore } from "./backup-store.js";

const MANIFEST_KEY = new RegExp(`^(bk-[^/]+)/${MANIFEST_NAME.replace(".", "\\.")}$`);

/**
 * Put backups that are in storage but not in the catalogue back into it: after the database is
 * lost, the catalogue (in the same database) is gone too, and the bundles are all that is left.
 * Their manifests' checksums are taken as found (there is nothing to compare them with); every
 * part is still checked against the manifest before a restore. Adopted backups are `completed`
 * with verification `pending`. Returns the ids adopted.
 */
export async function rescanStorage(deps: {
  pool: Pool;
  store: BackupStore;
  storage: BundleStorage;
  logger: Pick<Logger, "info" | "warn">;
}): Promise<string[]> {
  const { pool, store, storage, logger } = deps;
  const known = new Set((await store.list(pool, 100_000, true)).map((b) => b.id));
  const adopted: string[] = [];
  // Oldest first, so a parent is in the catalogue before the incrementals that name it.
  for (const key of await storage.list("bk-")) {
    const id = MANIFEST_KEY.exec(key)?.[1];
    if (!id || known.has(id)) continue;
    try {
      const { manifest, sha256 } = await readManifestAndDigest(storage, id);
      const added = await store.adopt(pool, {
        id,
        kind: manifest.kind,
        parentId: manifest.parent,
        storage: storage.description,
        createdAt: manifest.createdAt,
        snapshotAt: manifest.snapshotAt,
        tables: manifest.tables.length,
        rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
        bytes: manifest.tables.reduce((n, t) => n + t.part.bytes, 0),
        manifestSha256: sha256,
        keyId: manifest.encryption?.keyId ?? null,
      });
      if (added) adopted.push(id);
    } catch (err) {
      logger.warn(
        { err, backup: id },
        `backup ${id} in storage was not added to the catalogue: ${(err as Error).message}`,
      );
    }
  }
  if (adopted.length > 0)
    logger.info(
      { adopted },
      `added ${adopted.length} backup(s) found in ${storage.description} to the catalogue`,
    );
  return adopted;
}
