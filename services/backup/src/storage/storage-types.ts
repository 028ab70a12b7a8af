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

/** Error codes of a write refused for want of space (a full disk, a used-up quota). */
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

/** What went wrong, in words an operator acts on: a full target is not one that "did not answer". */
function storageProblem(storage: string, cause: unknown): string {
  const detail = (cause as Error)?.message ?? String(cause);
  if (NO_SPACE.has((cause as NodeJS.ErrnoException)?.code ?? ""))
    return `backup storage ${storage} is full (no space left on device); free space or grow it, then back up again (${detail})`;
  return `backup storage ${storage} did not answer: ${detail}`;
}

/** The storage backend failed (unreachable, refused, timed out, full): a dependency outage, not a bad bundle. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly storage: string,
    cause: unknown,
  ) {
    super(storageProblem(storage, cause), { cause });
    this.name = "StorageUnavailableError";
  }
}

/** The same storage, with its failures (other than a missing object) as StorageUnavailableError. */
export function guardStorage(storage: BundleStorage): BundleStorage {
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StorageNotFoundError || err instanceof StorageUnavailableError) throw err;
      throw new StorageUnavailableError(storage.description, err);
    }
  };
  return {
    description: storage.description,
    put: (key, body) => guard(() => storage.put(key, body)),
    get: (key) => guard(() => storage.get(key)),
    list: (prefix) => guard(() => storage.list(prefix)),
    removePrefix: (prefix) => guard(() => storage.removePrefix(prefix)),
    close: () => storage.close(),
  };
}
