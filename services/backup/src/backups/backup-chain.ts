import { ConflictError, type Pool, type SealingKeys } from "@nexus/kit";
import { assertKeysAvailable, manifestChain, readManifest } from "../bundle/bundle-reader.js";
import type { Manifest } from "../bundle/bundle-types.js";
import type { BundleStorage } from "../storage/storage-types.js";
import type { BackupStore } from "./backup-store.js";
import type { BackupDto } from "./backup-types.js";

/** Finding the bundles a backup needs (its chain) and the backup an incremental builds on. */
export function createChains(deps: {
  pool: Pool;
  store: BackupStore;
  storage: BundleStorage;
  keys: SealingKeys | null;
}) {
  const { pool, store, storage } = deps;
  return {
    /**
     * The manifests a completed backup needs (its chain, oldest first; just itself when full),
     * checked against the catalogue's checksums, with every key they need configured.
     */
    async usableChain(b: BackupDto): Promise<Manifest[]> {
      if (b.status !== "completed")
        throw new ConflictError("backup_not_usable", `backup ${b.id} is ${b.status}, not completed`, {
          field: "id",
        });
      const manifest = await readManifest(storage, b.id, b.manifestSha256);
      const chain = await manifestChain(storage, manifest, (id) => store.manifestSha256(pool, id));
      assertKeysAvailable(chain, deps.keys);
      return chain;
    },

    /** An incremental builds on the newest completed backup (full or incremental), whose manifest must read. */
    async parentForIncremental(): Promise<Manifest> {
      const newest = (await store.list(pool, 50)).find((x) => x.status === "completed");
      if (!newest)
        throw new ConflictError(
          "no_parent_backup",
          "an incremental backup needs a completed backup to build on: take a full one first",
          { field: "kind" },
        );
      try {
        return await readManifest(storage, newest.id, newest.manifestSha256);
      } catch (err) {
        throw new ConflictError(
          "no_parent_backup",
          `the newest backup ${newest.id} cannot be built on: ${(err as Error).message}`,
          { field: "kind" },
        );
      }
    },
  };
}
