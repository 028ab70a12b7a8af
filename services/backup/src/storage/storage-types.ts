import type { Readable } from "node:stream";

/**
 * Where bundles live. Keys are `<backup id>/<part name>`; objects are written once and never
 * changed. Every backend streams: nothing holds a whole part in memory.
 */
export interface BundleStorage {
  /** Shown in the catalogue and logs, e.g. `local:/var/lib/nexus/backups` or `s3:bucket/prefix`. */
  readonly description: string;
  /** Store the stream's bytes under `key`; an interrupted put leaves no object behind. */
  put(key: string, body: Readable): Promise<void>;
  /** The object's bytes; NotFound (StorageNotFoundError) when there is none. */
  get(key: string): Promise<Readable>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Remove every object under a prefix (a whole backup). */
  removePrefix(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object ${key} in backup storage`);
    this.name = "StorageNotFoundError";
  }
}

/** Keys are made by the service; anything else (.., absolute paths) is refused, not resolved. */
export function assertSafeKey(key: string): void {
  if (
    !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/.test(key) ||
    key.split("/").some((s) => s === ".." || s === ".")
  )
    throw new Error(`invalid storage key ${JSON.stringify(key)}`);
}
